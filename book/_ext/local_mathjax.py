"""Serve MathJax from the built book itself, so math renders offline and without a CDN.

Sphinx loads MathJax 3 from a CDN by default. When the ``mathjax`` package of
``django-static-mathjax`` (a plain copy of MathJax 3, listed in requirements.txt) is installed,
this extension copies its CommonHTML build (script, fonts, TeX extensions, menu and
accessibility parts) into ``_build/html/_static/mathjax/`` and points ``mathjax_path`` at it.
Without that package the build keeps Sphinx's default.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

LOG = logging.getLogger(__name__)
SCRIPT = "tex-mml-chtml.js"
PARTS = ("output/chtml", "input/tex/extensions", "input/mml", "ui", "a11y", "sre", "adaptors")


def mathjax_source() -> Path | None:
    """The ``es5`` folder of the installed MathJax 3 copy, or None."""
    spec = importlib.util.find_spec("mathjax")
    for base in (spec.submodule_search_locations or []) if spec else []:
        es5 = Path(base) / "static" / "mathjax" / "es5"
        if (es5 / SCRIPT).is_file():
            return es5
    return None


def _copy(app: Sphinx) -> None:
    src = mathjax_source()
    if src is None or app.builder.format != "html":
        return
    dest = Path(app.outdir) / "_static" / "mathjax"
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / SCRIPT, dest / SCRIPT)
    for part in PARTS:
        if (src / part).is_dir():
            shutil.copytree(src / part, dest / part, dirs_exist_ok=True)


def _configure(app: Sphinx) -> None:
    if mathjax_source() is None:
        LOG.info("local_mathjax: no local MathJax copy installed; math loads from %s", app.config.mathjax_path)
        return
    app.config.mathjax_path = f"mathjax/{SCRIPT}"  # relative to _static/
    _copy(app)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", _configure)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
