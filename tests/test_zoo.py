import json

import pytest
import torch

from robustcore import data, io, models, train, zoo


@pytest.fixture
def tiny_entry():
    """A zoo entry that trains in a fraction of a second."""
    calls = []

    def fit(model, rec, progress):
        calls.append(rec)
        x, y = data.mnist(train=False)
        x, y = data.subset(x, y, 300, seed=rec["seed"])
        train.train(model, x, y, epochs=1, progress=False, seed=rec["seed"])
        return {"train_acc": train.evaluate(model, x, y)}

    e = zoo.register(zoo.Entry("test-tiny", {"quick": {"seed": 0}, "full": {"seed": 1}},
                               lambda rec: models.build("mlp"), fit))
    yield e, calls
    zoo._REGISTRY.pop("test-tiny")


def test_registry_has_the_mnist_models():
    assert {"mnist-cnn-std", "mnist-mlp-std", "mnist-resnet-std", "mnist-cnn-pgd-linf"} <= set(zoo.names())
    rec = zoo.recipe("mnist-cnn-pgd-linf", "quick")
    assert rec["attack"]["eps"] == 0.3 and rec["arch"] == "cnn"
    assert zoo.recipe("mnist-cnn-pgd-linf", "full")["attack"]["steps"] == 10


def test_build_then_load_from_cache(tmp_cache, tiny_entry):
    _, calls = tiny_entry
    m = zoo.load("test-tiny", "quick", progress=False)
    assert len(calls) == 1 and (tmp_cache / "test-tiny-quick.pt").is_file()
    assert m.meta["recipe"] == {"seed": 0} and 0 <= m.meta["metrics"]["train_acc"] <= 1
    m2 = zoo.load("test-tiny", "quick")
    assert len(calls) == 1  # from the cache, not retrained
    assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), m2.state_dict().values()))
    assert not m2.training


def test_profile_selects_recipe(tmp_cache, tiny_entry, monkeypatch):
    monkeypatch.setenv("ROBUSTCORE_PROFILE", "full")
    assert zoo.load("test-tiny").meta["profile"] == "full"
    assert (tmp_cache / "test-tiny-full.pt").is_file()


def test_tampered_checkpoint_refused(tmp_cache, tiny_entry):
    zoo.load("test-tiny", "quick")
    p = tmp_cache / "test-tiny-quick.pt"
    raw = bytearray(p.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    p.write_bytes(bytes(raw))
    with pytest.raises(io.ChecksumError, match="corrupted or was modified"):
        zoo.load("test-tiny", "quick")


def test_stale_recipe_is_not_used_silently(tmp_cache, tiny_entry):
    e, calls = tiny_entry
    zoo.load("test-tiny", "quick")
    e.recipes["quick"]["seed"] = 7
    with pytest.warns(UserWarning, match="another recipe"):
        m = zoo.load("test-tiny", "quick")
    assert m.meta["recipe"] == {"seed": 7} and len(calls) == 2


def test_missing_without_training(tmp_cache, tiny_entry):
    with pytest.raises(FileNotFoundError, match="python -m robustcore.zoo build test-tiny"):
        zoo.load("test-tiny", "quick", train_if_missing=False)


def test_unknown_name_and_profile():
    with pytest.raises(ValueError, match="unknown model name 'mnist-vgg'; known: .*mnist-cnn-std"):
        zoo.load("mnist-vgg")
    with pytest.raises(ValueError, match="profile must be one of"):
        zoo.load("mnist-cnn-std", profile="medium")


def test_cli_list_and_errors(capsys, tmp_cache):
    assert zoo.main(["list"]) == 0
    assert "mnist-cnn-pgd-linf" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        zoo.main(["build"])
    with pytest.raises(SystemExit):
        zoo.main(["build", "nope"])
    assert "unknown model name 'nope'" in capsys.readouterr().err


def test_cli_build(capsys, tmp_cache, tiny_entry):
    assert zoo.main(["build", "test-tiny", "--profile", "quick"]) == 0
    assert "test-tiny (quick)" in capsys.readouterr().out


def test_ship_copies_and_records_digest(tmp_cache, tiny_entry, tmp_path, monkeypatch):
    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path / "weights")
    monkeypatch.setattr(zoo, "MANIFEST", tmp_path / "weights" / "manifest.json")
    zoo.build("test-tiny", "quick")
    digest = zoo.ship("test-tiny", "quick")
    assert json.loads(zoo.MANIFEST.read_text()) == {"test-tiny-quick.pt": digest}
    assert sorted(p.name for p in zoo.WEIGHTS_DIR.iterdir()) == ["manifest.json", "test-tiny-quick.pt"]
    (tmp_cache / "test-tiny-quick.pt").unlink()
    assert zoo.load("test-tiny", "quick", train_if_missing=False).meta["recipe"] == {"seed": 0}
    (zoo.WEIGHTS_DIR / "test-tiny-quick.pt").write_bytes(b"tampered")
    with pytest.raises(io.ChecksumError):
        zoo.load("test-tiny", "quick")


# ---- the checkpoints shipped with the package -------------------------------------------

SHIPPED = sorted(f for f in (json.loads(zoo.MANIFEST.read_text()) if zoo.MANIFEST.is_file() else {})
                 if not f.startswith(("constructed-", "novelty-")))  # datasets shipped beside them: test_features


@pytest.mark.parametrize("fname", SHIPPED)
def test_shipped_checkpoint_verifies_and_matches_recipe(fname, tmp_cache, mnist_test):
    name, profile = fname[: -len(".pt")].rsplit("-", 1)
    m = zoo.load(name, profile, train_if_missing=False)  # empty cache: must come from the package
    assert m.meta["recipe"] == zoo.recipe(name, profile)
    x, y = zoo.task_data(m.meta["recipe"])  # its own test set: all of MNIST's, or e.g. the 3s and 7s
    assert train.evaluate(m, x, y) == pytest.approx(m.meta["metrics"]["test_acc"], abs=1e-4)


def test_all_four_trunk_models_are_shipped_for_quick():
    for name in ("mnist-cnn-std", "mnist-mlp-std", "mnist-resnet-std", "mnist-cnn-pgd-linf"):
        assert f"{name}-quick.pt" in SHIPPED


@pytest.mark.slow
def test_recipe_reproduces_shipped_checkpoint(tmp_cache):
    """Retrain the quick MLP from its recipe: same accuracy as the shipped one, within 0.5 points."""
    shipped = zoo.load("mnist-mlp-std", "quick", train_if_missing=False)
    fresh = zoo.build("mnist-mlp-std", "quick", progress=False)
    assert fresh.meta["metrics"]["test_acc"] == pytest.approx(shipped.meta["metrics"]["test_acc"], abs=0.005)


def test_module_entry_point_runs(tmp_cache):
    """`python -m robustcore.zoo list` works as a real command, with no import warnings."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-m", "robustcore.zoo", "list"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "mnist-cnn-std" in out.stdout and "shipped" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "robustcore.zoo", "build", "nope"], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode != 0 and "unknown model name 'nope'" in bad.stderr
