"""A constructed dataset (:class:`Constructed`) and its file format: 8-bit images.

:func:`save` writes one atomically with a ``.sha256`` beside it; :func:`load` reads it
back after checking that digest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .. import checks, io


@dataclass
class Constructed:
    """A constructed dataset: images ``x`` (N, C, H, W) in [0, 1], labels ``y`` (N,),
    and ``meta`` (what was built, how, from which model; loss or fooling-rate
    statistics)."""

    x: torch.Tensor
    y: torch.Tensor
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.y)


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] → 8-bit images (what an image file would hold)."""
    return x.mul(255).round_().to(torch.uint8)


def from_uint8(x: torch.Tensor) -> torch.Tensor:
    return x.float().div_(255)


def save(ds: Constructed, path: str | Path) -> str:
    """Save as 8-bit images, atomically (temp file, then rename), with a ``.sha256``
    beside it.

    Returns the digest. 8 bits per pixel, like an image file: a quarter of the float
    size, and the rounding (≤ 1/510 per pixel) is far below any perturbation studied
    here.
    """
    if not isinstance(ds, Constructed):
        raise TypeError(f"ds must be a Constructed dataset, got {type(ds).__name__}")
    path = checks.path(path, "path")
    if path.is_dir():
        raise ValueError(f"path must be a file name, got the folder {path}")
    checks.images(ds.x, "ds.x")
    checks.labels(ds.y, ds.x.shape[0], "ds.y")
    return io.atomic_save({"x": to_uint8(ds.x), "y": ds.y, "meta": ds.meta}, path)


def load(path: str | Path, expected_sha256: str | None = None) -> Constructed:
    """Load a dataset written by :func:`save`, after checking its sha256
    (``weights_only`` load)."""
    obj = io.load_verified(checks.path(path, "path"), expected_sha256)
    if (
        not isinstance(obj, dict)
        or not {"x", "y", "meta"} <= set(obj)
        or not isinstance(obj["x"], torch.Tensor)
        or obj["x"].dtype != torch.uint8
    ):
        raise io.ChecksumError(
            f"{path} is not a robustcore constructed dataset (uint8 x, y, meta)"
        )
    return Constructed(from_uint8(obj["x"]), obj["y"], obj["meta"])
