"""Natural adversarial examples (Hendrycks et al., ImageNet-A): the evaluator and the filter.

ImageNet-A holds 7,500 unmodified photos of 200 ImageNet classes, kept because a fixed
ResNet-50 got them wrong. Its official protocol has two traps this module closes:

* **The 200-class mask.** An ImageNet model has 1000 logits; ImageNet-A's labels are 0..199,
  assigned by :class:`torchvision.datasets.ImageFolder` in sorted-wnid order. Scoring the
  1000-way argmax against those labels gives about 0.1% for any model. :func:`mask_logits`
  keeps the 200 logits of ImageNet-A's classes, in ImageFolder's order, so that label ``i``
  and masked logit ``i`` are the same class. The list comes from timm's shipped
  ``imagenet_a_indices.txt`` / ``imagenet_a_synsets.txt`` and is checked against timm's 1000
  sorted ImageNet wnids, not typed here.
* **Calibration error.** :func:`calibration_error` is the RMS calibration error over adaptive
  bins of ``beta`` examples, counting *every* bin (see the comment there).

``evaluate(model, loader)`` returns an :class:`EvalResult` (accuracy, RMS calibration error,
AURRA); :func:`natural_adversarial_filter` keeps what a fixed model gets wrong — the method
that built ImageNet-A, which Chapter 4 reproduces on real handwritten digits.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import checks, data
from .metrics import adaptive_bins, aurra, calibration_error, check_confidence, rra_curve
from .utils import eval_mode, model_device

NUM_CLASSES = 200
IMAGENET_CLASSES = 1000
ENV_VAR = "ROBUSTCORE_IMAGENET_A"
URL = "https://people.eecs.berkeley.edu/~hendrycks/imagenet-a.tar"
TAR_MD5 = "c3e55429088dc681f30d81f4726b6595"
FOLDER = "imagenet-a"
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


# --------------------------------------------------------------------------------------------
# The 200-class subset


def _timm_info(fname: str) -> list[str]:
    lines = (resources.files("timm.data") / "_info" / fname).read_text().split()
    return [s.strip() for s in lines if s.strip()]


@lru_cache(maxsize=1)
def subset_from_timm() -> tuple[tuple[str, ...], tuple[int, ...]]:
    """(ImageNet-A's 200 wnids, their indices among ImageNet's 1000 classes), read from the files
    timm ships and checked against its list of the 1000 ImageNet wnids."""
    imagenet = _timm_info("imagenet_synsets.txt")
    wnids = _timm_info("imagenet_a_synsets.txt")
    idx = [int(i) for i in _timm_info("imagenet_a_indices.txt")]
    # Guard the files we rely on: 1000 sorted ImageNet wnids; 200 ImageNet-A wnids, sorted (the
    # order ImageFolder assigns labels in), whose indices point at the same wnids.
    if len(imagenet) != IMAGENET_CLASSES or imagenet != sorted(imagenet):
        raise RuntimeError("timm's imagenet_synsets.txt is not the 1000 sorted ImageNet wnids")
    if len(wnids) != NUM_CLASSES or wnids != sorted(wnids) or len(idx) != NUM_CLASSES:
        raise RuntimeError("timm's ImageNet-A subset files do not list 200 sorted wnids")
    if [imagenet[i] for i in idx] != wnids:
        raise RuntimeError("timm's imagenet_a_indices.txt does not match imagenet_a_synsets.txt")
    return tuple(wnids), tuple(idx)


def wnids() -> list[str]:
    """ImageNet-A's 200 WordNet ids, sorted: folder name of label ``i`` is ``wnids()[i]``."""
    return list(subset_from_timm()[0])


def indices() -> list[int]:
    """The 1000-class ImageNet index of each ImageNet-A label ``i`` (200 increasing ints)."""
    return list(subset_from_timm()[1])


def class_names() -> list[str]:
    """A readable name for each of the 200 labels (the first lemma of its wnid, from timm)."""
    lemmas = dict(line.split("\t", 1) for line in
                  (resources.files("timm.data") / "_info" / "imagenet_synset_to_lemma.txt").read_text().splitlines()
                  if "\t" in line)
    return [lemmas.get(w, w).split(",")[0].strip() for w in wnids()]


