"""Metrics shared by the chapters, on NumPy arrays or tensors, checked once here.

- novelty detection: :func:`auroc`, :func:`roc`, :func:`f1_at`, :func:`best_threshold`
  (scikit-learn underneath; labels 1 = anomaly);
- selective prediction and calibration (ImageNet-A): :func:`calibration_error`
  (RMS, adaptive bins), :func:`rra_curve` and :func:`aurra`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from . import checks


def check_scores(s: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Scores (N,) as float64 and labels (N,) as 0/1 int64, both kinds present; errors
    name them."""
    if isinstance(s, (str, bytes)) or isinstance(labels, (str, bytes)):
        raise TypeError("scores and labels must be sequences of numbers, not strings")
    try:
        s = np.asarray(
            s.detach().cpu() if isinstance(s, torch.Tensor) else s, dtype=np.float64
        )
    except (TypeError, ValueError):
        raise TypeError(
            f"scores must be a 1-D sequence of numbers, got {type(s).__name__}"
        ) from None
    lab = np.asarray(
        labels.detach().cpu() if isinstance(labels, torch.Tensor) else labels
    )
    if s.ndim != 1 or lab.shape != s.shape:
        raise ValueError(
            f"scores and labels must be 1-D of equal length, got shapes {s.shape} and "
            f"{lab.shape}"
        )
    if s.size == 0:
        raise ValueError(
            "scores and labels are empty; pass at least one normal and one anomalous "
            "example"
        )
    if not np.isfinite(s).all():
        raise ValueError("scores contain NaN or infinite values")
    if not np.isin(lab, (0, 1)).all():
        raise ValueError("labels must be 0 (normal) or 1 (anomaly)")
    if len(np.unique(lab)) != 2:
        raise ValueError(
            "labels must contain both normal (0) and anomalous (1) examples"
        )
    return s, lab.astype(np.int64)


def auroc(s: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray) -> float:
    """Area under the ROC curve of scores ``s`` (N,) for ``labels`` (N,), 1 = anomaly
    (sklearn)."""
    from sklearn.metrics import roc_auc_score

    s, lab = check_scores(s, labels)
    return float(roc_auc_score(lab, s))


