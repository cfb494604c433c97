"""Adversarial attacks, one file each over a small shared base
(:mod:`~robustcore.attacks.base`).

The gradient attacks take ``(model, x, y, eps, ...)`` with ``x`` a float batch
(N, C, H, W) in [0, 1] and return the adversarial batch; :func:`make` builds one from a
name and keyword settings, which is how training recipes store their attack.
:func:`one_pixel` is the black-box one-pixel attack (differential evolution). Each
public attack checks its arguments once; its ``unchecked`` attribute is the same attack
without checks, for loops over batches of data checked once (:func:`check`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch

from ..checks import choice
from .base import NORMS, Ball, ascent_step, eval_mode, flat_norm, random_delta
from .fgsm import fgsm
from .differential_evolution import (
    BOUNDS,
    STRATEGIES,
    apply_pixels,
    decode,
    encode,
    generation,
    mutate,
)
from .onepixel import OnePixelResult, exhaustive_one_pixel, one_pixel
from .pgd import pgd, pgd_correct, projected_ascent

Attack = Callable[[torch.nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]
ATTACKS: dict[str, Callable[..., torch.Tensor]] = {"fgsm": fgsm, "pgd": pgd}
SETTINGS = ("eps", "norm", "steps", "alpha", "random_start", "restarts", "targeted")


def _check_settings(name: str, settings: dict[str, Any]) -> None:
    choice(name, "attack name", tuple(ATTACKS))
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise TypeError(
            f"settings of attack {name!r} must be among {', '.join(SETTINGS)}; "
            f"got unknown {sorted(unknown)}"
        )


def make(name: str, **settings: Any) -> Attack:
    """``make("pgd", eps=0.3, steps=40)`` → a function ``(model, x, y) -> x_adv`` that
    checks its input."""
    _check_settings(name, settings)
    return functools.partial(ATTACKS[name], **settings)


def check(
    name: str, model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, **settings: Any
) -> tuple[torch.Tensor, dict[str, Any]]:
    """Check attack ``name`` with ``settings`` on the data ``(model, x, y)`` once, as
    the attack itself would; return ``y`` as int64 and every setting, defaults filled
    in, normalised. A loop over batches of that data then runs
    ``ATTACKS[name].unchecked(model, xb, yb, **settings)`` (no checks, no device moves:
    xb, yb on the model's device)."""
    _check_settings(name, settings)
    args = ATTACKS[name].check(model, x, y, **settings)
    return args.pop("y"), {k: v for k, v in args.items() if k not in ("model", "x")}


__all__ = [
    "ATTACKS",
    "BOUNDS",
    "NORMS",
    "SETTINGS",
    "STRATEGIES",
    "Attack",
    "Ball",
    "OnePixelResult",
    "apply_pixels",
    "ascent_step",
    "check",
    "decode",
    "encode",
    "eval_mode",
    "exhaustive_one_pixel",
    "fgsm",
    "flat_norm",
    "generation",
    "make",
    "mutate",
    "one_pixel",
    "pgd",
    "pgd_correct",
    "projected_ascent",
    "random_delta",
]
