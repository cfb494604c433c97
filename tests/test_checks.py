"""robustcore.checks, the argument checks every public function runs: their misuse."""

from misuse import cases, misuse_test
from robustcore import checks

MISUSE = cases(
    "checks",
    {
        "seed:bool": (lambda: checks.seed(True), TypeError, "seed must be an int"),
        "path:none": (lambda: checks.path(None, "where"), TypeError, "where must be"),
    },
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)