def mask_logits(logits: torch.Tensor) -> torch.Tensor:
    """Keep the 200 ImageNet-A logits of 1000-class ImageNet logits: (N, 1000) → (N, 200).

    Column ``i`` of the result is the class ImageFolder labels ``i`` in ImageNet-A.
    """
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise TypeError(f"logits must be a floating torch.Tensor, got {type(logits).__name__}"
                        + (f" of dtype {logits.dtype}" if isinstance(logits, torch.Tensor) else ""))
    if logits.dim() != 2 or logits.shape[1] != IMAGENET_CLASSES:
        raise ValueError(f"logits must have shape (N, {IMAGENET_CLASSES}) (an ImageNet-1k model's output), "
                         f"got {tuple(logits.shape)}")
    return logits[:, torch.tensor(indices(), device=logits.device)]


# --------------------------------------------------------------------------------------------
# The data: official layout imagenet-a/<wnid>/*.jpg


def _flag(v: Any, name: str) -> bool:
    if not isinstance(v, bool):
        raise TypeError(f"{name} must be True or False, got {type(v).__name__} {v!r}")
    return v


def transform(normalize: bool = True):
    """The standard ImageNet evaluation transform: Resize(256), CenterCrop(224), ToTensor and,
    with ``normalize``, the ImageNet mean/std (what torchvision's pretrained models expect)."""
    from torchvision import transforms as T

    _flag(normalize, "normalize")
    steps = [T.Resize(256), T.CenterCrop(224), T.ToTensor()]
    if normalize:
        steps.append(T.Normalize(MEAN, STD))
    return T.Compose(steps)


def find(root: str | os.PathLike | None = None) -> Path | None:
    """The ImageNet-A folder if it is on disk, else None.

    Looks at ``root`` (the ``imagenet-a`` folder itself or its parent), else
    ``$ROBUSTCORE_IMAGENET_A``, else ``<data root>/imagenet-a``.
    """
    cands = [checks.path(root, "root")] if root is not None else (
        [Path(os.environ[ENV_VAR]).expanduser()] if os.environ.get(ENV_VAR) else [data.data_root()])
    for c in cands:
        for p in (c, c / FOLDER):
            if p.is_dir() and any(q.is_dir() and q.name.startswith("n") for q in p.iterdir()):
                return p.resolve()
    return None


def check_layout(root: str | os.PathLike) -> Path:
    """Check the official layout: exactly ImageNet-A's 200 wnid folders, each holding images.

    Raises ``FileNotFoundError`` if ``root`` is not a folder and ``ValueError`` naming the
    missing or unexpected folders otherwise. Returns ``root`` as a resolved Path.
    """
    root = checks.path(root, "root")
    if not root.is_dir():
        raise FileNotFoundError(f"root {str(root)!r} is not a folder (expected imagenet-a/<wnid>/*.jpg)")
    found = sorted(p.name for p in root.iterdir() if p.is_dir())
    want = set(wnids())
    missing, extra = sorted(want - set(found)), sorted(set(found) - want)
    if missing or extra:
        raise ValueError(
            f"root {str(root)!r} is not ImageNet-A's layout (200 wnid folders imagenet-a/<wnid>/*.jpg): "
            f"{len(missing)} missing (e.g. {missing[:3]}), {len(extra)} unexpected (e.g. {extra[:3]})")
    empty = [w for w in found if not any(f.suffix.lower() in IMAGE_EXTENSIONS for f in (root / w).iterdir())]
    if empty:
        raise ValueError(f"root {str(root)!r}: {len(empty)} class folder(s) hold no images, e.g. {empty[:3]}")
    return root.resolve()


