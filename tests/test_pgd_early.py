"""pgd_correct: robust accuracy under PGD with the fooled examples dropped early."""

import runpy
from pathlib import Path

import pytest
import torch
from torch import nn

from misuse import M, NAN, X, Y, bad_images, bad_labels, cases, misuse_test, not_a_model
from robustcore.attacks.pgd import pgd, pgd_correct
from robustcore.utils import set_seed


def _plain(model, x, y, eps, seed=0, **kw):
    """Right at plain PGD's last iterate, from the same random state."""
    set_seed(seed)
    x_adv = pgd(model, x, y, eps, **kw)
    with torch.no_grad():
        return model(x_adv).argmax(1) == y


def _early(model, x, y, eps, seed=0, **kw):
    set_seed(seed)
    return pgd_correct(model, x, y, eps, **kw)


@pytest.mark.parametrize(
    "norm,eps,restarts", [("linf", 0.1, 1), ("linf", 0.05, 2), ("l2", 1.0, 1)]
)
def test_no_more_accurate_than_plain_pgd_and_fooled_where_it_fools(
    trained_mlp, mnist_test, norm, eps, restarts
):
    x, y = mnist_test
    kw = {"norm": norm, "steps": 10, "restarts": restarts}
    plain, early = (
        _plain(trained_mlp, x, y, eps, **kw),
        _early(trained_mlp, x, y, eps, **kw),
    )
    assert early.dtype == torch.bool and early.shape == y.shape
    # the verdict is the same wherever plain PGD's last iterate fools ...
    assert not (early & ~plain).any()
    # ... and an example plain PGD leaves right may still have been fooled on the way
    assert early.float().mean() <= plain.float().mean()
    assert 0 < plain.float().mean() < 1  # a real test: some fooled, some not


def test_the_examples_wrong_on_clean_input_count_as_wrong(trained_mlp, mnist_test):
    x, y = mnist_test
    with torch.no_grad():
        clean = trained_mlp(x).argmax(1) == y
    assert not clean.all()
    early = _early(trained_mlp, x, y, 0.02, steps=3)
    assert not (early & ~clean).any()
    assert torch.equal(_early(trained_mlp, x, y, 0.0, steps=3), clean)


def test_an_example_fooled_by_an_early_iterate_stays_fooled():
    """A model that is fooled only in a thin band of inputs: PGD's last iterate walks
    past the band, pgd_correct sees it fooled on the way."""

    class Band(nn.Module):
        def forward(self, x):
            m = x.flatten(1).mean(1, keepdim=True)
            in_band = ((m > 0.2) & (m < 0.3)).float()
            # class 0 outside the band, class 1 inside; the loss pushes m upward
            return torch.cat([1 - in_band + 0 * m, in_band + m], 1)

    x = torch.full((3, 1, 4, 4), 0.1)
    y = torch.zeros(3, dtype=torch.long)
    kw = {"steps": 10, "alpha": 0.05, "random_start": False}
    x_adv = pgd(Band(), x, y, 0.5, **kw)
    with torch.no_grad():
        last = Band()(x_adv).argmax(1)
    assert (last == 0).all()  # the last iterate (m = 0.6) is right again
    assert not pgd_correct(Band(), x, y, 0.5, **kw).any()


def test_same_seed_same_verdict_and_model_mode_restored(trained_mlp, mnist_test):
    x, y = mnist_test[0][:100], mnist_test[1][:100]
    trained_mlp.train()
    try:
        a, b = (
            _early(trained_mlp, x, y, 0.1, steps=5),
            _early(trained_mlp, x, y, 0.1, steps=5),
        )
        assert trained_mlp.training
    finally:
        trained_mlp.eval()
    assert torch.equal(a, b)


MISUSE = (
    cases(
        "attacks.pgd_correct",
        {
            "eps-negative": (
                lambda: pgd_correct(M, X, Y, -0.1),
                ValueError,
                "eps must be in",
            ),
            "eps-nan": (
                lambda: pgd_correct(M, X, Y, NAN),
                ValueError,
                "eps must be in",
            ),
            "eps-str": (
                lambda: pgd_correct(M, X, Y, "0.3"),
                TypeError,
                "eps must be a real",
            ),
            "norm": (
                lambda: pgd_correct(M, X, Y, 0.1, norm="l1"),
                ValueError,
                "norm must be one of",
            ),
            "steps-zero": (
                lambda: pgd_correct(M, X, Y, 0.1, steps=0),
                ValueError,
                "steps must be >= 1",
            ),
            "steps-float": (
                lambda: pgd_correct(M, X, Y, 0.1, steps=2.0),
                TypeError,
                "steps must be an int",
            ),
            "restarts-zero": (
                lambda: pgd_correct(M, X, Y, 0.1, restarts=0),
                ValueError,
                "restarts must be >= 1",
            ),
            "alpha-nan": (
                lambda: pgd_correct(M, X, Y, 0.1, alpha=NAN),
                ValueError,
                "alpha must be in",
            ),
            "targeted": (
                lambda: pgd_correct(M, X, Y, 0.1, targeted=True),
                TypeError,
                "targeted",
            ),
        },
    )
    + bad_images(
        {"attacks.pgd_correct": lambda x: pgd_correct(M, x, Y[: len(x)], 0.1, steps=1)}
    )
    + bad_labels({"attacks.pgd_correct": lambda y: pgd_correct(M, X, y, 0.1, steps=1)})
    + not_a_model({"attacks.pgd_correct": lambda m: pgd_correct(m, X, Y, 0.1)})
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)


def test_the_benchmark_runs_and_reports_its_ratios(tmp_path, capsys):
    """benchmarks/pgd_early.py at the tiny settings of ``run_all.py --smoke``; its
    timings mean nothing here."""
    bench = Path(__file__).resolve().parents[1] / "benchmarks"
    smoke = runpy.run_path(str(bench / "run_all.py"))["SMOKE"]["pgd_early"]
    main = runpy.run_path(str(bench / "pgd_early.py"))["main"]
    res = main(smoke + ["--json", str(tmp_path / "r.json")])
    assert set(res["models"]) == {"mnist-cnn-std", "mnist-cnn-pgd-linf"}
    for r in res["models"].values():
        assert set(r["seconds"]) == {"robustcore", "torchattacks"}
        assert r["speedup_vs_torchattacks"] > 0
    assert (tmp_path / "r.json").is_file()
    assert "speed-up" in capsys.readouterr().out
