"""The baselines (PCA, one-class SVM, Deep SVDD), the seed study and its paired test, and
the draws of several normal classes: checked on toy problems whose answer is known and
against scipy / scikit-learn directly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats as sps
from sklearn.svm import OneClassSVM

from misuse import cases, misuse_test
from robustcore import novelty
from robustcore.novelty import baselines

SHAPE = (1, 6, 6)


def subspace_images(n: int, seed: int, off: bool = False) -> torch.Tensor:
    """Normal images: a mean plus a mix of 3 fixed patterns (a 3-D subspace) and a
    little noise; ``off``: anomalies, the mean plus a pattern outside that subspace."""
    g = torch.Generator().manual_seed(seed)
    base = torch.Generator().manual_seed(123)
    mean = 0.3 + 0.4 * torch.rand(SHAPE, generator=base)
    patterns = torch.rand(4, *SHAPE, generator=base) - 0.5
    coef = 0.3 * (torch.rand(n, 3, generator=g) - 0.5)
    x = mean + torch.einsum("nk,kchw->nchw", coef, patterns[:3])
    if off:
        x = mean + 0.4 * patterns[3] * torch.sign(torch.rand(n, 1, 1, 1, generator=g))
    x = x + 0.002 * torch.randn(n, *SHAPE, generator=g)
    return x.clamp(0, 1)


def toy_split(protocol: str = "p2") -> novelty.Split:
    """Normal images from the subspace, anomalies off it; p1 with a validation split."""
    x_train = subspace_images(200, 0)
    x_test = torch.cat([subspace_images(50, 1), subspace_images(50, 2, off=True)])
    y_test = torch.cat([torch.zeros(50), torch.ones(50)]).long()
    val = {}
    if protocol == "p1":
        x_val = torch.cat([subspace_images(30, 3), subspace_images(30, 4, off=True)])
        val = dict(
            x_val=x_val,
            y_val=torch.cat([torch.zeros(30), torch.ones(30)]).long(),
            c_val=torch.cat([torch.zeros(30), torch.ones(30)]).long(),
        )
    return novelty.Split(
        "mnist", protocol, (0,), None, 0, x_train, x_test, y_test, y_test, **val
    )


# ---- PCA ------------------------------------------------------------------------------


def test_pca_finds_the_subspace_and_separates_off_subspace_anomalies():
    split = toy_split()
    det = baselines.fit_pca(split.x_train)
    # three patterns carry all but the noise: three components explain > 90%
    assert det.setting["components"] == 3
    assert det.setting["held_out_variance"] >= 0.9
    s = det.score(split.x_test)
    assert s.shape == (100,)
    assert s[50:].min() > s[:50].max()  # every anomaly scores above every normal
    assert baselines.evaluate(det, split)["auroc"] == 1.0


def test_pca_score_is_the_mean_squared_reconstruction_error():
    split = toy_split()
    det = baselines.fit_pca(split.x_train, variance=0.5)
    k = int(det.setting["components"])
    a = split.x_train.flatten(1).double().numpy()
    mean = a.mean(0)
    _, _, vt = np.linalg.svd(a - mean, full_matrices=False)
    q = split.x_test.flatten(1).double().numpy() - mean
    back = q @ vt[:k].T @ vt[:k]
    want = ((back - q) ** 2).mean(1)
    np.testing.assert_allclose(det.score(split.x_test).numpy(), want, rtol=1e-4)


def test_pca_takes_more_components_for_more_variance():
    x = torch.rand(120, *SHAPE, generator=torch.Generator().manual_seed(0))
    k = [
        baselines.fit_pca(x, variance=v).setting["components"] for v in (0.3, 0.6, 0.9)
    ]
    assert k[0] < k[1] < k[2]


# ---- one-class SVM ----------------------------------------------------------------------


def test_ocsvm_separates_a_far_cluster():
    split = toy_split()
    det = baselines.fit_ocsvm(split.x_train)
    s = det.score(split.x_test)
    assert s[50:].min() > s[:50].max()
    assert baselines.evaluate(det, split)["auroc"] == 1.0


def test_ocsvm_nu_is_the_candidate_nearest_the_target_false_alarm_rate():
    x = torch.rand(150, *SHAPE, generator=torch.Generator().manual_seed(1))
    nus = (0.02, 0.1, 0.3, 0.6)
    det = baselines.fit_ocsvm(x, nus=nus, false_alarm=0.25, seed=3)
    x_fit, x_out = baselines.holdout(x, 0.2, 3)
    a_fit, a_out = (t.flatten(1).double().numpy() for t in (x_fit, x_out))
    rates = {
        nu: float(
            (
                OneClassSVM(nu=nu, gamma="scale").fit(a_fit).decision_function(a_out)
                < 0
            ).mean()
        )
        for nu in nus
    }
    best = min(nus, key=lambda v: (abs(rates[v] - 0.25), v))
    assert det.setting["nu"] == best
    assert det.setting["held_out_false_alarm"] == rates[best]
    # a larger ν leaves more held-out normals outside: the criterion has a choice
    assert rates[0.02] < rates[0.6]


def test_baselines_are_deterministic_and_give_f1_under_p1():
    split = toy_split("p1")
    a, b = (baselines.fit_baselines(split.x_train, seed=5) for _ in range(2))
    for name in baselines.BASELINES:
        torch.testing.assert_close(
            a[name].score(split.x_test), b[name].score(split.x_test)
        )
        res = baselines.evaluate(a[name], split)
        assert set(res) == {"auroc", "f1", "threshold"}
        assert res["f1"] == 1.0


def test_max_train_keeps_a_seeded_subset():
    x = subspace_images(100, 0)
    a = baselines.fit_ocsvm(x, max_train=40, seed=1)
    b = baselines.fit_ocsvm(x, max_train=40, seed=1)
    q = subspace_images(10, 9)
    torch.testing.assert_close(a.score(q), b.score(q))


def test_holdout_is_a_disjoint_seeded_split():
    x = torch.arange(50).float().div(50).view(50, 1, 1, 1)
    fit, out = baselines.holdout(x, 0.2, seed=0)
    assert (len(fit), len(out)) == (40, 10)
    assert set(fit.flatten().tolist()).isdisjoint(out.flatten().tolist())
    assert torch.equal(baselines.holdout(x, 0.2, 0)[1], out)
    assert not torch.equal(baselines.holdout(x, 0.2, 1)[1], out)


# ---- Deep SVDD (PyOD) ---------------------------------------------------------------


def test_deep_svdd_separates_off_subspace_anomalies_and_leaves_the_global_generators():
    split = toy_split()
    np_state, torch_state = np.random.get_state(), torch.get_rng_state()
    a = baselines.fit_deep_svdd(split.x_train, epochs=3, seed=2)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert all(np.array_equal(u, v) for u, v in zip(np.random.get_state(), np_state))
    assert baselines.evaluate(a, split)["auroc"] > 0.95
    assert a.setting == {"epochs": 3.0}
    same = baselines.fit_deep_svdd(split.x_train, epochs=3, seed=2)
    other = baselines.fit_deep_svdd(split.x_train, epochs=3, seed=3)
    s = a.score(split.x_test)
    assert torch.equal(s, same.score(split.x_test))
    assert not torch.equal(s, other.score(split.x_test))


# ---- paired test and spread -----------------------------------------------------------


def test_paired_test_matches_scipy():
    rng = np.random.default_rng(0)
    a = rng.uniform(0.8, 0.9, 9)
    b = a - rng.normal(0.01, 0.01, 9)
    t = novelty.paired_test(a, b)
    assert t.n == 9 and t.wins + t.losses == 9
    assert t.mean_difference == pytest.approx(float(np.mean(a - b)))
    assert t.p_wilcoxon == pytest.approx(sps.wilcoxon(a, b).pvalue)
    assert t.p_ttest == pytest.approx(sps.ttest_rel(a, b).pvalue)


def test_paired_test_exact_values():
    # six pairs, all won by a: the exact two-sided signed-rank p is 2 / 2**6
    a, b = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [0.9, 1.8, 2.7, 3.6, 4.5, 5.4]
    t = novelty.paired_test(a, b)
    assert (t.wins, t.losses) == (6, 0)
    assert t.p_wilcoxon == pytest.approx(2 / 64)
    assert novelty.paired_test(b, a).wins == 0
    same = novelty.paired_test(a, a)
    assert (same.p_wilcoxon, same.p_ttest, same.mean_difference) == (1.0, 1.0, 0.0)
    assert "6 of 6 ahead" in f"{t}"


def test_mean_std():
    assert novelty.mean_std([0.8, 0.9, 1.0]) == pytest.approx((0.9, 0.1))
    assert novelty.mean_std([0.5]) == (0.5, 0.0)


# ---- the seed study -------------------------------------------------------------------


def mnist_like_split() -> novelty.Split:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(40, 1, 28, 28, generator=g)
    y = torch.arange(40) % 4
    return novelty.protocol2(x, y, x, y, 0)


TINY = {"epochs": 1, "batch_size": 16, "steps": 1}


def test_train_seeds_is_deterministic_and_seeds_differ():
    split = mnist_like_split()
    a = novelty.train_seeds(split, ("ae", "arae"), (0, 1), TINY)
    b = novelty.train_seeds(split, ("ae", "arae"), (0, 1), TINY)
    assert set(a) == {("ae", 0), ("ae", 1), ("arae", 0), ("arae", 1)}
    assert a == b
    assert a["ae", 0]["auroc"] != a["ae", 1]["auroc"]
    kept = novelty.train_seeds(split, ("arae",), (1,), TINY, keep_scores=True)
    s = kept["arae", 1].pop("scores")
    assert s.shape == split.y_test.shape and kept["arae", 1] == a["arae", 1]
    assert novelty.auroc(s, split.y_test) == pytest.approx(a["arae", 1]["auroc"])
    with pytest.raises(TypeError, match="keep_scores must be"):
        novelty.train_seeds(split, ("ae",), (0,), TINY, keep_scores=1)


def test_study_settings_per_profile():
    quick, full = novelty.study("quick"), novelty.study("full")
    assert quick["max_train"] and quick["max_test"]
    assert full["max_train"] is None and full["fit"]["epochs"] >= 200
    quick["fit"]["epochs"] = 0  # a copy: the table itself is unchanged
    assert novelty.study("quick")["fit"]["epochs"] > 0
    with pytest.raises(ValueError, match="profile"):
        novelty.study("slow")


# ---- several normal classes -------------------------------------------------------------


def test_draw_normal_sets():
    sets = novelty.draw_normal_sets(4, 3, seed=0)
    assert len(sets) == 3 and len(set(sets)) == 3
    assert all(len(s) == 4 and list(s) == sorted(s) for s in sets)
    assert all(0 <= c < 10 for s in sets for c in s)
    assert novelty.draw_normal_sets(4, 3, seed=0) == sets
    assert novelty.draw_normal_sets(4, 3, seed=1) != sets
    assert len(novelty.draw_normal_sets(9, 10)) == 10  # all of them
    # a split with several normal classes: all of them normal, the rest anomalies
    x = torch.rand(200, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    y = torch.arange(200) % 10
    s = novelty.protocol1(x, y, sets[0], 0.25)
    assert torch.equal(s.y_test.bool(), ~torch.isin(s.c_test, torch.tensor(sets[0])))


# ---- bad input: refused with an error that names the argument --------------------------

X20 = subspace_images(20, 0)


def _seeds(**kwargs):
    args = {"split": mnist_like_split(), "methods": ("ae",), "seeds": (0,)}
    args["settings"] = TINY
    args.update(kwargs)
    return novelty.train_seeds(**args)


MISUSE = cases(
    "novelty.baselines",
    {
        "fit_pca:x-str": (lambda: baselines.fit_pca("x"), TypeError, "x_train must be"),
        "fit_pca:variance-0": (
            lambda: baselines.fit_pca(X20, variance=0.0),
            ValueError,
            "variance",
        ),
        "fit_pca:variance-big": (
            lambda: baselines.fit_pca(X20, variance=1.5),
            ValueError,
            "variance",
        ),
        "fit_pca:too-few": (
            lambda: baselines.fit_pca(X20[:3]),
            ValueError,
            "at least 4",
        ),
        "fit_pca:max_train": (
            lambda: baselines.fit_pca(X20, max_train=2),
            ValueError,
            "max_train",
        ),
        "fit_pca:seed": (lambda: baselines.fit_pca(X20, seed=-1), ValueError, "seed"),
        "fit_deep_svdd:epochs-0": (
            lambda: baselines.fit_deep_svdd(X20, epochs=0),
            ValueError,
            "epochs must be",
        ),
        "fit_deep_svdd:x-str": (
            lambda: baselines.fit_deep_svdd("x"),
            TypeError,
            "x_train must be",
        ),
        "fit_ocsvm:nus-empty": (
            lambda: baselines.fit_ocsvm(X20, nus=()),
            TypeError,
            "nus",
        ),
        "fit_ocsvm:nus-str": (
            lambda: baselines.fit_ocsvm(X20, nus="0.1"),
            TypeError,
            "nus",
        ),
        "fit_ocsvm:nu-0": (
            lambda: baselines.fit_ocsvm(X20, nus=(0.0,)),
            ValueError,
            r"nus\[i\]",
        ),
        "fit_ocsvm:false_alarm": (
            lambda: baselines.fit_ocsvm(X20, false_alarm=1.2),
            ValueError,
            "false_alarm",
        ),
        "fit_ocsvm:range": (
            lambda: baselines.fit_ocsvm(X20 * 2),
            ValueError,
            r"\[0, 1\]",
        ),
        "fit_baselines:x": (lambda: baselines.fit_baselines([1]), TypeError, "x_train"),
        "holdout:fraction": (
            lambda: baselines.holdout(X20, 1.0),
            ValueError,
            "fraction",
        ),
        "holdout:one": (lambda: baselines.holdout(X20[:1]), ValueError, "at least 2"),
        "evaluate:detector": (
            lambda: baselines.evaluate("pca", toy_split()),
            TypeError,
            "detector",
        ),
        "evaluate:split": (
            lambda: baselines.evaluate(baselines.fit_pca(X20), "p2"),
            TypeError,
            "split must be",
        ),
    },
) + cases(
    "novelty",
    {
        "paired_test:lengths": (
            lambda: novelty.paired_test([1, 2], [1, 2, 3]),
            ValueError,
            "pair up",
        ),
        "paired_test:one": (
            lambda: novelty.paired_test([1], [2]),
            ValueError,
            "at least 2",
        ),
        "paired_test:str": (
            lambda: novelty.paired_test(["a", "b"], [1, 2]),
            TypeError,
            "a must be",
        ),
        "paired_test:nan": (
            lambda: novelty.paired_test([1, float("nan")], [1, 2]),
            ValueError,
            "finite",
        ),
        "mean_std:empty": (lambda: novelty.mean_std([]), ValueError, "values"),
        "study:profile": (lambda: novelty.study("slow"), ValueError, "profile"),
        "draw_normal_sets:size": (
            lambda: novelty.draw_normal_sets(10),
            ValueError,
            "size",
        ),
        "draw_normal_sets:count": (
            lambda: novelty.draw_normal_sets(9, 11),
            ValueError,
            "count",
        ),
        "draw_normal_sets:dataset": (
            lambda: novelty.draw_normal_sets(2, dataset="svhn"),
            ValueError,
            "dataset",
        ),
        "evaluate_scores:split": (
            lambda: novelty.evaluate_scores(lambda x: x.mean((1, 2, 3)), "p2"),
            TypeError,
            "split must be",
        ),
        "evaluate_scores:score": (
            lambda: novelty.evaluate_scores("mse", toy_split()),
            TypeError,
            "score must be callable",
        ),
        "train_seeds:split": (lambda: _seeds(split="p2"), TypeError, "split must be"),
        "train_seeds:method": (
            lambda: _seeds(methods=("vae",)),
            ValueError,
            r"methods\[i\]",
        ),
        "train_seeds:methods-str": (lambda: _seeds(methods="ae"), TypeError, "methods"),
        "train_seeds:seeds-repeat": (
            lambda: _seeds(seeds=(0, 0)),
            ValueError,
            "must not repeat",
        ),
        "train_seeds:seed-negative": (
            lambda: _seeds(seeds=(-1,)),
            ValueError,
            r"seeds\[i\]",
        ),
        "train_seeds:settings-unknown": (
            lambda: _seeds(settings={"epoch": 1}),
            ValueError,
            "unknown key",
        ),
        "train_seeds:settings-epochs": (
            lambda: _seeds(settings={"epochs": 0}),
            ValueError,
            "epochs",
        ),
    },
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)
