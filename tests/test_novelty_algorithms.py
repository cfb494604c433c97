"""The novelty objectives and training loop, checked against direct re-implementations on a tiny
autoencoder: ARAE's loss, the DAE's loss, fit's ε warm-up, bookkeeping and seeding, and scores."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch

from robustcore.novelty import model as M

SHAPE = (1, 4, 4)


def tiny_ae(seed: int = 0) -> M.AutoEncoder:
    """A 16 → 8 → 3 → 8 → 16 autoencoder with seeded weights, scaled up so that its
    reconstructions depend clearly on the input."""
    torch.manual_seed(seed)
    ae = M.AutoEncoder(SHAPE, hidden=(8,), latent=3)
    with torch.no_grad():
        for p in ae.parameters():
            p.mul_(4)
    return ae


def val(t: torch.Tensor) -> float:
    return float(t.detach())


def differ(a: float, b: float) -> bool:
    """``a`` and ``b`` differ by far more than the tolerance of the checks (rel 1e-6)."""
    return abs(a - b) > 1e-3 * abs(a)


def images(n: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, *SHAPE, generator=torch.Generator().manual_seed(seed))


def mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).pow(2).mean()


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(
        torch.equal(p, q)
        for p, q in zip(a.state_dict().values(), b.state_dict().values())
    )


def close_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(
        torch.allclose(p, q, atol=1e-6)
        for p, q in zip(a.state_dict().values(), b.state_dict().values())
    )


# ---- ARAE's loss ------------------------------------------------------------------------------


@pytest.fixture
def pair() -> tuple[M.AutoEncoder, torch.Tensor, torch.Tensor]:
    """A tiny autoencoder, clean images and far-off "adversarial" ones (clean and adversarial
    reconstructions, and their latent codes, differ clearly)."""
    ae = tiny_ae()
    x = images(6)
    return ae, x, 1 - x


def test_arae_loss_decodes_the_adversarial_code(pair):
    ae, x, x_adv = pair
    _, rec, _ = M.arae_loss(ae, x, x_adv, gamma=0.37)
    with torch.no_grad():
        want = mse(ae.decoder(ae.encoder(x_adv)), x)  # D(E(x_adv)) against the clean x
        wrong = (
            mse(ae.decoder(ae.encoder(x)), x),
            mse(ae.decoder(ae.encoder(x_adv)), x_adv),
        )
    assert val(rec) == pytest.approx(val(want), rel=1e-6)
    assert all(differ(val(want), val(w)) for w in wrong)  # the test can tell them apart


def test_arae_loss_weighs_the_latent_term_by_gamma(pair):
    ae, x, x_adv = pair
    total, rec, lat = M.arae_loss(ae, x, x_adv, gamma=0.37)
    with torch.no_grad():
        want_lat = (ae.encoder(x) - ae.encoder(x_adv)).pow(2).mean()
    total, rec, lat = val(total), val(rec), val(lat)
    assert lat == pytest.approx(val(want_lat), rel=1e-6)
    assert total == pytest.approx(rec + 0.37 * lat, rel=1e-6)
    assert differ(total, rec) and differ(
        total, rec + lat
    )  # γ dropped, or taken as 1, would show
    default, _, _ = M.arae_loss(ae, x, x_adv)  # γ = 0.1 by default
    assert val(default) == pytest.approx(rec + 0.1 * lat, rel=1e-6)
    assert val(M.arae_loss(ae, x, x_adv, gamma=0)[0]) == pytest.approx(rec, rel=1e-6)


def test_arae_loss_trains_encoder_and_decoder(pair):
    ae, x, x_adv = pair
    M.arae_loss(ae, x, x_adv, gamma=0.37)[0].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in ae.parameters())


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        ({"gamma": -0.1}, ValueError, r"gamma must be in \[0, inf\]"),
        ({"gamma": "0.1"}, TypeError, "gamma"),
        (
            {"x_adv": torch.rand(5, *SHAPE)},
            ValueError,
            r"x_adv must have the shape of x",
        ),
        (
            {"x_adv": torch.rand(6, 1, 5, 5)},
            ValueError,
            r"x_adv must hold images of shape \(1, 4, 4\)",
        ),
        (
            {"x_adv": torch.full((6, *SHAPE), 2.0)},
            ValueError,
            r"x_adv must have values in \[0, 1\]",
        ),
    ],
)
def test_arae_loss_misuse(pair, kwargs, err, match):
    ae, x, x_adv = pair
    args = {"model": ae, "x": x, "x_adv": x_adv, "gamma": 0.1, **kwargs}
    with pytest.raises(err, match=match):
        M.arae_loss(**args)


# ---- the DAE's loss ---------------------------------------------------------------------------


def test_dae_loss_adds_clipped_noise_and_compares_to_the_clean_input():
    ae, x = tiny_ae(), images(6)
    loss = M.dae_loss(ae, x, 0.5, generator=torch.Generator().manual_seed(7))
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(7))
    x_in = (x + 0.5 * noise).clamp(0, 1)
    with torch.no_grad():
        want = mse(ae(x_in), x)
        unclipped, vs_noisy = mse(ae(x + 0.5 * noise), x), mse(ae(x_in), x_in)
    assert val(loss) == pytest.approx(val(want), rel=1e-6)
    assert all(differ(val(want), val(w)) for w in (unclipped, vs_noisy))


def test_dae_loss_default_noise_and_global_rng():
    ae, x = tiny_ae(), images(6)
    torch.manual_seed(11)
    noise = torch.randn_like(x)
    torch.manual_seed(11)
    loss = M.dae_loss(ae, x)  # σ = DAE_NOISE_STD = 0.2, torch's RNG
    assert M.DAE_NOISE_STD == 0.2
    with torch.no_grad():
        assert val(loss) == pytest.approx(
            val(mse(ae((x + 0.2 * noise).clamp(0, 1)), x)), rel=1e-6
        )


def test_dae_loss_without_noise_is_the_plain_reconstruction_error():
    ae, x = tiny_ae(), images(6)
    g = torch.Generator().manual_seed(3)
    state = g.get_state()
    loss = M.dae_loss(ae, x, 0.0, generator=g)
    with torch.no_grad():
        assert val(loss) == pytest.approx(val(mse(ae(x), x)), rel=1e-6)
    assert torch.equal(g.get_state(), state)  # σ = 0 draws no noise


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        ({"noise_std": -0.1}, ValueError, r"noise_std must be in \[0, 10\]"),
        ({"noise_std": 10.5}, ValueError, r"noise_std must be in \[0, 10\]"),
        (
            {"generator": 3},
            TypeError,
            "generator must be a torch.Generator or None, got int",
        ),
        (
            {"x": torch.rand(2, 1, 5, 5)},
            ValueError,
            r"x must hold images of shape \(1, 4, 4\)",
        ),
        (
            {"model": torch.nn.Linear(2, 2)},
            TypeError,
            "model must be an autoencoder with encode",
        ),
    ],
)
def test_dae_loss_misuse(kwargs, err, match):
    args = {"model": tiny_ae(), "x": images(2), "noise_std": 0.2, **kwargs}
    with pytest.raises(err, match=match):
        M.dae_loss(**args)


def test_dae_loss_accepts_the_largest_noise():
    assert (
        val(
            M.dae_loss(
                tiny_ae(), images(2), 10.0, generator=torch.Generator().manual_seed(0)
            )
        )
        > 0
    )


# ---- fit: the attack's ε, bookkeeping, and a reference training loop --------------------------


class AttackRecorder:
    """Stands in for ``latent_attack``: records its arguments, returns the clean images."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.unchecked = self  # fit calls the attack's unchecked core, once per batch

    def __call__(self, model, x, eps, *, steps, alpha, generator):
        self.calls.append(
            {
                "eps": eps,
                "steps": steps,
                "alpha": alpha,
                "generator": generator,
                "training": model.training,
                "n": len(x),
            }
        )
        return x.clone()


