import json
import struct

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score, roc_auc_score

from robustcore import data, io, novelty, store


def ids_dataset(n=1000, classes=10, seed=0):
    """Images whose first pixel encodes their index, so splits can be checked for overlap."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 4, 4, generator=g)
    x[:, 0, 0, 0] = torch.arange(n) / n
    return x, torch.randint(0, classes, (n,), generator=g)


def ids(t):
    return set(torch.round(t[:, 0, 0, 0] * 1000).long().tolist())


@pytest.fixture(scope="module")
def mnist_small():
    from robustcore import data
    x, y = data.mnist(train=False)
    return x[y == 8][:256]


# ---- protocols ----------------------------------------------------------------------------


@pytest.mark.parametrize("frac", [0.5, 0.25, 0.1])
def test_p1_splits_are_disjoint_with_the_stated_fractions(frac):
    x, y = ids_dataset()
    s = novelty.protocol1(x, y, 3, frac, seed=1)
    n_norm = int((y == 3).sum())
    tr, va, te = ids(s.x_train), ids(s.x_val), ids(s.x_test)
    assert not (tr & va) and not (tr & te) and not (va & te)
    assert len(tr) == int(0.6 * n_norm) and int((s.y_val == 0).sum()) == int(0.2 * n_norm)
    assert int((s.y_test == 0).sum()) == n_norm - int(0.6 * n_norm) - int(0.2 * n_norm)
    assert all(int(c) == 3 for c in y[sorted(tr)])                      # train: normal class only
    assert float(s.y_test.float().mean()) == pytest.approx(frac, abs=0.02)
    assert float(s.y_val.float().mean()) == pytest.approx(frac, abs=0.02)
    assert ((s.c_test == 3) == (s.y_test == 0)).all() and ((s.c_val == 3) == (s.y_val == 0)).all()
    again = novelty.protocol1(x, y, 3, frac, seed=1)
    assert torch.equal(again.x_test, s.x_test)                          # same seed, same split


def test_p1_trims_normals_when_anomalies_run_short():
    x, y = ids_dataset(400, classes=2)
    s = novelty.protocol1(x, y, 0, 0.9, seed=0)
    assert float(s.y_test.float().mean()) == pytest.approx(0.9, abs=0.05)
    assert not (ids(s.x_test) & ids(s.x_val))


def test_p2_on_mnist():
    s = novelty.prepare("mnist", "p2", 8)
    assert len(s.x_test) == 10_000 and s.x_val is None
    assert int((s.y_test == 0).sum()) == int((s.c_test == 8).sum()) == 974
    assert len(s.x_train) == 5851 and s.anomaly_fraction is None
    p1 = novelty.prepare("mnist", "p1", 8, 0.5)
    assert len(p1.x_train) == int(0.6 * (5851 + 974))
    assert float(p1.y_test.float().mean()) == pytest.approx(0.5, abs=1e-3)


@pytest.mark.parametrize("call, match", [
    (lambda: novelty.prepare("cifar10", "p2", 1), "dataset must be one of"),
    (lambda: novelty.prepare("mnist", "p3", 1), "protocol must be one of"),
    (lambda: novelty.prepare("mnist", "p2", 10), r"normal class must be.*\[0, 9\]"),
    (lambda: novelty.prepare("mnist", "p2", -1), r"normal class must be.*\[0, 9\]"),
    (lambda: novelty.prepare("mnist", "p1", 8, 1.0), r"anomaly_fraction must be in \(0, 1\)"),
    (lambda: novelty.prepare("mnist", "p1", 8, 0.0), r"anomaly_fraction must be in \(0, 1"),
    (lambda: novelty.prepare("mnist", "p1", 8, -0.2), r"anomaly_fraction must be in \(0, 1"),
    (lambda: novelty.prepare("mnist", "p2", 8, 0.5), "p1 only"),
    (lambda: novelty.prepare("coil100", "p2", 3), "use protocol p1"),
    (lambda: novelty.prepare("mnist", "p2", [1, 1]), "must not repeat"),
    (lambda: novelty.prepare("mnist", "p2", list(range(10))), "at least one"),
    (lambda: novelty.AutoEncoder((1, 28)), r"shape must be \(C, H, W\)"),
    (lambda: novelty.auroc([0.1, 0.2], [0, 0]), "both normal"),
    (lambda: novelty.auroc([0.1, 0.2], [0, 2]), "0 .normal. or 1"),
])
def test_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_type_errors():
    with pytest.raises(TypeError, match="normal"):
        novelty.prepare("mnist", "p2", "eight")
    with pytest.raises(TypeError, match="model"):
        novelty.scores("not a model", torch.rand(2, 1, 28, 28))


# ---- metrics ------------------------------------------------------------------------------


def test_auroc_and_f1_agree_with_sklearn():
    s, lab = np.array([0.1, 0.4, 0.35, 0.8, 0.05, 0.6]), np.array([0, 0, 1, 1, 0, 1])
    assert novelty.auroc(s, lab) == pytest.approx(roc_auc_score(lab, s)) == pytest.approx(8 / 9)
    assert novelty.auroc(torch.tensor(s), torch.tensor(lab)) == pytest.approx(8 / 9)
    assert novelty.f1_at(s, lab, 0.3) == pytest.approx(f1_score(lab, s > 0.3))
    rng = np.random.default_rng(0)
    s, lab = rng.normal(size=300) + np.repeat([0, 1], 150), np.repeat([0, 1], 150)
    t = novelty.best_threshold(s, lab)
    grid = max(f1_score(lab, s > c) for c in np.unique(s))
    assert novelty.f1_at(s, lab, t) == pytest.approx(max(grid, f1_score(lab, s > s.min() - 1)))
    fpr, tpr = novelty.roc(s, lab)
    assert fpr[0] == 0 and tpr[-1] == 1 and np.trapezoid(tpr, fpr) == pytest.approx(novelty.auroc(s, lab))
    assert novelty.best_threshold([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == pytest.approx(0.5)


# ---- model, attack, training ----------------------------------------------------------------


def test_autoencoder_shapes_and_size():
    ae = novelty.AutoEncoder()
    x = torch.rand(5, 1, 28, 28)
    with torch.no_grad():
        z, r = ae.encode(x), ae(x)
    assert z.shape == (5, 128) and r.shape == x.shape and 0 < float(r.min()) and float(r.max()) < 1
    assert sum(p.numel() for p in ae.parameters()) == 1_132_944
    assert novelty.AutoEncoder((3, 32, 32))(torch.rand(2, 3, 32, 32)).shape == (2, 3, 32, 32)


def test_latent_attack_increases_latent_distance_and_stays_in_the_ball(mnist_small):
    torch.manual_seed(0)
    ae = novelty.AutoEncoder().eval()
    x = mnist_small[:64]
    eps = 0.2
    adv = novelty.latent_attack(ae, x, eps, steps=10, generator=torch.Generator().manual_seed(0))
    assert (adv - x).abs().max() <= eps + 1e-6 and adv.min() >= 0 and adv.max() <= 1
    noise = (x + eps * (2 * torch.rand(x.shape, generator=torch.Generator().manual_seed(1)) - 1)).clamp(0, 1)
    with torch.no_grad():
        d_adv, d_rand = novelty.latent_distance(ae, x, adv), novelty.latent_distance(ae, x, noise)
    assert (d_adv > d_rand).float().mean() >= 0.95 and d_adv.mean() >= 3 * d_rand.mean()
    assert all(p.grad is None for p in ae.parameters())
    plain = novelty.latent_attack(ae, x, eps, steps=10, random_start=False)
    assert (plain - x).abs().max() <= eps + 1e-6
    assert torch.equal(novelty.latent_attack(ae, x, 0.0), x)


@pytest.mark.parametrize("method", ["arae", "dae"])
def test_one_training_step_lowers_the_loss(method, mnist_small):
    x = mnist_small[:128]
    torch.manual_seed(0)
    ae = novelty.AutoEncoder()

    def loss():
        g = torch.Generator().manual_seed(5)
        with torch.enable_grad():
            adv = novelty.latent_attack(ae, x, 0.2, steps=5, generator=g)
        with torch.no_grad():
            if method == "arae":
                return float(novelty.arae_loss(ae, x, adv, 0.1)[0])
            return float(novelty.dae_loss(ae, x, 0.2, generator=g))

    before = loss()
    hist = novelty.fit(ae, x, method=method, epochs=1, batch_size=128, steps=5, progress_bar=False)
    assert len(hist) == 1 and hist[0]["loss"] > 0
    assert loss() < before


def test_same_seed_same_model(mnist_small):
    def run():
        torch.manual_seed(3)
        ae = novelty.AutoEncoder()
        novelty.fit(ae, mnist_small[:64], method="arae", epochs=1, batch_size=32, steps=2, seed=4,
                    progress_bar=False)
        return ae

    a, b = run(), run()
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_fit_checks_arguments(mnist_small):
    ae = novelty.AutoEncoder()
    with pytest.raises(ValueError, match="method must be one of"):
        novelty.fit(ae, mnist_small, method="vae")
    with pytest.raises(ValueError, match="eps"):
        novelty.fit(ae, mnist_small, eps=2.0)
    with pytest.raises(ValueError, match="epochs"):
        novelty.fit(ae, mnist_small, epochs=0)


# ---- command line -------------------------------------------------------------------------


def test_cli_round_trip(tmp_path, capsys):
    run = str(tmp_path / "run")
    assert novelty.main(["--dir", run, "prepare", "mnist", "p1", "0.5", "8", "--max-train", "64",
                         "--max-test", "80"]) == 0
    out = capsys.readouterr().out
    assert "train 64" in out and "test 80" in out
    spec = json.loads((tmp_path / "run" / "split.json").read_text())
    assert spec["normal"] == [8] and spec["anomaly_fraction"] == 0.5
    assert novelty.main(["--dir", run, "train", "--epochs", "1", "--steps", "2", "--method", "arae"]) == 0
    assert "auroc" in capsys.readouterr().out
    ckpt = io.load_verified(tmp_path / "run" / "model.pt")
    assert ckpt["meta"]["recipe"]["steps"] == 2 and ckpt["meta"]["recipe"]["eps"] == 0.2
    assert novelty.main(["--dir", run, "test"]) == 0
    out = capsys.readouterr().out
    assert "auroc" in out and "f1" in out and "threshold" in out
    assert f"auroc {ckpt['meta']['metrics']['auroc']:.4f}" in out
    assert novelty.main(["test", str(tmp_path / "run" / "model.pt")]) == 0


@pytest.mark.parametrize("argv, match", [
    (["prepare", "svhn", "p2", "1"], "dataset must be one of"),
    (["prepare", "mnist", "p1", "1.5", "8"], r"anomaly_fraction must be in \(0, 1\)"),
    (["prepare", "mnist", "p1", "0.5", "12"], r"normal class must be.*\[0, 9\]"),
    (["prepare", "mnist", "p1", "0.5"], "p1 takes an anomaly fraction"),
    (["prepare", "mnist", "p2", "x"], "class must be a int"),
    (["train"], "run `prepare` first"),
])
def test_cli_errors(argv, match, tmp_path, capsys):
    with pytest.raises(SystemExit):
        novelty.main(["--dir", str(tmp_path / "empty"), *argv])
    assert len(__import__("re").findall(match, capsys.readouterr().err)) == 1


# ---- Fashion-MNIST and COIL-100 from tiny fixtures in their on-disk formats --------------------


def write_idx(path, arr):
    arr = np.asarray(arr, dtype=np.uint8)
    magic = 0x0800 | arr.ndim
    path.write_bytes(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in arr.shape) + arr.tobytes())


@pytest.fixture
def fashion_root(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 60), ("t10k", 30)):
        write_idx(raw / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        write_idx(raw / f"{split}-labels-idx1-ubyte", np.arange(n) % 10)
    return tmp_path


def test_fashion_mnist_from_idx_files(fashion_root, tmp_path, capsys):
    x, y = data.fashion_mnist(train=True, root=fashion_root)
    assert x.shape == (60, 1, 28, 28) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert y.tolist() == [i % 10 for i in range(60)]
    s = novelty.prepare("fashion_mnist", "p2", 2, root=fashion_root)
    assert len(s.x_train) == 6 and len(s.x_test) == 30 and int((s.y_test == 0).sum()) == 3
    run = str(tmp_path / "run")
    assert novelty.main(["--dir", run, "prepare", "fashion_mnist", "p2", "2", "--root", str(fashion_root)]) == 0
    assert novelty.main(["--dir", run, "train", "--epochs", "1", "--steps", "1"]) == 0
    rec = io.load_verified(tmp_path / "run" / "model.pt")["meta"]["recipe"]
    assert rec["eps"] == 0.05 and rec["dataset"] == "fashion_mnist"
    assert novelty.main(["--dir", run, "test"]) == 0
    assert "fashion_mnist p2" in capsys.readouterr().out


def test_fashion_mnist_missing_is_a_clear_error(tmp_path, monkeypatch):
    import urllib.request

    def offline(*a, **k):
        raise OSError("offline")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    from robustcore import data
    with pytest.raises(data.DataNotFoundError, match="FashionMNIST"):
        data.fashion_mnist(root=tmp_path / "nothing")


@pytest.fixture
def coil_root(tmp_path):
    from PIL import Image

    folder = tmp_path / "coil-100"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for obj in range(1, 101):
        colour = rng.integers(0, 256, 3)
        for angle in (0, 5, 10, 15, 20):
            img = np.tile(colour, (128, 128, 1)).astype(np.uint8)
            img[: angle * 4] = 255 - img[: angle * 4]
            Image.fromarray(img).save(folder / f"obj{obj}__{angle}.png")
    (folder / "convertGroupppm2png.pl").write_text("# not an image\n")
    return tmp_path


def test_coil100_from_png_files(coil_root, tmp_path, capsys):
    x, y = data.coil100(coil_root)
    assert x.shape == (500, 3, 32, 32) and 0 <= x.min() and x.max() <= 1
    assert y.tolist() == [k for k in range(100) for _ in range(5)]
    assert torch.allclose(x[0], x[0, :, :1, :1].expand_as(x[0]), atol=1e-6)   # object 1, angle 0: one colour
    assert not torch.allclose(x[1], x[1, :, -1:, -1:].expand_as(x[1]), atol=1e-3)  # angle 5: rows inverted
    s = novelty.prepare("coil100", "p1", [3, 17, 42, 64], root=coil_root)
    assert s.anomaly_fraction == 0.25 and set(s.c_test[s.y_test == 0].tolist()) <= {3, 17, 42, 64}
    assert float(s.y_test.float().mean()) == pytest.approx(0.25, abs=0.1)
    assert novelty.prepare("coil100", "p1", 5, root=coil_root).anomaly_fraction == 0.5
    run = str(tmp_path / "run")
    assert novelty.main(["--dir", run, "prepare", "coil100", "p1", "0.15", "1", "2", "3", "4", "5", "6", "7",
                         "--root", str(coil_root)]) == 0
    assert novelty.main(["--dir", run, "train", "--epochs", "1", "--steps", "1"]) == 0
    rec = io.load_verified(tmp_path / "run" / "model.pt")["meta"]["recipe"]
    assert rec["batch_size"] == 16 and rec["steps"] == 1 and rec["eps"] == 0.05
    assert novelty.main(["--dir", run, "test"]) == 0
    assert "coil100 p1" in capsys.readouterr().out
    with pytest.raises(ValueError, match=r"normal class must be.*\[0, 99\]"):
        novelty.prepare("coil100", "p1", 100, root=coil_root)


# ---- the named models ---------------------------------------------------------------------


def test_every_named_model_is_declared():
    names = set(novelty.ARTIFACTS)
    for p in ("p1", "p2"):
        for c in range(10):
            for m in ("dae", "arae"):
                assert novelty.zoo_name(p, c, m) in names
    rec = novelty.ARTIFACTS["novelty-mnist-p2-8-arae"].recipe("full")
    assert rec["eps"] == 0.2 and rec["steps"] == 40 and rec["gamma"] == 0.1 and rec["batch_size"] == 256
    assert novelty.ARTIFACTS["novelty-mnist-p1-8-dae"].recipe("quick")["anomaly_fraction"] == 0.5


SHIPPED = sorted(n for n, a in novelty.ARTIFACTS.items() if store.shipped_name(a, "quick") in store.manifest())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_novelty_checkpoint_verifies_and_matches_its_metrics(name, tmp_cache):
    profile = "quick"
    m = novelty.load(name, profile, train_if_missing=False)
    assert m.meta["recipe"] == novelty.ARTIFACTS[name].recipe(profile)
    res = novelty.evaluate(m, novelty.split_of(m.meta["recipe"]))
    assert res["auroc"] == pytest.approx(m.meta["metrics"]["auroc"], abs=1e-6)
