"""Adversarial attacks: each a short function in its own file over a tiny shared base.

All take ``(model, x, y, eps, ...)`` with ``x`` a float batch (N, C, H, W) in [0, 1]
and return the adversarial batch. :func:`make` builds one from a name and keyword
settings, which is how training recipes store their attack.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch

from .._checks import choice
from ._base import NORMS, Ball, flat_norm
from .fgsm import fgsm
from .pgd import pgd

Attack = Callable[[torch.nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]
ATTACKS: dict[str, Callable[..., torch.Tensor]] = {"fgsm": fgsm, "pgd": pgd}


def make(name: str, **settings) -> Attack:
    """``make("pgd", eps=0.3, steps=40)`` → a function ``(model, x, y) -> x_adv``."""
    choice(name, "attack name", tuple(ATTACKS))
    unknown = set(settings) - {"eps", "norm", "steps", "alpha", "random_start", "restarts", "targeted"}
    if unknown:
        raise TypeError(f"settings of attack {name!r} must be among eps, norm, steps, alpha, random_start, "
                        f"restarts, targeted; got unknown {sorted(unknown)}")
    return functools.partial(ATTACKS[name], **settings)


__all__ = ["fgsm", "pgd", "make", "ATTACKS", "NORMS", "Ball", "flat_norm", "Attack"]
