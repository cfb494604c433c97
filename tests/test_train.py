import pytest
import torch

from misuse import M, NAN, X, Y, bad_images, bad_labels, cases, misuse_test, not_a_model
from robustcore import data, models, train


@pytest.fixture(scope="module")
def small_train():
    x, y = data.mnist(train=True)
    return data.subset(x, y, 2000, seed=0)


def test_standard_training_learns_and_is_seeded(small_train, mnist_test):
    x, y = small_train
    a, b = models.build("mlp"), models.build("mlp")
    b.load_state_dict(a.state_dict())
    ha = train.train(a, x, y, epochs=2, progress=False, seed=1)
    hb = train.train(b, x, y, epochs=2, progress=False, seed=1)
    assert [r["epoch"] for r in ha] == [1, 2] and ha[1]["loss"] < ha[0]["loss"]
    assert ha == hb
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert train.evaluate(a, *mnist_test) > 0.8
    assert not a.training


def test_adversarial_training_buys_robustness(small_train, mnist_test):
    x, y = small_train
    xt, yt = mnist_test
    std, rob = models.build("mlp"), models.build("mlp")
    train.train(std, x, y, epochs=3, progress=False)
    train.train(
        rob,
        x,
        y,
        epochs=3,
        progress=False,
        attack={"name": "fgsm", "eps": 0.1, "random_start": True, "alpha": 0.125},
    )
    atk = {"name": "pgd", "eps": 0.1, "steps": 10}
    assert train.evaluate(rob, xt, yt, atk) > train.evaluate(std, xt, yt, atk) + 0.1


def test_eps_warmup_ramps(small_train):
    x, y = small_train
    m = models.build("mlp")
    h = train.train(
        m,
        x[:256],
        y[:256],
        epochs=2,
        batch_size=64,
        progress=False,
        attack={"name": "pgd", "eps": 0.3, "steps": 1, "alpha": 0.3},
        eps_warmup_epochs=1.0,
    )
    assert len(h) == 2
    assert train._ramped({"name": "pgd", "eps": 0.3, "alpha": 0.1}, 0.5) == {
        "name": "pgd",
        "eps": 0.15,
        "alpha": 0.05,
    }


# 8 images in batches of 2: 4 steps per epoch; a warm-up of 1.5 epochs is 6 steps, so
# step k (from 1) trains at k/6 of the final ε, then at the full ε
WARMUP = [k / 6 for k in range(1, 7)] + [1.0, 1.0]


def test_train_ramps_the_attack_eps_over_the_warmup(monkeypatch):
    """The ramp is what train feeds its attack, step by step, not a helper's
    arithmetic: a train that ignored eps_warmup_epochs would attack at full ε."""
    seen = []

    def spy(model, xb, yb, spec, eps_scale=1.0):
        seen.append(eps_scale)
        return xb

    monkeypatch.setattr(train, "attack_batch", spy)
    m = models.build("mlp")
    x, y = torch.rand(8, 1, 28, 28), torch.arange(8) % 10
    atk = {"name": "fgsm", "eps": 0.3}
    kw = {"epochs": 2, "batch_size": 2, "progress": False}
    train.train(m, x, y, attack=atk, eps_warmup_epochs=1.5, **kw)
    assert seen == pytest.approx(WARMUP)
    seen.clear()
    train.train(m, x, y, attack=atk, **kw)  # no warm-up: full ε from the first step
    assert seen == [1.0] * 8


def test_train_ramps_ibp_eps_and_kappa_over_the_warmup(monkeypatch):
    """Gowal et al.'s schedules: ε from 0 up to its final value and κ from 1 down to
    its final value, over the same steps."""
    seen = []

    def spy(model, xb, yb, eps, kappa):
        seen.append((eps, kappa))
        return model(xb).sum() * 0.0

    monkeypatch.setattr(train.certify, "ibp_loss", spy)
    m = models.build("mlp-small")
    x, y = torch.rand(8, 1, 28, 28), torch.arange(8) % 10
    train.train(
        m,
        x,
        y,
        epochs=2,
        batch_size=2,
        progress=False,
        ibp={"eps": 0.3, "kappa": 0.5},
        eps_warmup_epochs=1.5,
    )
    eps, kappa = zip(*seen)
    assert eps == pytest.approx([0.3 * r for r in WARMUP])
    assert kappa == pytest.approx([1.0 - 0.5 * r for r in WARMUP])


