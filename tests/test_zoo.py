import pytest
import torch

from misuse import cases, corrupt, half_then_fail, misuse_test, written
from robustcore import io, models, store, train, zoo


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
    assert {
        "mnist-cnn-std",
        "mnist-mlp-std",
        "mnist-resnet-std",
        "mnist-cnn-pgd-linf",
    } <= set(zoo.ARTIFACTS)
    rec = zoo.recipe("mnist-cnn-pgd-linf", "quick")
    assert rec["attack"]["eps"] == 0.3 and rec["arch"] == "cnn"
    assert zoo.recipe("mnist-cnn-pgd-linf", "full")["attack"]["steps"] == 10


def test_model_artifact_builds_loads_and_records(tmp_cache, tiny_model):
    a = zoo.model_artifact(
        "test-tiny",
        {"quick": {"seed": 0}, "full": {"seed": 1}},
        lambda r: models.build("mlp"),
        tiny_model,
        lambda m, r: {"test": 1.0},
    )
    m = zoo.load_model(a, "quick", progress=False)
    assert not m.training and m.meta["recipe"] == {"seed": 0}
    assert m.meta["metrics"]["test"] == 1.0 and 0 <= m.meta["metrics"]["train_acc"] <= 1
    m2 = zoo.load_model(a, "quick")
    assert all(
        torch.equal(u, v)
        for u, v in zip(m.state_dict().values(), m2.state_dict().values())
    )


def test_half_precision_stores_what_was_evaluated(tmp_cache, tiny_model):
    seen = {}

    def evaluate(model, rec):
        seen["w"] = next(model.parameters()).detach().clone()
        return {}

    a = zoo.model_artifact(
        "test-half",
        {"quick": {"seed": 0}, "full": {"seed": 0}},
        lambda r: models.build("mlp"),
        tiny_model,
        evaluate,
        half=True,
    )
    payload = store.fetch(a, "quick")
    assert all(
        v.dtype == torch.float16
        for v in payload["state_dict"].values()
        if v.is_floating_point()
    )
    m = zoo.load_model(a, "quick")
    w = next(m.parameters())
    assert w.dtype == torch.float32 and torch.equal(w, seen["w"])  # evaluated = stored


def test_unknown_name_and_profile():
    with pytest.raises(
        ValueError, match="unknown model name 'mnist-vgg'; known: .*mnist-cnn-std"
    ):
        zoo.load("mnist-vgg")
    with pytest.raises(ValueError, match="profile must be one of"):
        zoo.load("mnist-cnn-std", profile="medium")


# ---- the checkpoints shipped in artifacts/ -------------------------------------------------

SHIPPED = sorted(
    n
    for n in zoo.ARTIFACTS
    if store.shipped_name(zoo.ARTIFACTS[n], "quick") in store.manifest()
)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_verifies_and_matches_recipe(name, tmp_cache):
    m = zoo.load(
        name, "quick", train_if_missing=False
    )  # empty cache: must come from artifacts/
    assert m.meta["recipe"] == zoo.recipe(name, "quick")
    x, y = zoo.task_data(
        m.meta["recipe"]
    )  # its own test set: all of MNIST's, or e.g. the 3s and 7s
    assert train.evaluate(m, x, y) == pytest.approx(
        m.meta["metrics"]["test_acc"], abs=1e-4
    )


def test_all_four_trunk_models_are_shipped_for_quick():
    assert {
        "mnist-cnn-std",
        "mnist-mlp-std",
        "mnist-resnet-std",
        "mnist-cnn-pgd-linf",
    } <= set(SHIPPED)


@pytest.mark.slow
@pytest.mark.rebuild
def test_recipe_reproduces_shipped_checkpoint(tmp_cache):
    """Retrain the quick MLP from its recipe: same accuracy as the shipped one, within 0.5 points.

    Training is chaotic in the reduction order, so the weights differ from machine to
    machine; the accuracy does not, much. Measured (10,000 test digits): shipped 98.19%;
    retrained here 98.15%, under AVX2 kernels 98.13% (tools/second_order.py); seeds 1 and 2
    98.20% and 98.00%. The tolerance is 2.5x the largest seed spread.
    """
    shipped = zoo.load("mnist-mlp-std", "quick", train_if_missing=False)
    fresh = store.build(zoo.ARTIFACTS["mnist-mlp-std"], "quick", progress=False)
    assert fresh["meta"]["metrics"]["test_acc"] == pytest.approx(
        shipped.meta["metrics"]["test_acc"], abs=0.005
    )


# ---- misuse: bad arguments are refused and nothing is written; interrupted writes
# leave nothing that loads; corrupted and tampered checkpoints are refused

