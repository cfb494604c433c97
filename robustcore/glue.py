"""Numbers bound into a chapter's prose (myst-nb's glue): the rendered text quotes what
a cell computed, or what :mod:`robustcore.references` holds, never a typed copy.

In a cell: ``glue.numbers(worst=0.35)`` or ``glue.published("ilyas/D_R/l2")``; in the
Markdown that follows: ``{glue:text}`worst:.1%``` or ``{glue:text}`ilyas_D_R_l2:g```
(a registry key's ``/`` and other non-word characters become ``_``, see :func:`name`).
Jupyter and Colab show the roles as written, not the numbers: so in a notebook kernel
both calls also print what they glue ("Numbers the text below quotes: ``worst`` =
0.35"), in the cell just above the prose that quotes them. The book's pages remove
those cells (``remove-cell``), so only a notebook reader sees the line. Without myst-nb
(a bare Colab runtime) nothing is glued: the cells still run and print the numbers.
"""

from __future__ import annotations

import math
import numbers as _numbers
import re

from . import references

__all__ = ["name", "numbers", "published"]


def name(key: str) -> str:
    """The glue name of a registry key: ``"ilyas/D_R/l2"`` → ``"ilyas_D_R_l2"``."""
    if not isinstance(key, str) or not key:
        raise TypeError(f"key must be a non-empty str, got {key!r}")
    return re.sub(r"\W", "_", key)


def numbers(**values: float) -> None:
    """Glue each keyword's value (a finite real number) under its name."""
    for k, v in values.items():
        if isinstance(v, bool) or not isinstance(v, _numbers.Real):
            raise TypeError(f"{k} must be a real number, got {type(v).__name__}")
        if not math.isfinite(v):
            raise ValueError(f"{k} must be finite, got {v}")
    _glue({k: float(v) for k, v in values.items()})


def published(*keys: str) -> None:
    """Glue the value of each registry entry ``keys`` under :func:`name` of its key."""
    _glue({name(k): references.get(k).value for k in keys})


def _glue(values: dict[str, float]) -> None:
    _show(values)
    try:  # myst-nb: installed with the book's tools, not with the library
        from myst_nb import glue
    except ImportError:
        return
    for k, v in values.items():
        glue(k, v, display=False)


def _show(values: dict[str, float]) -> None:
    """In a notebook kernel, print the glued numbers for the reader of the notebook."""
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:
        return
    shell = get_ipython()  # a kernel's shell has .kernel; a terminal IPython has not
    if getattr(shell, "kernel", None) is None or not values:  # nobody reads it here
        return
    quoted = ", ".join(f"`{k}` = {v:.4g}" for k, v in values.items())
    display(Markdown(f"*Numbers the text below quotes:* {quoted}"))
