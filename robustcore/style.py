"""The book's one look for figures: the width they are drawn at (:data:`COLUMN_IN`),
the matplotlib style (:data:`STYLE`, set by :func:`use_style`) and the second cues
besides colour (:data:`HATCHES`, :data:`MARKERS`). :mod:`robustcore.plotting` draws
with them and re-exports them.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib import cycler

# The width a figure is drawn at: the book's text column is 684 px, and figures are
# drawn at 100 dpi, so a figure no wider than this is shown at its drawn size, its text
# at the size it was set in (a wider one is shrunk, its labels with it).
COLUMN_IN = 6.6
# One look for every figure of the book: text sized for the 684-px column, no top or
# right spines, a colour-blind-safe cycle (Okabe & Ito).
STYLE = {
    "figure.dpi": 100,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(
        color=[
            "#0072B2",
            "#E69F00",
            "#009E73",
            "#D55E00",
            "#CC79A7",
            "#56B4E9",
            "#F0E442",
            "#000000",
        ]
    ),
    "image.cmap": "viridis",
}


# A second cue besides colour: the n-th series of a chart also gets the n-th hatch
# (bars) or marker (lines).
HATCHES = ("", "//", "..", "xx", "\\\\", "++", "oo", "--")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def use_style() -> None:
    """Make :data:`STYLE` matplotlib's style for the rest of the session (a chapter
    calls it once, at the top)."""
    plt.style.use(STYLE)
