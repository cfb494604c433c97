"""Two fixes to the scripts every page loads, so a page logs no error to the console.

* A script registered twice is written once. sphinx-thebe registers its settings
  (``const THEBE_JS_URL = ...``) each time Sphinx reads documents, and a second
  ``const`` of the same name is a ``SyntaxError`` in the browser.
* The ipywidgets embedder typesets widget labels with MathJax 2's ``MathJax.Hub.Queue``;
  the book serves MathJax 3, which has no ``Hub``. A two-line bridge hands the label to
  MathJax 3's ``typesetPromise`` instead (the widgets render on the page's ``load``
  event, after the deferred MathJax script has run).
"""

from __future__ import annotations

from sphinx.application import Sphinx

HUB_BRIDGE = """window.addEventListener("load", function () {
  var mj = window.MathJax;
  if (mj && !mj.Hub) mj.Hub = {Queue: function (job) {
    var el = job && job[2];
    if (el && mj.typesetPromise) (mj.startup ? mj.startup.promise : Promise.resolve())
      .then(function () { return mj.typesetPromise([el]); });
  }};
});"""


def _once(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    seen, kept = set(), []
    for js in context.get("script_files", []):
        # the same file or inline body with the same attributes, whatever its priority
        # (an inline script's filename is None or "", depending on who added it)
        key = (
            str(getattr(js, "filename", js) or ""),
            tuple(sorted(getattr(js, "attributes", {}).items())),
        )
        if key not in seen:
            seen.add(key)
            kept.append(js)
    context["script_files"] = kept


def setup(app: Sphinx) -> dict:
    app.add_js_file(None, body=HUB_BRIDGE, priority=100)  # before the widget scripts
    app.connect("html-page-context", _once, priority=900)  # after the others add theirs
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
