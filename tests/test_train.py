import pytest
import torch

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
    train.train(rob, x, y, epochs=3, progress=False, attack={"name": "fgsm", "eps": 0.1, "random_start": True,
                                                            "alpha": 0.125})
    atk = {"name": "pgd", "eps": 0.1, "steps": 10}
    assert train.evaluate(rob, xt, yt, atk) > train.evaluate(std, xt, yt, atk) + 0.1


def test_eps_warmup_ramps(small_train):
    x, y = small_train
    m = models.build("mlp")
    h = train.train(m, x[:256], y[:256], epochs=2, batch_size=64, progress=False,
                    attack={"name": "pgd", "eps": 0.3, "steps": 1, "alpha": 0.3}, eps_warmup_epochs=1.0)
    assert len(h) == 2
    assert train._ramped({"name": "pgd", "eps": 0.3, "alpha": 0.1}, 0.5) == {"name": "pgd", "eps": 0.15,
                                                                           "alpha": 0.05}


def test_sgd_and_constant_schedule(small_train):
    x, y = small_train
    h = train.train(models.build("mlp"), x, y, epochs=3, optimizer="sgd", schedule="constant", lr=0.05,
                    progress=False)
    assert h[2]["acc"] > 0.8 and h[2]["loss"] < h[0]["loss"]


def test_predict_and_evaluate(trained_mlp, mnist_test):
    x, y = mnist_test
    logits = train.predict(trained_mlp, x, batch_size=64)
    assert logits.shape == (len(x), 10)
    acc = train.evaluate(trained_mlp, x, y)
    assert acc == pytest.approx(float((logits.argmax(1) == y).float().mean()))
    accs = train.accuracy_vs_eps(trained_mlp, x[:50], y[:50], [0.0, 0.2], {"name": "fgsm"}, progress=False)
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
    assert float((train.run_attack(trained_mlp, x, y, spec, eps_scale=0.5) - x).abs().max()) <= 0.1 + 1e-6
    assert torch.equal(train.run_attack(trained_mlp, x, y, spec, eps_scale=0.0), x)
    with pytest.raises(TypeError, match="attack must be None or a dict"):
        train.run_attack(trained_mlp, x, y, {"eps": 0.1})
