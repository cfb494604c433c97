"""Evaluating a model on ImageNet-A (or any labelled data): class probabilities,
accuracy, RMS calibration error and AURRA, and the reliability diagram.

The metrics themselves are computed in :mod:`robustcore.metrics`.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .. import checks
from ..metrics import adaptive_bins, aurra, calibration_error, check_confidence
from ..utils import eval_mode, model_device
from .subset import IMAGENET_CLASSES, NUM_CLASSES


@dataclass
class EvalResult:
    """What :func:`evaluate` measured. Accuracy, calibration error and AURRA are in
    [0, 1]."""

    accuracy: float
    calibration_error: float
    aurra: float
    n: int
    predictions: torch.Tensor = field(repr=False)  # (n,) int64
    labels: torch.Tensor = field(repr=False)  # (n,) int64
    confidence: torch.Tensor = field(repr=False)  # (n,) max softmax probability
    # (n, classes); under protocol="argmax" one more column, the best other logit
    probabilities: torch.Tensor = field(repr=False)

    @property
    def correct(self) -> torch.Tensor:
        return self.predictions == self.labels

    def row(self) -> dict[str, float]:
        """accuracy / calibration error / AURRA in percent, for tables."""
        return {
            "accuracy": 100 * self.accuracy,
            "calib_err": 100 * self.calibration_error,
            "aurra": 100 * self.aurra,
            "n": self.n,
        }


def is_pair(source: Any) -> bool:
    """Whether ``source`` is an (images, labels) pair of tensors."""
    return (
        isinstance(source, (tuple, list))
        and len(source) == 2
        and all(isinstance(t, torch.Tensor) for t in source)
    )


def _batches(
    source: Any, batch_size: int
) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
    """(x, y) batches from a (images, labels) tensor pair, a Dataset, or an iterable of
    batches."""
    if is_pair(source):
        x, y = source
        if x.dim() == 0 or y.dim() != 1 or x.shape[0] != y.shape[0]:
            raise ValueError(
                f"images and labels differ in length: "
                f"{tuple(x.shape)} vs {tuple(y.shape)}"
            )
        checks.labels(y, x.shape[0], "labels")
        return (
            (x[i : i + batch_size], y[i : i + batch_size])
            for i in range(0, x.shape[0], batch_size)
        )
    if isinstance(source, torch.utils.data.Dataset):
        return torch.utils.data.DataLoader(source, batch_size=batch_size, shuffle=False)
    if isinstance(source, Iterable) and not isinstance(source, (str, bytes, dict)):
        return source
    raise TypeError(
        f"data must be an (images, labels) tensor pair, a Dataset or a DataLoader, "
        f"got {type(source).__name__}"
    )


def _dataset_classes(source: Any) -> int | None:
    ds = getattr(source, "dataset", source)
    classes = getattr(ds, "classes", None)
    return len(classes) if classes is not None else None


def _index(c: Any) -> int:
    try:
        return operator.index(c)
    except TypeError:
        raise TypeError(
            f"classes must hold int logit indices, got {type(c).__name__} {c!r}"
        ) from None


PROTOCOLS = ("masked", "argmax")


def split_logits(
    logits: torch.Tensor, cols: Sequence[int], protocol: str
) -> torch.Tensor:
    """Probabilities from logits (N, C) for the labels' logit columns ``cols`` (K):
    (N, K) for ``"masked"``, (N, K + 1) for ``"argmax"`` (see :func:`predict_proba`)."""
    idx = torch.as_tensor(list(cols), device=logits.device)
    if protocol == "masked":
        return torch.softmax(logits[:, idx].float(), dim=1)
    p = torch.softmax(logits.float(), dim=1)
    rest = torch.ones(p.shape[1], dtype=torch.bool, device=p.device)
    rest[idx] = False
    other = (
        p[:, rest].amax(dim=1, keepdim=True)
        if rest.any()
        else torch.zeros_like(p[:, :1])
    )
    return torch.cat([p[:, idx], other], dim=1)


@torch.no_grad()
def predict_proba(
    model: torch.nn.Module,
    source: Any,
    *,
    classes: Sequence[int] | None = None,
    protocol: str = "masked",
    batch_size: int = 500,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax probabilities (N, K) and labels (N,) of ``model`` over ``source``.

    ``classes`` picks the logit of each label (column ``i`` ↔ label ``i``); pass
    :func:`indices` for an ImageNet-1k model on ImageNet-A. Without it, a model with
    1000 logits on a 200-class dataset is refused: that is the 0.1%-accuracy mistake.
    ``protocol`` (only with ``classes``) says how the other logits count:

    * ``"masked"`` (the paper's and timm's): the softmax runs over the ``classes``
      logits only, so an answer is always one of them. Returns (N, K).
    * ``"argmax"``: the softmax runs over all logits, as the model would answer on its
      own. Returns (N, K + 1): the K probabilities of ``classes`` and, last, the
      largest probability among the other logits — the row's maximum is the model's
      1000-way answer and confidence, and an answer in the last column (never a
      label) counts as wrong.
    """
    checks.module(model)
    checks.integer(batch_size, "batch_size", 1)
    checks.choice(protocol, "protocol", PROTOCOLS)
    if protocol != "masked" and classes is None:
        raise ValueError(
            f"protocol={protocol!r} needs classes= (the logits that name the labels)"
        )
    cols = None
    if classes is not None:
        if isinstance(classes, (str, bytes)) or not isinstance(classes, Iterable):
            raise TypeError(
                "classes must be a sequence of logit indices, "
                f"got {type(classes).__name__}"
            )
        cols = [checks.integer(_index(c), "classes", 0) for c in classes]
        if not cols or len(set(cols)) != len(cols):
            raise ValueError(
                "classes must be a non-empty list of distinct logit indices"
            )
    n_ds = _dataset_classes(source)
    dev = model_device(model)
    probs, labels = [], []
    with eval_mode(model):
        for xb, yb in _batches(source, batch_size):
            if (
                isinstance(xb, torch.Tensor)
                and xb.is_floating_point()
                and not torch.isfinite(xb).all()
            ):
                raise ValueError("source holds images with NaN or infinite values")
            logits = model(xb.to(dev))
            if logits.dim() != 2:
                raise ValueError(
                    "model must return logits of shape (N, classes), "
                    f"got {tuple(logits.shape)}"
                )
            if cols is not None:
                if max(cols) >= logits.shape[1]:
                    raise ValueError(
                        f"classes holds index {max(cols)} but the model has "
                        f"{logits.shape[1]} logits"
                    )
                pb = split_logits(logits, cols, protocol)
            elif n_ds is not None and logits.shape[1] != n_ds:
                raise ValueError(
                    f"the model returns {logits.shape[1]} logits but the data has "
                    f"{n_ds} classes; "
                    + (
                        "pass classes=imagenet_a.indices() to mask them to "
                        "ImageNet-A's 200"
                        if logits.shape[1] == IMAGENET_CLASSES and n_ds == NUM_CLASSES
                        else "pass classes= to pick the logit of each label"
                    )
                )
            if cols is None:
                pb = torch.softmax(logits.float(), dim=1)
            probs.append(pb.cpu())
            labels.append(torch.as_tensor(yb).long().cpu())
    if not probs:
        raise ValueError("data is empty; nothing to evaluate")
    p, y = torch.cat(probs), torch.cat(labels)
    k = len(cols) if cols is not None else p.shape[1]
    if int(y.min()) < 0 or int(y.max()) >= k:
        raise ValueError(
            f"labels range over [{int(y.min())}, {int(y.max())}] but there are only "
            f"{k} class scores"
        )
    return p, y


