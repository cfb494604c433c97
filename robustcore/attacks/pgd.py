"""Projected Gradient Descent (Madry et al., 2018) under the L∞ or L2 norm."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import _checks
from . import _base


@_base.on_model_device
def pgd(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, *,
        norm: str = "linf", steps: int = 40, alpha: float | None = None,
        random_start: bool = True, restarts: int = 1, targeted: bool = False) -> torch.Tensor:
    """Maximise the cross-entropy (or minimise it toward ``y`` if ``targeted``) inside the ε-ball.

    x: (N, C, H, W) in [0, 1]; y: (N,) true labels, or target labels if ``targeted``.
    ``alpha`` defaults to ``2.5 * eps / steps``. With ``restarts > 1`` each example keeps
    the restart that succeeded (else the one with the highest loss).
    Returns the adversarial batch, in [0, 1] and within ``eps`` of ``x`` in the chosen norm.
    """
    y, eps = _base.check_inputs(model, x, y, eps, norm)
    steps = _checks.integer(steps, "steps", 1, 100_000)
    restarts = _checks.integer(restarts, "restarts", 1, 1_000)
    alpha = 2.5 * eps / steps if alpha is None else _checks.number(alpha, "alpha", 0.0)
    if eps == 0:
        return x.clone()
    sign = -1.0 if targeted else 1.0
    with _base.eval_mode(model):
        ball = _base.Ball(x, eps, norm)
        best = best_hit = best_loss = None
        for _ in range(restarts):
            x_adv = ball.random_point() if random_start else x.clone()
            for _ in range(steps):
                x_adv.requires_grad_(True)
                loss = F.cross_entropy(model(x_adv), y, reduction="sum")
                (grad,) = torch.autograd.grad(sign * loss, x_adv)
                with torch.no_grad():
                    x_adv = ball.project(x_adv.detach().add_(_base.ascent_step(grad, alpha, norm)))
            if restarts == 1:
                return x_adv.detach()
            with torch.no_grad():  # keep a success over a failure, else the higher loss
                logits = model(x_adv)
                hit = (logits.argmax(1) == y) if targeted else (logits.argmax(1) != y)
                loss_i = sign * F.cross_entropy(logits, y, reduction="none")
                if best is None:
                    best, best_hit, best_loss = x_adv, hit, loss_i
                    continue
                better = (hit & ~best_hit) | ((hit == best_hit) & (loss_i > best_loss))
                best = torch.where(better.view(-1, 1, 1, 1), x_adv, best)
                best_hit, best_loss = torch.where(better, hit, best_hit), torch.where(better, loss_i, best_loss)
        return best.detach()
