"""Argument checks shared by every public function.

Each check raises a ``TypeError`` or ``ValueError`` whose message names the
argument and the accepted range, so misuse fails loudly and early.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import torch

Fn = TypeVar("Fn", bound=Callable[..., Any])


def images(x: Any, name: str = "x", channels: int | None = None) -> torch.Tensor:
    """Check a batch of images: floating tensor, NCHW, finite, values in [0, 1]."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor of images, got {type(x).__name__}"
        )
    if not x.is_floating_point():
        raise TypeError(
            f"{name} must be a floating tensor with values in [0, 1], got dtype "
            f"{x.dtype}"
        )
    if x.dim() != 4:
        raise ValueError(
            f"{name} must be a batch of images of shape (N, C, H, W), got shape "
            f"{tuple(x.shape)}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (N=0); pass at least one image")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(
            f"{name} must have {channels} channel(s), got shape {tuple(x.shape)}"
        )
    if not torch.isfinite(x).all():
        raise ValueError(
            f"{name} contains NaN or infinite values; images must lie in [0, 1]"
        )
    lo, hi = float(x.min()), float(x.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(
            f"{name} must have values in [0, 1], got range [{lo:.4g}, {hi:.4g}]"
        )
    return x


def labels(
    y: Any, n: int, name: str = "y", num_classes: int | None = None
) -> torch.Tensor:
    """Check integer class labels of shape (n,)."""
    if not isinstance(y, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor of class indices, got {type(y).__name__}"
        )
    if y.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        raise TypeError(
            f"{name} must be an integer tensor of class indices, got dtype {y.dtype}"
        )
    if y.shape != (n,):
        raise ValueError(
            f"{name} must have shape ({n},) to match the images, got {tuple(y.shape)}"
        )
    if n and num_classes is None and int(y.min()) < 0:
        raise ValueError(
            f"{name} must hold class indices >= 0, got minimum {int(y.min())}"
        )
    if (
        num_classes is not None
        and n
        and (int(y.min()) < 0 or int(y.max()) >= num_classes)
    ):
        raise ValueError(
            f"{name} must hold class indices in [0, {num_classes - 1}], "
            f"got range [{int(y.min())}, {int(y.max())}]"
        )
    return y.long()


def classes_of(model: torch.nn.Module, x: torch.Tensor, name: str = "model") -> int:
    """The number of classes ``model`` scores for images like ``x`` (N, C, H, W): one
    forward pass of ``x[:1]`` on the model's device, in eval mode, without gradients.
    A model that cannot take ``x``, or does not return logits (N, classes), is a
    ``ValueError`` naming ``name``."""
    from .utils import eval_mode, model_device

    try:
        with torch.no_grad(), eval_mode(model):
            out = model(x[:1].to(model_device(model)))
    except RuntimeError as e:  # shapes that do not fit: torch's message, our argument
        raise ValueError(
            f"{name} cannot take images of shape {tuple(x.shape[1:])}: {e}"
        ) from None
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[1] < 2:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            f"{name} must return logits of shape (N, classes) with classes >= 2, "
            f"got {got}"
        )
    return int(out.shape[1])


def model_labels(
    model: torch.nn.Module, x: torch.Tensor, y: Any, name: str = "y"
) -> torch.Tensor:
    """Check labels ``y`` (n,) of images ``x`` against the classes ``model`` scores
    (:func:`classes_of`): in [0, classes)."""
    return labels(y, x.shape[0], name, classes_of(model, x))


def number(
    v: Any, name: str, lo: float = 0.0, hi: float = math.inf, lo_open: bool = False
) -> float:
    """Check a finite real number in [lo, hi] (or (lo, hi] with ``lo_open``)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"{name} must be a real number, got {type(v).__name__}")
    v = float(v)
    bad = not math.isfinite(v) or v > hi or (v <= lo if lo_open else v < lo)
    if bad:
        left = "(" if lo_open else "["
        raise ValueError(f"{name} must be in {left}{lo:g}, {hi:g}], got {v!r}")
    return v


def integer(v: Any, name: str, lo: int = 0, hi: int | None = None) -> int:
    """Check an integer in [lo, hi]."""
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    if v < lo or (hi is not None and v > hi):
        bound = f">= {lo}" if v < lo else f"<= {hi}"
        rng = f" (accepted range [{lo}, {hi}])" if hi is not None else ""
        raise ValueError(f"{name} must be {bound}, got {v}{rng}")
    return v


def seed(v: Any, name: str = "seed") -> int:
    """Check a random seed: an int in [0, 2**63)."""
    return integer(v, name, 0, 2**63 - 1)


def path(v: Any, name: str = "path"):
    """Check a file-system path (str or os.PathLike); return it as a ``Path``."""
    import os
    from pathlib import Path

    if isinstance(v, bool) or not isinstance(v, (str, os.PathLike)) or v == "":
        raise TypeError(
            f"{name} must be a non-empty path (str or os.PathLike), got "
            f"{type(v).__name__} {v!r}"
        )
    return Path(v).expanduser()


def choice(v: Any, name: str, options: tuple[str, ...]) -> str:
    """Check that ``v`` is one of ``options``."""
    if isinstance(v, bool) or v not in options:
        raise ValueError(
            f"{name} must be one of {', '.join(repr(o) for o in options)}; got {v!r}"
        )
    return v


def module(m: Any, name: str = "model") -> torch.nn.Module:
    """Check a torch module."""
    if not isinstance(m, torch.nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(m).__name__}")
    return m


def checked(validate: Callable[..., dict[str, Any]]) -> Callable[[Fn], Fn]:
    """Decorator: check a call's arguments with ``validate`` before the function runs.

    ``validate`` receives every argument by name (defaults filled in), raises on misuse
    and returns the arguments it normalises (labels as int64, ε as a float, ...), which
    replace the caller's. The decorated function keeps two attributes: ``unchecked``,
    the function itself — no checks: callers validate, for loops over batches of data
    checked once — and ``check(*args, **kwargs)``, the checks alone, returning every
    argument by name, normalised.
    """

    def decorate(fn: Fn) -> Fn:
        signature = inspect.signature(fn)

        def check(*args: Any, **kwargs: Any) -> dict[str, Any]:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            return {**bound.arguments, **validate(**bound.arguments)}

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            return fn(**check(*args, **kwargs))

        run.unchecked, run.check = fn, check  # type: ignore[attr-defined]
        return run  # type: ignore[return-value]

    return decorate


def label(y: Any, name: str = "y") -> int:
    """One class label, as an int (a Python or NumPy int, or a one-element integer
    tensor)."""
    if isinstance(y, torch.Tensor) and y.numel() == 1 and not y.is_floating_point():
        y = y.item()
    if isinstance(y, bool) or not hasattr(y, "__index__"):
        raise TypeError(f"{name} must be an integer class label, got {y!r}")
    y = int(y)
    if y < 0:
        raise ValueError(f"{name} must be a class index >= 0, got {y}")
    return y


def models(models: Any, x: Any, y: Any) -> None:
    """A non-empty mapping of models, images (N, C, H, W) in [0, 1] and labels (N,)
    in each model's classes."""
    if not isinstance(models, Mapping) or not models:
        raise ValueError("models must map at least one name to a model")
    images(x)
    for name, m in models.items():
        module(m, f"models[{name!r}]")
        labels(y, x.shape[0], num_classes=classes_of(m, x))