def test_sgd_and_constant_schedule(small_train):
    x, y = small_train
    h = train.train(
        models.build("mlp"),
        x,
        y,
        epochs=3,
        optimizer="sgd",
        schedule="constant",
        lr=0.05,
        progress=False,
    )
    assert h[2]["acc"] > 0.8 and h[2]["loss"] < h[0]["loss"]


def test_predict_and_evaluate(trained_mlp, mnist_test):
    x, y = mnist_test
    logits = train.predict(trained_mlp, x, batch_size=64)
    assert logits.shape == (len(x), 10)
    acc = train.evaluate(trained_mlp, x, y)
    assert acc == pytest.approx(float((logits.argmax(1) == y).float().mean()))
    accs = train.accuracy_vs_eps(
        trained_mlp, x[:50], y[:50], [0.0, 0.2], {"name": "fgsm"}, progress=False
    )
    assert accs[0] == train.evaluate(trained_mlp, x[:50], y[:50]) and accs[1] < accs[0]


def test_bad_arguments(trained_mlp, mnist_test):
    x, y = mnist_test
    m = models.build("mlp")
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        train.train(m, x, y, epochs=0)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        train.train(m, x, y, optimizer="lbfgs")
    with pytest.raises(ValueError, match=r"lr must be in \(0, 10\]"):
        train.train(m, x, y, lr=0)
    with pytest.raises(ValueError, match=r"lr must be in"):
        train.train(m, x, y, lr=float("nan"))
    with pytest.raises(TypeError, match="attack must be None or a dict"):
        train.train(m, x, y, attack="pgd")
    with pytest.raises(ValueError, match=r"attack\['name'\] must be one of"):
        train.evaluate(m, x, y, attack={"name": "cw", "eps": 0.1})
    with pytest.raises(ValueError, match=r"attack\['eps'\] must be in"):
        train.evaluate(m, x, y, attack={"name": "pgd", "eps": -1})
    with pytest.raises(ValueError, match="eps_values must be a non-empty"):
        train.accuracy_vs_eps(m, x, y, [], {"name": "pgd"})
    with pytest.raises(ValueError, match="y must have shape"):
        train.evaluate(m, x, y[:3])
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        train.predict(m, x, batch_size=0)


def test_run_attack_scales_eps(trained_mlp, mnist_test):
    x, y = mnist_test
    x, y = x[:20], y[:20]
    spec = {"name": "pgd", "eps": 0.2, "steps": 3}
    assert (
        float(
            (train.run_attack(trained_mlp, x, y, spec, eps_scale=0.5) - x).abs().max()
        )
        <= 0.1 + 1e-6
    )
    assert torch.equal(train.run_attack(trained_mlp, x, y, spec, eps_scale=0.0), x)
    with pytest.raises(TypeError, match="attack must be None or a dict"):
        train.run_attack(trained_mlp, x, y, {"eps": 0.1})


# ---- misuse: bad arguments are refused and nothing is written