@pytest.fixture
def attack(monkeypatch) -> AttackRecorder:
    rec = AttackRecorder()
    monkeypatch.setattr(M, "latent_attack", rec)
    return rec


def test_fit_ramps_eps_linearly_over_the_warmup(attack):
    # 8 images in batches of 2: 4 steps per epoch; warm-up over 1.5 epochs = 6 steps
    M.fit(
        tiny_ae(),
        images(8),
        method="arae",
        epochs=3,
        batch_size=2,
        eps=0.3,
        steps=3,
        eps_warmup_epochs=1.5,
        progress_bar=False,
    )
    eps = [c["eps"] for c in attack.calls]
    assert eps == pytest.approx([0.3 * k / 6 for k in range(1, 7)] + [0.3] * 6)


def test_fit_warmup_of_whole_epochs(attack):
    M.fit(
        tiny_ae(),
        images(6),
        method="arae",
        epochs=2,
        batch_size=4,
        eps=0.2,
        eps_warmup_epochs=2,
        progress_bar=False,
    )  # 2 steps per epoch (4 + 2 images)
    assert [c["eps"] for c in attack.calls] == pytest.approx([0.05, 0.1, 0.15, 0.2])
    assert [c["n"] for c in attack.calls] == [4, 2, 4, 2]


def test_fit_without_warmup_uses_eps_throughout(attack):
    M.fit(
        tiny_ae(),
        images(6),
        method="arae",
        epochs=2,
        batch_size=4,
        eps=0.2,
        steps=7,
        alpha=0.01,
        progress_bar=False,
    )
    assert [c["eps"] for c in attack.calls] == pytest.approx([0.2] * 4)
    assert all(c["steps"] == 7 and c["alpha"] == 0.01 for c in attack.calls)
    assert all(
        isinstance(c["generator"], torch.Generator) for c in attack.calls
    )  # seeded, not global
    assert not any(
        c["training"] for c in attack.calls
    )  # crafted against the model in eval mode
    M.fit(tiny_ae(), images(2), method="arae", epochs=1, eps=0.2, progress_bar=False)
    assert (
        attack.calls[-1]["steps"] == 40 and attack.calls[-1]["alpha"] is None
    )  # the defaults