def result(
    probabilities: torch.Tensor, labels: torch.Tensor, beta: int = 100
) -> EvalResult:
    """An :class:`EvalResult` from class probabilities (N, K) and labels (N,)."""
    if not isinstance(probabilities, torch.Tensor) or probabilities.dim() != 2:
        raise ValueError("probabilities must be a tensor of shape (N, classes)")
    if not probabilities.is_floating_point():
        raise TypeError(
            f"probabilities must be a floating tensor, got dtype {probabilities.dtype}"
        )
    if probabilities.shape[0] == 0 or probabilities.shape[1] == 0:
        raise ValueError(f"probabilities is empty (shape {tuple(probabilities.shape)})")
    if (
        not torch.isfinite(probabilities).all()
        or probabilities.min() < 0
        or probabilities.max() > 1 + 1e-5
    ):
        raise ValueError("probabilities must hold finite values in [0, 1]")
    checks.integer(beta, "beta", 1)
    labels = checks.labels(
        labels, probabilities.shape[0], "labels", probabilities.shape[1]
    )
    conf, pred = probabilities.max(dim=1)
    correct = pred == labels
    return EvalResult(
        accuracy=float(correct.float().mean()),
        calibration_error=calibration_error(conf, correct, beta),
        aurra=aurra(conf, correct),
        n=int(labels.numel()),
        predictions=pred,
        labels=labels,
        confidence=conf,
        probabilities=probabilities,
    )


def evaluate(
    model: torch.nn.Module,
    source: Any,
    *,
    classes: Sequence[int] | None = None,
    protocol: str = "masked",
    batch_size: int = 500,
    beta: int = 100,
) -> EvalResult:
    """Accuracy, RMS calibration error and AURRA of ``model`` on ``source``.

    ``source``: a DataLoader (e.g. :func:`loader`), a Dataset, or an (images, labels)
    pair. For an ImageNet-1k model on ImageNet-A pass ``classes=imagenet_a.indices()``;
    ``protocol`` is ``"masked"`` (the paper's: softmax over those logits) or
    ``"argmax"`` (softmax and answer over all logits; an answer outside ``classes``
    is wrong), see :func:`predict_proba`.
    """
    checks.integer(beta, "beta", 1)
    p, y = predict_proba(
        model, source, classes=classes, protocol=protocol, batch_size=batch_size
    )
    return result(p, y, beta=beta)


def reliability_diagram(
    confidence: Any, correct: Any, beta: int = 100, ax=None, title: str = ""
):
    """Accuracy against mean confidence per adaptive bin (bars), with the diagonal of a
    calibrated model; the title carries the RMS calibration error. Returns the
    matplotlib Axes."""
    import matplotlib.pyplot as plt

    conf, corr = check_confidence(confidence, correct)
    if ax is not None and not hasattr(ax, "bar"):
        raise TypeError(
            f"ax must be a matplotlib Axes or None, got {type(ax).__name__}"
        )
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
    ax.bar(
        lo,
        acc,
        width=np.maximum(hi - lo, 0.01),
        align="edge",
        alpha=0.7,
        edgecolor="k",
        label="accuracy",
    )
    ax.plot(mc, acc, "o", color="C3", ms=4, label="(confidence, accuracy)")
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="calibrated")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence", ylabel="accuracy")
    rms = calibration_error(conf, corr, beta)
    ax.set_title(
        f"{title}\nRMS calib. error {100 * rms:.1f}%"
        if title
        else f"RMS calib. error {100 * rms:.1f}%",
        fontsize=9,
    )
    return ax