PGD = {"name": "pgd", "eps": 0.1, "steps": 2}
MISUSE = (
    cases(
        "train",
        {
            "correct:batch-size": (
                lambda: train.correct(M, X, Y, batch_size=0),
                ValueError,
                "batch_size must be",
            ),
            "correct:attack-name": (
                lambda: train.correct(M, X, Y, {"name": "cw"}),
                TypeError,
                "attack must be None or a dict",
            ),
            "train:epochs-zero": (
                lambda: train.train(M, X, Y, epochs=0, progress=False),
                ValueError,
                "epochs must be >= 1",
            ),
            "train:epochs-absurd": (
                lambda: train.train(M, X, Y, epochs=10**8, progress=False),
                ValueError,
                "epochs must be <=",
            ),
            "train:batch_size-zero": (
                lambda: train.train(M, X, Y, batch_size=0, progress=False),
                ValueError,
                "batch_size",
            ),
            "train:lr-zero": (
                lambda: train.train(M, X, Y, lr=0.0, progress=False),
                ValueError,
                "lr must be in",
            ),
            "train:lr-nan": (
                lambda: train.train(M, X, Y, lr=NAN, progress=False),
                ValueError,
                "lr must be in",
            ),
            "train:lr-absurd": (
                lambda: train.train(M, X, Y, lr=1e6, progress=False),
                ValueError,
                "lr must be in",
            ),
            "train:optimizer-unknown": (
                lambda: train.train(M, X, Y, optimizer="rmsprop", progress=False),
                ValueError,
                "optimizer must be one of",
            ),
            "train:schedule-unknown": (
                lambda: train.train(M, X, Y, schedule="step", progress=False),
                ValueError,
                "schedule must be one of",
            ),
            "train:weight_decay-negative": (
                lambda: train.train(M, X, Y, weight_decay=-1.0, progress=False),
                ValueError,
                "weight_decay must be in",
            ),
            "train:warmup-beyond-epochs": (
                lambda: train.train(
                    M, X, Y, epochs=1, eps_warmup_epochs=2.0, progress=False
                ),
                ValueError,
                "eps_warmup_epochs must be in",
            ),
            "train:attack-str": (
                lambda: train.train(M, X, Y, attack="pgd", progress=False),
                TypeError,
                "attack must be",
            ),
            "train:attack-no-eps": (
                lambda: train.train(M, X, Y, attack={"name": "pgd"}, progress=False),
                TypeError,
                "attack must be",
            ),
            "train:attack-unknown": (
                lambda: train.train(
                    M, X, Y, attack={"name": "cw", "eps": 0.3}, progress=False
                ),
                ValueError,
                r"attack\['name'\]",
            ),
            "train:attack-eps-negative": (
                lambda: train.train(
                    M, X, Y, attack={"name": "pgd", "eps": -0.3}, progress=False
                ),
                ValueError,
                r"attack\['eps'\]",
            ),
            "train:seed-str": (
                lambda: train.train(M, X, Y, seed="0", progress=False),
                TypeError,
                "seed must be an int",
            ),
            "predict:batch_size-zero": (
                lambda: train.predict(M, X, batch_size=0),
                ValueError,
                "batch_size must be >= 1",
            ),
            "evaluate:attack-str": (
                lambda: train.evaluate(M, X, Y, attack="pgd"),
                TypeError,
                "attack must be",
            ),
            "evaluate:seed-negative": (
                lambda: train.evaluate(M, X, Y, PGD, seed=-2),
                ValueError,
                "seed must be >= 0",
            ),
            "run_attack:eps_scale-negative": (
                lambda: train.run_attack(M, X, Y, PGD, eps_scale=-1.0),
                ValueError,
                "eps_scale must be in",
            ),
            "run_attack:spec-none": (
                lambda: train.run_attack(M, X, Y, None),
                TypeError,
                "attack spec must be a dict",
            ),
            "run_attack:steps-zero": (
                lambda: train.run_attack(M, X, Y, {**PGD, "steps": 0}),
                ValueError,
                "steps must be >= 1",
            ),
            "evaluate:attack-steps-zero": (
                lambda: train.evaluate(M, X, Y, {**PGD, "steps": 0}),
                ValueError,
                "steps must be >= 1",
            ),
            "train:attack-setting-unknown": (
                lambda: train.train(
                    M, X, Y, attack={**PGD, "stpes": 3}, progress=False
                ),
                TypeError,
                "stpes",
            ),
            "accuracy_vs_eps:empty": (
                lambda: train.accuracy_vs_eps(M, X, Y, [], PGD),
                ValueError,
                "eps_values",
            ),
            "accuracy_vs_eps:str": (
                lambda: train.accuracy_vs_eps(M, X, Y, "0.1", PGD),
                ValueError,
                "eps_values",
            ),
            "accuracy_vs_eps:negative": (
                lambda: train.accuracy_vs_eps(M, X, Y, [-0.1], PGD, progress=False),
                ValueError,
                r"attack\['eps'\]",
            ),
            "accuracy_vs_eps:attack-str": (
                lambda: train.accuracy_vs_eps(M, X, Y, [0.1], "pgd"),
                TypeError,
                "attack must be",
            ),
        },
    )
    + bad_images(
        {
            "train.train": lambda x: train.train(M, x, Y[: len(x)], progress=False),
            "train.predict": lambda x: train.predict(M, x),
            "train.evaluate": lambda x: train.evaluate(M, x, Y[: len(x)]),
            "train.run_attack": lambda x: train.run_attack(M, x, Y[: len(x)], PGD),
        }
    )
    + bad_labels(
        {
            "train.train": lambda y: train.train(M, X, y, progress=False),
            "train.evaluate": lambda y: train.evaluate(M, X, y),
        }
    )
    + not_a_model(
        {
            "train.train": lambda m: train.train(m, X, Y, progress=False),
            "train.predict": lambda m: train.predict(m, X),
            "train.evaluate": lambda m: train.evaluate(m, X, Y),
        }
    )
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)
