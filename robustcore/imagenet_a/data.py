"""ImageNet-A on disk, in the official layout ``imagenet-a/<wnid>/*.jpg``: finding it,
checking it, downloading it, and loading it with the standard ImageNet transform."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from .. import checks
from .. import data as rc_data  # robustcore.data: the data root, downloads
from .subset import wnids

ENV_VAR = "ROBUSTCORE_IMAGENET_A"
URL = "https://people.eecs.berkeley.edu/~hendrycks/imagenet-a.tar"
TAR_MD5 = "c3e55429088dc681f30d81f4726b6595"
FOLDER = "imagenet-a"
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


def _flag(v: Any, name: str) -> bool:
    if not isinstance(v, bool):
        raise TypeError(f"{name} must be True or False, got {type(v).__name__} {v!r}")
    return v


def _compose(normalize: bool):
    """The evaluation transform for a checked ``normalize``."""
    from torchvision import transforms as T

    steps = [T.Resize(256), T.CenterCrop(224), T.ToTensor()]
    if normalize:
        steps.append(T.Normalize(MEAN, STD))
    return T.Compose(steps)


def transform(normalize: bool = True):
    """The standard ImageNet evaluation transform: Resize(256), CenterCrop(224),
    ToTensor and, with ``normalize``, the ImageNet mean/std (what torchvision's
    pretrained models expect)."""
    return _compose(_flag(normalize, "normalize"))


def find(root: str | os.PathLike | None = None) -> Path | None:
    """The ImageNet-A folder if it is on disk, else None.

    Looks at ``root`` (the ``imagenet-a`` folder itself or its parent), else
    ``$ROBUSTCORE_IMAGENET_A``, else ``<data root>/imagenet-a``.
    """
    cands = (
        [checks.path(root, "root")]
        if root is not None
        else (
            [Path(os.environ[ENV_VAR]).expanduser()]
            if os.environ.get(ENV_VAR)
            else [rc_data.data_root()]
        )
    )
    for c in cands:
        for p in (c, c / FOLDER):
            if p.is_dir() and any(
                q.is_dir() and q.name.startswith("n") for q in p.iterdir()
            ):
                return p.resolve()
    return None


def check_layout(root: str | os.PathLike) -> Path:
    """Check the official layout: exactly ImageNet-A's 200 wnid folders, each holding
    images.

    Raises ``FileNotFoundError`` if ``root`` is not a folder and ``ValueError`` naming
    the missing or unexpected folders otherwise. Returns ``root`` as a resolved Path.
    """
    root = checks.path(root, "root")
    if not root.is_dir():
        raise FileNotFoundError(
            f"root {str(root)!r} is not a folder (expected imagenet-a/<wnid>/*.jpg)"
        )
    found = sorted(p.name for p in root.iterdir() if p.is_dir())
    want = set(wnids())
    missing, extra = sorted(want - set(found)), sorted(set(found) - want)
    if missing or extra:
        raise ValueError(
            f"root {str(root)!r} is not ImageNet-A's layout "
            f"(200 wnid folders imagenet-a/<wnid>/*.jpg): "
            f"{len(missing)} missing (e.g. {missing[:3]}), "
            f"{len(extra)} unexpected (e.g. {extra[:3]})"
        )
    empty = [
        w
        for w in found
        if not any(f.suffix.lower() in IMAGE_EXTENSIONS for f in (root / w).iterdir())
    ]
    if empty:
        raise ValueError(
            f"root {str(root)!r}: {len(empty)} class folder(s) hold no images, "
            f"e.g. {empty[:3]}"
        )
    return root.resolve()


def dataset(root: str | os.PathLike | None = None, normalize: bool = True):
    """ImageNet-A as a :class:`torchvision.datasets.ImageFolder` with the standard
    transform.

    Labels are 0..199 in sorted-wnid order (``ds.classes == wnids()``). ``root`` as in
    :func:`find`; raises :class:`robustcore.data.DataNotFoundError` if it is not on
    disk.
    """
    from torchvision.datasets import ImageFolder

    _flag(normalize, "normalize")
    where = find(root)
    if where is None:
        looked = root or os.environ.get(ENV_VAR) or rc_data.data_root()
        raise rc_data.DataNotFoundError(
            f"ImageNet-A is not on disk (looked in {looked}). "
            f"Download {URL} (680 MB) and extract it there, set {ENV_VAR}, "
            f"or call imagenet_a.download(root)."
        )
    ds = ImageFolder(str(check_layout(where)), transform=_compose(normalize))
    # check_layout guarantees it; ImageFolder sorts the same way
    assert ds.classes == wnids()
    return ds


def loader(
    root: str | os.PathLike | None = None,
    batch_size: int = 64,
    num_workers: int | None = None,
):
    """A DataLoader over :func:`dataset` in file order (no shuffling)."""
    checks.integer(batch_size, "batch_size", 1)
    workers = (
        min(4, os.cpu_count() or 1)
        if num_workers is None
        else checks.integer(num_workers, "num_workers", 0)
    )
    return torch.utils.data.DataLoader(
        dataset(root),
        batch_size=batch_size,
        shuffle=False,
        num_workers=workers,
        pin_memory=torch.cuda.is_available(),
    )


def download(root: str | os.PathLike | None = None) -> Path:
    """Download and extract the official tar (md5-checked) into ``root`` (default: data
    root).

    Returns the ``imagenet-a`` folder. Offline, raises
    :class:`robustcore.data.DataNotFoundError` saying where to put the files instead.
    """
    from torchvision.datasets.utils import download_and_extract_archive

    root = checks.path(root, "root") if root is not None else rc_data.data_root()
    if (found := find(root)) is not None:
        return found
    with rc_data.quiet_download(
        root,
        f"could not download ImageNet-A from {URL}. On a machine without "
        f"internet, extract imagenet-a.tar elsewhere and copy its imagenet-a/ "
        f"folder into {root}",
    ):
        download_and_extract_archive(
            URL, str(root), filename="imagenet-a.tar", md5=TAR_MD5, remove_finished=True
        )
    return check_layout(root / FOLDER)
