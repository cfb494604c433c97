"""Datasets as in-memory tensors: MNIST, CIFAR-10, Fashion-MNIST, COIL-100,
scikit-learn's UCI digits, deterministic subsets, class sub-tasks and the five
perturbation groups.

Images are float32 tensors (N, C, H, W) in [0, 1] (MNIST: 1×28×28; CIFAR-10:
3×32×32); labels are int64 (N,).

The data root is resolved in one place, :func:`data_root`: the environment variable
``ROBUSTCORE_DATA`` if set, else ``~/.cache/robustcore/data``. MNIST is read with
``torchvision.datasets.MNIST(root, download=True)`` (``CIFAR10`` likewise): online it
downloads as usual, offline it finds files already in ``<root>/MNIST/raw/`` and
downloads nothing.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import numpy as np
import torch

from . import checks, digits
from .utils import env_dir

ENV_VAR = "ROBUSTCORE_DATA"
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class DataNotFoundError(FileNotFoundError):
    """A dataset is neither on disk nor downloadable from here."""


def data_root() -> Path:
    """The folder that holds datasets: ``$ROBUSTCORE_DATA`` or
    ``~/.cache/robustcore/data``."""
    return env_dir(ENV_VAR, "data")


_CACHE: dict[tuple[str, str, bool], tuple[torch.Tensor, torch.Tensor]] = {}
# name -> (channels, side): the image shape each dataset's models are built for.
SHAPES: dict[str, tuple[int, int]] = {"mnist": (1, 28), "cifar10": (3, 32)}
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_FILES = (
    "data_batch_1",
    "data_batch_2",
    "data_batch_3",
    "data_batch_4",
    "data_batch_5",
    "test_batch",
    "batches.meta",
)


@contextlib.contextmanager
def quiet_download(folder: Path, explain: str):
    """Run a download quietly; if it fails, remove the empty folders it made and raise
    :class:`DataNotFoundError` with ``explain`` (what to put where) and the cause."""
    made = [d for d in (folder, *folder.parents) if not d.exists()]
    try:
        # torchvision prints each failed mirror; keep that noise out of notebooks.
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    except Exception as e:  # offline: URLError/RuntimeError from the download step
        for d in sorted(set(made), key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                d.rmdir()  # only if still empty
        raise DataNotFoundError(
            f"{explain} ({type(e).__name__}: it could not be downloaded)"
        ) from None


def _torchvision(
    name: str,
    cls_name: str,
    train: bool,
    root: str | os.PathLike | None,
    where: str,
    files: tuple[str, ...],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Read a torchvision dataset once (``download=True``: online it downloads as usual,
    offline it finds the files already on disk) and cache it in memory as (uint8
    NHWC-or-NHW, labels)."""
    import torchvision.datasets

    if not isinstance(train, bool):
        raise TypeError(
            f"train must be True (training split) or False (test split), got {train!r}"
        )
    root = checks.path(root, "root").resolve() if root is not None else data_root()
    key = (name, str(root), bool(train))
    if key not in _CACHE:
        with quiet_download(
            root / where,
            f"{cls_name} is not in {root / where}. Put the files {', '.join(files)} "
            f"in that folder (torchvision.datasets.{cls_name}'s layout), or set "
            f"{ENV_VAR} to a folder whose {where}/ holds them, or run once with "
            "internet access",
        ):
            ds = getattr(torchvision.datasets, cls_name)(
                str(root), train=train, download=True
            )
        _CACHE[key] = (torch.as_tensor(ds.data), torch.as_tensor(ds.targets).long())
    return _CACHE[key]


