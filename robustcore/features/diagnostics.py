"""What the constructed datasets carry, measured with a second model.

A constructed image is meant to carry one kind of feature: D_R's the robust ones,
D_NR's and D_det's the non-robust ones. An adversarially trained model reads mostly
robust features, so what *it* says about a constructed image tells which signal the
image carries: :func:`read_as` gives the share it reads as a given label, and
:func:`relabel_sweep` measures, for several attack sizes ε, whether D_det's planted
perturbation fools the standard model without being read as the target by the robust
one — the size the construction needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .. import attacks, checks, stats
from ..train import predict
from .construct import MODES


def read_as(model: torch.nn.Module, x: torch.Tensor, labels: Any) -> stats.Estimate:
    """The share of images ``x`` (N, C, H, W) in [0, 1] that ``model`` classifies as
    ``labels`` (N,), with its 95% Wilson interval."""
    checks.module(model)
    checks.images(x)
    labels = checks.model_labels(model, x, labels, "labels")
    return stats.proportion(predict(model, x).argmax(1).cpu() == labels)


def relabel_sweep(
    std_model: torch.nn.Module,
    robust_model: torch.nn.Module,
    x: torch.Tensor,
    y: Any,
    eps: Sequence[float],
    *,
    mode: str = "det",
    steps: int = 40,
    num_classes: int = 10,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """For each L2 ε of ``eps``: perturb ``x`` (N, C, H, W) toward targets t by
    targeted PGD on ``std_model`` (as :func:`~robustcore.features.relabelled_dataset`
    does), then measure three shares of the perturbed images, each a
    :class:`~robustcore.stats.Estimate`: ``"std → t"`` (the planted signal works),
    ``"robust → y"`` and ``"robust → t"`` (what a robust model reads in them).

    Returns one dict per ε: ``{"eps", "std → t", "robust → y", "robust → t"}``.
    """
    checks.module(std_model, "std_model")
    checks.module(robust_model, "robust_model")
    checks.images(x)
    checks.choice(mode, "mode", MODES)
    num_classes = checks.integer(num_classes, "num_classes", 2)
    y = checks.labels(y, x.shape[0], "y", num_classes)
    if isinstance(eps, (str, bytes)) or not isinstance(eps, Sequence) or not eps:
        raise TypeError("eps must be a non-empty sequence of L2 sizes")
    sizes = [checks.number(e, "eps", 0.0, 1_000.0, lo_open=True) for e in eps]
    g = torch.Generator().manual_seed(checks.seed(seed))
    if mode == "det":
        t = (y + 1) % num_classes
    else:  # a uniform offset in 1..C-1: uniform over the other classes
        t = (y + torch.randint(1, num_classes, y.shape, generator=g)) % num_classes
    out = []
    for e in sizes:
        torch.manual_seed(seed)  # PGD's random start, as in the construction
        xa = attacks.pgd(std_model, x, t, eps=e, norm="l2", steps=steps, targeted=True)
        out.append(
            {
                "eps": e,
                "std → t": read_as(std_model, xa, t),
                "robust → y": read_as(robust_model, xa, y),
                "robust → t": read_as(robust_model, xa, t),
            }
        )
    return out
