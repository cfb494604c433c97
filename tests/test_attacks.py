"""The attack checklist of Carlini et al. (2019), 'On Evaluating Adversarial Robustness'."""

import pytest
import torch

from robustcore import attacks, train
from robustcore.attacks import fgsm, pgd

NORM_EPS = [("linf", 0.1), ("linf", 0.3), ("l2", 1.0), ("l2", 3.0)]


def _acc(model, x, y):
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


@pytest.mark.parametrize("norm", attacks.NORMS)
def test_eps_zero_returns_the_input(trained_mlp, mnist_test, norm):
    x, y = mnist_test
    assert torch.equal(pgd(trained_mlp, x[:50], y[:50], 0.0, norm=norm, steps=3), x[:50])
    assert torch.equal(fgsm(trained_mlp, x[:50], y[:50], 0.0), x[:50])


@pytest.mark.parametrize("norm,eps", NORM_EPS)
@pytest.mark.parametrize("targeted", [False, True])
def test_outputs_inside_ball_and_box(trained_mlp, mnist_test, norm, eps, targeted):
    x, y = mnist_test
    x, y = x[:100], y[:100]
    target = (y + 1) % 10 if targeted else y
    for restarts in (1, 2):
        x_adv = pgd(trained_mlp, x, target, eps, norm=norm, steps=5, restarts=restarts, targeted=targeted)
        assert x_adv.shape == x.shape and x_adv.dtype == x.dtype
        assert float(x_adv.min()) >= 0 and float(x_adv.max()) <= 1
        assert float(attacks.flat_norm(x_adv - x, norm).max()) <= eps * (1 + 1e-5) + 1e-6
    if norm == "linf":
        x_adv = fgsm(trained_mlp, x, target, eps, targeted=targeted, random_start=True, alpha=1.25 * eps)
        assert float((x_adv - x).abs().max()) <= eps + 1e-6
        assert float(x_adv.min()) >= 0 and float(x_adv.max()) <= 1


def test_norms_are_measured():
    d = torch.zeros(2, 1, 2, 2)
    d[0, 0, 0, 0], d[0, 0, 1, 1] = 0.3, -0.4
    d[1, 0, 0, 1] = 0.2
    assert torch.allclose(attacks.flat_norm(d, "linf"), torch.tensor([0.4, 0.2]))
    assert torch.allclose(attacks.flat_norm(d, "l2"), torch.tensor([0.5, 0.2]))


@pytest.mark.parametrize("norm,grid", [("linf", [0.0, 0.05, 0.1, 0.2, 0.3]), ("l2", [0.0, 0.5, 1.0, 2.0, 3.0])])
def test_accuracy_non_increasing_over_eps(trained_mlp, mnist_test, norm, grid):
    x, y = mnist_test
    accs = train.accuracy_vs_eps(trained_mlp, x, y, grid, {"name": "pgd", "norm": norm, "steps": 10},
                                 progress=False)
    assert accs[0] > 0.9
    assert all(b <= a + 0.01 for a, b in zip(accs, accs[1:])), accs


def test_large_eps_drives_standard_model_to_zero(trained_mlp, mnist_test):
    x, y = mnist_test
    assert train.evaluate(trained_mlp, x, y, {"name": "pgd", "eps": 0.3, "steps": 20}) <= 0.01
    assert train.evaluate(trained_mlp, x, y, {"name": "pgd", "eps": 4.0, "norm": "l2", "steps": 20}) <= 0.01


def test_pgd_at_least_as_strong_as_fgsm(trained_mlp, mnist_test):
    x, y = mnist_test
    for eps in (0.05, 0.1):
        a_fgsm = train.evaluate(trained_mlp, x, y, {"name": "fgsm", "eps": eps})
        a_pgd = train.evaluate(trained_mlp, x, y, {"name": "pgd", "eps": eps, "steps": 20})
        assert a_pgd <= a_fgsm, (eps, a_pgd, a_fgsm)
        assert a_fgsm < _acc(trained_mlp, x, y)


def test_targeted_attack_reaches_target(trained_mlp, mnist_test):
    x, y = mnist_test
    target = (y + 3) % 10
    x_adv = pgd(trained_mlp, x, target, 0.3, steps=40, targeted=True)
    with torch.no_grad():
        hit = (trained_mlp(x_adv).argmax(1) == target).float().mean()
    assert hit >= 0.95
    x_adv = pgd(trained_mlp, x, target, 4.0, norm="l2", steps=40, targeted=True)
    with torch.no_grad():
        assert (trained_mlp(x_adv).argmax(1) == target).float().mean() >= 0.9


