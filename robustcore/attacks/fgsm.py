"""Fast Gradient Sign Method (Goodfellow et al., 2015), with the optional random start
of Wong et al. (2020) used for fast adversarial training."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import checks
from .base import Ball, ascent_step, check_inputs, eval_mode, on_model_device


def _check(model, x, y, eps, alpha, **_) -> dict:
    y, eps = check_inputs(model, x, y, eps, "linf")
    return {
        "y": y,
        "eps": eps,
        "alpha": None if alpha is None else checks.number(alpha, "alpha", 0.0, 1.0),
    }


@on_model_device
@checks.checked(_check)
def fgsm(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    targeted: bool = False,
    random_start: bool = False,
    alpha: float | None = None,
) -> torch.Tensor:
    """One signed-gradient step of size ``alpha`` (default ``eps``) in the L∞ ball.

    x: (N, C, H, W) in [0, 1]; y: (N,) true labels, or target labels if ``targeted``.
    Returns the adversarial batch, same shape, in [0, 1] and within ``eps`` of ``x``.
    """
    if eps == 0:
        return x.clone()
    alpha = eps if alpha is None else alpha
    ball = Ball(x, eps, "linf")
    with eval_mode(model):
        x_adv = (ball.random_point() if random_start else x.clone()).requires_grad_(
            True
        )
        loss = F.cross_entropy(model(x_adv), y, reduction="sum")
        (grad,) = torch.autograd.grad(-loss if targeted else loss, x_adv)
        with torch.no_grad():
            return ball.project(x_adv.detach() + ascent_step(grad, alpha, "linf"))
