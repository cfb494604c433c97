"""Uncertainty of the book's numbers: every rate with its n and a 95% interval.

Proportions (accuracy, success rate) get Wilson's score interval, from scipy; AUROC and
differences between two models measured on the same test images get a percentile
bootstrap over those images (scipy's, paired), so that an interval reflects which digits
happened to be drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats as sps

from . import checks, metrics

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """A number with its sample size and a ``CONFIDENCE`` interval ``[low, high]``."""

    value: float
    n: int
    low: float
    high: float

    def excludes(self, x: float) -> bool:
        """Whether ``x`` lies outside the interval (a difference significant at its
        level)."""
        return not self.low <= x <= self.high

    def __format__(self, spec: str) -> str:
        """``f"{e:.1%}"`` → ``"93.2% [90.6, 95.1], n=500"``; the spec formats each
        number."""
        spec = spec or ".3f"
        v, lo, hi = (format(t, spec) for t in (self.value, self.low, self.high))
        lo, hi = (t.rstrip("%") for t in (lo, hi))
        return f"{v} [{lo}, {hi}], n={self.n:,}"


def _as_bool(hits: torch.Tensor | np.ndarray, name: str) -> np.ndarray:
    a = (
        hits.detach().cpu().numpy()
        if isinstance(hits, torch.Tensor)
        else np.asarray(hits)
    )
    if a.ndim != 1 or a.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D array of 0/1 outcomes, got shape {a.shape}"
        )
    if a.dtype != bool and not np.isin(a, (0, 1)).all():
        raise ValueError(f"{name} must hold only 0/1 (or True/False) outcomes")
    return a.astype(bool)


def proportion(hits: torch.Tensor | np.ndarray) -> Estimate:
    """The share of true entries of ``hits`` (N,) with its Wilson score interval."""
    a = _as_bool(hits, "hits")
    return wilson(int(a.sum()), a.size)


def wilson(successes: int, n: int) -> Estimate:
    """``successes / n`` with its Wilson score interval (scipy's ``binomtest``)."""
    n = checks.integer(n, "n", 1)
    successes = checks.integer(successes, "successes", 0, n)
    ci = sps.binomtest(successes, n).proportion_ci(CONFIDENCE, method="wilson")
    return Estimate(successes / n, n, float(ci.low), float(ci.high))


def from_rate(rate: float, n: int) -> Estimate:
    """A rate already computed over ``n`` items (e.g. an accuracy from
    ``train.evaluate``) with its Wilson interval; ``rate * n`` must be a whole count."""
    n = checks.integer(n, "n", 1)
    rate = checks.number(rate, "rate", 0.0, 1.0)
    k = round(rate * n)
    if abs(rate * n - k) > 1e-6 * n:
        raise ValueError(
            f"rate must be a count over n={n} items, got {rate!r} (× n = {rate * n:g})"
        )
    return wilson(k, n)


def _bootstrap(
    statistic: Callable[..., np.ndarray],
    samples: tuple[np.ndarray, ...],
    seed: int,
    resamples: int,
) -> Estimate:
    """Percentile bootstrap of ``statistic(*samples, axis=-1)`` (vectorised), resampling
    the images: the i-th entries of all samples together."""
    value = float(statistic(*samples, axis=-1))
    res = sps.bootstrap(
        samples,
        statistic,
        paired=True,
        vectorized=True,
        n_resamples=resamples,
        confidence_level=CONFIDENCE,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    ci = res.confidence_interval
    return Estimate(value, len(samples[0]), float(ci.low), float(ci.high))


def auroc(
    scores: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray,
    *,
    seed: int = 0,
    resamples: int = 1000,
) -> Estimate:
    """AUROC of ``scores`` (N,) for ``labels`` (N,; 1 = novel) with a bootstrap interval
    over the N test images (both classes must be present; with very few of one class a
    resample can miss it, and the interval is then NaN: report n and use more
    images)."""
    s, y = metrics.check_scores(scores, labels)
    seed, resamples = checks.seed(seed), checks.integer(resamples, "resamples", 100)

    # AUROC as Mann–Whitney U / (n₁ n₀), from ranks: vectorised over a batch of
    # resamples, which sklearn's roc_auc_score (one curve at a time) is not.
    def stat(s_: np.ndarray, y_: np.ndarray, axis: int = -1) -> np.ndarray:
        ranks = sps.rankdata(s_, axis=axis)
        n1 = y_.sum(axis=axis)
        n0 = y_.shape[axis] - n1
        with np.errstate(invalid="ignore", divide="ignore"):
            return ((ranks * y_).sum(axis=axis) - n1 * (n1 + 1) / 2) / (n1 * n0)

    return _bootstrap(stat, (s, y), seed, resamples)


def difference(
    hits_a: torch.Tensor | np.ndarray,
    hits_b: torch.Tensor | np.ndarray,
    *,
    seed: int = 0,
    resamples: int = 1000,
) -> Estimate:
    """Rate of ``hits_a`` minus rate of ``hits_b``, both (N,) outcomes on the same N
    images, with a paired bootstrap interval."""
    a, b = _as_bool(hits_a, "hits_a"), _as_bool(hits_b, "hits_b")
    if a.shape != b.shape:
        raise ValueError(
            f"hits_a and hits_b must be outcomes on the same images, got shapes "
            f"{a.shape} and {b.shape}"
        )
    seed, resamples = checks.seed(seed), checks.integer(resamples, "resamples", 100)

    def stat(a_: np.ndarray, b_: np.ndarray, axis: int = -1) -> np.ndarray:
        return a_.mean(axis=axis) - b_.mean(axis=axis)

    return _bootstrap(stat, (a, b), seed, resamples)
