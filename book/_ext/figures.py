"""Figures for people: numbered per chapter and described by their caption.

* Sphinx numbers figures in one sequence through the whole book, so the third figure of
  Chapter 2 is "Fig. 9". Here each page counts its own: a chapter page ``book/NN_name``
  gets "Fig. NN.1", "Fig. NN.2", ...; any other page "Fig. 1", "Fig. 2", ... (references
  to a figure follow, since they read the same numbers).
* An image myst-nb takes from a cell's output has no alt text, so the page gives screen
  readers its file path. A figure's image is described by its caption instead.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

CHAPTER = re.compile(r"(?:^|/)(\d\d)_[^/]*$")


def renumber(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """After Sphinx numbered the figures: restart the count on every page, prefixed
    with the chapter's number on a chapter page. Returns the pages to write again."""
    changed = []
    for docname, kinds in env.toc_fignumbers.items():
        m = CHAPTER.search(docname)
        prefix = (int(m.group(1)),) if m else ()
        for numbers in kinds.values():
            order = sorted(numbers, key=numbers.__getitem__)
            new = {fid: (*prefix, i + 1) for i, fid in enumerate(order)}
            if new != numbers:
                numbers.clear()
                numbers.update(new)
                changed.append(docname)
    return sorted(set(changed))


def alt_from_caption(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Give each figure's images its caption as alt text, where they have none (or
    only a file name)."""
    for figure in doctree.findall(nodes.figure):
        caption = next(iter(figure.findall(nodes.caption)), None)
        if caption is None:
            continue
        text = caption.astext().strip()
        for image in figure.findall(nodes.image):
            alt = image.get("alt", "")
            if not alt or re.search(r"[/\\]|\.(png|jpe?g|svg|gif)$", alt):
                image["alt"] = text


def setup(app: Sphinx) -> dict:
    # after Sphinx's own numbering (its collector runs at the default priority, 500)
    app.connect("env-get-updated", renumber, priority=900)
    app.connect("doctree-resolved", alt_from_caption)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
