"""The attack checklist of Carlini et al. (2019), 'On Evaluating Adversarial Robustness'."""

import math

import pytest
import torch
from torch import nn

from misuse import M, NAN, X, Y, bad_images, bad_labels, cases, misuse_test, not_a_model
from robustcore import attacks, novelty, train
from robustcore.attacks import fgsm, pgd

NORM_EPS = [("linf", 0.1), ("linf", 0.3), ("l2", 1.0), ("l2", 3.0)]


def _acc(model, x, y):
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


@pytest.mark.parametrize("norm", attacks.NORMS)
def test_eps_zero_returns_the_input(trained_mlp, mnist_test, norm):
    x, y = mnist_test
    assert torch.equal(
        pgd(trained_mlp, x[:50], y[:50], 0.0, norm=norm, steps=3), x[:50]
    )
    assert torch.equal(fgsm(trained_mlp, x[:50], y[:50], 0.0), x[:50])


@pytest.mark.parametrize("norm,eps", NORM_EPS)
@pytest.mark.parametrize("targeted", [False, True])
def test_outputs_inside_ball_and_box(trained_mlp, mnist_test, norm, eps, targeted):
    x, y = mnist_test
    x, y = x[:100], y[:100]
    target = (y + 1) % 10 if targeted else y
    for restarts in (1, 2):
        x_adv = pgd(
            trained_mlp,
            x,
            target,
            eps,
            norm=norm,
            steps=5,
            restarts=restarts,
            targeted=targeted,
        )
        assert x_adv.shape == x.shape and x_adv.dtype == x.dtype
        assert float(x_adv.min()) >= 0 and float(x_adv.max()) <= 1
        assert (
            float(attacks.flat_norm(x_adv - x, norm).max()) <= eps * (1 + 1e-5) + 1e-6
        )
    if norm == "linf":
        x_adv = fgsm(
            trained_mlp,
            x,
            target,
            eps,
            targeted=targeted,
            random_start=True,
            alpha=1.25 * eps,
        )
        assert float((x_adv - x).abs().max()) <= eps + 1e-6
        assert float(x_adv.min()) >= 0 and float(x_adv.max()) <= 1


def test_norms_are_measured():
    d = torch.zeros(2, 1, 2, 2)
    d[0, 0, 0, 0], d[0, 0, 1, 1] = 0.3, -0.4
    d[1, 0, 0, 1] = 0.2
    assert torch.allclose(attacks.flat_norm(d, "linf"), torch.tensor([0.4, 0.2]))
    assert torch.allclose(attacks.flat_norm(d, "l2"), torch.tensor([0.5, 0.2]))


@pytest.mark.parametrize(
    "norm,grid",
    [("linf", [0.0, 0.05, 0.1, 0.2, 0.3]), ("l2", [0.0, 0.5, 1.0, 2.0, 3.0])],
)
def test_accuracy_non_increasing_over_eps(trained_mlp, mnist_test, norm, grid):
    x, y = mnist_test
    accs = train.accuracy_vs_eps(
        trained_mlp,
        x,
        y,
        grid,
        {"name": "pgd", "norm": norm, "steps": 10},
        progress=False,
    )
    assert accs[0] > 0.9
    assert all(b <= a + 0.01 for a, b in zip(accs, accs[1:])), accs


def test_large_eps_drives_standard_model_to_zero(trained_mlp, mnist_test):
    x, y = mnist_test
    assert (
        train.evaluate(trained_mlp, x, y, {"name": "pgd", "eps": 0.3, "steps": 20})
        <= 0.01
    )
    assert (
        train.evaluate(
            trained_mlp, x, y, {"name": "pgd", "eps": 4.0, "norm": "l2", "steps": 20}
        )
        <= 0.01
    )


def test_pgd_at_least_as_strong_as_fgsm(trained_mlp, mnist_test):
    x, y = mnist_test
    for eps in (0.05, 0.1):
        a_fgsm = train.evaluate(trained_mlp, x, y, {"name": "fgsm", "eps": eps})
        a_pgd = train.evaluate(
            trained_mlp, x, y, {"name": "pgd", "eps": eps, "steps": 20}
        )
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
    torch.manual_seed(0)
    a = atk(trained_mlp, x[:4], y[:4])
    torch.manual_seed(0)
    assert torch.equal(a, pgd(trained_mlp, x[:4], y[:4], 0.1, steps=2))
    with pytest.raises(ValueError, match="attack name must be one of"):
        attacks.make("cw")