def test_fit_dae_and_ae_do_not_attack(attack):
    for method in ("dae", "ae"):
        M.fit(tiny_ae(), images(4), method=method, epochs=1, progress_bar=False)
    assert attack.calls == []


def test_fit_history_averages_per_image(monkeypatch, attack):
    """Epoch losses are means over images: batches weigh by their size (10 images: 4 + 4 + 2)."""

    def fake_arae_loss(model, x, x_adv, gamma):
        assert model.training and gamma == 0.25
        n = float(len(x)) + 0 * sum(p.sum() for p in model.parameters())
        return n, 2 * n, 3 * n

    def fake_dae_loss(model, x, noise_std, generator=None):
        assert model.training
        return float(len(x)) + 0 * sum(p.sum() for p in model.parameters())

    fake_arae_loss.unchecked, fake_dae_loss.unchecked = (
        fake_arae_loss,
        fake_dae_loss,
    )  # as fit calls them
    monkeypatch.setattr(M, "arae_loss", fake_arae_loss)
    monkeypatch.setattr(M, "dae_loss", fake_dae_loss)
    mean = (4 * 4 + 4 * 4 + 2 * 2) / 10
    hist = M.fit(
        tiny_ae(),
        images(10),
        method="arae",
        epochs=2,
        batch_size=4,
        gamma=0.25,
        progress_bar=False,
    )
    assert hist == [
        {
            "epoch": e,
            "loss": pytest.approx(mean),
            "rec_loss": pytest.approx(2 * mean),
            "latent_loss": pytest.approx(3 * mean),
        }
        for e in (1, 2)
    ]
    hist = M.fit(
        tiny_ae(), images(10), method="dae", epochs=3, batch_size=4, progress_bar=False
    )
    assert hist == [{"epoch": e, "loss": pytest.approx(mean)} for e in (1, 2, 3)]