def test_restarts_never_weaker(trained_mlp, mnist_test):
    x, y = mnist_test
    torch.manual_seed(0)
    one = _acc(trained_mlp, pgd(trained_mlp, x, y, 0.05, steps=5), y)
    torch.manual_seed(0)
    three = _acc(trained_mlp, pgd(trained_mlp, x, y, 0.05, steps=5, restarts=3), y)
    assert three <= one


def test_same_seed_same_result(trained_mlp, mnist_test):
    x, y = mnist_test
    torch.manual_seed(5)
    a = pgd(trained_mlp, x[:20], y[:20], 0.2, steps=3)
    torch.manual_seed(5)
    assert torch.equal(a, pgd(trained_mlp, x[:20], y[:20], 0.2, steps=3))


def test_model_mode_restored(trained_mlp, mnist_test):
    x, y = mnist_test
    trained_mlp.train()
    pgd(trained_mlp, x[:4], y[:4], 0.1, steps=1)
    assert trained_mlp.training
    trained_mlp.eval()


def test_make_builds_partial(trained_mlp, mnist_test):
    x, y = mnist_test
    atk = attacks.make("pgd", eps=0.1, steps=2)
    assert atk(trained_mlp, x[:4], y[:4]).shape == (4, 1, 28, 28)
    with pytest.raises(ValueError, match="attack name must be one of"):
        attacks.make("cw")


@pytest.mark.parametrize("fn", [fgsm, pgd])
def test_bad_inputs(trained_mlp, mnist_test, fn):
    x, y = mnist_test
    x, y = x[:4], y[:4]
    with pytest.raises(ValueError, match=r"x must be a batch of images of shape \(N, C, H, W\)"):
        fn(trained_mlp, x[0], y, 0.1)
    with pytest.raises(ValueError, match=r"x must have values in \[0, 1\]"):
        fn(trained_mlp, x * 2, y, 0.1)
    with pytest.raises(ValueError, match="x contains NaN"):
        fn(trained_mlp, x.masked_fill(x > 0.5, float("nan")), y, 0.1)
    with pytest.raises(TypeError, match="x must be a floating tensor"):
        fn(trained_mlp, (x * 255).to(torch.uint8), y, 0.1)
    with pytest.raises(ValueError, match=r"eps must be in \[0, 1\]"):
        fn(trained_mlp, x, y, -0.1)
    with pytest.raises(ValueError, match="y must have shape"):
        fn(trained_mlp, x, y[:2], 0.1)
    with pytest.raises(TypeError, match="y must be an integer tensor"):
        fn(trained_mlp, x, y.float(), 0.1)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        fn(lambda t: t, x, y, 0.1)
    with pytest.raises(ValueError, match="empty batch"):
        fn(trained_mlp, x[:0], y[:0], 0.1)


def test_pgd_bad_settings(trained_mlp, mnist_test):
    x, y = mnist_test
    x, y = x[:4], y[:4]
    with pytest.raises(ValueError, match="norm must be one of 'linf', 'l2'"):
        pgd(trained_mlp, x, y, 0.1, norm="l1")
    with pytest.raises(ValueError, match="steps must be >= 1"):
        pgd(trained_mlp, x, y, 0.1, steps=0)
    with pytest.raises(ValueError, match="restarts must be >= 1"):
        pgd(trained_mlp, x, y, 0.1, restarts=0)
    with pytest.raises(ValueError, match="alpha must be in"):
        pgd(trained_mlp, x, y, 0.1, alpha=-1.0)


def test_attacks_run_on_the_model_device_and_return_on_x_device(trained_mlp, mnist_test, monkeypatch):
    """The wrapper moves x, y to the model's device and the result back (checked with a spy)."""
    from robustcore.attacks import base

    seen = []
    real = base.model_device
    monkeypatch.setattr(base, "model_device", lambda m: seen.append(m) or real(m))
    x, y = mnist_test
    out = pgd(trained_mlp, x[:3], y[:3], 0.1, steps=1)
    assert seen == [trained_mlp] and out.device == x.device
    assert pgd.__wrapped__.__name__ == "pgd" and "def pgd(" in __import__("inspect").getsource(pgd)
