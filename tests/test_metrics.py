"""robustcore.metrics against hand-computed values and independent implementations
(scikit-learn, brute-force threshold search, plain loops)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score, roc_auc_score

from misuse import ANOM, NAN, PROBS, SCORES, cases, misuse_test
from robustcore import metrics

# Four scores, two anomalies (label 1): ranked 0.8 (1), 0.4 (0), 0.35 (1), 0.1 (0).
S = np.array([0.1, 0.4, 0.35, 0.8])
LAB = np.array([0, 0, 1, 1])


def random_case(
    rng: np.random.Generator, n: int, levels: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """Scores with ties (``levels`` distinct values) and labels holding both classes."""
    s = rng.integers(0, levels, n) / levels
    lab = rng.permutation(np.arange(n) % 2)
    return s, lab


# ---- AUROC and ROC ----------------------------------------------------------------------------


def test_auroc_by_hand():
    # anomaly/normal pairs: (0.35, 0.1) won, (0.35, 0.4) lost, (0.8, 0.1) and (0.8, 0.4) won
    assert metrics.auroc(S, LAB) == pytest.approx(3 / 4)
    assert metrics.auroc(S, 1 - LAB) == pytest.approx(1 / 4)  # label 1 is the anomaly
    assert metrics.auroc([0.5, 0.5], [0, 1]) == pytest.approx(
        1 / 2
    )  # a tie counts half
    assert metrics.auroc(torch.tensor(S), torch.tensor(LAB)) == pytest.approx(3 / 4)


def test_auroc_agrees_with_sklearn():
    rng = np.random.default_rng(0)
    for n in (2, 7, 50):
        s, lab = random_case(rng, n)
        assert metrics.auroc(s, lab) == pytest.approx(roc_auc_score(lab, s))


def roc_by_loop(s: np.ndarray, lab: np.ndarray) -> tuple[list[float], list[float]]:
    """(FPR, TPR) of "anomaly if score >= t" for t from +inf down over the distinct scores."""
    fpr, tpr = [0.0], [0.0]
    for t in sorted(set(s), reverse=True):
        fpr.append(float(((s >= t) & (lab == 0)).sum() / (lab == 0).sum()))
        tpr.append(float(((s >= t) & (lab == 1)).sum() / (lab == 1).sum()))
    return fpr, tpr


def test_roc_by_hand_and_by_loop():
    fpr, tpr = metrics.roc(S, LAB)
    assert fpr.tolist() == [0, 0, 0.5, 0.5, 1] and tpr.tolist() == [0, 0.5, 0.5, 1, 1]
    assert (fpr.tolist(), tpr.tolist()) == roc_by_loop(S, LAB)
    fpr, tpr = metrics.roc(
        torch.tensor(S), torch.tensor(1 - LAB)
    )  # label 1 is the anomaly
    assert (fpr.tolist(), tpr.tolist()) == roc_by_loop(S, 1 - LAB)
    assert np.trapezoid(tpr, fpr) == pytest.approx(1 / 4)


# ---- F1 and the threshold ---------------------------------------------------------------------


def test_f1_at_by_hand():
    assert metrics.f1_at(S, LAB, 0.3) == pytest.approx(4 / 5)  # tp 2, fp 1, fn 0
    assert metrics.f1_at(S, LAB, 0.35) == pytest.approx(
        1 / 2
    )  # strictly above: 0.35 is not flagged
    assert metrics.f1_at(S, LAB, -1) == pytest.approx(2 / 3)  # everything flagged
    assert metrics.f1_at(S, LAB, 0.9) == 0.0  # nothing flagged
    assert metrics.f1_at(torch.tensor(S), torch.tensor(LAB), 0.3) == pytest.approx(
        4 / 5
    )


def test_f1_at_agrees_with_sklearn():
    rng = np.random.default_rng(1)
    for n in (2, 9, 40):
        s, lab = random_case(rng, n)
        for t in (-0.5, 0.2, 0.4, 0.5, 2.0):
            assert metrics.f1_at(s, lab, t) == pytest.approx(
                f1_score(lab, s > t, zero_division=0)
            )


def brute_force_best(s: np.ndarray, lab: np.ndarray) -> tuple[float, float]:
    """(lowest threshold reaching the best F1, that F1), trying below the lowest score and every
    midpoint between consecutive distinct scores, with F1 counted directly."""
    u = sorted(set(s.tolist()))
    cands = [u[0] - 1e-9] + [(a + b) / 2 for a, b in zip(u[:-1], u[1:])]
    best_t, best_f1 = None, -1.0
    for t in cands:
        flagged = s > t
        tp = int((flagged & (lab == 1)).sum())
        f1 = 2 * tp / (int(flagged.sum()) + int(lab.sum()))
        if f1 > best_f1:
            best_t, best_f1 = t, f1
    return best_t, best_f1


def test_best_threshold_matches_a_brute_force_search():
    rng = np.random.default_rng(2)
    for trial in range(300):
        s, lab = random_case(
            rng, int(rng.integers(2, 12)), levels=int(rng.integers(1, 8))
        )
        t = metrics.best_threshold(s, lab)
        want_t, want_f1 = brute_force_best(s, lab)
        assert t == pytest.approx(want_t, abs=1e-8), (trial, s, lab)
        assert metrics.f1_at(s, lab, t) == pytest.approx(want_f1), (trial, s, lab)


def test_best_threshold_by_hand():
    assert metrics.best_threshold([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == pytest.approx(
        0.5
    )
    assert metrics.best_threshold([0.1, 0.2, 0.9], [0, 0, 1]) == pytest.approx(
        0.55
    )  # only the top one
    # flagging everything (F1 4/5) beats flagging the top two (F1 1/2): a threshold just below the lowest
    t = metrics.best_threshold([0.1, 0.2, 0.9], [1, 1, 0])
    assert 0.1 - 1e-9 < t < 0.1
    t = metrics.best_threshold([0.5, 0.5], [0, 1])  # one distinct score
    assert 0.5 - 1e-9 < t < 0.5 and metrics.f1_at(
        [0.5, 0.5], [0, 1], t
    ) == pytest.approx(2 / 3)
    # ties in F1 go to the lowest threshold: 0.15 and 0.5 both give F1 2/3 here
    assert metrics.best_threshold([0.1, 0.2, 0.8], [0, 1, 0]) == pytest.approx(0.15)
    assert isinstance(metrics.best_threshold(torch.tensor(S), torch.tensor(LAB)), float)


@pytest.mark.parametrize("scale", [1.0, 1e5, 1e12, -1e12])
def test_best_threshold_can_flag_everything_at_any_scale(scale):
    s = np.array([1.0, 2.0, 9.0]) * scale
    lab = (
        [1, 1, 0] if scale > 0 else [0, 1, 1]
    )  # the two lowest scores are the anomalies
    t = metrics.best_threshold(s, lab)
    assert t < s.min() and metrics.f1_at(s, lab, t) == pytest.approx(4 / 5)


def test_best_threshold_when_a_midpoint_rounds_onto_the_top_score():
    lo = np.nextafter(1.0, 2.0)  # 1 + 1 ulp, and 1 + 2 ulp above it:
    s, lab = (
        np.array([lo, np.nextafter(lo, 2.0)]),
        [0, 1],
    )  # their midpoint rounds up onto the top
    t = metrics.best_threshold(s, lab)
    assert metrics.f1_at(s, lab, t) == pytest.approx(2 / 3)  # flags both, not nothing


# ---- calibration and selective prediction -----------------------------------------------------


def test_adaptive_bins():
    assert metrics.adaptive_bins(300, 100) == [(0, 100), (100, 200), (200, 300)]
    assert metrics.adaptive_bins(250) == [
        (0, 100),
        (100, 250),
    ]  # the last bin takes the rest
    assert metrics.adaptive_bins(99) == [(0, 99)] and metrics.adaptive_bins(1, 1) == [
        (0, 1)
    ]
    assert metrics.adaptive_bins(7, 2) == [(0, 2), (2, 4), (4, 7)]


def calibration_by_loop(conf: list[float], correct: list[int], beta: int) -> float:
    """RMS calibration error over adaptive bins, with Python's (stable) sort and plain sums."""
    pairs = sorted(zip(conf, correct), key=lambda p: p[0])
    n, k = len(pairs), max(1, len(pairs) // beta)
    total = 0.0
    for b in range(k):
        chunk = pairs[b * beta : n if b == k - 1 else (b + 1) * beta]
        gap = sum(c for c, _ in chunk) / len(chunk) - sum(a for _, a in chunk) / len(
            chunk
        )
        total += len(chunk) / n * gap**2
    return math.sqrt(total)


def test_calibration_error_by_hand():
    # sorted: [.1 .2 | .6 .8 .9], correct [0 0 | 1 1 0] with bins of 2 (the last takes 3)
    conf, correct = [0.9, 0.1, 0.6, 0.8, 0.2], [0, 0, 1, 1, 0]
    want = math.sqrt(2 / 5 * 0.15**2 + 3 / 5 * 0.1**2)
    assert metrics.calibration_error(conf, correct, beta=2) == pytest.approx(want)
    assert metrics.calibration_error(conf, correct) == pytest.approx(
        abs(0.52 - 0.4)
    )  # one bin of 5
    assert metrics.calibration_error([1.0, 1.0], [True, True]) == 0.0
    assert metrics.calibration_error(
        torch.tensor([0.3]), torch.tensor([False])
    ) == pytest.approx(0.3)


def test_legacy_calibration_error_leaves_out_the_top_bin_by_hand():
    # the same example: bins [.1 .2] (conf .15, acc 0) and [.6 .8 .9] (conf .7667, acc
    # .6667); the reference calib_err sums only the first, still divided by all n = 5
    conf, correct = [0.9, 0.1, 0.6, 0.8, 0.2], [0, 0, 1, 1, 0]
    every = metrics.calibration_error(conf, correct, beta=2)
    legacy = metrics.calibration_error(conf, correct, beta=2, legacy=True)
    assert legacy == pytest.approx(math.sqrt(2 / 5 * 0.15**2))
    top = 3 / 5 * (np.mean([0.6, 0.8, 0.9]) - 2 / 3) ** 2
    assert legacy**2 == pytest.approx(every**2 - top)
    # overconfident top bin: calib_err misses the whole error
    conf, correct = [0.5, 0.5, 1.0, 1.0], [1, 0, 0, 0]
    assert metrics.calibration_error(conf, correct, beta=2) == pytest.approx(
        math.sqrt(0.5)
    )
    assert metrics.calibration_error(conf, correct, beta=2, legacy=True) == 0.0
    # one bin (beta <= n < 2 beta): nothing is left to count
    assert metrics.calibration_error(conf, correct, beta=3, legacy=True) == 0.0


def test_legacy_calibration_error_misuse():
    with pytest.raises(ValueError, match="at least beta=100 predictions"):
        metrics.calibration_error([0.5] * 99, [1] * 99, legacy=True)
    with pytest.raises(TypeError, match="legacy must be True or False"):
        metrics.calibration_error([0.5], [1], legacy="yes")


def test_calibration_error_matches_a_loop():
    rng = np.random.default_rng(3)
    for n, beta in ((5, 2), (17, 4), (250, 100), (301, 100), (60, 7)):
        conf = np.round(rng.uniform(size=n), 1)  # rounded: many ties
        correct = rng.uniform(size=n) < conf
        want = calibration_by_loop(conf.tolist(), correct.astype(int).tolist(), beta)
        assert metrics.calibration_error(conf, correct, beta) == pytest.approx(want)
    conf, correct = np.round(rng.uniform(size=250), 1), rng.uniform(size=250) < 0.5
    assert metrics.calibration_error(
        conf, correct
    ) == pytest.approx(  # default: bins of 100
        calibration_by_loop(conf.tolist(), correct.astype(int).tolist(), 100)
    )


def test_calibration_error_breaks_ties_by_input_order():
    correct = np.repeat([1, 0], 50)
    # all confidences equal: the first bin holds the first 50 predictions (all right), the second the rest
    assert metrics.calibration_error(
        np.full(100, 0.5), correct, beta=50
    ) == pytest.approx(0.5)


def rra_by_loop(conf: list[float], correct: list[int]) -> list[float]:
    """Accuracy of the k most confident predictions, ties in input order."""
    ranked = sorted(range(len(conf)), key=lambda i: -conf[i])
    return [sum(correct[i] for i in ranked[:k]) / k for k in range(1, len(conf) + 1)]


def test_rra_curve_and_aurra_by_hand():
    assert metrics.rra_curve([0.9, 0.8, 0.7], [1, 0, 1]).tolist() == pytest.approx(
        [1, 1 / 2, 2 / 3]
    )
    assert metrics.rra_curve(
        [0.7, 0.8, 0.9], [True, False, True]
    ).tolist() == pytest.approx([1, 1 / 2, 2 / 3])
    assert metrics.aurra([0.9, 0.8, 0.7], [1, 0, 1]) == pytest.approx(
        (1 + 1 / 2 + 2 / 3) / 3
    )
    assert metrics.aurra([0.9, 0.1], [1, 0]) == pytest.approx((1 + 1 / 2) / 2)
    assert metrics.aurra(
        torch.tensor([0.1, 0.9]), torch.tensor([1, 0])
    ) == pytest.approx((0 + 1 / 2) / 2)


def test_rra_curve_and_aurra_match_a_loop():
    rng = np.random.default_rng(4)
    for n in (1, 6, 40):
        conf = np.round(rng.uniform(size=n), 1)
        correct = (rng.uniform(size=n) < conf).astype(int)
        want = rra_by_loop(conf.tolist(), correct.tolist())
        assert metrics.rra_curve(conf, correct).tolist() == pytest.approx(want)
        assert metrics.aurra(conf, correct) == pytest.approx(sum(want) / n)
    tied = np.full(40, 0.5)
    correct = np.arange(40) % 3 == 0
    assert metrics.rra_curve(tied, correct).tolist() == pytest.approx(
        rra_by_loop(tied.tolist(), correct.tolist())
    )


# ---- misuse -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "s, labels, err, match",
    [
        (
            "0.1 0.2",
            [0, 1],
            TypeError,
            "^scores and labels must be sequences of numbers, not strings$",
        ),
        ([0.1, 0.2], b"01", TypeError, "not strings$"),
        (
            [[0.1], "a"],
            [0, 1],
            TypeError,
            "scores must be a 1-D sequence of numbers, got list",
        ),
        (
            [[0.1, 0.2]],
            [[0, 1]],
            ValueError,
            r"1-D of equal length, got shapes \(1, 2\) and \(1, 2\)",
        ),
        (
            [0.1, 0.2],
            [0, 1, 1],
            ValueError,
            r"equal length, got shapes \(2,\) and \(3,\)",
        ),
        (
            [],
            [],
            ValueError,
            "^scores and labels are empty; pass at least one normal and one anomalous example$",
        ),
        (
            [0.1, float("inf")],
            [0, 1],
            ValueError,
            "^scores contain NaN or infinite values$",
        ),
        ([0.1, float("nan")], [0, 1], ValueError, "NaN"),
        (
            [0.1, 0.2],
            [0, 2],
            ValueError,
            r"^labels must be 0 \(normal\) or 1 \(anomaly\)$",
        ),
        (
            [0.1, 0.2],
            [1, 1],
            ValueError,
            r"^labels must contain both normal \(0\) and anomalous \(1\) examples$",
        ),
        ([0.1, 0.2], [0, 0], ValueError, "both normal"),
    ],
)
def test_scores_misuse(s, labels, err, match):
    for fn in (
        metrics.auroc,
        metrics.roc,
        metrics.best_threshold,
        lambda a, b: metrics.f1_at(a, b, 0.5),
    ):
        with pytest.raises(err, match=match):
            fn(s, labels)