def test_fit_progress_bar_counts_every_step(monkeypatch):
    bars = []

    class Bar:
        def __init__(self, total, desc, enabled):
            self.total, self.desc, self.enabled, self.updates, self.closed = (
                total,
                desc,
                enabled,
                0,
                False,
            )
            bars.append(self)

        def update(self):
            self.updates += 1

        def set_postfix(self, **kwargs):
            self.postfix = kwargs

        def close(self):
            self.closed = True

    monkeypatch.setattr(
        M, "progress", lambda total, desc, enabled: Bar(total, desc, enabled)
    )
    M.fit(tiny_ae(), images(5), method="ae", epochs=2, batch_size=2, progress_bar=False)
    M.fit(tiny_ae(), images(5), method="dae", epochs=1, batch_size=4, desc="training")
    first, second = bars
    assert (first.total, first.updates, first.desc, first.enabled, first.closed) == (
        6,
        6,
        "ae",
        False,
        True,
    )
    assert first.postfix["epoch"] == 2 and float(first.postfix["loss"]) > 0
    assert (second.total, second.updates, second.desc, second.enabled) == (
        2,
        2,
        "training",
        True,
    )


def reference_fit(
    model: M.AutoEncoder,
    x: torch.Tensor,
    method: str,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    gamma: float = 0.1,
    eps: float = 0.2,
    steps: int = 2,
    warmup: float = 0.0,
    noise_std: float = 0.2,
) -> None:
    """Adam on shuffled mini-batches, written out: each epoch draws a permutation from the seeded
    generator, then (dae) the noise or (arae) the attack draws from the same generator."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    per_epoch = -(-len(x) // batch_size)
    step = 0
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(batch_size):
            xb = x[idx]
            if method == "arae":
                ramp = min(1.0, (step + 1) / (warmup * per_epoch)) if warmup else 1.0
                x_adv = M.latent_attack(
                    model.eval(), xb, eps * ramp, steps=steps, generator=gen
                )
                model.train()
                z, z_adv = model.encoder(xb), model.encoder(x_adv)
                loss = mse(model.decoder(z_adv), xb) + gamma * mse(z, z_adv)
            else:
                x_in = xb
                if method == "dae":
                    x_in = (
                        xb + noise_std * torch.randn(xb.shape, generator=gen)
                    ).clamp(0, 1)
                loss = mse(model(x_in), xb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1


@pytest.mark.parametrize(
    "method, kwargs",
    [
        ("ae", {}),
        ("dae", {"noise_std": 0.3}),
        ("arae", {"gamma": 0.37, "eps": 0.25, "warmup": 1.0}),
    ],
)
def test_fit_matches_a_reference_training_loop(method, kwargs):
    x = images(10, seed=1)
    model, ref = tiny_ae(), tiny_ae()
    opts = {k: v for k, v in kwargs.items() if k != "warmup"}
    M.fit(
        model,
        x,
        method=method,
        epochs=2,
        batch_size=4,
        lr=0.05,
        seed=5,
        steps=2,
        eps_warmup_epochs=kwargs.get("warmup", 0.0),
        progress_bar=False,
        **opts,
    )
    reference_fit(ref, x, method, epochs=2, batch_size=4, lr=0.05, seed=5, **kwargs)
    assert close_weights(model, ref)
    assert not close_weights(model, tiny_ae())  # it did train
    assert not model.training  # left in eval mode


def test_fit_is_deterministic_per_seed():
    x = images(12)

    def trained(seed: int, global_seed: int) -> M.AutoEncoder:
        ae = copy.deepcopy(start)
        torch.manual_seed(global_seed)  # fit's result must not depend on it
        M.fit(
            ae,
            x,
            method="arae",
            epochs=2,
            batch_size=5,
            steps=2,
            seed=seed,
            progress_bar=False,
        )
        return ae

    start = tiny_ae()
    a, b, c = trained(4, 0), trained(4, 99), trained(5, 0)
    assert same_weights(a, b) and not same_weights(a, c)


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        ({"method": "vae"}, ValueError, "method must be one of 'arae', 'dae', 'ae'"),
        ({"epochs": 0}, ValueError, "epochs must be >= 1"),
        ({"epochs": M.MAX_EPOCHS + 1}, ValueError, "epochs must be <= 100000"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"lr": 0.0}, ValueError, r"lr must be in \(0, 10\]"),
        ({"lr": 10.5}, ValueError, r"lr must be in \(0, 10\]"),
        ({"gamma": -1.0}, ValueError, r"gamma must be in \[0, inf\]"),
        ({"eps": -0.1}, ValueError, r"eps must be in \[0, 1\]"),
        ({"eps": 1.5}, ValueError, r"eps must be in \[0, 1\]"),
        ({"steps": 0}, ValueError, "steps must be >= 1"),
        ({"steps": M.MAX_STEPS + 1}, ValueError, "steps must be <= 10000"),
        ({"alpha": 1.5}, ValueError, r"alpha must be in \[0, 1\]"),
        ({"alpha": -0.5}, ValueError, r"alpha must be in \[0, 1\]"),
        ({"noise_std": -0.1}, ValueError, r"noise_std must be in \[0, 10\]"),
        ({"noise_std": 11.0}, ValueError, r"noise_std must be in \[0, 10\]"),
        (
            {"eps_warmup_epochs": 2.5},
            ValueError,
            r"eps_warmup_epochs must be in \[0, 2\]",
        ),
        (
            {"eps_warmup_epochs": -1},
            ValueError,
            r"eps_warmup_epochs must be in \[0, 2\]",
        ),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        (
            {"x": torch.rand(3, 1, 5, 5)},
            ValueError,
            r"x must hold images of shape \(1, 4, 4\)",
        ),
    ],
)
def test_fit_misuse(kwargs, err, match):
    args = {
        "model": tiny_ae(),
        "x": images(3),
        "epochs": 2,
        "progress_bar": False,
        **kwargs,
    }
    with pytest.raises(err, match=match):
        M.fit(**args)


def test_fit_accepts_the_edges_of_its_ranges(attack):
    M.fit(
        tiny_ae(),
        images(3),
        method="arae",
        epochs=2,
        lr=10.0,
        eps=1.0,
        alpha=1.0,
        steps=M.MAX_STEPS,
        noise_std=10.0,
        eps_warmup_epochs=2,
        seed=0,
        progress_bar=False,
    )
    M.fit(
        tiny_ae(),
        images(3),
        method="arae",
        epochs=1,
        gamma=0.0,
        eps=0.0,
        alpha=0.0,
        batch_size=1,
        noise_std=0.0,
        progress_bar=False,
    )
    assert len(attack.calls) == 2 + 3


# ---- scores -----------------------------------------------------------------------------------


def test_scores_are_per_image_mean_squared_errors():
    ae, x = tiny_ae(), images(7)
    ae.train()
    s = M.scores(ae, x, batch_size=3)
    with torch.no_grad():
        want = (ae(x) - x).pow(2).mean(dim=(1, 2, 3))
    assert s.shape == (7,) and torch.allclose(s, want, rtol=1e-6)
    assert torch.allclose(
        s, M.scores(ae, x), rtol=1e-6
    )  # batching does not change them
    assert s.device.type == "cpu" and not s.requires_grad
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        M.scores(ae, x, batch_size=0)


def test_scores_run_in_eval_mode_and_restore_the_mode():
    ae, x = tiny_ae(), images(3)
    modes = []
    ae.register_forward_hook(lambda module, args, out: modes.append(module.training))
    for training in (True, False):
        ae.train(training)
        M.scores(ae, x)
        assert ae.training == training
    assert modes == [False, False]


def test_latent_attack_restarts_keep_the_furthest_run_per_image():
    """restarts = 3 draws three random starts from one generator; each image ends at the run
    (of the three single runs drawn in turn from the same seed) that moved its code furthest."""
    ae, x = tiny_ae(), images(16)
    best = M.latent_attack(
        ae, x, 0.2, steps=3, restarts=3, generator=torch.Generator().manual_seed(0)
    )
    g = torch.Generator().manual_seed(0)
    runs = torch.stack(
        [M.latent_attack(ae, x, 0.2, steps=3, generator=g) for _ in range(3)]
    )
    with torch.no_grad():
        dist = torch.stack([M.latent_distance(ae, x, r) for r in runs])  # (3, N)
    pick = dist.argmax(0)
    assert len(set(pick.tolist())) > 1  # the case is informative: different runs win
    assert torch.equal(best, runs[pick, torch.arange(len(x))])


def test_latent_attack_restarts_misuse():
    with pytest.raises(ValueError, match="restarts must be >= 1"):
        M.latent_attack(tiny_ae(), images(2), 0.1, restarts=0)
