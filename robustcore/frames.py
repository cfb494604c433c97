"""Pictures a reader flips through on the rendered page, where no kernel runs.

A *frame viewer* holds pictures computed when the chapter ran, and controls (a toggle,
a slider) linked to them in the browser (``jslink`` to a ``Stack``'s selected index):
moving the slider changes the picture on the static page as in a live notebook.
:func:`eps_frames` shows one digit under PGD at each ε, :func:`one_pixel_frames` the
one-pixel attacks a chapter already ran. The live explorers, which rerun the attack on
every change, are in :mod:`robustcore.widgets`.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping

import matplotlib.pyplot as plt
import torch

from . import attacks, checks, train
from .widgets import attack_one, one_pixel_row, plot_attack_one, plot_one_pixel


def _png(fig, dpi: int = 80) -> bytes:
    """A figure as PNG bytes (then closed)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def _img(png: bytes, alt: str) -> str:
    """An HTML <img> of PNG bytes, described by ``alt``."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def frame_viewer(
    frames: Mapping[str, list[bytes]],
    labels: list[str],
    description: str = "",
    index: int = 0,
    alt: Mapping[str, list[str]] | None = None,
):
    """Precomputed pictures a reader flips through without a kernel: a toggle over the
    keys of ``frames``, a slider over ``labels`` (one PNG per label in each list),
    starting at label ``index``. ``alt`` holds what each picture shows, in words (one
    text per PNG, keyed as ``frames``); by default its key and label.

    The controls drive the pictures through links made in the browser (``jslink`` to
    a ``Stack``'s selected index), so the rendered page, whose widgets have no kernel
    behind them, changes the picture when the slider moves, as a live notebook does.
    """
    import ipywidgets as W

    if not isinstance(frames, Mapping) or not frames:
        raise ValueError("frames must map at least one name to a list of PNG images")
    if not labels or any(len(v) != len(labels) for v in frames.values()):
        raise ValueError(
            f"each list of frames must hold one PNG per label ({len(labels)} labels)"
        )
    index = checks.integer(index, "index", 0, len(labels) - 1)
    if alt is None:
        alt = {
            k: [f"{k}, {description} {lab}".strip() for lab in labels] for k in frames
        }
    if not isinstance(alt, Mapping) or any(
        len(alt.get(k, ())) != len(labels) for k in frames
    ):
        raise ValueError("alt must hold one text per picture of each key of frames")
    pick = W.ToggleButtons(options=list(frames))
    slider = W.SelectionSlider(
        options=list(labels), index=index, description=description
    )
    stacks = []
    for key, pngs in frames.items():
        # an <img> with its alt text: ipywidgets' Image widget has no alt attribute
        stack = W.Stack(
            [W.HTML(_img(p, text)) for p, text in zip(pngs, alt[key])],
            selected_index=index,
        )
        W.jslink((slider, "index"), (stack, "selected_index"))
        stacks.append(stack)
    outer = W.Stack(stacks, selected_index=0)
    W.jslink((pick, "index"), (outer, "selected_index"))
    return W.VBox([pick, slider, outer])


def eps_frames(
    models: Mapping[str, torch.nn.Module],
    x: torch.Tensor,
    y: int,
    eps: list[float],
    *,
    norm: str = "linf",
    steps: int = 20,
    start: float | None = None,
):
    """:func:`frame_viewer` of one image ``x`` (C, H, W) in [0, 1] with label ``y``
    under PGD at each ``eps``, against each of ``models``: the figure of
    :func:`plot_attack_one` per model and ε, computed now. ``start``: the ε shown
    first (default the first)."""
    if not isinstance(models, Mapping) or not models:
        raise ValueError("models must map at least one name to a model")
    if not isinstance(x, torch.Tensor) or x.dim() != 3:
        raise ValueError(f"x must be one image (C, H, W), got {getattr(x, 'shape', x)}")
    label = torch.tensor([checks.label(y)])
    for name, m in models.items():
        checks.module(m, f"models[{name!r}]")
        checks.labels(label, 1, "y", num_classes=checks.classes_of(m, x[None]))
    if not isinstance(eps, (list, tuple)) or not eps:
        raise TypeError(f"eps must be a non-empty list of numbers, got {eps!r}")
    if any(
        isinstance(e, bool) or not isinstance(e, (int, float)) or e < 0 for e in eps
    ):
        raise ValueError(f"eps must be a non-empty list of numbers >= 0, got {eps!r}")
    if start is not None and start not in eps:
        raise ValueError(f"start must be one of eps {eps}, got {start!r}")
    frames, alt = {}, {}
    for name, m in models.items():
        found = [attack_one(m, x, y, e, norm=norm, steps=steps) for e in eps]
        frames[name] = [_png(plot_attack_one(x, y, r, f"{name}")) for r in found]
        alt[name] = [
            f"{name}, PGD at ε = {e:g}: the digit {y} is read as {r['clean_pred']} "
            f"({r['clean_prob']:.0%}); attacked, as {r['pred']} ({r['prob']:.0%}), "
            f"{'right' if r['pred'] == y else 'wrong'}; beside it the perturbation"
            for e, r in zip(eps, found)
        ]
    first = 0 if start is None else list(eps).index(start)
    return frame_viewer(frames, [f"{e:g}" for e in eps], "ε", first, alt)


def one_pixel_frames(
    models: Mapping[str, torch.nn.Module],
    x: torch.Tensor,
    y: torch.Tensor,
    found: Mapping[str, attacks.OnePixelResult],
    digits: int = 10,
):
    """:func:`frame_viewer` of one-pixel attacks already run: per model (``found``
    holds each model's result on (x, y), images (N, C, H, W) in [0, 1]), the figure of
    :func:`plot_one_pixel` for each of the first ``digits`` images."""
    checks.models(models, x, y)
    if not isinstance(found, Mapping) or set(found) - set(models) or not found:
        raise ValueError("found must map names of models to their one-pixel results")
    digits = checks.integer(digits, "digits", 1, len(x))
    frames, alt = {}, {}
    for name, r in found.items():
        p_clean = train.predict(models[name], x[:digits]).softmax(1)
        rows = [one_pixel_row(r, i, p_clean[i]) for i in range(digits)]
        frames[name] = [
            _png(plot_one_pixel(x[i], int(y[i]), row, name))
            for i, row in enumerate(rows)
        ]
        alt[name] = [
            f"{name}, digit {i} (a {int(y[i])}): read as {row['clean_pred']} "
            f"({row['clean_prob']:.0%}); with {len(row['candidates'])} pixels changed "
            f"(circled), as {row['pred']} ({row['prob']:.0%}), "
            f"{'wrong' if row['pred'] != int(y[i]) else 'right'}"
            for i, row in enumerate(rows)
        ]
    return frame_viewer(frames, [str(i) for i in range(digits)], "digit", 0, alt)
