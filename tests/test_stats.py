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


def test_a_table_cell_is_compact():
    """``c`` at the end of the spec: ± half the width where the interval is about
    symmetric, both ends where it is lopsided; never n (the table's header has it)."""
    assert f"{stats.wilson(932, 1000):.1%c}" == "93.2% ±1.6"
    assert f"{stats.wilson(0, 100):.1%c}" == "0.0% [0.0, 3.7]"
    assert f"{stats.Estimate(0.5, 9, 0.4, 0.6):.2fc}" == "0.50 ±0.10"
    assert f"{stats.Estimate(0.05, 9, 0.03, 0.07):+.1%c}" == "+5.0% ±2.0"  # one sign


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
        "against:not-an-estimate": (
            lambda: stats.against(0.9, 0.5),
            TypeError,
            "estimate must be a stats.Estimate",
        ),
        "against:p0": (
            lambda: stats.against(stats.wilson(5, 10), 1.5),
            ValueError,
            "p0 must be",
        ),
        "against:alternative": (
            lambda: stats.against(stats.wilson(5, 10), 0.5, alternative="both"),
            ValueError,
            "alternative must be",
        ),
        "against_family:keys": (
            lambda: stats.against_family({"a": stats.wilson(5, 10)}, {"b": 0.5}),
            ValueError,
            "ours and published must have the same non-empty keys",
        ),
        "against_family:empty": (
            lambda: stats.against_family({}, {}),
            ValueError,
            "same non-empty keys",
        ),
        "seeds_difference:1d": (
            lambda: stats.seeds_difference(np.ones(4), np.ones((2, 4))),
            ValueError,
            "hits_a must be a non-empty \\(S, N\\) array",
        ),
        "seeds_difference:images": (
            lambda: stats.seeds_difference(np.ones((2, 4)), np.ones((3, 5))),
            ValueError,
            "same images",
        ),
        "seeds_difference:not-0-1": (
            lambda: stats.seeds_difference(np.ones((2, 4)), np.full((2, 4), 0.5)),
            ValueError,
            "hits_b must hold only 0/1",
        ),
        "difference:not-0-1": (
            lambda: stats.difference(np.ones(3) * 2, np.ones(3)),
            ValueError,
            "hits_a must hold only 0/1",
        ),
    },
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)


def test_holm_by_hand_and_against_bonferroni():
    """Holm: sort, multiply the k-th smallest by (m − k + 1), keep it monotone, cap at 1."""
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted 0.005, 0.01, 0.03, 0.04 → ×4, ×3, ×2, ×1 = 0.02, 0.03, 0.06, 0.04 → max-acc
    np.testing.assert_allclose(stats.holm(p), [0.03, 0.06, 0.06, 0.02])
    assert (
        stats.holm(p) <= np.minimum(np.array(p) * 4, 1)
    ).all()  # never above Bonferroni
    assert stats.holm([0.6, 0.9]).tolist() == [1.0, 1.0]  # monotone, capped
    with pytest.raises(ValueError, match="pvalues must be"):
        stats.holm([0.1, 1.5])


def test_against_a_published_rate_is_the_exact_binomial_test():
    """All 10 of 10 against 0.5: two-sided 2 × 0.5¹⁰; one-sided 0.5¹⁰ one way, 1 the
    other; a rate equal to p0 is no evidence against it."""
    ten = stats.wilson(10, 10)
    assert stats.against(ten, 0.5) == pytest.approx(2 * 0.5**10)
    assert stats.against(ten, 0.5, "greater") == pytest.approx(0.5**10)
    assert stats.against(ten, 0.5, "less") == pytest.approx(1.0)
    assert stats.against(stats.wilson(50, 100), 0.5) == pytest.approx(1.0)
    # a rate from train.evaluate (a float count over n) is tested on its count
    assert stats.against(stats.from_rate(0.3, 10), 0.3) == pytest.approx(1.0)


def test_a_family_of_comparisons_is_holm_corrected():
    ours = {"a": stats.wilson(10, 10), "b": stats.wilson(5, 10)}
    pub = {"a": 0.5, "b": 0.5}
    raw = [stats.against(ours[k], pub[k]) for k in ours]
    adjusted = stats.against_family(ours, pub)
    assert list(adjusted) == ["a", "b"]
    np.testing.assert_allclose(list(adjusted.values()), stats.holm(raw))
    assert adjusted["a"] == pytest.approx(2 * 2 * 0.5**10)  # the smaller p, × 2
    one_sided = stats.against_family(ours, pub, alternative="greater")
    assert one_sided["a"] < adjusted["a"]


