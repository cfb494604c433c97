"""robustcore.stats against hand-computed values and independent implementations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from misuse import ANOM, NAN, SCORES, cases, misuse_test
from robustcore import stats


def wilson_by_hand(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson's score interval, written out from its formula."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


@pytest.mark.parametrize("k,n", [(0, 40), (1, 40), (20, 40), (466, 500), (500, 500)])
def test_wilson_matches_its_formula(k, n):
    e = stats.wilson(k, n)
    lo, hi = wilson_by_hand(k, n)
    assert e.value == k / n and e.n == n
    assert math.isclose(e.low, lo, abs_tol=1e-9) and math.isclose(
        e.high, hi, abs_tol=1e-9
    )


def test_proportion_counts_true_entries():
    e = stats.proportion(torch.tensor([True, False, True, True]))
    assert (e.value, e.n) == (0.75, 4)
    assert stats.proportion(np.array([1, 0, 0, 0])).value == 0.25


def test_from_rate_recovers_the_count():
    assert stats.from_rate(0.932, 500) == stats.wilson(466, 500)
    assert stats.from_rate(2 / 3, 3) == stats.wilson(2, 3)


def test_zero_successes_still_has_an_upper_bound():
    e = stats.wilson(0, 500)
    assert e.low == 0 and 0.005 < e.high < 0.01  # "0 of 500" is not "exactly 0"


def test_auroc_value_is_sklearns_and_the_interval_covers_it():
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.3).astype(int)
    s = rng.normal(size=400) + y
    s[:40] = 0.0  # ties, which the rank formula must share out as sklearn does
    e = stats.auroc(s, y)
    assert math.isclose(e.value, roc_auc_score(y, s), rel_tol=1e-12)
    assert e.low < e.value < e.high and e.n == 400
    # more test images, a narrower interval
    y2, s2 = np.tile(y, 4), np.tile(s, 4)
    assert stats.auroc(s2, y2).high - stats.auroc(s2, y2).low < e.high - e.low


def test_auroc_interval_is_seeded():
    a, b = (
        stats.auroc(SCORES.repeat(5), ANOM.repeat(5)),
        stats.auroc(SCORES.repeat(5), ANOM.repeat(5)),
    )
    assert a == b


def test_difference_is_paired():
    """Two models right on the same digits but one: the paired interval is narrow and excludes
    nothing it should not; an unpaired reading would be far wider."""
    rng = np.random.default_rng(1)
    a = rng.random(300) < 0.8
    b = a.copy()
    b[np.flatnonzero(a)[:15]] = (
        False  # b loses 15 digits that a gets right, nothing else
    )
    d = stats.difference(a, b)
    assert math.isclose(d.value, 15 / 300)
    assert d.excludes(0.0) and d.low > 0.02 and d.high < 0.08
    assert not stats.difference(a, a).excludes(0.0)


def test_estimate_formats_value_interval_and_n():
    assert (
        f"{stats.Estimate(0.932, 500, 0.906, 0.951):.1%}" == "93.2% [90.6, 95.1], n=500"
    )
    assert (
        f"{stats.Estimate(0.9, 2000, 0.88, 0.92):.2f}" == "0.90 [0.88, 0.92], n=2,000"
    )


MISUSE = cases(
    "stats",
    {
        "wilson:n-zero": (lambda: stats.wilson(0, 0), ValueError, "n must be >= 1"),
        "wilson:k-above-n": (
            lambda: stats.wilson(5, 4),
            ValueError,
            "successes must be",
        ),
        "wilson:k-float": (
            lambda: stats.wilson(1.5, 4),
            TypeError,
            "successes must be",
        ),
        "from_rate:not-a-count": (
            lambda: stats.from_rate(0.5, 3),
            ValueError,
            "rate must be a count over n=3",
        ),
        "from_rate:above-1": (
            lambda: stats.from_rate(1.5, 4),
            ValueError,
            "rate must be",
        ),
        "proportion:2d": (
            lambda: stats.proportion(torch.ones(2, 2)),
            ValueError,
            "hits must be a non-empty 1-D",
        ),
        "proportion:empty": (
            lambda: stats.proportion(torch.ones(0)),
            ValueError,
            "hits must be a non-empty 1-D",
        ),
        "proportion:not-0-1": (
            lambda: stats.proportion(np.array([0.5, 1.0])),
            ValueError,
            "hits must hold only 0/1",
        ),
        "auroc:nan": (
            lambda: stats.auroc(torch.tensor([0.1, NAN, 0.2, 0.3]), ANOM),
            ValueError,
            "NaN",
        ),
        "auroc:resamples": (
            lambda: stats.auroc(SCORES, ANOM, resamples=5),
            ValueError,
            "resamples must be",
        ),
        "auroc:seed": (lambda: stats.auroc(SCORES, ANOM, seed=-1), ValueError, "seed"),
        "difference:shapes": (
            lambda: stats.difference(np.ones(3), np.ones(4)),
            ValueError,
            "same images",
        ),
        "difference:not-0-1": (
            lambda: stats.difference(np.ones(3) * 2, np.ones(3)),
            ValueError,
            "hits_a must hold only 0/1",
        ),
    },
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)