def test_check_scores_converts():
    s, lab = metrics.check_scores(torch.tensor([1, 2]), torch.tensor([True, False]))
    assert s.dtype == np.float64 and lab.dtype == np.int64 and lab.tolist() == [1, 0]
    s, _ = metrics.check_scores(
        torch.tensor([0.5, 2.0], requires_grad=True), [0, 1]
    )  # a model's raw output
    assert s.tolist() == [0.5, 2.0]


@pytest.mark.parametrize(
    "threshold, err",
    [
        ("0.5", TypeError),
        (float("nan"), ValueError),
        (math.inf, ValueError),
        (None, TypeError),
    ],
)
def test_f1_at_threshold_misuse(threshold, err):
    with pytest.raises(err, match="^threshold must be"):
        metrics.f1_at(S, LAB, threshold)


@pytest.mark.parametrize(
    "conf, correct, err, match",
    [
        (
            "0.5",
            [1],
            TypeError,
            "^confidence and correct must be sequences of numbers, not strings$",
        ),
        ([0.5], b"1", TypeError, "not strings$"),
        (
            [[0.5], "a"],
            [1, 0],
            TypeError,
            "confidence must be a 1-D sequence of probabilities, got list",
        ),
        (
            [0.5, 0.5],
            [None, 1],
            TypeError,
            "correct must be a 1-D sequence of booleans .or 0/1., got list",
        ),
        (
            [[0.5]],
            [[1]],
            ValueError,
            r"1-D and of equal length, got shapes \(1, 1\) and \(1, 1\)",
        ),
        ([0.5, 0.5], [1], ValueError, r"equal length, got shapes \(2,\) and \(1,\)"),
        ([], [], ValueError, "^confidence is empty; pass at least one prediction$"),
        (
            [0.5, float("nan")],
            [1, 0],
            ValueError,
            r"^confidence must hold finite probabilities in \[0, 1\]$",
        ),
        ([0.5, 1.2], [1, 0], ValueError, r"in \[0, 1\]"),
        ([-0.1, 0.5], [1, 0], ValueError, r"in \[0, 1\]"),
        ([0.5, 0.5], [2, 0], ValueError, r"^correct must hold booleans \(or 0/1\)$"),
    ],
)
def test_confidence_misuse(conf, correct, err, match):
    for fn in (metrics.calibration_error, metrics.rra_curve, metrics.aurra):
        with pytest.raises(err, match=match):
            fn(conf, correct)