def test_a_difference_over_seeds_resamples_images_and_seeds():
    rng = np.random.default_rng(0)
    truth = rng.random(400) < 0.7  # which images a model gets right, mostly
    b = truth[None] & (rng.random((3, 400)) < 0.8)
    same = np.stack([truth] * 3)  # three seeds that agree
    e = stats.seeds_difference(same, b)
    assert e.value == pytest.approx(same.mean() - b.mean()) and e.n == 400
    assert e.low < e.value < e.high
    # seeds that disagree (one right everywhere, one nowhere) widen the interval: the
    # seed variance is in it, not only the draw of images
    split = np.stack([np.ones(400, bool), np.zeros(400, bool), truth])
    wide = stats.seeds_difference(split, b)
    assert wide.high - wide.low > 3 * (e.high - e.low)
    one = stats.seeds_difference(split[:1], b[:1])  # one seed each: images only
    assert one.high - one.low < wide.high - wide.low
    assert stats.seeds_difference(same, b, family=2).low <= e.low  # Bonferroni: wider


def test_mcnemar_is_the_binomial_test_on_discordant_pairs():
    a = np.array([1, 1, 1, 1, 1, 1, 0, 1, 1, 0], dtype=bool)
    b = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 0], dtype=bool)  # a alone right on 6
    assert stats.mcnemar(a, b) == pytest.approx(2 * 0.5**6)
    assert stats.mcnemar(a, a) == 1.0
    assert stats.mcnemar(a, b) == stats.mcnemar(b, a)
    with pytest.raises(ValueError, match="same images"):
        stats.mcnemar(a, b[:5])


def _runs(rng, n_runs, offsets, y):
    """Scores of ``n_runs`` runs on the images ``y``: novel images score higher, each
    run shifted by its own offset on the novel ones."""
    return np.stack([rng.normal(size=y.size) + (1.0 + o) * y for o in offsets[:n_runs]])


def test_auroc_difference_value_is_the_mean_of_sklearns_differences():
    rng = np.random.default_rng(0)
    ys = [(rng.random(300) < 0.3).astype(int), (rng.random(200) < 0.5).astype(int)]
    a = [_runs(rng, 3, [0.2, 0.4, 0.3], y) for y in ys]
    b = [_runs(rng, 3, [0.0, 0.1, -0.1], y) for y in ys]
    diffs = [
        roc_auc_score(y, sa[r]) - roc_auc_score(y, sb[r])
        for sa, sb, y in zip(a, b, ys)
        for r in range(3)
    ]
    e = stats.auroc_difference(a, b, ys)
    assert math.isclose(e.value, np.mean(diffs), rel_tol=1e-12)
    assert e.low < e.value < e.high and e.n == 500
    assert stats.auroc_difference(a, b, ys) == e  # seeded
    # torch tensors, and the images in any order (each split is sorted internally)
    perm = rng.permutation(300)
    t = stats.auroc_difference(
        [torch.tensor(a[0][:, perm])], [torch.tensor(b[0][:, perm])], [ys[0][perm]]
    )
    assert math.isclose(t.value, np.mean(diffs[:3]), rel_tol=1e-12)


def test_auroc_difference_copies_of_a_run_are_no_new_evidence():
    """Pseudo-replication: three runs that are one run three times (the same test
    images, nothing else sampled) give the interval of that one run, not a narrower
    one; truly different runs widen it once they are resampled."""
    rng = np.random.default_rng(1)
    y = (rng.random(400) < 0.4).astype(int)
    a, b = _runs(rng, 1, [0.3], y), _runs(rng, 1, [0.0], y)
    one = stats.auroc_difference([a], [b], [y])
    for resample_runs in (True, False):
        three = stats.auroc_difference(
            [np.repeat(a, 3, 0)], [np.repeat(b, 3, 0)], [y], resample_runs=resample_runs
        )
        assert math.isclose(three.value, one.value, rel_tol=1e-12)
        assert (three.low, three.high) == pytest.approx((one.low, one.high))
    spread_a = _runs(rng, 3, [-0.5, 0.3, 1.2], y)
    spread_b = _runs(rng, 3, [0.0, 0.0, 0.0], y)
    runs = stats.auroc_difference([spread_a], [spread_b], [y])
    images = stats.auroc_difference([spread_a], [spread_b], [y], resample_runs=False)
    assert runs.high - runs.low > images.high - images.low


