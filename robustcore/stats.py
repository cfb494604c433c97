"""Uncertainty of the book's numbers: every rate with its n and a 95% interval.

Proportions (accuracy, success rate) get Wilson's score interval, from scipy; AUROC and
differences between two models measured on the same test images get a percentile
bootstrap over those images (scipy's, paired), so that an interval reflects which digits
happened to be drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
        number. A spec ending in ``c`` is the compact form for a table cell (whose
        header gives n): ``f"{e:.1%c}"`` → ``"93.2% ±2.3"``, half the interval's
        width, or ``"0.0% [0.0, 3.7]"`` where the interval is lopsided (near 0 or 1)."""
        compact = spec.endswith("c")
        spec = (spec[:-1] if compact else spec) or ".3f"
        v, lo, hi = (format(t, spec) for t in (self.value, self.low, self.high))
        lo, hi = (t.rstrip("%") for t in (lo, hi))
        if not compact:
            return f"{v} [{lo}, {hi}], n={self.n:,}"
        below, above = self.value - self.low, self.high - self.value
        if min(below, above) < 0.75 * max(below, above):  # lopsided: both ends
            return f"{v} [{lo}, {hi}]"
        half = format((self.high - self.low) / 2, spec.replace("+", "")).rstrip("%")
        return f"{v} ±{half}"


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


def against(estimate: Estimate, p0: float, alternative: str = "two-sided") -> float:
    """Exact binomial p-value of a measured rate (``estimate``: a count over its n)
    against a published rate ``p0`` in [0, 1]; ``alternative`` is ``"two-sided"``,
    ``"less"`` (ours below p0) or ``"greater"`` (ours above p0). A family of such
    comparisons goes through ``holm``."""
    if not isinstance(estimate, Estimate):
        raise TypeError(f"estimate must be a stats.Estimate, got {type(estimate)!r}")
    p0 = checks.number(p0, "p0", 0.0, 1.0)
    if alternative not in ("two-sided", "less", "greater"):
        raise ValueError(
            f"alternative must be 'two-sided', 'less' or 'greater', got {alternative!r}"
        )
    k = round(estimate.value * estimate.n)
    return float(sps.binomtest(k, estimate.n, p0, alternative=alternative).pvalue)


def against_family(
    ours: Mapping[Any, Estimate],
    published: Mapping[Any, float],
    alternative: str = "two-sided",
) -> dict[Any, float]:
    """Holm-adjusted p-values of a family of comparisons with published rates: for each
    key of ``ours``, ``against(ours[k], published[k], alternative)``, Holm-corrected
    across the family (the same keys in both)."""
    if set(ours) != set(published) or not ours:
        raise ValueError(
            "ours and published must have the same non-empty keys, got "
            f"{sorted(map(str, ours))} and {sorted(map(str, published))}"
        )
    keys = list(ours)
    raw = [against(ours[k], published[k], alternative) for k in keys]
    return dict(zip(keys, (float(p) for p in holm(raw))))


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


def _as_runs(hits: torch.Tensor | np.ndarray, name: str) -> np.ndarray:
    a = hits.cpu().numpy() if isinstance(hits, torch.Tensor) else np.asarray(hits)
    if a.ndim != 2 or 0 in a.shape:
        raise ValueError(
            f"{name} must be a non-empty (S, N) array of 0/1 outcomes, one row per "
            f"seed, got shape {a.shape}"
        )
    return np.stack([_as_bool(row, name) for row in a])