def mnist(
    train: bool = True, root: str | os.PathLike | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST as tensors: images (N, 1, 28, 28) float32 in [0, 1], labels (N,) int64.

    N is 60,000 for ``train=True`` and 10,000 for the test split. Cached in memory.
    Raises :class:`DataNotFoundError` if the files are missing and cannot be downloaded.
    """
    raw, y = _torchvision("mnist", "MNIST", train, root, "MNIST/raw", MNIST_FILES)
    return raw.unsqueeze(1).float().div_(255.0), y.clone()


def cifar10(
    train: bool = True, root: str | os.PathLike | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 as tensors: images (N, 3, 32, 32) float32 in [0, 1], labels (N,) int64.

    N is 50,000 for ``train=True`` and 10,000 for the test split; read with
    ``torchvision.datasets.CIFAR10`` from ``<root>/cifar-10-batches-py/`` (downloaded
    there when online). Raises :class:`DataNotFoundError` if the files are missing and
    cannot be downloaded.
    """
    raw, y = _torchvision(
        "cifar10", "CIFAR10", train, root, CIFAR10_FOLDER, CIFAR10_FILES
    )
    return raw.permute(0, 3, 1, 2).float().div_(255.0), y.clone()


FASHION_FILES = MNIST_FILES  # same IDX file names, in <root>/FashionMNIST/raw/
COIL_FOLDER = "coil-100"
COIL_URL = (
    "http://www.cs.columbia.edu/CAVE/databases/SLAM_coil-20_coil-100/"
    "coil-100/coil-100.zip"
)
_COIL_NAME = re.compile(r"^obj(\d+)__(\d+)\.png$")
_COIL_CACHE: dict[tuple[str, int], tuple[torch.Tensor, torch.Tensor]] = {}


def fashion_mnist(
    train: bool = True, root: str | os.PathLike | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST as tensors: images (N, 1, 28, 28) float32 in [0, 1], labels (N,)
    int64.

    Read with ``torchvision.datasets.FashionMNIST(root, download=True)`` from
    ``<root>/FashionMNIST/raw/`` (downloaded there when online). N is 60,000 / 10,000.
    """
    raw, y = _torchvision(
        "fashion_mnist", "FashionMNIST", train, root, "FashionMNIST/raw", FASHION_FILES
    )
    return raw.unsqueeze(1).float().div_(255.0), y.clone()


def coil100(
    root: str | os.PathLike | None = None, size: int = 32
) -> tuple[torch.Tensor, torch.Tensor]:
    """COIL-100 as tensors: images (N, 3, size, size) float32 in [0, 1], labels (N,) =
    object − 1.

    Reads every ``obj{k}__{angle}.png`` in ``<root>/coil-100/`` (the official zip's
    layout: 100 objects × 72 angles of 128×128 colour images), sorted by object then
    angle, and resizes them with area averaging (PIL's box filter). Online, a missing
    folder is downloaded and unpacked.
    """
    from PIL import Image

    size = checks.integer(size, "size", 8, 128)
    root = checks.path(root, "root").resolve() if root is not None else data_root()
    key = (str(root), size)
    if key in _COIL_CACHE:
        return tuple(t.clone() for t in _COIL_CACHE[key])  # type: ignore[return-value]
    folder = root / COIL_FOLDER
    if not folder.is_dir():
        from torchvision.datasets.utils import download_and_extract_archive

        with quiet_download(
            root,
            f"COIL-100 is not in {folder}. Unpack the official coil-100.zip into "
            f"{root} (files {COIL_FOLDER}/obj1__0.png … obj100__355.png), or set "
            f"{ENV_VAR} to a folder that holds {COIL_FOLDER}/",
        ):
            download_and_extract_archive(
                COIL_URL, download_root=str(root), filename="coil-100.zip"
            )
    found = sorted(
        (int(m[1]), int(m[2]), p)
        for p in folder.iterdir()
        if (m := _COIL_NAME.match(p.name))
    )
    if not found:
        raise DataNotFoundError(f"{folder} holds no obj{{k}}__{{angle}}.png images")
    images, labels = [], []
    for obj, _angle, path in found:
        if not 1 <= obj <= COIL_CLASSES:
            raise ValueError(f"{path.name}: object numbers run from 1 to 100")
        try:
            with Image.open(path) as im:
                im = im.convert("RGB").resize((size, size), Image.BOX)
                images.append(np.asarray(im, dtype=np.uint8))
        except OSError as e:  # truncated or not an image
            raise ValueError(
                f"{path}: not a readable PNG image ({type(e).__name__}); the COIL-100 "
                "folder is corrupted, unpack the official coil-100.zip again"
            ) from None
        labels.append(obj - 1)
    x = (
        torch.from_numpy(np.stack(images))
        .permute(0, 3, 1, 2)
        .float()
        .div_(255.0)
        .contiguous()
    )
    y = torch.tensor(labels, dtype=torch.long)
    _COIL_CACHE[key] = (x, y)
    return x.clone(), y.clone()


COIL_CLASSES = 100
DATASETS = {"mnist": mnist, "cifar10": cifar10, "fashion_mnist": fashion_mnist}


def dataset(name: str, train: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Dataset ``name`` (a key of :data:`DATASETS`) as (images in [0, 1], labels)."""
    checks.choice(name, "dataset", tuple(DATASETS))
    return DATASETS[name](train=train)


STYLES = ("mnist", "stretch")


def load_digits(
    size: int = 28, style: str = "mnist"
) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's UCI handwritten digits (1,797 images, 8×8, 17 grey levels) in a
    ``size`` frame.

    Returns images (1797, 1, size, size) in [0, 1] and labels (1797,) int64.
    ``style="mnist"`` preprocesses them as MNIST was made
    (:func:`robustcore.digits.mnist_style`: crop to the ink, fit into the central
    20×20 box keeping the aspect ratio, centre of mass at the centre);
    ``style="stretch"`` scales the whole 8×8 frame to the box
    (:func:`robustcore.digits.stretch`), which widens thin digits such as 1s.
    """
    from sklearn.datasets import load_digits as sk_load_digits

    checks.integer(size, "size", 8, 512)
    checks.choice(style, "style", STYLES)
    d = sk_load_digits()
    x = torch.tensor(d.images, dtype=torch.float32).unsqueeze(1) / 16.0
    fit = digits.mnist_style if style == "mnist" else digits.stretch
    return fit(x, size), torch.tensor(d.target, dtype=torch.long)


def subset(
    x: torch.Tensor,
    y: torch.Tensor,
    n: int | None,
    seed: int = 0,
    stratified: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A deterministic subset of ``n`` examples (all if ``n`` is None or ≥ len).

    ``stratified=True`` takes (as nearly as possible) the same number from each class,
    so small quick-profile subsets are balanced. Same seed → same subset.
    """
    checks.images(x)
    y = checks.labels(y, x.shape[0])
    checks.seed(seed)
    if n is not None:
        checks.integer(n, "n", 1)
    if n is None or n >= len(y):
        return x, y
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


def select_classes(
    x: torch.Tensor, y: torch.Tensor, classes: tuple[int, ...] | list[int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep the examples of ``classes`` and relabel them 0..k-1 in the given order.

    ``select_classes(x, y, (3, 7))`` is the binary task "3 vs 7" with labels 0 (a 3) and
    1 (a 7).
    """
    checks.images(x)
    y = checks.labels(y, x.shape[0])
    if not isinstance(classes, (tuple, list)) or len(classes) < 2:
        raise ValueError(
            "classes must be a list or tuple of at least two class indices, got "
            f"{classes!r}"
        )
    for c in classes:
        checks.integer(c, "classes[i]", 0)
    if len(set(classes)) != len(classes):
        raise ValueError(f"classes must not repeat a class, got {classes!r}")
    keep = torch.zeros_like(y, dtype=torch.bool)
    new = torch.full_like(y, -1)
    for i, c in enumerate(classes):
        keep |= y == c
        new[y == c] = i
    if not keep.any():
        raise ValueError(f"none of the classes {list(classes)} occurs in y")
    return x[keep], new[keep]


# --------------------------------------------------------------------------------------
# Perturbation groups: the test set split into five groups, each altered in one visible
# way.

GROUPS: dict[int, str] = {
    1: "vertical lines",
    2: "horizontal lines",
    3: "Gaussian noise",
    4: "removal",
    5: "none",
}
# Strengths, fixed before any model was evaluated on them: two white strokes 2 px wide
# through the central 20×20 box (where MNIST centres the digit); Gaussian noise of
# std 0.4 (clipped to [0, 1]); a 10×10 patch of the central box set to the background
# value 0.
LINES, LINE_WIDTH, NOISE_STD, PATCH = 2, 2, 0.4, 10


def perturb(
    x: torch.Tensor, group: int, seed: int = 0, strength: float = 1.0
) -> torch.Tensor:
    """Apply perturbation ``group`` (a key of :data:`GROUPS`) to every image of ``x``.

    ``x``: (N, C, H, W) in [0, 1], H, W ≥ 16. Returns a new tensor in [0, 1]; each
    image gets its own random line positions / noise / patch position. ``strength``
    in [0, 1] moves each pixel that fraction of the way to its perturbed value (lines
    that grey, noise that small, a patch that faded). Same seed → same output.
    """
    checks.images(x)
    checks.choice(group, "group", tuple(GROUPS))
    checks.seed(seed)
    strength = checks.number(strength, "strength", 0.0, 1.0)
    n, _, h, w = x.shape
    if h < 16 or w < 16:
        raise ValueError(f"x must be at least 16×16 pixels for the groups: {h}×{w}")
    g = torch.Generator().manual_seed(seed)
    out = x.clone()
    top, left = (h - round(h * 20 / 28)) // 2, (w - round(w * 20 / 28)) // 2
    box_h, box_w = h - 2 * top, w - 2 * left
    if group in (1, 2):
        extent = box_w if group == 1 else box_h
        start = torch.randint(0, extent - LINE_WIDTH + 1, (n, LINES), generator=g)
        for i in range(n):
            for s in start[i].tolist():
                if group == 1:
                    out[i, :, top : top + box_h, left + s : left + s + LINE_WIDTH] = 1.0
                else:
                    out[i, :, top + s : top + s + LINE_WIDTH, left : left + box_w] = 1.0
    elif group == 3:
        out.add_(NOISE_STD * torch.randn(out.shape, generator=g)).clamp_(0, 1)
    elif group == 4:
        r = torch.randint(0, box_h - PATCH + 1, (n,), generator=g)
        c = torch.randint(0, box_w - PATCH + 1, (n,), generator=g)
        for i in range(n):
            out[
                i, :, top + r[i] : top + r[i] + PATCH, left + c[i] : left + c[i] + PATCH
            ] = 0.0
    return out if strength == 1 else x + strength * (out - x)


def perturbation_groups(
    x: torch.Tensor, y: torch.Tensor, seed: int = 0, strength: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split a test set into the five :data:`GROUPS` (equal sizes, random assignment)
    and perturb each group accordingly, at ``strength`` (see :func:`perturb`).

    Returns ``(x_perturbed, y, group)`` where ``group[i]`` ∈ {1..5} is image i's group
    id. The order of images is unchanged; same seed → same split and same
    perturbations.
    """
    checks.images(x)
    y = checks.labels(y, x.shape[0])
    checks.seed(seed)
    n = x.shape[0]
    if n < len(GROUPS):
        raise ValueError(
            f"x must hold at least {len(GROUPS)} images to form the groups, got {n}"
        )
    g = torch.Generator().manual_seed(seed)
    group = torch.empty(n, dtype=torch.long)
    group[torch.randperm(n, generator=g)] = torch.arange(n) % len(GROUPS) + 1
    out = x.clone()
    for gid in GROUPS:
        idx = (group == gid).nonzero().squeeze(1)
        out[idx] = perturb(x[idx], gid, seed=seed * 101 + gid, strength=strength)
    return out, y, group