MISUSE = cases(
    "zoo",
    {
        "describe:unknown": (
            lambda: zoo.describe("mnist-vgg"),
            ValueError,
            "unknown model name",
        ),
        "describe:profile": (
            lambda: zoo.describe("mnist-cnn-std", "paper"),
            ValueError,
            "profile must be one of",
        ),
        "load:unknown": (
            lambda: zoo.load("mnist-vgg"),
            ValueError,
            "unknown model name",
        ),
        "load:name-int": (lambda: zoo.load(3), ValueError, "unknown model name"),
        "load:profile": (
            lambda: zoo.load("mnist-cnn-std", profile="medium"),
            ValueError,
            "profile must be one of",
        ),
        "load:device": (
            lambda: zoo.load("mnist-cnn-std", device="tpu"),
            ValueError,
            "device must name",
        ),
        "load:train_if_missing": (
            lambda: zoo.load("mnist-cnn-std", train_if_missing="no"),
            TypeError,
            "train_if_missing must be",
        ),
        "recipe:unknown": (
            lambda: zoo.recipe("nope"),
            ValueError,
            "unknown model name",
        ),
        "model_artifact:profiles": (
            lambda: zoo.model_artifact("x", {"quick": {}}, None, None),
            ValueError,
            "no recipe for profile",
        ),
        "load_model:profile": (
            lambda: zoo.load_model(zoo.ARTIFACTS["mnist-cnn-std"], "medium"),
            ValueError,
            "profile must be one of",
        ),
        "task_data:dataset": (
            lambda: zoo.task_data({"dataset": "svhn"}),
            ValueError,
            "dataset must be one of",
        ),
    },
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)


def _tiny_entry(monkeypatch):
    """A zoo entry that trains in no time, declared for this test only."""
    rec = {"arch": "mlp", "seed": 0}
    entry = zoo.model_artifact(
        "tiny-mlp",
        {"quick": rec, "full": rec},
        lambda r: models.build("mlp"),
        lambda m, r, progress: {"test_acc": 0.0},
        description="test only",
    )
    monkeypatch.setitem(zoo.ARTIFACTS, "tiny-mlp", entry)
    return entry


def test_interrupted_zoo_checkpoint_leaves_nothing_that_loads(tmp_cache, monkeypatch):
    _tiny_entry(monkeypatch)
    monkeypatch.setattr(torch, "save", half_then_fail)
    with pytest.raises(OSError, match="simulated"):
        store.build(zoo.ARTIFACTS["tiny-mlp"], "quick", progress=False)
    assert [p.name for p in tmp_cache.rglob("*") if p.is_file()] == []
    monkeypatch.undo()
    _tiny_entry(monkeypatch)
    monkeypatch.setenv("ROBUSTCORE_CACHE", str(tmp_cache))
    with pytest.raises(FileNotFoundError, match="no 'tiny-mlp'"):
        zoo.load("tiny-mlp", "quick", train_if_missing=False)


@pytest.mark.parametrize("how", ["truncated", "flipped", "appended", "empty"])
def test_corrupted_cached_checkpoint_is_refused_not_retrained(
    how, tmp_cache, monkeypatch
):
    _tiny_entry(monkeypatch)
    store.build(zoo.ARTIFACTS["tiny-mlp"], "quick", progress=False)
    ckpt = tmp_cache / zoo.ARTIFACTS["tiny-mlp"].filename("quick")
    corrupt(ckpt, how)
    before = ckpt.read_bytes()
    with pytest.raises(io.ChecksumError):
        zoo.load("tiny-mlp", "quick", progress=False)
    assert ckpt.read_bytes() == before, "a refused checkpoint was replaced silently"


def test_tampered_checkpoint_with_a_forged_digest_is_refused(tmp_cache, monkeypatch):
    """Someone edits the file and its .sha256: the content still has to be a robustcore
    checkpoint of the current recipe, loaded with weights_only=True."""
    _tiny_entry(monkeypatch)
    store.build(zoo.ARTIFACTS["tiny-mlp"], "quick", progress=False)
    ckpt = tmp_cache / zoo.ARTIFACTS["tiny-mlp"].filename("quick")
    torch.save({"weights": torch.zeros(2)}, ckpt)  # not a checkpoint
    ckpt.with_name(ckpt.name + ".sha256").write_text(io.sha256(ckpt))
    with pytest.raises(io.ChecksumError, match="not a robustcore artifact"):
        zoo.load("tiny-mlp", "quick", progress=False)


def test_tampered_shipped_checkpoint_is_refused(tmp_path, tmp_cache, monkeypatch):
    weights = tmp_path / "shipped"
    weights.mkdir()
    entry = zoo.ARTIFACTS["mnist-mlp-std"]
    name = store.shipped_name(entry, "quick")
    (weights / name).write_bytes((store.CHECKOUT_ARTIFACTS / name).read_bytes())
    monkeypatch.setenv(store.SHIPPED_ENV, str(weights))
    assert (
        zoo.load("mnist-mlp-std", "quick", train_if_missing=False, device="cpu")
        is not None
    )
    (tmp_cache / entry.filename("quick")).unlink()
    (tmp_cache / entry.filename("quick")).with_suffix(".pt.sha256").unlink()
    corrupt(weights / name, "flipped")
    with pytest.raises(io.ChecksumError, match="corrupted or was modified"):
        zoo.load("mnist-mlp-std", "quick", train_if_missing=False)
    assert written(tmp_cache) == []