def dataset(root: str | os.PathLike | None = None, normalize: bool = True):
    """ImageNet-A as a :class:`torchvision.datasets.ImageFolder` with the standard transform.

    Labels are 0..199 in sorted-wnid order (``ds.classes == wnids()``). ``root`` as in
    :func:`find`; raises :class:`robustcore.data.DataNotFoundError` if it is not on disk.
    """
    from torchvision.datasets import ImageFolder

    _flag(normalize, "normalize")
    where = find(root)
    if where is None:
        raise data.DataNotFoundError(
            f"ImageNet-A is not on disk (looked in {root or os.environ.get(ENV_VAR) or data.data_root()}). "
            f"Download {URL} (680 MB) and extract it there, set {ENV_VAR}, or call imagenet_a.download(root).")
    ds = ImageFolder(str(check_layout(where)), transform=transform(normalize))
    assert ds.classes == wnids()  # check_layout guarantees it; ImageFolder sorts the same way
    return ds


def loader(root: str | os.PathLike | None = None, batch_size: int = 64, num_workers: int | None = None):
    """A DataLoader over :func:`dataset` in file order (no shuffling)."""
    checks.integer(batch_size, "batch_size", 1)
    workers = min(4, os.cpu_count() or 1) if num_workers is None else checks.integer(num_workers, "num_workers", 0)
    return torch.utils.data.DataLoader(dataset(root), batch_size=batch_size, shuffle=False,
                                       num_workers=workers, pin_memory=torch.cuda.is_available())


def download(root: str | os.PathLike | None = None) -> Path:
    """Download and extract the official tar (md5-checked) into ``root`` (default: data root).

    Returns the ``imagenet-a`` folder. Offline, raises :class:`robustcore.data.DataNotFoundError`
    saying where to put the files instead.
    """
    from torchvision.datasets.utils import download_and_extract_archive

    root = checks.path(root, "root") if root is not None else data.data_root()
    if (found := find(root)) is not None:
        return found
    with data.quiet_download(root, f"could not download ImageNet-A from {URL}. On a machine without "
                                   f"internet, extract imagenet-a.tar elsewhere and copy its imagenet-a/ "
                                   f"folder into {root}"):
        download_and_extract_archive(URL, str(root), filename="imagenet-a.tar", md5=TAR_MD5, remove_finished=True)
    return check_layout(root / FOLDER)


# --------------------------------------------------------------------------------------------
# Metrics (computed in robustcore.metrics)


def reliability_diagram(confidence: Any, correct: Any, beta: int = 100, ax=None, title: str = ""):
    """Accuracy against mean confidence per adaptive bin (bars), with the diagonal of a calibrated
    model; the title carries the RMS calibration error. Returns the matplotlib Axes."""
    import matplotlib.pyplot as plt

    conf, corr = check_confidence(confidence, correct)
    if ax is not None and not hasattr(ax, "bar"):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__}")
    order = np.argsort(conf, kind="stable")
    conf, corr = conf[order], corr[order]
    bins = adaptive_bins(len(conf), beta)
    mc = np.array([conf[a:b].mean() for a, b in bins])
    acc = np.array([corr[a:b].mean() for a, b in bins])
    lo = np.array([conf[a] for a, b in bins])
    hi = np.array([conf[b - 1] for a, b in bins])
    if ax is None:
        _, ax = plt.subplots(figsize=(3.4, 3.2))
    ax.bar(lo, acc, width=np.maximum(hi - lo, 0.01), align="edge", alpha=0.7, edgecolor="k", label="accuracy")
    ax.plot(mc, acc, "o", color="C3", ms=4, label="(confidence, accuracy)")
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="calibrated")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence", ylabel="accuracy")
    rms = calibration_error(conf, corr, beta)
    ax.set_title(f"{title}\nRMS calib. error {100 * rms:.1f}%" if title else f"RMS calib. error {100 * rms:.1f}%",
                 fontsize=9)
    return ax


# --------------------------------------------------------------------------------------------
# Evaluation and the filter


@dataclass
class EvalResult:
    """What :func:`evaluate` measured. Accuracy, calibration error and AURRA are in [0, 1]."""

    accuracy: float
    calibration_error: float
    aurra: float
    n: int
    predictions: torch.Tensor = field(repr=False)   # (n,) int64
    labels: torch.Tensor = field(repr=False)        # (n,) int64
    confidence: torch.Tensor = field(repr=False)    # (n,) max softmax probability
    probabilities: torch.Tensor = field(repr=False)  # (n, classes)

    @property
    def correct(self) -> torch.Tensor:
        return self.predictions == self.labels

    def row(self) -> dict[str, float]:
        """accuracy / calibration error / AURRA in percent, for tables."""
        return {"accuracy": 100 * self.accuracy, "calib_err": 100 * self.calibration_error,
                "aurra": 100 * self.aurra, "n": self.n}


