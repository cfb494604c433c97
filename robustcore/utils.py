"""Small helpers: seeding, device choice, batching without a DataLoader."""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm


def set_seed(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a CPU ``torch.Generator`` with that seed."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise (
            TypeError
            if not isinstance(seed, int) or isinstance(seed, bool)
            else ValueError
        )(f"seed must be an int in [0, 2**63), got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def env_dir(env_var: str, name: str) -> Path:
    """The folder named by ``$env_var`` if set, else ``~/.cache/robustcore/<name>``
    (under ``$XDG_CACHE_HOME`` when that is set), resolved. Data, checkpoints and
    results all live so."""
    env = os.environ.get(env_var)
    if env:
        return Path(env).expanduser().resolve()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return (cache / "robustcore" / name).resolve()


def default_device() -> torch.device:
    """``cuda`` when a GPU is visible, else ``cpu``."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of a model's first parameter (CPU for parameter-free modules)."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


@contextlib.contextmanager
def eval_mode(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Run a block with the model in eval mode (no BatchNorm statistics updated, no
    dropout), then restore the mode it had."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def batches(
    n: int,
    batch_size: int,
    generator: torch.Generator | None = None,
    shuffle: bool = False,
) -> Iterator[torch.Tensor]:
    """Yield index tensors covering ``range(n)`` in chunks of ``batch_size``.

    In-memory tensors need no ``DataLoader``: slicing a tensor is faster than
    collating single items, which matters on a 2-core machine.
    """
    for arg, v, lo in (("n", n, 0), ("batch_size", batch_size, 1)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{arg} must be an int, got {type(v).__name__}")
        if v < lo:
            raise ValueError(f"{arg} must be >= {lo}, got {v}")
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for i in range(0, n, batch_size):
        yield order[i : i + batch_size]


def progress(
    iterable: Iterable | None = None, *, enabled: bool = True, **kwargs: Any
) -> tqdm:
    """A ``tqdm.auto`` bar (a widget in notebooks), off when ``enabled`` is False or the
    environment sets ``TQDM_DISABLE=1`` (the book build does: bars are for live
    kernels)."""
    off = not enabled or os.environ.get("TQDM_DISABLE", "").lower() in (
        "1",
        "true",
        "yes",
    )
    return tqdm(iterable, disable=off, leave=False, **kwargs)