def test_auroc_difference_keeps_both_classes_in_every_resample():
    """One novel image among 60: a resample of the images within each class keeps it,
    so the interval is finite (an unstratified resample would often lose it)."""
    rng = np.random.default_rng(2)
    y = np.zeros(60, dtype=int)
    y[7] = 1
    e = stats.auroc_difference(
        [_runs(rng, 2, [2, 2], y)], [_runs(rng, 2, [0, 0], y)], [y]
    )
    assert np.isfinite([e.low, e.high]).all()


def test_auroc_difference_widens_each_interval_of_a_family():
    """Three comparisons held together at 95%: each interval at 1 - 0.05 / 3, wider
    than the single one and as wide as the single one at that level (same draws)."""
    rng = np.random.default_rng(3)
    y = (rng.random(300) < 0.4).astype(int)
    a, b = [_runs(rng, 3, [0.3, 0.5, 0.4], y)], [_runs(rng, 3, [0.0, 0.1, 0.0], y)]
    one, three = (stats.auroc_difference(a, b, [y], family=f) for f in (1, 3))
    assert three.value == one.value and three.low < one.low < one.high < three.high
    old = stats.CONFIDENCE
    try:
        stats.CONFIDENCE = 1 - 0.05 / 3
        same = stats.auroc_difference(a, b, [y])
        assert (same.low, same.high) == pytest.approx((three.low, three.high))
    finally:
        stats.CONFIDENCE = old


Y2 = np.array([0, 0, 1, 1])
S2 = np.array([[0.1, 0.4, 0.35, 0.8]])
NEW_MISUSE = cases(
    "stats",
    {
        "auroc_difference:not-a-list": (
            lambda: stats.auroc_difference(S2, S2, [Y2]),
            TypeError,
            "scores_a must be a non-empty list",
        ),
        "auroc_difference:splits": (
            lambda: stats.auroc_difference([S2], [S2, S2], [Y2]),
            ValueError,
            "one entry per split",
        ),
        "auroc_difference:one-class": (
            lambda: stats.auroc_difference([S2], [S2], [np.zeros(4)]),
            ValueError,
            r"labels\[0\] must be",
        ),
        "auroc_difference:1-d": (
            lambda: stats.auroc_difference([S2[0]], [S2], [Y2]),
            ValueError,
            r"scores_a\[0\] must be \(runs, 4\)",
        ),
        "auroc_difference:runs": (
            lambda: stats.auroc_difference([S2], [np.repeat(S2, 2, 0)], [Y2]),
            ValueError,
            "pair up run by run",
        ),
        "auroc_difference:nan": (
            lambda: stats.auroc_difference([S2], [S2 * NAN], [Y2]),
            ValueError,
            r"scores_b\[0\] contains NaN",
        ),
        "auroc_difference:text": (
            lambda: stats.auroc_difference([[["a"] * 4]], [S2], [Y2]),
            TypeError,
            r"scores_a\[0\] must hold numbers",
        ),
        "auroc_difference:resample_runs": (
            lambda: stats.auroc_difference([S2], [S2], [Y2], resample_runs=1),
            TypeError,
            "resample_runs must be",
        ),
        "auroc_difference:resamples": (
            lambda: stats.auroc_difference([S2], [S2], [Y2], resamples=5),
            ValueError,
            "resamples must be",
        ),
        "auroc_difference:family": (
            lambda: stats.auroc_difference([S2], [S2], [Y2], family=0),
            ValueError,
            "family must be >= 1",
        ),
        "holm:above-1": (lambda: stats.holm([0.1, 1.5]), ValueError, "pvalues must be"),
        "mcnemar:shapes": (
            lambda: stats.mcnemar(np.ones(3), np.ones(4)),
            ValueError,
            "same images",
        ),
    },
)
MISUSE = MISUSE + NEW_MISUSE
test_auroc_difference_refuses_bad_input = misuse_test(NEW_MISUSE)
