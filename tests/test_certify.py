"""Certificates are sound: bounds hold at every point of the ball, a certified digit is
never broken (by PGD or by the exact MILP), every counterexample is a real one, and
bound ≤ exact ≤ attack, digit by digit."""

import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

from robustcore import attacks, certify, models, train
from robustcore.certify import bounds, network

METHODS = certify.METHODS


def _box(x, eps):
    return (x - eps).clamp(min=0), (x + eps).clamp(max=1)


def _sample(x, eps, n, gen):
    """n random points of each ball, half of them corners of the box (where a piecewise
    linear network's extremes over a box tend to lie): (n, N, C, H, W)."""
    lo, hi = _box(x, eps)
    u = torch.rand((n, *x.shape), generator=gen)
    u[: n // 2] = u[: n // 2].round()
    return lo + (hi - lo) * u


def _empirical_margins(model, pts, y):
    """The smallest margin z_y − z_j seen at the points: (N, K)."""
    n = pts.shape[0]
    with torch.no_grad():
        z = model(pts.flatten(0, 1)).view(n, len(y), -1)
    zy = z.gather(2, y.view(1, -1, 1).expand(n, -1, 1))
    return (zy - z).min(0).values


@pytest.fixture(scope="module")
def digits():
    """scikit-learn's 8×8 digits in [0, 1] (N, 1, 8, 8) and a small MLP trained on them."""
    d = load_digits()
    x = torch.tensor(d.images / 16.0, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(d.target)
    torch.manual_seed(0)
    mlp = models.MLP(image_size=8, width=24)
    train.train(
        mlp, x[:1500], y[:1500], epochs=15, batch_size=64, lr=3e-3, progress=False
    )
    return mlp.eval(), x[1500:1560], y[1500:1560]


def _cnn():
    torch.manual_seed(1)
    bn = nn.BatchNorm2d(4)
    bn.running_mean.uniform_(-0.2, 0.2)
    bn.running_var.uniform_(0.5, 2.0)
    bn.weight.data.uniform_(-1.5, 1.5)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1),
        bn,
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16, 12),
        nn.ReLU(),
        nn.Linear(12, 3),
    ).eval()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("eps", [0.02, 0.1, 0.3])
def test_margin_bounds_hold_at_thousands_of_points_of_the_ball(digits, method, eps):
    mlp, x, y = digits
    gen = torch.Generator().manual_seed(0)
    for model in (mlp, _cnn()):
        yy = model(x).argmax(1)
        bound = certify.margins(model, x, yy, eps, method=method)
        seen = _empirical_margins(model, _sample(x, eps, 2000, gen), yy)
        assert (bound <= seen + 1e-5).all()
        assert (bound.gather(1, yy.unsqueeze(1)) == 0).all()


def test_every_neuron_bound_holds_and_crown_is_inside_ibp(digits):
    mlp, x, _ = digits
    eps = 0.1
    for model in (mlp, _cnn()):
        steps = network.chain(model, tuple(x.shape[1:]))
        lo, hi = _box(x, eps)
        ibp = bounds.relu_bounds(steps, lo, hi, "ibp")
        crown = bounds.relu_bounds(steps, lo, hi, "crown")
        pts = _sample(x, eps, 500, torch.Generator().manual_seed(1)).flatten(0, 1)
        with torch.no_grad():
            for i, step in enumerate(steps):
                if isinstance(step, network.ReLU):
                    v = pts.view(500, len(x), *step.shape)
                    assert (crown[i][0] >= ibp[i][0] - 1e-6).all()
                    assert (crown[i][1] <= ibp[i][1] + 1e-6).all()
                    assert (v >= crown[i][0] - 1e-5).all() and (
                        v <= crown[i][1] + 1e-5
                    ).all()
                    pts = pts.clamp(min=0)
                else:
                    pts = step(pts)