def roc(
    s: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(false-positive rates, true-positive rates) of the ROC curve, 1 = anomaly
    (sklearn's roc_curve)."""
    from sklearn.metrics import roc_curve

    s, lab = check_scores(s, labels)
    fpr, tpr, _ = roc_curve(lab, s)
    return fpr, tpr


def f1_at(
    s: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray, threshold: float
) -> float:
    """F1 of "anomaly if score > threshold", the anomalies being the positive class
    (sklearn)."""
    from sklearn.metrics import f1_score

    s, lab = check_scores(s, labels)
    threshold = checks.number(threshold, "threshold", -math.inf)
    return float(f1_score(lab, (s > threshold).astype(np.int64), zero_division=0))


def best_threshold(
    s: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray
) -> float:
    """The threshold that maximises F1 on a *validation* set (scores ``s``, labels 1 =
    anomaly).

    Candidates are the midpoints between consecutive distinct scores
    (and below the lowest); ties go to the lowest threshold. Under p1 the validation
    split holds normal images and anomalies disjoint from the test split's, at the test
    split's anomaly fraction.
    """
    s, lab = check_scores(s, labels)
    u = np.unique(s)
    # the next float below the lowest score (a fixed offset would vanish for large
    # scores), then midpoints
    cands = np.concatenate([[np.nextafter(u[0], -np.inf)], (u[:-1] + u[1:]) / 2])
    # positives among the k highest scores
    tp_cum = np.cumsum(lab[np.argsort(-s, kind="stable")])
    n_pos = lab.sum()
    # for each candidate t, predicted positives k = #{s > t}; k = 0 only where a
    # midpoint rounds onto the top score
    k = len(s) - np.searchsorted(np.sort(s), cands, side="right")
    tp = np.where(k > 0, tp_cum[np.maximum(k - 1, 0)], 0)
    f1 = 2 * tp / (k + n_pos)
    return float(cands[int(np.argmax(f1))])


def check_confidence(confidence: Any, correct: Any) -> tuple[np.ndarray, np.ndarray]:
    """Confidences (N,) in [0, 1] and correctness (N,) as float64 0/1; errors name
    them."""
    if isinstance(confidence, (str, bytes)) or isinstance(correct, (str, bytes)):
        raise TypeError(
            "confidence and correct must be sequences of numbers, not strings"
        )
    try:
        conf = np.asarray(
            confidence.detach().cpu()
            if isinstance(confidence, torch.Tensor)
            else confidence,
            dtype=np.float64,
        )
    except (TypeError, ValueError):
        raise TypeError(
            "confidence must be a 1-D sequence of probabilities, got "
            f"{type(confidence).__name__}"
        ) from None
    corr = np.asarray(
        correct.detach().cpu() if isinstance(correct, torch.Tensor) else correct
    )
    if corr.dtype == object:
        raise TypeError(
            "correct must be a 1-D sequence of booleans (or 0/1), got "
            f"{type(correct).__name__}"
        )
    if conf.ndim != 1 or corr.shape != conf.shape:
        raise ValueError(
            f"confidence and correct must be 1-D and of equal length, got shapes "
            f"{conf.shape} and {corr.shape}"
        )
    if conf.size == 0:
        raise ValueError("confidence is empty; pass at least one prediction")
    if not np.isfinite(conf).all() or conf.min() < 0 or conf.max() > 1:
        raise ValueError("confidence must hold finite probabilities in [0, 1]")
    if corr.dtype != bool and not np.isin(corr, (0, 1)).all():
        raise ValueError("correct must hold booleans (or 0/1)")
    return conf, corr.astype(np.float64)


def adaptive_bins(n: int, beta: int = 100) -> list[tuple[int, int]]:
    """Index ranges of adaptive bins over ``n`` predictions sorted by confidence:
    ``n // beta`` bins of ``beta``, the last one also taking the remainder (one bin if
    ``n < beta``)."""
    checks.integer(n, "n", 1)
    checks.integer(beta, "beta", 1)
    k = max(1, n // beta)
    bins = [(i * beta, (i + 1) * beta) for i in range(k)]
    bins[-1] = (bins[-1][0], n)
    return bins


def calibration_error(
    confidence: Any, correct: Any, beta: int = 100, *, legacy: bool = False
) -> float:
    """RMS calibration error (0..1) with adaptive bins of ``beta`` predictions.

    sqrt(Σ_b |b|/n · (mean confidence_b − accuracy_b)²) over the bins of
    :func:`adaptive_bins`, counting every bin.

    ``legacy=True`` reproduces ImageNet-A's reference ``calib_err``
    (hendrycks/natural-adv-examples, ``calibration_tools.py``): its loop
    ``for i in range(len(bins) - 1)`` leaves out the last bin — the most confident
    predictions plus the remainder, exactly where an overconfident model is worst —
    while still dividing by all n. That function fails with fewer than ``beta``
    predictions (it has no bin at all); here that is a ``ValueError``.
    """
    if not isinstance(legacy, bool):
        raise TypeError(f"legacy must be True or False, got {legacy!r}")
    conf, corr = check_confidence(confidence, correct)
    checks.integer(beta, "beta", 1)
    if legacy and len(conf) < beta:
        raise ValueError(
            f"legacy=True needs at least beta={beta} predictions (the reference "
            f"function has no bin for fewer), got {len(conf)}"
        )
    order = np.argsort(conf, kind="stable")
    conf, corr = conf[order], corr[order]
    bins = adaptive_bins(len(conf), beta)
    total = 0.0
    for lo, hi in bins[:-1] if legacy else bins:
        total += (hi - lo) / len(conf) * (conf[lo:hi].mean() - corr[lo:hi].mean()) ** 2
    return float(np.sqrt(total))


def rra_curve(confidence: Any, correct: Any) -> np.ndarray:
    """Accuracy on the k most confident predictions, for k = 1..n (the response-rate
    curve)."""
    conf, corr = check_confidence(confidence, correct)
    order = np.argsort(-conf, kind="stable")
    return np.cumsum(corr[order]) / np.arange(1, len(corr) + 1)


def aurra(confidence: Any, correct: Any) -> float:
    """Area under the response rate–accuracy curve (0..1): the mean of
    :func:`rra_curve`.

    A model that answers only when confident and is right then scores high even at low
    accuracy.
    """
    return float(rra_curve(confidence, correct).mean())