def _batches(source: Any, batch_size: int) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
    """(x, y) batches from a (images, labels) tensor pair, a Dataset, or an iterable of batches."""
    if isinstance(source, (tuple, list)) and len(source) == 2 and all(isinstance(t, torch.Tensor) for t in source):
        x, y = source
        if x.dim() == 0 or y.dim() != 1 or x.shape[0] != y.shape[0]:
            raise ValueError(f"images and labels differ in length: {tuple(x.shape)} vs {tuple(y.shape)}")
        checks.labels(y, x.shape[0], "labels")
        return ((x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, x.shape[0], batch_size))
    if isinstance(source, torch.utils.data.Dataset):
        return torch.utils.data.DataLoader(source, batch_size=batch_size, shuffle=False)
    if isinstance(source, Iterable) and not isinstance(source, (str, bytes, dict)):
        return source
    raise TypeError(f"data must be an (images, labels) tensor pair, a Dataset or a DataLoader, "
                    f"got {type(source).__name__}")


def _dataset_classes(source: Any) -> int | None:
    ds = getattr(source, "dataset", source)
    classes = getattr(ds, "classes", None)
    return len(classes) if classes is not None else None


def _index(c: Any) -> int:
    try:
        return operator.index(c)
    except TypeError:
        raise TypeError(f"classes must hold int logit indices, got {type(c).__name__} {c!r}") from None