@pytest.mark.parametrize("eps", [0.02, 0.1, 0.3])
def test_walking_back_from_unstable_neurons_only_gives_the_same_bounds(digits, eps):
    mlp, x, _ = digits
    for model in (mlp, _cnn()):
        steps = network.chain(model, tuple(x.shape[1:]))
        lo, hi = _box(x, eps)
        every = bounds.relu_bounds(steps, lo, hi, "crown")
        some = bounds.relu_bounds(steps, lo, hi, "crown", unstable_only=True)
        ibp = bounds.relu_bounds(steps, lo, hi, "ibp")
        for i, (l, u) in every.items():
            il, iu = ibp[i]
            unstable = (il < 0) & (iu > 0)
            assert torch.allclose(some[i][0][unstable], l[unstable], atol=1e-5)
            assert torch.allclose(some[i][1][unstable], u[unstable], atol=1e-5)
            assert torch.equal(some[i][0][~unstable], il[~unstable])
            # the same stable and unstable neurons, so the same relaxation
            assert torch.equal(l >= 0, some[i][0] >= 0)
            assert torch.equal(u <= 0, some[i][1] <= 0)
        spec = bounds.margin_spec(model(x).argmax(1), 10 if model is mlp else 3)
        full = bounds.lower_bound(steps, lo, hi, spec, "crown", unstable_only=False)
        fast = bounds.lower_bound(steps, lo, hi, spec, "crown")
        assert torch.allclose(fast, full, atol=1e-4)


def test_at_eps_zero_every_bound_is_the_margin_itself(digits):
    mlp, x, y = digits
    with torch.no_grad():
        z = mlp(x)
    exact = z.gather(1, y.unsqueeze(1)) - z
    for method in METHODS:
        assert torch.allclose(
            certify.margins(mlp, x, y, 0.0, method=method), exact, atol=1e-4
        )


def _toy():
    """A 2-D input (the 'image' (1, 1, 2)), two hidden layers, two classes: trained to
    tell the inside of a disc from the outside."""
    torch.manual_seed(3)
    net = nn.Sequential(
        nn.Flatten(),
        nn.Linear(2, 12),
        nn.ReLU(),
        nn.Linear(12, 12),
        nn.ReLU(),
        nn.Linear(12, 2),
    )
    x = torch.rand(2000, 1, 1, 2)
    y = ((x.flatten(1) - 0.5).pow(2).sum(1) < 0.1).long()
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(300):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    return net.eval()