def seeds_difference(
    hits_a: torch.Tensor | np.ndarray,
    hits_b: torch.Tensor | np.ndarray,
    *,
    family: int = 1,
    seed: int = 0,
    resamples: int = 1000,
) -> Estimate:
    """Mean accuracy over the trained seeds of model a minus that of model b, on the
    same N images: ``hits_a`` (S_a, N) and ``hits_b`` (S_b, N), one row per seed.
    A resample draws the images with replacement, one draw for every row (they are
    clusters shared by all models), and each model's seeds with replacement (unpaired:
    seed s of a has nothing to do with seed s of b). ``family``: as in
    :func:`auroc_difference`. With one seed each, only the images are resampled.
    (Hand-written: scipy's bootstrap resamples one level.)"""
    a, b = _as_runs(hits_a, "hits_a"), _as_runs(hits_b, "hits_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"hits_a and hits_b must be outcomes on the same images, got shapes "
            f"{a.shape} and {b.shape}"
        )
    seed, resamples = checks.seed(seed), checks.integer(resamples, "resamples", 100)
    alpha = (1 - CONFIDENCE) / checks.integer(family, "family", 1)
    rng = np.random.default_rng(seed)
    n = a.shape[1]
    draw = rng.integers(0, n, (resamples, n))
    rate_a = a[:, draw].mean(axis=2).T  # (resamples, S_a)
    rate_b = b[:, draw].mean(axis=2).T
    rate_a, rate_b = (  # each model's seeds, drawn with replacement
        np.take_along_axis(r, rng.integers(0, r.shape[1], r.shape), 1)
        for r in (rate_a, rate_b)
    )
    boot = rate_a.mean(1) - rate_b.mean(1)
    low, high = np.percentile(boot, [50 * alpha, 100 - 50 * alpha])
    return Estimate(float(a.mean() - b.mean()), n, float(low), float(high))


def mcnemar(
    hits_a: torch.Tensor | np.ndarray, hits_b: torch.Tensor | np.ndarray
) -> float:
    """Exact two-sided p-value of McNemar's test that two models, each with (N,)
    outcomes on the same N images, are equally accurate: a binomial test on the images
    where exactly one of them is right (1.0 when there are none)."""
    a, b = _as_bool(hits_a, "hits_a"), _as_bool(hits_b, "hits_b")
    if a.shape != b.shape:
        raise ValueError(
            f"hits_a and hits_b must be outcomes on the same images, got shapes "
            f"{a.shape} and {b.shape}"
        )
    only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
    if only_a + only_b == 0:
        return 1.0
    return float(sps.binomtest(only_a, only_a + only_b, 0.5).pvalue)


