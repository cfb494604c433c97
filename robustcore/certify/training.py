"""Certified training (Gowal et al. 2018): train on the interval bounds' worst case.

IBP's margin bounds ``m_j ≤ z_y − z_j`` over the ball give worst-case logits
``ẑ = −m`` (ẑ_y = 0): the logits an adversary inside the ball could at most
reach, as far as the intervals can tell. The loss mixes the clean and the
worst-case cross-entropy, ``κ · CE(z(x), y) + (1 − κ) · CE(ẑ, y)``;
:func:`robustcore.train.train` ramps ε from 0 and κ from 1 to their final
values, as Gowal et al. do, since IBP from the start at full ε does not train.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..attacks import Ball
from .bounds import ibp_spec, margin_spec
from .network import chain


def ibp_loss(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    kappa: float = 0.5,
) -> torch.Tensor:
    """``κ · CE(z(x), y) + (1 − κ) · CE(ẑ, y)``, differentiable, for a batch x
    (N, C, H, W) in [0, 1], labels y (N,), the L∞ ball of radius ``eps`` (clipped to
    [0, 1]). No checks: :func:`robustcore.train.train` validates."""
    logits = model(x)
    if kappa >= 1.0:
        return F.cross_entropy(logits, y)
    steps = chain(model, tuple(x.shape[1:]))
    box = Ball(x, eps, "linf")  # the L∞ ball ∩ [0, 1] is a box
    m = ibp_spec(steps, box.lo, box.hi, margin_spec(y, logits.shape[1]).to(x.dtype))
    return kappa * F.cross_entropy(logits, y) + (1 - kappa) * F.cross_entropy(-m, y)
