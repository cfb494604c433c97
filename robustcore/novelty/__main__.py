"""``python -m robustcore.novelty``: see :mod:`robustcore.novelty.cli`."""

import sys

from robustcore.novelty.cli import main

sys.exit(main())