@torch.no_grad()
def predict_proba(model: torch.nn.Module, source: Any, *, classes: Sequence[int] | None = None,
                  batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax probabilities (N, K) and labels (N,) of ``model`` over ``source``.

    ``classes`` keeps only those logit columns before the softmax (column ``i`` ↔ label ``i``);
    pass :func:`indices` for an ImageNet-1k model on ImageNet-A. Without it, a model with 1000
    logits on a 200-class dataset is refused: that is the 0.1%-accuracy mistake.
    """
    checks.module(model)
    checks.integer(batch_size, "batch_size", 1)
    cols = None
    if classes is not None:
        if isinstance(classes, (str, bytes)) or not isinstance(classes, Iterable):
            raise TypeError(f"classes must be a sequence of logit indices, got {type(classes).__name__}")
        cols = [checks.integer(_index(c), "classes", 0) for c in classes]
        if not cols or len(set(cols)) != len(cols):
            raise ValueError("classes must be a non-empty list of distinct logit indices")
    n_ds = _dataset_classes(source)
    dev = model_device(model)
    probs, labels = [], []
    with eval_mode(model):
        for xb, yb in _batches(source, batch_size):
            if isinstance(xb, torch.Tensor) and xb.is_floating_point() and not torch.isfinite(xb).all():
                raise ValueError("source holds images with NaN or infinite values")
            logits = model(xb.to(dev))
            if logits.dim() != 2:
                raise ValueError(f"model must return logits of shape (N, classes), got {tuple(logits.shape)}")
            if cols is not None:
                if max(cols) >= logits.shape[1]:
                    raise ValueError(f"classes holds index {max(cols)} but the model has {logits.shape[1]} logits")
                logits = logits[:, cols]
            elif n_ds is not None and logits.shape[1] != n_ds:
                raise ValueError(
                    f"the model returns {logits.shape[1]} logits but the data has {n_ds} classes; "
                    + ("pass classes=imagenet_a.indices() to mask them to ImageNet-A's 200"
                       if logits.shape[1] == IMAGENET_CLASSES and n_ds == NUM_CLASSES else
                       "pass classes= to pick the logit of each label"))
            probs.append(torch.softmax(logits.float(), dim=1).cpu())
            labels.append(torch.as_tensor(yb).long().cpu())
    if not probs:
        raise ValueError("data is empty; nothing to evaluate")
    p, y = torch.cat(probs), torch.cat(labels)
    if int(y.min()) < 0 or int(y.max()) >= p.shape[1]:
        raise ValueError(f"labels range over [{int(y.min())}, {int(y.max())}] but there are only "
                         f"{p.shape[1]} class scores")
    return p, y


def result(probabilities: torch.Tensor, labels: torch.Tensor, beta: int = 100) -> EvalResult:
    """An :class:`EvalResult` from class probabilities (N, K) and labels (N,)."""
    if not isinstance(probabilities, torch.Tensor) or probabilities.dim() != 2:
        raise ValueError("probabilities must be a tensor of shape (N, classes)")
    if not probabilities.is_floating_point():
        raise TypeError(f"probabilities must be a floating tensor, got dtype {probabilities.dtype}")
    if probabilities.shape[0] == 0 or probabilities.shape[1] == 0:
        raise ValueError(f"probabilities is empty (shape {tuple(probabilities.shape)})")
    if not torch.isfinite(probabilities).all() or probabilities.min() < 0 or probabilities.max() > 1 + 1e-5:
        raise ValueError("probabilities must hold finite values in [0, 1]")
    checks.integer(beta, "beta", 1)
    labels = checks.labels(labels, probabilities.shape[0], "labels", probabilities.shape[1])
    conf, pred = probabilities.max(dim=1)
    correct = pred == labels
    return EvalResult(accuracy=float(correct.float().mean()),
                      calibration_error=calibration_error(conf, correct, beta), aurra=aurra(conf, correct),
                      n=int(labels.numel()), predictions=pred, labels=labels, confidence=conf,
                      probabilities=probabilities)


def evaluate(model: torch.nn.Module, source: Any, *, classes: Sequence[int] | None = None,
             batch_size: int = 500, beta: int = 100) -> EvalResult:
    """Accuracy, RMS calibration error and AURRA of ``model`` on ``source``.

    ``source``: a DataLoader (e.g. :func:`loader`), a Dataset, or an (images, labels) pair.
    For an ImageNet-1k model on ImageNet-A pass ``classes=imagenet_a.indices()``.
    """
    checks.integer(beta, "beta", 1)
    return result(*predict_proba(model, source, classes=classes, batch_size=batch_size), beta=beta)


def natural_adversarial_filter(model: torch.nn.Module, source: Any, *, min_confidence: float = 0.0,
                               classes: Sequence[int] | None = None, batch_size: int = 500):
    """Keep what the fixed ``model`` gets wrong — the filtering step that built ImageNet-A.

    ``min_confidence`` > 0 keeps only mistakes made with at least that softmax confidence.
    For an (images, labels) pair returns ``(images[kept], labels[kept], kept)``; for a Dataset,
    ``(torch.utils.data.Subset, kept)``. ``kept`` are int64 indices into ``source``, increasing.
    """
    checks.number(min_confidence, "min_confidence", 0.0, 1.0)
    is_pair = (isinstance(source, (tuple, list)) and len(source) == 2
               and all(isinstance(t, torch.Tensor) for t in source))
    if not (is_pair or isinstance(source, torch.utils.data.Dataset)):
        raise TypeError("source must be an (images, labels) tensor pair or a Dataset (its order defines the "
                        f"indices), got {type(source).__name__}")
    p, y = predict_proba(model, source, classes=classes, batch_size=batch_size)
    conf, pred = p.max(dim=1)
    kept = torch.nonzero((pred != y) & (conf >= min_confidence)).flatten()
    if isinstance(source, torch.utils.data.Dataset):
        return torch.utils.data.Subset(source, kept.tolist()), kept
    x, labels = source
    return x[kept], labels[kept], kept


class Ensemble(torch.nn.Module):
    """The average of the members' softmax probabilities, returned as log-probabilities (so that
    :func:`evaluate`'s softmax recovers the average)."""

    def __init__(self, members: Sequence[torch.nn.Module]):
        super().__init__()
        if not members:
            raise ValueError("members must hold at least one model")
        self.members = torch.nn.ModuleList([checks.module(m, "members[i]") for m in members])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = torch.stack([torch.softmax(m(x), dim=1) for m in self.members]).mean(0)
        return p.clamp_min(1e-12).log()
