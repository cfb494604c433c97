"""What every attack shares: argument checks, the model's device and eval mode, norms,
steps, random starts and the feasible set (:class:`Ball`).

Images are float batches (N, C, H, W) in [0, 1]. Only the checks validate their input;
the helpers after them (:func:`random_delta`, :func:`ascent_step`, :class:`Ball`) run
inside attacks on every step and check nothing: callers validate.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch

from .. import checks

# eval_mode: re-exported as part of the attack base
from ..utils import eval_mode, model_device  # noqa: F401

NORMS = ("linf", "l2")


def check_inputs(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    norm: str = "linf",
) -> tuple[torch.Tensor, float]:
    """Validate ``(model, x, y, eps, norm)``; return labels as int64 and eps as
    float."""
    checks.module(model)
    checks.images(x)
    y = checks.model_labels(model, x, y)
    checks.choice(norm, "norm", NORMS)
    eps = checks.number(
        eps, "eps", 0.0, 1.0 if norm == "linf" else float(x[0].numel()) ** 0.5
    )
    return y, eps


def on_model_device(attack: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """Run ``attack(model, x, y, ...)`` on the model's device; return the result on
    ``x``'s device."""

    @functools.wraps(attack)
    def run(
        model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, *args, **kwargs
    ) -> torch.Tensor:
        if (
            isinstance(model, torch.nn.Module)
            and isinstance(x, torch.Tensor)
            and isinstance(y, torch.Tensor)
        ):
            device = model_device(model)
            return attack(model, x.to(device), y.to(device), *args, **kwargs).to(
                x.device
            )
        # let the attack's own checks explain the bad input
        return attack(model, x, y, *args, **kwargs)

    return run


def flat_norm(v: torch.Tensor, norm: str) -> torch.Tensor:
    """Per-example norm of a batch (N, ...), shape (N,)."""
    v = v.flatten(1)
    return v.abs().amax(1) if norm == "linf" else v.norm(dim=1)


def _bcast(v: torch.Tensor) -> torch.Tensor:
    return v.view(-1, 1, 1, 1)


def random_delta(
    x: torch.Tensor, eps: float, norm: str, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A random perturbation of ``x`` (N, C, H, W) inside the ε-ball: uniform per
    pixel in [−ε, ε] for L∞; a uniform direction scaled by a radius uniform in
    [0, ε] for L2.

    Drawn from the global random generator of ``x``'s device, or on the CPU from
    ``generator`` and then moved to ``x``'s device. No checks: callers validate.
    """
    if norm == "linf":
        if generator is None:
            return torch.empty_like(x).uniform_(-eps, eps)
        return (2 * torch.rand(x.shape, generator=generator).to(x.device) - 1) * eps
    if generator is None:
        d, r = (
            torch.randn_like(x),
            torch.rand(x.shape[0], device=x.device, dtype=x.dtype),
        )
    else:
        d = torch.randn(x.shape, generator=generator).to(x.device, x.dtype)
        r = torch.rand(x.shape[0], generator=generator).to(x.device, x.dtype)
    return d * _bcast(eps * r / flat_norm(d, "l2").clamp_min(1e-12))


def ascent_step(grad: torch.Tensor, alpha: float, norm: str) -> torch.Tensor:
    """The steepest-ascent step of size ``alpha`` for the given norm:
    ``alpha · sign(grad)`` (L∞) or ``alpha · grad / ‖grad‖₂`` per example
    (L2).
    Computed in place in ``grad`` (N, C, H, W). No checks: callers validate."""
    if norm == "linf":
        return grad.sign_().mul_(alpha)
    return grad.mul_(_bcast(alpha / flat_norm(grad, "l2").clamp_min(1e-12)))


class Ball:
    """The feasible set: the ε-ball around ``x`` (N, C, H, W) in the given norm,
    intersected with [0, 1]. No checks: callers validate."""

    def __init__(self, x: torch.Tensor, eps: float, norm: str):
        self.x, self.eps, self.norm = x, eps, norm
        if norm == "linf":
            # the set is a box: compute its bounds once, not at every step
            self.lo, self.hi = (x - eps).clamp_(min=0.0), (x + eps).clamp_(max=1.0)

    def random_point(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """A random start inside the set: ``x`` plus :func:`random_delta`, projected."""
        return self.project(
            self.x + random_delta(self.x, self.eps, self.norm, generator)
        )

    def project(self, x_adv: torch.Tensor) -> torch.Tensor:
        """Map ``x_adv`` into the set. L∞: the exact projection (clip to the box).
        L2: rescale δ onto the ball, then clip to [0, 1], the usual stand-in for the
        joint projection.

        Works in place on ``x_adv`` where it can: pass a tensor you no longer need.
        """
        if self.norm == "linf":
            return torch.maximum(
                torch.minimum(x_adv, self.hi, out=x_adv), self.lo, out=x_adv
            )
        delta = x_adv - self.x
        delta = delta * _bcast(
            (self.eps / flat_norm(delta, "l2").clamp_min(1e-12)).clamp(max=1.0)
        )
        # Clipping to [0, 1] only shrinks each |delta_i| (x is in [0, 1]), so the result
        # stays in the ball.
        return (self.x + delta).clamp_(0.0, 1.0)
