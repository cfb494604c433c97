import pytest
import torch

from robustcore import models, store, train, zoo


@pytest.fixture
def tiny_model(monkeypatch, tmp_path):
    """A model artifact that trains in a fraction of a second, nothing shipped."""
    monkeypatch.setenv(store.SHIPPED_ENV, str(tmp_path / "shipped"))
    monkeypatch.setattr(store, "MANIFEST", tmp_path / "artifacts.json")

    def fit(model, rec, progress):
        from robustcore import data

        x, y = data.subset(*data.mnist(train=False), 300, seed=rec["seed"])
        train.train(model, x, y, epochs=1, progress=False, seed=rec["seed"])
        return {"train_acc": train.evaluate(model, x, y)}

    return fit


def test_registry_has_the_mnist_models():
    assert {"mnist-cnn-std", "mnist-mlp-std", "mnist-resnet-std", "mnist-cnn-pgd-linf"} <= set(zoo.ARTIFACTS)
    rec = zoo.recipe("mnist-cnn-pgd-linf", "quick")
    assert rec["attack"]["eps"] == 0.3 and rec["arch"] == "cnn"
    assert zoo.recipe("mnist-cnn-pgd-linf", "full")["attack"]["steps"] == 10


def test_model_artifact_builds_loads_and_records(tmp_cache, tiny_model):
    a = zoo.model_artifact("test-tiny", {"quick": {"seed": 0}, "full": {"seed": 1}}, lambda r: models.build("mlp"),
                           tiny_model, lambda m, r: {"test": 1.0})
    m = zoo.load_model(a, "quick", progress=False)
    assert not m.training and m.meta["recipe"] == {"seed": 0}
    assert m.meta["metrics"]["test"] == 1.0 and 0 <= m.meta["metrics"]["train_acc"] <= 1
    m2 = zoo.load_model(a, "quick")
    assert all(torch.equal(u, v) for u, v in zip(m.state_dict().values(), m2.state_dict().values()))


def test_half_precision_stores_what_was_evaluated(tmp_cache, tiny_model):
    seen = {}

    def evaluate(model, rec):
        seen["w"] = next(model.parameters()).detach().clone()
        return {}

    a = zoo.model_artifact("test-half", {"quick": {"seed": 0}, "full": {"seed": 0}}, lambda r: models.build("mlp"),
                           tiny_model, evaluate, half=True)
    payload = store.fetch(a, "quick")
    assert all(v.dtype == torch.float16 for v in payload["state_dict"].values() if v.is_floating_point())
    m = zoo.load_model(a, "quick")
    w = next(m.parameters())
    assert w.dtype == torch.float32 and torch.equal(w, seen["w"])  # evaluated = stored


def test_unknown_name_and_profile():
    with pytest.raises(ValueError, match="unknown model name 'mnist-vgg'; known: .*mnist-cnn-std"):
        zoo.load("mnist-vgg")
    with pytest.raises(ValueError, match="profile must be one of"):
        zoo.load("mnist-cnn-std", profile="medium")


# ---- the checkpoints shipped in artifacts/ -------------------------------------------------

SHIPPED = sorted(n for n in zoo.ARTIFACTS if store.shipped_name(zoo.ARTIFACTS[n], "quick") in store.manifest())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_verifies_and_matches_recipe(name, tmp_cache):
    m = zoo.load(name, "quick", train_if_missing=False)  # empty cache: must come from artifacts/
    assert m.meta["recipe"] == zoo.recipe(name, "quick")
    x, y = zoo.task_data(m.meta["recipe"])  # its own test set: all of MNIST's, or e.g. the 3s and 7s
    assert train.evaluate(m, x, y) == pytest.approx(m.meta["metrics"]["test_acc"], abs=1e-4)


def test_all_four_trunk_models_are_shipped_for_quick():
    assert {"mnist-cnn-std", "mnist-mlp-std", "mnist-resnet-std", "mnist-cnn-pgd-linf"} <= set(SHIPPED)


@pytest.mark.slow
def test_recipe_reproduces_shipped_checkpoint(tmp_cache):
    """Retrain the quick MLP from its recipe: same accuracy as the shipped one, within 0.5 points."""
    shipped = zoo.load("mnist-mlp-std", "quick", train_if_missing=False)
    fresh = store.build(zoo.ARTIFACTS["mnist-mlp-std"], "quick", progress=False)
    assert fresh["meta"]["metrics"]["test_acc"] == pytest.approx(shipped.meta["metrics"]["test_acc"], abs=0.005)
