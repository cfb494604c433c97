"""ImageNet-A's 200 classes among ImageNet's 1000, read from the files timm ships.

ImageNet-A's labels are 0..199, assigned by :class:`torchvision.datasets.ImageFolder`
in sorted-wnid order; an ImageNet model has 1000 logits. :func:`indices` gives the
1000-class index of each label and :func:`mask_logits` keeps those 200 logits, so that
label ``i`` and masked logit ``i`` are the same class.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import torch

NUM_CLASSES = 200
IMAGENET_CLASSES = 1000


def _timm_info(fname: str) -> list[str]:
    lines = (resources.files("timm.data") / "_info" / fname).read_text().split()
    return [s.strip() for s in lines if s.strip()]


@lru_cache(maxsize=1)
def subset_from_timm() -> tuple[tuple[str, ...], tuple[int, ...]]:
    """(ImageNet-A's 200 wnids, their indices among ImageNet's 1000 classes), read from
    the files timm ships and checked against its list of the 1000 ImageNet wnids."""
    imagenet = _timm_info("imagenet_synsets.txt")
    wnids = _timm_info("imagenet_a_synsets.txt")
    idx = [int(i) for i in _timm_info("imagenet_a_indices.txt")]
    # Guard the files we rely on: 1000 sorted ImageNet wnids; 200 ImageNet-A wnids,
    # sorted (the order ImageFolder assigns labels in), whose indices point at the same
    # wnids.
    if len(imagenet) != IMAGENET_CLASSES or imagenet != sorted(imagenet):
        raise RuntimeError(
            "timm's imagenet_synsets.txt is not the 1000 sorted ImageNet wnids"
        )
    if len(wnids) != NUM_CLASSES or wnids != sorted(wnids) or len(idx) != NUM_CLASSES:
        raise RuntimeError(
            "timm's ImageNet-A subset files do not list 200 sorted wnids"
        )
    if [imagenet[i] for i in idx] != wnids:
        raise RuntimeError(
            "timm's imagenet_a_indices.txt does not match imagenet_a_synsets.txt"
        )
    return tuple(wnids), tuple(idx)


def wnids() -> list[str]:
    """ImageNet-A's 200 WordNet ids, sorted: the folder of label ``i`` is
    ``wnids()[i]``."""
    return list(subset_from_timm()[0])


def indices() -> list[int]:
    """The 1000-class ImageNet index of each ImageNet-A label ``i`` (200 increasing
    ints)."""
    return list(subset_from_timm()[1])


def class_names() -> list[str]:
    """A readable name for each of the 200 labels (the first lemma of its wnid, from
    timm)."""
    lemmas = dict(
        line.split("\t", 1)
        for line in (
            resources.files("timm.data") / "_info" / "imagenet_synset_to_lemma.txt"
        )
        .read_text()
        .splitlines()
        if "\t" in line
    )
    return [lemmas.get(w, w).split(",")[0].strip() for w in wnids()]


def mask_logits(logits: torch.Tensor) -> torch.Tensor:
    """Keep the 200 ImageNet-A logits of 1000-class ImageNet logits: (N, 1000) →
    (N, 200).

    Column ``i`` of the result is the class ImageFolder labels ``i`` in ImageNet-A.
    """
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise TypeError(
            f"logits must be a floating torch.Tensor, got {type(logits).__name__}"
            + (f" of dtype {logits.dtype}" if isinstance(logits, torch.Tensor) else "")
        )
    if logits.dim() != 2 or logits.shape[1] != IMAGENET_CLASSES:
        raise ValueError(
            f"logits must have shape (N, {IMAGENET_CLASSES}) "
            f"(an ImageNet-1k model's output), got {tuple(logits.shape)}"
        )
    return logits[:, torch.tensor(indices(), device=logits.device)]