def test_check_confidence_converts():
    conf, corr = metrics.check_confidence([0, 1], np.array([True, False]))
    assert (
        conf.dtype == corr.dtype == np.float64
        and conf.tolist() == [0.0, 1.0]
        and corr.tolist() == [1.0, 0.0]
    )
    conf, _ = metrics.check_confidence(
        torch.tensor([0.25, 0.5], requires_grad=True), [1, 0]
    )  # softmax output
    assert conf.tolist() == [0.25, 0.5]


@pytest.mark.parametrize(
    "n, beta, err, match",
    [
        (0, 100, ValueError, "n must be >= 1"),
        (5, 0, ValueError, "beta must be >= 1"),
        (5.0, 2, TypeError, "n must be an int"),
        (5, 2.0, TypeError, "beta must be an int"),
    ],
)
def test_adaptive_bins_misuse(n, beta, err, match):
    with pytest.raises(err, match=match):
        metrics.adaptive_bins(n, beta)


# ---- misuse: bad arguments are refused and nothing is written


def _score_cases(name: str, f) -> list:
    """The misuse of a function of (scores, labels), ids ``metrics.name.defect``."""
    return cases(
        f"metrics.{name}",
        {
            "nan": (
                lambda: f(torch.tensor([0.1, NAN, 0.3, 0.4]), ANOM),
                ValueError,
                "scores contain NaN",
            ),
            "inf": (
                lambda: f([0.1, math.inf, 0.3, 0.4], ANOM),
                ValueError,
                "scores contain NaN or infinite",
            ),
            "one-class": (
                lambda: f(SCORES, torch.zeros(4, dtype=torch.long)),
                ValueError,
                "both normal",
            ),
            "labels-2": (
                lambda: f(SCORES, torch.tensor([0, 2, 1, 1])),
                ValueError,
                r"labels must be 0 \(normal\)",
            ),
            "length": (
                lambda: f(SCORES, ANOM[:3]),
                ValueError,
                "scores and labels must be 1-D of equal length",
            ),
            "2d": (lambda: f(PROBS, ANOM), ValueError, "scores and labels must be 1-D"),
            "empty": (lambda: f([], []), ValueError, "scores and labels are empty"),
            "str": (
                lambda: f("0.1 0.2", ANOM),
                TypeError,
                "scores and labels must be sequences of numbers",
            ),
            "objects": (lambda: f([None, {}, 1, 2], ANOM), TypeError, "scores must be"),
        },
    )


MISUSE = cases(
    "metrics",
    {
        "check_confidence:empty": (
            lambda: metrics.check_confidence([], []),
            ValueError,
            "confidence is empty",
        ),
        "check_confidence:above-one": (
            lambda: metrics.check_confidence([1.5], [1]),
            ValueError,
            r"\[0, 1\]",
        ),
        "calibration_error:nan": (
            lambda: metrics.calibration_error([NAN, 0.5], [1, 0]),
            ValueError,
            "finite",
        ),
        "rra_curve:length": (
            lambda: metrics.rra_curve([0.5, 0.5], [1]),
            ValueError,
            "equal length",
        ),
        "aurra:str": (lambda: metrics.aurra("high", [1]), TypeError, "confidence"),
        "adaptive_bins:n-zero": (
            lambda: metrics.adaptive_bins(0),
            ValueError,
            "n must be >= 1",
        ),
    },
) + [
    case
    for name, f in {
        "auroc": metrics.auroc,
        "roc": metrics.roc,
        "best_threshold": metrics.best_threshold,
        "f1_at": lambda s, lab: metrics.f1_at(s, lab, 0.5),
        "check_scores": metrics.check_scores,
    }.items()
    for case in _score_cases(name, f)
]
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)
