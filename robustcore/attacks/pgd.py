"""Projected Gradient Descent (Madry et al., 2018) under the L∞ or L2 norm, and the
loop it runs: projected gradient ascent of any loss inside a
:class:`~robustcore.attacks.Ball`."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .. import checks
from .base import Ball, ascent_step, check_inputs, eval_mode, on_model_device


def projected_ascent(
    loss: Callable[[torch.Tensor], torch.Tensor],
    ball: Ball,
    steps: int,
    alpha: float,
    *,
    random_start: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Maximise ``loss`` over ``ball``: from a random point of the ball (drawn from
    ``generator`` if given) or from its centre, take ``steps`` steepest-ascent steps of
    size ``alpha`` in the ball's norm, each projected back onto the ball.

    ``loss(x_adv)``: a scalar, the sum of the per-image losses of the batch x_adv
    (N, C, H, W), so that each image's gradient is its own loss's. Returns the last
    point (N, C, H, W), detached. No checks: callers validate.
    """
    x_adv = ball.random_point(generator) if random_start else ball.x.clone()
    for _ in range(steps):
        x_adv.requires_grad_(True)
        (grad,) = torch.autograd.grad(loss(x_adv), x_adv)
        with torch.no_grad():
            x_adv = ball.project(
                x_adv.detach().add_(ascent_step(grad, alpha, ball.norm))
            )
    return x_adv.detach()


def _check(model, x, y, eps, norm, steps, alpha, restarts, **_) -> dict:
    y, eps = check_inputs(model, x, y, eps, norm)
    return {
        "y": y,
        "eps": eps,
        "steps": checks.integer(steps, "steps", 1, 100_000),
        "restarts": checks.integer(restarts, "restarts", 1, 1_000),
        "alpha": None if alpha is None else checks.number(alpha, "alpha", 0.0),
    }


@on_model_device
@checks.checked(_check)
def pgd(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    norm: str = "linf",
    steps: int = 40,
    alpha: float | None = None,
    random_start: bool = True,
    restarts: int = 1,
    targeted: bool = False,
) -> torch.Tensor:
    """Maximise the cross-entropy (or minimise it toward ``y`` if ``targeted``) inside
    the ε-ball.

    x: (N, C, H, W) in [0, 1]; y: (N,) true labels, or target labels if ``targeted``.
    ``alpha`` defaults to ``2.5 * eps / steps``. With ``restarts > 1`` each example
    keeps the restart that succeeded (else the one with the highest loss). Returns the
    adversarial batch, in [0, 1] and within ``eps`` of ``x`` in the chosen norm.
    """
    if eps == 0:
        return x.clone()
    alpha = 2.5 * eps / steps if alpha is None else alpha
    sign = -1.0 if targeted else 1.0  # targeted: descend on the loss toward y
    ball = Ball(x, eps, norm)

    def loss(x_adv: torch.Tensor) -> torch.Tensor:
        return sign * F.cross_entropy(model(x_adv), y, reduction="sum")

    @torch.no_grad()
    def outcome(x_adv: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # success and loss per image
        logits = model(x_adv)
        hit = logits.argmax(1) == y if targeted else logits.argmax(1) != y
        return hit, sign * F.cross_entropy(logits, y, reduction="none")

    with eval_mode(model):
        best = projected_ascent(loss, ball, steps, alpha, random_start=random_start)
        if restarts == 1:
            return best
        best_hit, best_loss = outcome(best)
        for _ in range(restarts - 1):
            # keep a success over a failure, else the higher loss
            x_adv = projected_ascent(
                loss, ball, steps, alpha, random_start=random_start
            )
            hit, loss_i = outcome(x_adv)
            better = (hit & ~best_hit) | ((hit == best_hit) & (loss_i > best_loss))
            best = torch.where(better.view(-1, 1, 1, 1), x_adv, best)
            best_hit, best_loss = (
                torch.where(better, hit, best_hit),
                torch.where(better, loss_i, best_loss),
            )
        return best


@on_model_device
@checks.checked(_check)
def pgd_correct(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    norm: str = "linf",
    steps: int = 40,
    alpha: float | None = None,
    random_start: bool = True,
    restarts: int = 1,
) -> torch.Tensor:
    """Per example (N,) bool: still classified right at every iterate of untargeted
    :func:`pgd` (same settings, same random starts), i.e. robust to it.

    x: (N, C, H, W) in [0, 1]; y: (N,) true labels. Only the examples classified right
    on clean input are attacked (the others count as wrong), and an example drops out
    as soon as an iterate — the random start included — is misclassified, as
    AutoAttack evaluates: the accuracy ``pgd_correct(...).float().mean()`` is at most
    that of :func:`pgd`'s last iterates drawn from the same random state (with
    restarts: from any restart; up to rounding, the forward passes running on fewer
    examples), for a fraction of the cost on a model that PGD fools.
    """
    alpha = 2.5 * eps / steps if alpha is None else alpha
    with eval_mode(model):
        with torch.no_grad():
            alive = (model(x).argmax(1) == y).nonzero()[:, 0]
        if eps == 0:
            return _verdict(alive, len(x))
        for _ in range(restarts):
            # drawn for the whole batch, as pgd draws it, then cut to the examples left
            start = Ball(x, eps, norm).random_point() if random_start else x
            if len(alive):
                alive = alive[
                    _survivors(
                        model, x[alive], y[alive], start[alive], eps, norm, steps, alpha
                    )
                ]
    return _verdict(alive, len(x))


def _verdict(alive: torch.Tensor, n: int) -> torch.Tensor:
    """(n,) bool, True at the indices ``alive``."""
    out = torch.zeros(n, dtype=torch.bool, device=alive.device)
    out[alive] = True
    return out


def _survivors(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    x_adv: torch.Tensor,
    eps: float,
    norm: str,
    steps: int,
    alpha: float,
) -> torch.Tensor:
    """Indices into x (N, C, H, W) of the examples classified right at every iterate of
    ``steps`` ascent steps on the cross-entropy from ``x_adv``; each step runs only on
    the examples not yet fooled. Each iterate's forward pass gives both the check and
    the gradient. No checks: callers validate."""
    idx = torch.arange(len(x), device=x.device)
    ball = Ball(x, eps, norm)
    for step in range(steps + 1):
        last = step == steps  # the last iterate: checked, no gradient
        x_adv = x_adv.detach().requires_grad_(not last)
        with torch.set_grad_enabled(not last):
            logits = model(x_adv)
        right = logits.argmax(1) == y
        if last or not right.any():
            return idx[right]
        (grad,) = torch.autograd.grad(
            F.cross_entropy(logits, y, reduction="sum"), x_adv
        )
        with torch.no_grad():
            if not right.all():  # drop the fooled; the others' gradients are their own
                idx, x, y, x_adv, grad = (t[right] for t in (idx, x, y, x_adv, grad))
                ball = Ball(x, eps, norm)
            x_adv = ball.project(x_adv.add_(ascent_step(grad, alpha, norm)))
    return idx
