"""Datasets as in-memory tensors: MNIST, scikit-learn's UCI digits, deterministic subsets.

Images are float32 tensors (N, 1, 28, 28) in [0, 1]; labels are int64 (N,).

The data root is resolved in one place, :func:`data_root`: the environment variable
``ROBUSTCORE_DATA`` if set, else ``~/.cache/robustcore/data``. MNIST is read with
``torchvision.datasets.MNIST(root, download=True)``: online it downloads as usual,
offline it finds files already in ``<root>/MNIST/raw/`` and downloads nothing.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import torch
import torch.nn.functional as F

from . import _checks

ENV_VAR = "ROBUSTCORE_DATA"
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


class DataNotFoundError(FileNotFoundError):
    """A dataset is neither on disk nor downloadable from here."""


def data_root() -> Path:
    """The folder that holds datasets: ``$ROBUSTCORE_DATA`` or ``~/.cache/robustcore/data``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser().resolve()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return (cache / "robustcore" / "data").resolve()


_MNIST_CACHE: dict[tuple[str, bool], tuple[torch.Tensor, torch.Tensor]] = {}


def mnist(train: bool = True, root: str | os.PathLike | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST as tensors: images (N, 1, 28, 28) float32 in [0, 1], labels (N,) int64.

    N is 60,000 for ``train=True`` and 10,000 for the test split. Cached in memory.
    Raises :class:`DataNotFoundError` if the files are missing and cannot be downloaded.
    """
    from torchvision.datasets import MNIST

    root = Path(root).expanduser().resolve() if root is not None else data_root()
    key = (str(root), bool(train))
    if key not in _MNIST_CACHE:
        try:
            # torchvision prints each failed mirror; keep that noise out of notebooks.
            with contextlib.redirect_stdout(io.StringIO()):
                ds = MNIST(str(root), train=train, download=True)
        except Exception as e:  # offline: URLError/RuntimeError from the download step
            raw = root / "MNIST" / "raw"
            raise DataNotFoundError(
                f"MNIST is not in {raw} and could not be downloaded ({type(e).__name__}). "
                f"Put the four uncompressed files {', '.join(MNIST_FILES)} in that folder "
                f"(torchvision.datasets.MNIST's layout), or set {ENV_VAR} to a folder whose "
                f"MNIST/raw/ holds them, or run once with internet access.") from None
        x = ds.data.unsqueeze(1).float().div_(255.0)
        _MNIST_CACHE[key] = (x, ds.targets.clone().long())
    x, y = _MNIST_CACHE[key]
    return x.clone(), y.clone()


def load_digits(size: int = 28) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's UCI handwritten digits (1,797 images, 8×8, 17 grey levels), resized.

    Returns images (1797, 1, size, size) in [0, 1] and labels (1797,). The 8×8 images
    are bilinearly upsampled, then padded so the digit fills the central 20×20 box like
    MNIST's (for ``size=28``), and rescaled so each image's maximum is 1.
    """
    from sklearn.datasets import load_digits as _sk_load_digits

    _checks.integer(size, "size", 8, 512)
    d = _sk_load_digits()
    x = torch.tensor(d.images, dtype=torch.float32).unsqueeze(1) / 16.0
    inner = max(8, round(size * 20 / 28))
    x = F.interpolate(x, size=(inner, inner), mode="bilinear", align_corners=False)
    pad = size - inner
    x = F.pad(x, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2))
    x = x / x.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-8)
    return x.clamp_(0, 1), torch.tensor(d.target, dtype=torch.long)


def subset(x: torch.Tensor, y: torch.Tensor, n: int | None, seed: int = 0,
           stratified: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """A deterministic subset of ``n`` examples (all if ``n`` is None or ≥ len).

    ``stratified=True`` takes (as nearly as possible) the same number from each class,
    so small quick-profile subsets are balanced. Same seed → same subset.
    """
    _checks.images(x)
    y = _checks.labels(y, x.shape[0])
    if n is None or n >= len(y):
        return x, y
    n = _checks.integer(n, "n", 1)
    g = torch.Generator().manual_seed(seed)
    if not stratified:
        idx = torch.randperm(len(y), generator=g)[:n]
        return x[idx], y[idx]
    perm = torch.randperm(len(y), generator=g)
    classes = torch.unique(y)
    per_class = [perm[y[perm] == c] for c in classes]
    # Round-robin over classes in the shuffled order: balanced and deterministic.
    take, k = [], 0
    while len(take) < n:
        for idx in per_class:
            if k < len(idx) and len(take) < n:
                take.append(int(idx[k]))
        k += 1
    idx = torch.tensor(sorted(take))
    return x[idx], y[idx]