def test_on_a_2d_toy_network_the_certificates_match_a_dense_grid():
    net = _toy()
    x = torch.rand((40, 1, 1, 2), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        y = net(x).argmax(1)
    eps, side = 0.08, 201
    t = torch.linspace(0, 1, side)
    exact_grid = []
    for xi, yi in zip(x, y):
        lo, hi = _box(xi.flatten(), eps)
        g = torch.stack(
            torch.meshgrid(
                lo[0] + (hi[0] - lo[0]) * t, lo[1] + (hi[1] - lo[1]) * t, indexing="ij"
            ),
            -1,
        ).reshape(-1, 1, 1, 2)
        with torch.no_grad():
            z = net(g)
        exact_grid.append(float((z[:, yi] - z[:, 1 - yi]).min()))
    exact_grid = torch.tensor(exact_grid)
    verdicts = certify.verify(net, x, y, eps, time_limit=30, exact_margin=True)
    for method in METHODS:
        ok = certify.certified(net, x, y, eps, method=method)
        assert (exact_grid[ok] > 0).all(), (
            method
        )  # never certifies a region the grid breaks
    for v, g in zip(verdicts, exact_grid):
        assert v.status in ("robust", "counterexample")
        assert (v.status == "robust") == (g > 0) or abs(g) < 1e-3
        if v.seconds > 0 or v.status == "counterexample":  # the solver ran: exact
            assert v.margin <= g + 1e-5 and g - v.margin < 2e-2
    assert any(v.status == "counterexample" for v in verdicts)
    assert any(v.status == "robust" for v in verdicts)


def test_relaxation_below_milp_below_attack_digit_by_digit(digits):
    mlp, x, y = digits
    eps = 0.06
    keep = mlp(x).argmax(1) == y
    x, y = x[keep][:30], y[keep][:30]
    verdicts = certify.verify(mlp, x, y, eps, time_limit=20, exact_margin=True)
    fast = certify.verify(mlp, x, y, eps, time_limit=20)  # feasibility questions
    assert [v.status for v in fast] == [v.status for v in verdicts]
    crown = certify.margins(mlp, x, y, eps, method="crown")
    crown = crown.scatter(1, y.unsqueeze(1), torch.inf).min(1).values
    # the attack's worst margin: PGD with restarts
    x_adv = attacks.pgd(mlp, x, y, eps, steps=100, alpha=eps / 10, restarts=3)
    with torch.no_grad():
        z = mlp(x_adv)
    attack_margin = (z.gather(1, y.unsqueeze(1)) - z).scatter(
        1, y.unsqueeze(1), torch.inf
    )
    attack_margin = attack_margin.min(1).values
    statuses = {v.status for v in verdicts}
    assert statuses <= {"robust", "counterexample"}, statuses
    assert len(statuses) == 2  # the set is neither all robust nor all broken
    certified = certify.certified(mlp, x, y, eps, method="crown")
    for i, v in enumerate(verdicts):
        if certified[i]:
            assert v.status == "robust" and attack_margin[i] > 0
        if v.status == "robust":
            assert attack_margin[i] > 0  # no attack breaks a verified digit
        else:
            ce = v.counterexample
            assert (
                (ce - x[i]).abs().max() <= eps + 1e-6
                and ce.min() >= 0
                and ce.max() <= 1
            )
            assert int(mlp(ce.unsqueeze(0)).argmax(1)) != int(y[i])
        if v.seconds > 0:  # solved exactly: bound ≤ exact ≤ attack
            assert crown[i] <= v.margin + 1e-4
            assert v.margin <= attack_margin[i] + 1e-4


def test_ibp_loss_is_cross_entropy_at_kappa_one_and_trains(digits):
    mlp, x, y = digits
    ce = nn.functional.cross_entropy(mlp(x), y)
    assert torch.allclose(certify.ibp_loss(mlp, x, y, 0.1, kappa=1.0), ce)
    worst = certify.ibp_loss(mlp, x, y, 0.1, kappa=0.0)
    assert worst > ce  # the worst case over the ball costs more than the clean digit
    model = models.MLP(image_size=8, width=24)
    model.load_state_dict(mlp.state_dict())
    loss = certify.ibp_loss(model, x, y, 0.1, kappa=0.5)
    loss.backward()
    assert all(
        p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters()
    )


def test_certified_training_certifies_what_standard_training_cannot():
    d = load_digits()
    x = torch.tensor(d.images / 16.0, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(d.target)
    eps = 0.05
    out = {}
    for kind in ("standard", "ibp"):
        torch.manual_seed(0)
        m = models.MLP(image_size=8, width=24)
        ibp = {"eps": eps, "kappa": 0.5} if kind == "ibp" else None
        train.train(
            m,
            x[:1500],
            y[:1500],
            epochs=15,
            batch_size=64,
            lr=3e-3,
            ibp=ibp,
            eps_warmup_epochs=5 if ibp else 0.0,
            progress=False,
        )
        out[kind] = float(
            certify.certified(m, x[1500:], y[1500:], eps, method="ibp").float().mean()
        )
    assert out["ibp"] > out["standard"] + 0.3, out


def test_bad_input_names_the_argument(digits):
    mlp, x, y = digits
    with pytest.raises(ValueError, match="method"):
        certify.margins(mlp, x, y, 0.1, method="lp")
    with pytest.raises(ValueError, match="eps"):
        certify.certified(mlp, x, y, 1.5)
    with pytest.raises(ValueError, match="y"):
        certify.margins(mlp, x, y + 10, 0.1)
    with pytest.raises(TypeError, match="exact_margin"):
        certify.verify(mlp, x[:1], y[:1], 0.1, exact_margin=1)
    with pytest.raises(ValueError, match="time_limit"):
        certify.verify(mlp, x[:1], y[:1], 0.1, time_limit=0)
    with pytest.raises(TypeError, match="chain"):
        certify.margins(models.build("resnet", image_size=8), x, y % 10, 0.1)
    with pytest.raises(ValueError, match="not both"):
        train.train(
            mlp,
            x,
            y,
            attack={"name": "fgsm", "eps": 0.1},
            ibp={"eps": 0.1},
            progress=False,
        )


@pytest.mark.parametrize(
    "conv",
    [
        nn.Conv2d(1, 4, 4, stride=2, padding=1),  # the SmallCNN's
        nn.Conv2d(2, 4, 3, stride=2, padding=0),  # 9 → 4: an output padding of 0
        nn.Conv2d(2, 4, 3, stride=3, padding=1, dilation=2),  # ... and of 2
        nn.Conv2d(4, 4, 3, padding=1, groups=2),
        nn.Conv2d(2, 4, 3, padding="same"),  # the autograd path
    ],
    ids=["small-cnn", "stride-2", "dilated", "groups", "same"],
)
def test_a_forms_pull_back_through_a_conv_is_its_vector_jacobian_product(conv):
    """``Λ ↦ Λ L`` by the transposed convolution equals autograd's product, on input
    sizes that leave rows over (the transposed map needs an output padding)."""
    torch.manual_seed(0)
    in_shape = (conv.in_channels, 9, 9)
    step = network.Affine(
        conv, in_shape, tuple(conv(torch.zeros(1, *in_shape)).shape[1:])
    )
    lam = torch.randn(2, 3, *step.out_shape)
    z = torch.zeros(6, *in_shape, requires_grad=True)
    (want,) = torch.autograd.grad(conv(z), z, lam.reshape(6, *step.out_shape))
    got = step.pull_back(lam)
    assert got.shape == (2, 3, *in_shape)
    torch.testing.assert_close(got, want.reshape(2, 3, *in_shape))


def test_named_verification_is_resumable_and_reads_back_what_it_computed(
    digits, tmp_path, monkeypatch
):
    """With ``name``, MILP verdicts and certificates are kept chunk by chunk: the same
    verdicts (status, margin, counterexample, seconds) read back without solving again."""
    from robustcore.certify import milp

    mlp, x, y = digits
    x, y, eps = x[:12], y[:12], 0.08
    monkeypatch.setenv("ROBUSTCORE_PROGRESS", str(tmp_path))
    plain = certify.verify(mlp, x, y, eps, time_limit=20)
    kept = certify.verify(mlp, x, y, eps, time_limit=20, name="milp-mlp", chunk=5)
    assert [v.status for v in kept] == [v.status for v in plain]
    assert {"robust", "counterexample"} <= {v.status for v in kept}
    assert len(list((tmp_path / "milp-mlp").glob("chunk-*.pt.xz"))) == 3
    assert [v.margin for v in kept] == pytest.approx([v.margin for v in plain])

    def no_solver(*args, **kwargs):
        raise AssertionError("the MILP ran again")

    monkeypatch.setattr(milp, "verify_one", no_solver)
    monkeypatch.setattr(certify, "verify_one", no_solver)
    again = certify.verify(mlp, x, y, eps, time_limit=20, name="milp-mlp", chunk=5)
    for a, b in zip(again, kept):
        assert (a.status, a.margin, a.seconds) == (b.status, b.margin, b.seconds)
        assert (a.counterexample is None) == (b.counterexample is None)
        if a.counterexample is not None:
            assert torch.equal(a.counterexample, b.counterexample)
    named = certify.certified(mlp, x, y, eps, name="crown-mlp", chunk=5)
    assert torch.equal(named, certify.certified(mlp, x, y, eps))