@pytest.mark.parametrize("fn", [fgsm, pgd])
def test_bad_inputs(trained_mlp, mnist_test, fn):
    x, y = mnist_test
    x, y = x[:4], y[:4]
    with pytest.raises(
        ValueError, match=r"x must be a batch of images of shape \(N, C, H, W\)"
    ):
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


def test_attacks_run_on_the_model_device_and_return_on_x_device(
    trained_mlp, mnist_test, monkeypatch
):
    """The wrapper moves x, y to the model's device and the result back (checked with a spy)."""
    from robustcore.attacks import base

    seen = []
    real = base.model_device
    monkeypatch.setattr(base, "model_device", lambda m: seen.append(m) or real(m))
    x, y = mnist_test
    out = pgd(trained_mlp, x[:3], y[:3], 0.1, steps=1)
    assert seen == [trained_mlp] and out.device == x.device
    assert pgd.__wrapped__.__name__ == "pgd" and "def pgd(" in __import__(
        "inspect"
    ).getsource(pgd)


# ---- the algorithms against values computed by hand or by an independent implementation --------------


class LinearBinary(nn.Module):
    """Two classes, logits (0, w·x). The cross-entropy of class 0 grows with w·x alone, so its gradient
    points along w everywhere: L∞ PGD ends at x + ε·sign(w), L2 PGD at x + ε·w/‖w‖ (inside [0, 1])."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w, requires_grad=False)

    def forward(self, x):
        s = (x * self.w).flatten(1).sum(1)
        return torch.stack([torch.zeros_like(s), s], 1)


def _linear_problem(n=8, side=6, lo=0.0, hi=1.0):
    g = torch.Generator().manual_seed(0)
    w = torch.randn(1, 1, side, side, generator=g)
    x = lo + (hi - lo) * torch.rand(n, 1, side, side, generator=g)
    return LinearBinary(w).eval(), w, x, torch.zeros(n, dtype=torch.long)


@pytest.mark.parametrize("random_start", [False, True])
def test_linf_pgd_ends_at_the_corner_of_the_box_that_w_points_to(random_start):
    model, w, x, y = _linear_problem()
    eps = 0.1
    up, down = (
        (x + eps).clamp(max=1.0),
        (x - eps).clamp(min=0.0),
    )  # the box, clipped to [0, 1]
    # 10 steps of 0.05 cross the box (width 2ε) from anywhere in it
    adv = pgd(model, x, y, eps, steps=10, alpha=0.05, random_start=random_start)
    assert torch.equal(adv, torch.where(w > 0, up, down))
    # targeted toward class 1: also up w; toward class 0 (away from 1): down w
    assert torch.equal(
        pgd(model, x, y + 1, eps, steps=10, alpha=0.05, targeted=True),
        torch.where(w > 0, up, down),
    )
    assert torch.equal(
        pgd(model, x, y, eps, steps=10, alpha=0.05, targeted=True),
        torch.where(w > 0, down, up),
    )


def test_l2_pgd_ends_at_eps_along_w():
    model, w, x, y = _linear_problem(
        lo=0.4, hi=0.6
    )  # far enough from 0 and 1 that nothing is clipped
    eps = 0.5
    adv = pgd(model, x, y, eps, norm="l2", steps=20, alpha=0.1, random_start=False)
    assert torch.allclose(adv, x + eps * w / w.norm(), atol=1e-6)
    assert torch.allclose(
        attacks.flat_norm(adv - x, "l2"), torch.full((len(x),), eps), atol=1e-6
    )


@pytest.mark.parametrize("norm,eps,alpha", [("linf", 0.1, 0.01), ("l2", 1.5, 0.1)])
@pytest.mark.parametrize("targeted", [False, True])
def test_pgd_agrees_with_torchattacks(
    trained_mlp, mnist_test, norm, eps, alpha, targeted
):
    """Same steps, same projection, same random start (drawn from the same seed) as torchattacks."""
    torchattacks = pytest.importorskip("torchattacks")
    x, y = mnist_test
    x, y = x[:64], y[:64]
    target = (y + 1) % 10 if targeted else y
    for random_start in (False, True):
        if norm == "linf":
            ref = torchattacks.PGD(
                trained_mlp, eps=eps, alpha=alpha, steps=10, random_start=random_start
            )
        else:  # its guard against a zero gradient, 1e-10 added to the norm, is of the order of the norms here
            ref = torchattacks.PGDL2(
                trained_mlp,
                eps=eps,
                alpha=alpha,
                steps=10,
                random_start=random_start,
                eps_for_division=1e-30,
            )
        if targeted:  # the labels passed are the targets (3.3's way of saying so)
            ref.set_mode_targeted_by_function(lambda images, labels: labels)
        torch.manual_seed(1)
        want = ref(x, target)
        torch.manual_seed(1)
        got = pgd(
            trained_mlp,
            x,
            target,
            eps,
            norm=norm,
            steps=10,
            alpha=alpha,
            random_start=random_start,
            targeted=targeted,
        )
        assert (got - want).abs().max() <= 1e-5, (norm, random_start)


def test_fgsm_agrees_with_torchattacks(trained_mlp, mnist_test):
    torchattacks = pytest.importorskip("torchattacks")
    x, y = mnist_test
    for eps in (0.05, 0.2):
        assert (
            fgsm(trained_mlp, x[:64], y[:64], eps)
            - torchattacks.FGSM(trained_mlp, eps=eps)(x[:64], y[:64])
        ).abs().max() <= 1e-6


@pytest.mark.parametrize(
    "norm,eps,alpha,targeted",
    [("linf", 0.1, 0.02, False), ("l2", 2.0, 0.4, False), ("linf", 0.15, 0.03, True)],
)
def test_restarts_keep_each_examples_best_restart(
    trained_mlp, mnist_test, norm, eps, alpha, targeted
):
    """restarts=4 returns, per example, the restart that succeeded (else the one with the highest
    loss; toward the target: the lowest), the first one on ties. The four restarts are the four
    single runs drawn from the same random stream; one short step each, so that they differ."""
    x, y = mnist_test
    y = (y + 1) % 10 if targeted else y
    settings = {"norm": norm, "steps": 1, "alpha": alpha, "targeted": targeted}
    torch.manual_seed(3)
    runs = torch.stack(
        [pgd(trained_mlp, x, y, eps, **settings) for _ in range(4)]
    )  # (R, N, C, H, W)
    torch.manual_seed(3)
    got = pgd(trained_mlp, x, y, eps, restarts=4, **settings)
    with torch.no_grad():
        logits = torch.stack([trained_mlp(r) for r in runs])  # (R, N, classes)
    hit = logits.argmax(2) == y if targeted else logits.argmax(2) != y
    ce = torch.stack(
        [torch.nn.functional.cross_entropy(lg, y, reduction="none") for lg in logits]
    )
    loss = -ce if targeted else ce
    # success first: among the restarts that succeeded if any did, the highest loss (the first on ties)
    best = loss.masked_fill(hit != hit.any(0), -float("inf")).argmax(0)
    assert torch.equal(got, runs[best, torch.arange(len(x))])
    # the case is informative: successes and failures mix, and the best is neither always the last
    # restart nor the lowest-loss one
    assert (hit.any(0) & ~hit.all(0)).any()
    worst = loss.masked_fill(hit != hit.any(0), float("inf")).argmin(0)
    assert (best != 3).any() and (best != worst).any()


def test_l2_projection_keeps_points_inside_and_rescales_points_outside():
    x = torch.full((3, 1, 4, 4), 0.5)
    u = (
        torch.ones(3, 1, 4, 4) / 4
    )  # a unit direction (16 pixels of 1/4), small enough never to leave [0, 1]
    u[:, :, 0] *= -1
    r = torch.tensor([0.1, 0.4, 1.0]).view(
        -1, 1, 1, 1
    )  # inside, on, outside a ball of radius 0.4
    out = attacks.Ball(x, 0.4, "l2").project(x + r * u)
    assert torch.allclose(
        out[:2], (x + r * u)[:2], atol=1e-7
    )  # inside or on the sphere: unchanged
    assert torch.allclose(
        out[2], x[2] + 0.4 * u[2], atol=1e-7
    )  # outside: back onto the sphere, same direction
    far = x + 3 * u  # beyond [0, 1] too: the rescaled point is clipped
    assert torch.allclose(
        attacks.Ball(x, 2.0, "l2").project(far), (x + 2 * u).clamp(0, 1), atol=1e-7
    )


def test_linf_projection_is_the_clip_to_the_box():
    x = torch.tensor([0.0, 0.05, 0.5, 0.95, 1.0]).view(1, 1, 1, 5)
    ball = attacks.Ball(x, 0.1, "linf")
    pts = torch.tensor([-0.3, 0.0, 0.45, 1.2, 0.2]).view(1, 1, 1, 5)
    assert torch.allclose(
        ball.project(pts.clone()),
        torch.tensor([0.0, 0.0, 0.45, 1.0, 0.9]).view(1, 1, 1, 5),
    )


def test_linf_random_start_is_uniform_on_minus_eps_to_eps():
    x, eps = torch.full((64, 1, 28, 28), 0.5), 0.3
    torch.manual_seed(0)
    d = attacks.random_delta(x, eps, "linf")
    assert -eps <= float(d.min()) < -0.99 * eps and 0.99 * eps < float(d.max()) <= eps
    assert (
        abs(float((d < 0).float().mean()) - 0.5) < 0.01
        and abs(float(d.mean())) < 0.01 * eps
    )
    assert abs(float(d.var()) - eps**2 / 3) < 0.02 * eps**2  # the variance of U(−ε, ε)
    torch.manual_seed(0)
    assert torch.equal(
        attacks.Ball(x, eps, "linf").random_point(), x + d
    )  # PGD's start: x + δ, in the box
    # with a generator: u uniform on [0, 1), start x + (2u − 1)·ε, clipped to [0, 1]
    x = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    u = torch.rand(x.shape, generator=torch.Generator().manual_seed(5))
    start = attacks.Ball(x, eps, "linf").random_point(torch.Generator().manual_seed(5))
    assert torch.equal(start, (x + (2 * u - 1) * eps).clamp(0, 1))


def test_l2_random_start_is_inside_the_ball_with_a_uniform_radius():
    x, eps = torch.full((2000, 1, 4, 4), 0.5), 0.4
    for g in (None, torch.Generator().manual_seed(0)):
        torch.manual_seed(0)
        radius = attacks.flat_norm(attacks.random_delta(x, eps, "l2", g), "l2") / eps
        assert (
            float(radius.max()) <= 1 + 1e-6 and abs(float(radius.mean()) - 0.5) < 0.03
        )
        assert abs(float((radius < 0.25).float().mean()) - 0.25) < 0.03


class LinearEncoder(nn.Module):
    """An "autoencoder" whose code is the one number w·x: the latent distance (w·(x' − x))² is
    largest at the two corners x ± ε·sign(w) of the box."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = w

    def encode(self, x):
        return (x * self.w).flatten(1).sum(1, keepdim=True)

    def decode(self, z):
        return z.view(-1, 1, 1, 1).expand(-1, *self.w.shape[1:])


def test_latent_attack_ends_at_a_farthest_corner_of_the_box():
    g = torch.Generator().manual_seed(0)
    w, x, eps = (
        torch.randn(1, 1, 6, 6, generator=g),
        0.3 + 0.4 * torch.rand(8, 1, 6, 6, generator=g),
        0.1,
    )
    enc = LinearEncoder(w)
    adv = novelty.latent_attack(
        enc, x, eps, steps=10, alpha=0.05, generator=torch.Generator().manual_seed(1)
    )
    side = torch.sign(((adv - x) * w).flatten(1).sum(1)).view(
        -1, 1, 1, 1
    )  # which of the two corners
    assert torch.allclose(adv, x + side * eps * torch.sign(w), atol=1e-6)
    assert torch.allclose(
        novelty.latent_distance(enc, x, adv),
        (eps * w.abs().sum()) ** 2 * torch.ones(8),
        rtol=1e-5,
    )


def test_latent_attack_is_linf_pgd_on_the_latent_distance(mnist_test):
    """The same numbers as an independent, hand-written L∞ PGD ascent of MSE(E(x), E(x'))."""
    torch.manual_seed(0)
    ae = novelty.AutoEncoder().eval()
    x, eps, alpha, steps = mnist_test[0][:16], 0.2, 0.05, 6
    with torch.no_grad():
        z = ae.encode(x)
    u = torch.rand(x.shape, generator=torch.Generator().manual_seed(3))
    want = (x + (2 * u - 1) * eps).clamp(0, 1)
    for _ in range(steps):
        want.requires_grad_(True)
        (grad,) = torch.autograd.grad((ae.encode(want) - z).pow(2).mean(1).sum(), want)
        want = torch.min(
            torch.max(want.detach() + alpha * grad.sign(), x - eps), x + eps
        ).clamp(0, 1)
    got = novelty.latent_attack(
        ae, x, eps, steps=steps, alpha=alpha, generator=torch.Generator().manual_seed(3)
    )
    assert torch.equal(got, want)
    assert not torch.equal(got, (x + (2 * u - 1) * eps).clamp(0, 1))  # it moved


# ---- checked once, then unchecked per batch -------------------------------------------------------------


def test_check_once_then_unchecked_equals_the_checked_attack(trained_mlp, mnist_test):
    x, y = mnist_test
    x, y = x[:20], y[:20].int()
    y64, settings = attacks.check("pgd", trained_mlp, x, y, eps=1, norm="l2", steps=3)
    assert y64.dtype == torch.int64 and torch.equal(y64, y.long())
    assert settings == {
        "eps": 1.0,
        "norm": "l2",
        "steps": 3,
        "alpha": None,
        "random_start": True,
        "restarts": 1,
        "targeted": False,
    }
    torch.manual_seed(0)
    a = attacks.pgd.unchecked(trained_mlp, x, y64, **settings)
    torch.manual_seed(0)
    assert torch.equal(a, pgd(trained_mlp, x, y, 1, norm="l2", steps=3))


def test_loops_over_batches_check_the_images_once(trained_mlp, mnist_test, monkeypatch):
    from robustcore import checks

    calls = []
    real = checks.images
    monkeypatch.setattr(
        checks, "images", lambda x, *a, **k: calls.append(len(x)) or real(x, *a, **k)
    )
    x, y = mnist_test
    x, y = x[:100], y[:100]
    train.evaluate(
        trained_mlp, x, y, {"name": "pgd", "eps": 0.1, "steps": 1}, batch_size=20
    )
    assert calls == [100]  # the whole set once, none of its five batches
    calls.clear()
    torch.manual_seed(0)
    m = __import__("robustcore").models.build("mlp")
    train.train(
        m, x, y, batch_size=25, attack={"name": "fgsm", "eps": 0.1}, progress=False
    )
    assert calls == [100]
    calls.clear()
    novelty.fit(
        novelty.AutoEncoder(),
        x[:64],
        method="arae",
        epochs=1,
        batch_size=16,
        steps=1,
        progress_bar=False,
    )
    assert calls == [64]


# ---- misuse: bad arguments are refused and nothing is written

MISUSE = (
    cases(
        "attacks",
        {
            "make:unknown": (
                lambda: attacks.make("cw", eps=0.3),
                ValueError,
                "attack name must be one of",
            ),
            "make:unknown-setting": (
                lambda: attacks.make("pgd", eps=0.3, stpes=10),
                TypeError,
                "stpes",
            ),
            "pgd:eps-negative": (
                lambda: attacks.pgd(M, X, Y, -0.1),
                ValueError,
                "eps must be in",
            ),
            "pgd:eps-nan": (
                lambda: attacks.pgd(M, X, Y, NAN),
                ValueError,
                "eps must be in",
            ),
            "pgd:eps-inf": (
                lambda: attacks.pgd(M, X, Y, math.inf),
                ValueError,
                "eps must be in",
            ),
            "pgd:eps-absurd-linf": (
                lambda: attacks.pgd(M, X, Y, 2.0),
                ValueError,
                r"eps must be in \[0, 1\]",
            ),
            "pgd:eps-absurd-l2": (
                lambda: attacks.pgd(M, X, Y, 1e6, norm="l2"),
                ValueError,
                "eps must be in",
            ),
            "pgd:eps-str": (
                lambda: attacks.pgd(M, X, Y, "0.3"),
                TypeError,
                "eps must be a real number",
            ),
            "pgd:eps-tensor": (
                lambda: attacks.pgd(M, X, Y, torch.tensor(0.3)),
                TypeError,
                "eps must be a real number",
            ),
            "pgd:norm-unknown": (
                lambda: attacks.pgd(M, X, Y, 0.1, norm="l1"),
                ValueError,
                "norm must be one of",
            ),
            "pgd:steps-zero": (
                lambda: attacks.pgd(M, X, Y, 0.1, steps=0),
                ValueError,
                "steps must be >= 1",
            ),
            "pgd:steps-absurd": (
                lambda: attacks.pgd(M, X, Y, 0.1, steps=10**9),
                ValueError,
                "steps must be <= ",
            ),
            "pgd:steps-float": (
                lambda: attacks.pgd(M, X, Y, 0.1, steps=10.0),
                TypeError,
                "steps must be an int",
            ),
            "pgd:restarts-zero": (
                lambda: attacks.pgd(M, X, Y, 0.1, restarts=0),
                ValueError,
                "restarts must be >= 1",
            ),
            "pgd:restarts-absurd": (
                lambda: attacks.pgd(M, X, Y, 0.1, restarts=10**7),
                ValueError,
                "restarts must be <=",
            ),
            "pgd:alpha-negative": (
                lambda: attacks.pgd(M, X, Y, 0.1, alpha=-0.01),
                ValueError,
                "alpha must be in",
            ),
            "pgd:alpha-nan": (
                lambda: attacks.pgd(M, X, Y, 0.1, alpha=NAN),
                ValueError,
                "alpha must be in",
            ),
            "fgsm:eps-negative": (
                lambda: attacks.fgsm(M, X, Y, -1.0),
                ValueError,
                "eps must be in",
            ),
            "fgsm:alpha-nan": (
                lambda: attacks.fgsm(M, X, Y, 0.1, alpha=NAN),
                ValueError,
                "alpha must be in",
            ),
            "fgsm:setting-unknown": (
                lambda: attacks.fgsm(M, X, Y, 0.1, steps=3),
                TypeError,
                "steps",
            ),
            "check:unknown": (
                lambda: attacks.check("cw", M, X, Y, eps=0.3),
                ValueError,
                "attack name must be one of",
            ),
            "check:unknown-setting": (
                lambda: attacks.check("pgd", M, X, Y, eps=0.3, stpes=10),
                TypeError,
                "stpes",
            ),
            "check:eps-absurd": (
                lambda: attacks.check("pgd", M, X, Y, eps=2.0),
                ValueError,
                r"eps must be in \[0, 1\]",
            ),
            "check:no-eps": (lambda: attacks.check("pgd", M, X, Y), TypeError, "eps"),
            "check:steps-zero": (
                lambda: attacks.check("pgd", M, X, Y, eps=0.1, steps=0),
                ValueError,
                "steps must be >= 1",
            ),
            "check:fgsm-steps": (
                lambda: attacks.check("fgsm", M, X, Y, eps=0.1, steps=3),
                TypeError,
                "steps",
            ),
            "eval_mode:model-str": (
                lambda: attacks.eval_mode("mnist-cnn-std").__enter__(),
                TypeError,
                "model must be",
            ),
        },
    )
    + bad_images(
        {
            "attacks.fgsm": lambda x: attacks.fgsm(M, x, Y[: len(x)], 0.1),
            "attacks.pgd": lambda x: attacks.pgd(M, x, Y[: len(x)], 0.1, steps=1),
            "attacks.check": lambda x: attacks.check("pgd", M, x, Y[: len(x)], eps=0.1),
        }
    )
    + bad_labels(
        {
            "attacks.pgd": lambda y: attacks.pgd(M, X, y, 0.1, steps=1),
            "attacks.fgsm": lambda y: attacks.fgsm(M, X, y, 0.1),
            "attacks.check": lambda y: attacks.check("fgsm", M, X, y, eps=0.1),
        }
    )
    + not_a_model(
        {
            "attacks.pgd": lambda m: attacks.pgd(m, X, Y, 0.1),
            "attacks.fgsm": lambda m: attacks.fgsm(m, X, Y, 0.1),
            "attacks.check": lambda m: attacks.check("pgd", m, X, Y, eps=0.1),
        }
    )
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)
