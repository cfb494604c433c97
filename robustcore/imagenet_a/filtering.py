"""Natural adversarial filtering, the method that built ImageNet-A: keep what a fixed
model gets wrong; and :class:`Ensemble`, the averaged model to filter or evaluate
with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .. import checks
from .evaluation import is_pair, predict_proba


def natural_adversarial_filter(
    model: torch.nn.Module,
    source: Any,
    *,
    min_confidence: float = 0.0,
    classes: Sequence[int] | None = None,
    batch_size: int = 500,
):
    """Keep what the fixed ``model`` gets wrong — the filtering step that built
    ImageNet-A.

    ``min_confidence`` > 0 keeps only mistakes made with at least that softmax
    confidence. For an (images, labels) pair returns ``(images[kept], labels[kept],
    kept)``; for a Dataset, ``(torch.utils.data.Subset, kept)``. ``kept`` are int64
    indices into ``source``, increasing.
    """
    checks.number(min_confidence, "min_confidence", 0.0, 1.0)
    if not (is_pair(source) or isinstance(source, torch.utils.data.Dataset)):
        raise TypeError(
            "source must be an (images, labels) tensor pair or a Dataset "
            f"(its order defines the indices), got {type(source).__name__}"
        )
    p, y = predict_proba(model, source, classes=classes, batch_size=batch_size)
    conf, pred = p.max(dim=1)
    kept = torch.nonzero((pred != y) & (conf >= min_confidence)).flatten()
    if isinstance(source, torch.utils.data.Dataset):
        return torch.utils.data.Subset(source, kept.tolist()), kept
    x, labels = source
    return x[kept], labels[kept], kept


class Ensemble(torch.nn.Module):
    """The average of the members' softmax probabilities, returned as log-probabilities
    (so that :func:`evaluate`'s softmax recovers the average)."""

    def __init__(self, members: Sequence[torch.nn.Module]):
        super().__init__()
        if not members:
            raise ValueError("members must hold at least one model")
        self.members = torch.nn.ModuleList(
            [checks.module(m, "members[i]") for m in members]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = torch.stack([torch.softmax(m(x), dim=1) for m in self.members]).mean(0)
        return p.clamp_min(1e-12).log()
