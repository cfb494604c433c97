"""Figures used across the book: image grids with predictions, ε-sweep curves, grouped
bars, one legend for several axes, and a check that no two tick labels of a figure
overlap (:func:`overlapping_labels`); drawn in the book's style
(:mod:`robustcore.style`, whose names this module re-exports: ``plotting.use_style()``,
``plotting.COLUMN_IN``).

Every function returns the matplotlib ``Figure`` (and draws into ``ax`` when given one).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.font_manager import FontProperties
from torchvision.utils import make_grid

from . import checks

# re-exported: chapters call plotting.use_style(), plotting.COLUMN_IN
from .style import COLUMN_IN, HATCHES, MARKERS, STYLE, use_style  # noqa: F401


def _wrap(label: str, ax, n: int) -> str:
    """``label`` broken into lines that fit one of ``n`` equal slots of ``ax``'s width
    (a character taken as 0.6 of the tick font's size)."""
    points = FontProperties(size=plt.rcParams["xtick.labelsize"]).get_size_in_points()
    slot = ax.get_position().width * ax.figure.get_figwidth() / max(n, 1)
    chars = max(6, int(0.85 * slot * 72 / (0.6 * points)))
    return "\n".join(textwrap.wrap(label, chars)) or label


def shared_legend(fig, axes, ncol: int | None = None) -> None:
    """One legend for ``axes`` of ``fig``, below them and outside the data; the
    axes' own legends are removed. Entries are taken from every axes, once per label."""
    if not hasattr(fig, "legend"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    axes = list(np.asarray(axes, dtype=object).flat)
    handles, labels = [], []
    for ax in axes:
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        for h, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(h)
                labels.append(label)
    if not labels:
        raise ValueError("axes have no labelled artists for a legend")
    if fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    width = max(len(label) for label in labels)
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=ncol
        or max(1, min(len(labels), int(fig.get_figwidth() * 14 / (width + 5)))),
    )


def overlapping_labels(fig) -> list[tuple[str, str]]:
    """Pairs of tick labels of ``fig`` whose drawn boxes overlap, on any axis of any
    Axes; ``[]`` when every label can be read."""
    if not hasattr(fig, "canvas") or not hasattr(fig, "axes"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    out = []
    for ax in fig.axes:
        for ticks in (ax.get_xticklabels(), ax.get_yticklabels()):
            shown = [t for t in ticks if t.get_visible() and t.get_text().strip()]
            boxes = [t.get_window_extent(renderer) for t in shown]
            out += [
                (shown[i].get_text(), shown[j].get_text())
                for i in range(len(shown))
                for j in range(i + 1, len(shown))
                if boxes[i].overlaps(boxes[j])
            ]
    return out


def image_grid(
    x: torch.Tensor, nrow: int = 10, padding: int = 2, ax=None, title: str | None = None
):
    """A batch (N, C, H, W) in [0, 1] as one picture, tiled by
    ``torchvision.utils.make_grid``."""
    checks.images(x)
    checks.integer(nrow, "nrow", 1)
    checks.integer(padding, "padding", 0)
    grid = make_grid(x.detach().cpu(), nrow=nrow, padding=padding, pad_value=1.0)
    side = min(0.9, COLUMN_IN / nrow)  # inches an image, the row within the column
    fig, ax = (
        (ax.figure, ax)
        if ax is not None
        else plt.subplots(figsize=(side * nrow, side * -(-len(x) // nrow)))
    )
    ax.imshow(grid.permute(1, 2, 0).numpy(), cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


def show_predictions(
    x: torch.Tensor,
    pred: torch.Tensor,
    y: torch.Tensor | None = None,
    ncols: int = 8,
    row_titles: Sequence[str] | None = None,
    size: float = 1.3,
    prob: torch.Tensor | None = None,
):
    """Images with their predicted label above each (green if equal to ``y``, red
    and marked ✗ otherwise). The images shrink so the grid fits :data:`COLUMN_IN`.

    ``x``: (N, C, H, W) in [0, 1]; ``pred``, ``y``: (N,). With ``row_titles`` the grid
    has one row per title, ``ncols`` images a row. ``prob`` (N,) adds the confidence.
    """
    checks.images(x)
    n = len(x)
    checks.integer(ncols, "ncols", 1)
    for arg, v in (("pred", pred), ("y", y), ("prob", prob)):
        if v is None and arg != "pred":
            continue
        if not isinstance(v, torch.Tensor) or v.shape != (n,):
            raise ValueError(
                f"{arg} must be a tensor of shape ({n},) to match x, got "
                f"{getattr(v, 'shape', type(v).__name__)}"
            )
    nrows = -(-n // ncols)
    size = min(size, (COLUMN_IN - (1.0 if row_titles else 0.0)) / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(ncols * size, nrows * (size + 0.25)), squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= n:
            continue
        img = x[i].detach().cpu()
        ax.imshow(img.permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray", vmin=0, vmax=1)
        wrong = y is not None and int(pred[i]) != int(y[i])
        label = (
            ("✗ " if wrong else "")
            + f"{int(pred[i])}"
            + (f" ({float(prob[i]):.0%})" if prob is not None else "")
        )
        color = "black" if y is None else ("tab:red" if wrong else "tab:green")
        ax.set_title(label, color=color, fontsize=9 if size >= 0.8 else 8)
    if row_titles:
        for r, t in enumerate(row_titles[:nrows]):
            axes[r, 0].text(
                -0.15,
                0.5,
                t,
                transform=axes[r, 0].transAxes,
                ha="right",
                va="center",
                fontsize=10,
            )
    fig.tight_layout()
    return fig


def eps_curves(
    eps: Sequence[float],
    curves: Mapping[str, Sequence[float]],
    *,
    title: str = "",
    xlabel: str = "ε",
    ax=None,
    reference: Mapping[str, tuple[float, float]] | None = None,
):
    """Accuracy-vs-ε lines, one per entry of ``curves`` (name → accuracies in
    [0, 1]).

    ``reference`` adds published points as markers: label → (ε, accuracy). Each curve
    has its own marker as well as its colour; a figure drawn here has its legend below.
    """
    if not isinstance(curves, Mapping):
        raise TypeError(
            f"curves must map names to accuracies, got {type(curves).__name__}"
        )
    own = ax is None
    fig, ax = (
        plt.subplots(figsize=(5, 3.6), layout="constrained") if own else (ax.figure, ax)
    )
    for i, (name, acc) in enumerate(curves.items()):
        if len(acc) != len(eps):
            raise ValueError(
                f"curve {name!r} has {len(acc)} values for {len(eps)} ε values"
            )
        ax.plot(
            eps, np.asarray(acc) * 100, marker=MARKERS[i % len(MARKERS)], label=name
        )
    for name, (e, a) in (reference or {}).items():
        ax.plot([e], [a * 100], marker="*", markersize=12, linestyle="none", label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    if own:
        shared_legend(fig, [ax])
    return fig


def grouped_bars(
    groups: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    ylabel: str = "accuracy (%)",
    title: str = "",
    ax=None,
    percent: bool = True,
):
    """A table as a bar chart: one cluster per group, one bar per series
    (values in [0, 1]), each series with its own colour and hatch. A figure drawn here
    fits :data:`COLUMN_IN`, its legend below the bars."""
    if not isinstance(series, Mapping):
        raise TypeError(f"series must map names to values, got {type(series).__name__}")
    width_in = min(COLUMN_IN, 2.5 + 0.45 * len(groups) * max(1, len(series)))
    own = ax is None
    fig, ax = (
        plt.subplots(figsize=(width_in, 3.6), layout="constrained")
        if own
        else (ax.figure, ax)
    )
    width = 0.8 / max(1, len(series))
    pos = np.arange(len(groups))
    for i, (name, vals) in enumerate(series.items()):
        if len(vals) != len(groups):
            raise ValueError(
                f"series {name!r} has {len(vals)} values for {len(groups)} groups"
            )
        v = np.asarray(vals, dtype=float) * (100 if percent else 1)
        bars = ax.bar(
            pos + (i - (len(series) - 1) / 2) * width,
            v,
            width,
            label=name,
            hatch=HATCHES[i % len(HATCHES)],
            edgecolor="white",
        )
        ax.bar_label(bars, fmt="%.1f" if percent else "%.3f", fontsize=7)
    ax.set_xticks(pos, [_wrap(str(g), ax, len(groups)) for g in groups])
    ax.set_ylabel(ylabel)
    ax.margins(y=0.12)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title)
    if own:
        shared_legend(fig, [ax])
    return fig


def changed_pixels(
    x: torch.Tensor,
    x_adv: torch.Tensor,
    pred: torch.Tensor,
    y: torch.Tensor,
    *,
    ncols: int = 8,
    size: float = 1.4,
    prob: torch.Tensor | None = None,
):
    """Adversarial images with every changed pixel circled and the prediction above (red
    when it is not ``y``). ``x``, ``x_adv``: (N, C, H, W) in [0, 1]; ``pred``, ``y``:
    (N,)."""
    checks.images(x)
    checks.images(x_adv, "x_adv")
    if x_adv.shape != x.shape:
        raise ValueError(
            f"x_adv must have the shape of x {tuple(x.shape)}, got {tuple(x_adv.shape)}"
        )
    fig = show_predictions(x_adv, pred, y, ncols=ncols, size=size, prob=prob)
    changed = (x_adv - x).abs().amax(1) > 0  # (N, H, W)
    for ax, mask in zip(fig.axes, changed):
        rows, cols = mask.nonzero(as_tuple=True)
        for r, c in zip(rows.tolist(), cols.tolist()):
            ax.add_patch(
                plt.Circle((c, r), 1.6, fill=False, color="tab:red", linewidth=1.2)
            )
    return fig


def pixel_map(
    values: torch.Tensor,
    *,
    ax=None,
    title: str = "",
    cmap: str = "magma",
    label: str = "",
    background: torch.Tensor | None = None,
):
    """A (H, W) map of numbers (counts, probabilities) as a heat map with a colour bar;
    an image ``background`` (H, W) in [0, 1] is drawn faintly underneath."""
    if not isinstance(values, torch.Tensor) or values.dim() != 2:
        raise ValueError(
            "values must be a (H, W) tensor, got "
            f"{getattr(values, 'shape', type(values).__name__)}"
        )
    if background is not None and (
        not isinstance(background, torch.Tensor) or background.shape != values.shape
    ):
        raise ValueError(
            "background must be a tensor of the shape of values "
            f"{tuple(values.shape)}, got "
            f"{getattr(background, 'shape', type(background).__name__)}"
        )
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(3.4, 3.0))
    if background is not None:
        ax.imshow(background.detach().cpu().numpy(), cmap="gray", vmin=0, vmax=1)
    im = ax.imshow(
        values.detach().cpu().numpy(),
        cmap=cmap,
        alpha=0.75 if background is not None else 1.0,
    )
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=label)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def reproductions(
    rows: Sequence[Mapping],
    unit: str = "%",
    *,
    ax=None,
    title: str = "Reproductions: ours vs published",
    kind: str = "reproduction",
):
    """Ours (with its 95% interval where recorded) against the published number, one
    point per row of ``kind`` in ``unit`` of :func:`robustcore.results.table`; on the
    diagonal, ours equals the published number. ``kind="analogue"`` draws the
    comparisons made on other data, protocol or model instead: there theirs is
    context, not a target."""
    if not isinstance(unit, str):
        raise TypeError(f"unit must be a string such as '%' or 'AUROC', got {unit!r}")
    if kind not in ("reproduction", "analogue"):
        raise ValueError(f"kind must be 'reproduction' or 'analogue', got {kind!r}")
    rows = [
        r
        for r in rows
        if r.get("kind") == kind
        and r.get("value") is not None
        and r.get("unit") == unit
    ]
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(4.4, 4.0))
    if rows:
        ref = np.array([r["reference"] for r in rows], dtype=float)
        val = np.array([r["value"] for r in rows], dtype=float)
        err = np.array(
            [
                [r["value"] - r["low"], r["high"] - r["value"]]
                if r.get("low") is not None
                else [0.0, 0.0]
                for r in rows
            ]
        ).T
        ax.errorbar(ref, val, yerr=err, fmt="o", ms=4, capsize=2)
        lims = [
            min(ax.get_xlim()[0], ax.get_ylim()[0]),
            max(ax.get_xlim()[1], ax.get_ylim()[1]),
        ]
        ax.plot(lims, lims, color="grey", ls=":", lw=1)
    else:
        ax.text(
            0.5,
            0.5,
            f"no {kind} recorded yet",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    ax.set_xlabel(f"published ({unit})" if unit else "published")
    ax.set_ylabel("ours, 95% interval")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    return fig
