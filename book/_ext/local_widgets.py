"""Serve the widgets' JavaScript from the built book itself, not from a CDN.

myst-nb adds RequireJS and the ipywidgets embedder to every page with widget state, from
CDNs by default. When ``tools/widgets_js.py`` has fetched both into ``.cache/widgets/``
(``make book`` runs it), this extension copies them into ``_build/html/_static/widgets/``
and points ``nb_ipywidgets_js`` at those copies, so widgets render offline. Without the
copies the build keeps myst-nb's default.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

LOG = logging.getLogger(__name__)
SOURCE = Path(".cache/widgets")
SCRIPTS = ("require.js", "embed-amd.js")
FONT_DIR = "@jupyter-widgets/html-manager/dist"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _configure(app: Sphinx) -> None:
    src = Path(app.confdir) / SOURCE
    if not all((src / s).is_file() for s in SCRIPTS) or app.builder.format != "html":
        LOG.info("local_widgets: no local copy in %s; widget JavaScript loads from CDNs", src)
        return
    dest = Path(app.outdir) / "_static" / "widgets"
    shutil.copytree(src, dest, dirs_exist_ok=True)
    # paths relative to _static/, in load order: RequireJS first, then the embedder
    app.config.nb_ipywidgets_js = {f"widgets/{s}": {} for s in SCRIPTS}


def _fonts(app: Sphinx, exception: Exception | None) -> None:
    """The embedder asks for its icon fonts at ``@jupyter-widgets/html-manager/dist/``
    relative to the page (its webpack public path): put a copy beside every page that
    shows widgets."""
    src = Path(app.confdir) / SOURCE
    if exception is not None or not (src / SCRIPTS[1]).is_file():
        return
    fonts = [f for f in src.iterdir() if f.suffix in (".eot", ".svg", ".ttf", ".woff", ".woff2")]
    out = Path(app.outdir)
    pages = {p.parent for p in out.rglob("*.html") if WIDGET_STATE in p.read_text(errors="ignore")}
    for folder in pages:
        dest = folder / FONT_DIR
        dest.mkdir(parents=True, exist_ok=True)
        for f in fonts:
            shutil.copy2(f, dest / f.name)


def setup(app: Sphinx) -> dict:
    # before myst-nb reads its configuration, on the same event (priority 500)
    app.connect("builder-inited", _configure, priority=400)
    app.connect("build-finished", _fonts)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