def holm(pvalues: list[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (same order): a comparison
    is significant at level α with the whole family's error rate held at α when its
    adjusted p-value is at most α. (Hand-written: scipy adjusts only for the
    false-discovery rate, and statsmodels is not a dependency for ten lines.)"""
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim != 1 or not np.all((p >= 0) & (p <= 1)):
        raise ValueError(f"pvalues must be a 1-D sequence in [0, 1], got {pvalues!r}")
    order = np.argsort(p, kind="stable")
    m = len(p)
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def auroc_difference(
    scores_a: Sequence,
    scores_b: Sequence,
    labels: Sequence,
    *,
    resample_runs: bool = True,
    family: int = 1,
    seed: int = 0,
    resamples: int = 1000,
) -> Estimate:
    """Mean AUROC of method a minus method b over paired runs that share their test
    images, with a percentile bootstrap interval over what was sampled; ``family``: the
    number of comparisons it is one of, whose intervals then all hold together at
    ``CONFIDENCE`` (Bonferroni: each at 1 - (1 - CONFIDENCE) / family).

    Entry g of each sequence is one split: ``labels[g]`` (N_g,; 1 = novel) its test
    images, ``scores_a[g]`` and ``scores_b[g]`` (R_g, N_g) the scores of R_g runs of
    each method on them, run r of a paired with run r of b (e.g. the same seed). The
    value is the mean of AUROC(a) - AUROC(b) over all runs of all splits. A resample
    draws each split's test images with replacement within each class, one draw for
    all its runs and both methods (runs on the same images are not independent
    replicates: the images are clusters), and, with ``resample_runs``, its run pairs
    with replacement. The splits are kept as they are. ``n``: the test images.
    (Hand-written: scipy's bootstrap resamples one level of independent units.)"""
    if not isinstance(resample_runs, bool):
        raise TypeError(f"resample_runs must be True or False, got {resample_runs!r}")
    seed, resamples = checks.seed(seed), checks.integer(resamples, "resamples", 100)
    alpha = (1 - CONFIDENCE) / checks.integer(family, "family", 1)
    splits = _splits(scores_a, scores_b, labels)
    rng = np.random.default_rng(seed)
    runs = sum(len(a) for a, _, _ in splits)
    value, boot = 0.0, np.zeros(resamples)
    for a, b, n0 in splits:
        n = a.shape[1]
        value += float((_auroc_sorted(a, n0) - _auroc_sorted(b, n0)).sum())
        draw = np.concatenate(
            [
                rng.integers(0, n0, (resamples, n0)),
                rng.integers(n0, n, (resamples, n - n0)),
            ],
            axis=1,
        )
        d = np.stack(
            [
                _auroc_sorted(a[r][draw], n0) - _auroc_sorted(b[r][draw], n0)
                for r in range(len(a))
            ],
            axis=1,
        )
        if resample_runs:
            d = np.take_along_axis(d, rng.integers(0, len(a), d.shape), axis=1)
        boot += d.sum(axis=1)
    low, high = np.percentile(boot / runs, [50 * alpha, 100 - 50 * alpha])
    n = sum(a.shape[1] for a, _, _ in splits)
    return Estimate(value / runs, n, float(low), float(high))


def _auroc_sorted(s: np.ndarray, n0: int) -> np.ndarray:
    """AUROC along the last axis of scores whose first ``n0`` images are normal and
    the rest novel (Mann–Whitney U from ranks)."""
    n1 = s.shape[-1] - n0
    ranks = sps.rankdata(s, axis=-1)
    return (ranks[..., n0:].sum(axis=-1) - n1 * (n1 + 1) / 2) / (n1 * n0)


def _splits(
    scores_a: Sequence, scores_b: Sequence, labels: Sequence
) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """Checked splits as (scores a, scores b, number of normal images), each split's
    images sorted normal first."""
    given = {"scores_a": scores_a, "scores_b": scores_b, "labels": labels}
    for name, v in given.items():
        if isinstance(v, (str, bytes)) or not isinstance(v, Sequence) or not v:
            raise TypeError(
                f"{name} must be a non-empty list with one entry per split, got "
                f"{type(v).__name__}"
            )
    if not len(scores_a) == len(scores_b) == len(labels):
        raise ValueError(
            "scores_a, scores_b and labels must have one entry per split each, got "
            f"{len(scores_a)}, {len(scores_b)} and {len(labels)}"
        )

    def array(v: object, name: str) -> np.ndarray:
        v = v.detach().cpu() if isinstance(v, torch.Tensor) else v
        try:
            return np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must hold numbers") from None

    out = []
    for g, (a, b, y) in enumerate(zip(scores_a, scores_b, labels)):
        y = array(y, f"labels[{g}]")
        if y.ndim != 1 or not np.isin(y, (0, 1)).all() or len(np.unique(y)) != 2:
            raise ValueError(
                f"labels[{g}] must be 1-D 0/1 labels with both normal (0) and novel "
                "(1) images"
            )
        a, b = array(a, f"scores_a[{g}]"), array(b, f"scores_b[{g}]")
        for name, s in ((f"scores_a[{g}]", a), (f"scores_b[{g}]", b)):
            if s.ndim != 2 or s.shape[0] == 0 or s.shape[1] != len(y):
                raise ValueError(
                    f"{name} must be (runs, {len(y)}): each run's scores of the "
                    f"split's images, got shape {s.shape}"
                )
            if not np.isfinite(s).all():
                raise ValueError(f"{name} contains NaN or infinite values")
        if a.shape != b.shape:
            raise ValueError(
                f"scores_a[{g}] and scores_b[{g}] must pair up run by run, got shapes "
                f"{a.shape} and {b.shape}"
            )
        order = np.argsort(y, kind="stable")
        out.append((a[:, order], b[:, order], int((y == 0).sum())))
    return out
