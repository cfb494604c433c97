import json
import re
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score, roc_auc_score

from misuse import (
    ANOM,
    BAD_Y,
    M,
    NAN,
    SCORES,
    X,
    Y,
    bad_images,
    bad_labels,
    bad_x,
    cases,
    corrupt,
    misuse_test,
    not_a_model,
    written,
)
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
    assert len(tr) == int(0.6 * n_norm) and int((s.y_val == 0).sum()) == int(
        0.2 * n_norm
    )
    assert int((s.y_test == 0).sum()) == n_norm - int(0.6 * n_norm) - int(0.2 * n_norm)
    assert all(int(c) == 3 for c in y[sorted(tr)])  # train: normal class only
    assert float(s.y_test.float().mean()) == pytest.approx(frac, abs=0.02)
    assert float(s.y_val.float().mean()) == pytest.approx(frac, abs=0.02)
    assert ((s.c_test == 3) == (s.y_test == 0)).all() and (
        (s.c_val == 3) == (s.y_val == 0)
    ).all()
    again = novelty.protocol1(x, y, 3, frac, seed=1)
    assert torch.equal(again.x_test, s.x_test)  # same seed, same split


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


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: novelty.prepare("cifar10", "p2", 1), "dataset must be one of"),
        (lambda: novelty.prepare("mnist", "p3", 1), "protocol must be one of"),
        (lambda: novelty.prepare("mnist", "p2", 10), r"normal class must be.*\[0, 9\]"),
        (lambda: novelty.prepare("mnist", "p2", -1), r"normal class must be.*\[0, 9\]"),
        (
            lambda: novelty.prepare("mnist", "p1", 8, 1.0),
            r"anomaly_fraction must be in \(0, 1\)",
        ),
        (
            lambda: novelty.prepare("mnist", "p1", 8, 0.0),
            r"anomaly_fraction must be in \(0, 1",
        ),
        (
            lambda: novelty.prepare("mnist", "p1", 8, -0.2),
            r"anomaly_fraction must be in \(0, 1",
        ),
        (lambda: novelty.prepare("mnist", "p2", 8, 0.5), "p1 only"),
        (lambda: novelty.prepare("coil100", "p2", 3), "use protocol p1"),
        (lambda: novelty.prepare("mnist", "p2", [1, 1]), "must not repeat"),
        (lambda: novelty.prepare("mnist", "p2", list(range(10))), "at least one"),
        (lambda: novelty.AutoEncoder((1, 28)), r"shape must be \(C, H, W\)"),
        (lambda: novelty.auroc([0.1, 0.2], [0, 0]), "both normal"),
        (lambda: novelty.auroc([0.1, 0.2], [0, 2]), "0 .normal. or 1"),
    ],
)
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
    assert (
        novelty.auroc(s, lab)
        == pytest.approx(roc_auc_score(lab, s))
        == pytest.approx(8 / 9)
    )
    assert novelty.auroc(torch.tensor(s), torch.tensor(lab)) == pytest.approx(8 / 9)
    assert novelty.f1_at(s, lab, 0.3) == pytest.approx(f1_score(lab, s > 0.3))
    rng = np.random.default_rng(0)
    s, lab = rng.normal(size=300) + np.repeat([0, 1], 150), np.repeat([0, 1], 150)
    t = novelty.best_threshold(s, lab)
    grid = max(f1_score(lab, s > c) for c in np.unique(s))
    assert novelty.f1_at(s, lab, t) == pytest.approx(
        max(grid, f1_score(lab, s > s.min() - 1))
    )
    fpr, tpr = novelty.roc(s, lab)
    assert (
        fpr[0] == 0
        and tpr[-1] == 1
        and np.trapezoid(tpr, fpr) == pytest.approx(novelty.auroc(s, lab))
    )
    assert novelty.best_threshold([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == pytest.approx(
        0.5
    )


# ---- model, attack, training ----------------------------------------------------------------


def test_autoencoder_shapes_and_size():
    ae = novelty.AutoEncoder()
    x = torch.rand(5, 1, 28, 28)
    with torch.no_grad():
        z, r = ae.encode(x), ae(x)
    assert (
        z.shape == (5, 128)
        and r.shape == x.shape
        and 0 < float(r.min())
        and float(r.max()) < 1
    )
    assert sum(p.numel() for p in ae.parameters()) == 1_132_944
    assert novelty.AutoEncoder((3, 32, 32))(torch.rand(2, 3, 32, 32)).shape == (
        2,
        3,
        32,
        32,
    )


def test_latent_attack_increases_latent_distance_and_stays_in_the_ball(mnist_small):
    torch.manual_seed(0)
    ae = novelty.AutoEncoder().eval()
    x = mnist_small[:64]
    eps = 0.2
    adv = novelty.latent_attack(
        ae, x, eps, steps=10, generator=torch.Generator().manual_seed(0)
    )
    assert (adv - x).abs().max() <= eps + 1e-6 and adv.min() >= 0 and adv.max() <= 1
    noise = (
        x
        + eps
        * (2 * torch.rand(x.shape, generator=torch.Generator().manual_seed(1)) - 1)
    ).clamp(0, 1)
    with torch.no_grad():
        d_adv, d_rand = (
            novelty.latent_distance(ae, x, adv),
            novelty.latent_distance(ae, x, noise),
        )
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
    hist = novelty.fit(
        ae, x, method=method, epochs=1, batch_size=128, steps=5, progress_bar=False
    )
    assert len(hist) == 1 and hist[0]["loss"] > 0
    assert loss() < before


def test_same_seed_same_model(mnist_small):
    def run():
        torch.manual_seed(3)
        ae = novelty.AutoEncoder()
        novelty.fit(
            ae,
            mnist_small[:64],
            method="arae",
            epochs=1,
            batch_size=32,
            steps=2,
            seed=4,
            progress_bar=False,
        )
        return ae

    a, b = run(), run()
    assert all(
        torch.equal(p, q)
        for p, q in zip(a.state_dict().values(), b.state_dict().values())
    )


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
    assert (
        novelty.main(
            [
                "--dir",
                run,
                "prepare",
                "mnist",
                "p1",
                "0.5",
                "8",
                "--max-train",
                "64",
                "--max-test",
                "80",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "train 64" in out and "test 80" in out
    spec = json.loads((tmp_path / "run" / "split.json").read_text())
    assert spec["normal"] == [8] and spec["anomaly_fraction"] == 0.5
    assert (
        novelty.main(
            ["--dir", run, "train", "--epochs", "1", "--steps", "2", "--method", "arae"]
        )
        == 0
    )
    assert "auroc" in capsys.readouterr().out
    ckpt = io.load_verified(tmp_path / "run" / "model.pt")
    assert ckpt["meta"]["recipe"]["steps"] == 2 and ckpt["meta"]["recipe"]["eps"] == 0.2
    assert novelty.main(["--dir", run, "test"]) == 0
    out = capsys.readouterr().out
    assert "auroc" in out and "f1" in out and "threshold" in out
    assert f"auroc {ckpt['meta']['metrics']['auroc']:.4f}" in out
    assert novelty.main(["test", str(tmp_path / "run" / "model.pt")]) == 0


@pytest.mark.parametrize(
    "argv, match",
    [
        (["prepare", "svhn", "p2", "1"], "dataset must be one of"),
        (
            ["prepare", "mnist", "p1", "1.5", "8"],
            r"anomaly_fraction must be in \(0, 1\)",
        ),
        (["prepare", "mnist", "p1", "0.5", "12"], r"normal class must be.*\[0, 9\]"),
        (["prepare", "mnist", "p1", "0.5"], "p1 takes an anomaly fraction"),
        (["prepare", "mnist", "p2", "x"], "class must be a int"),
        (["train"], "run `prepare` first"),
    ],
)
def test_cli_errors(argv, match, tmp_path, capsys):
    with pytest.raises(SystemExit):
        novelty.main(["--dir", str(tmp_path / "empty"), *argv])
    assert len(__import__("re").findall(match, capsys.readouterr().err)) == 1


# ---- Fashion-MNIST and COIL-100 from tiny fixtures in their on-disk formats --------------------


def write_idx(path, arr):
    arr = np.asarray(arr, dtype=np.uint8)
    magic = 0x0800 | arr.ndim
    path.write_bytes(
        struct.pack(">I", magic)
        + b"".join(struct.pack(">I", d) for d in arr.shape)
        + arr.tobytes()
    )


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
    assert (
        x.shape == (60, 1, 28, 28)
        and x.dtype == torch.float32
        and 0 <= x.min()
        and x.max() <= 1
    )
    assert y.tolist() == [i % 10 for i in range(60)]
    s = novelty.prepare("fashion_mnist", "p2", 2, root=fashion_root)
    assert (
        len(s.x_train) == 6 and len(s.x_test) == 30 and int((s.y_test == 0).sum()) == 3
    )
    run = str(tmp_path / "run")
    assert (
        novelty.main(
            [
                "--dir",
                run,
                "prepare",
                "fashion_mnist",
                "p2",
                "2",
                "--root",
                str(fashion_root),
            ]
        )
        == 0
    )
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
    assert torch.allclose(
        x[0], x[0, :, :1, :1].expand_as(x[0]), atol=1e-6
    )  # object 1, angle 0: one colour
    assert not torch.allclose(
        x[1], x[1, :, -1:, -1:].expand_as(x[1]), atol=1e-3
    )  # angle 5: rows inverted
    s = novelty.prepare("coil100", "p1", [3, 17, 42, 64], root=coil_root)
    assert s.anomaly_fraction == 0.25 and set(s.c_test[s.y_test == 0].tolist()) <= {
        3,
        17,
        42,
        64,
    }
    assert float(s.y_test.float().mean()) == pytest.approx(0.25, abs=0.1)
    assert novelty.prepare("coil100", "p1", 5, root=coil_root).anomaly_fraction == 0.5
    run = str(tmp_path / "run")
    assert (
        novelty.main(
            [
                "--dir",
                run,
                "prepare",
                "coil100",
                "p1",
                "0.15",
                "1",
                "2",
                "3",
                "4",
                "5",
                "6",
                "7",
                "--root",
                str(coil_root),
            ]
        )
        == 0
    )
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
    assert (
        rec["eps"] == 0.2
        and rec["steps"] == 40
        and rec["gamma"] == 0.1
        and rec["batch_size"] == 256
    )
    assert (
        novelty.ARTIFACTS["novelty-mnist-p1-8-dae"].recipe("quick")["anomaly_fraction"]
        == 0.5
    )


SHIPPED = sorted(
    n
    for n, a in novelty.ARTIFACTS.items()
    if store.shipped_name(a, "quick") in store.manifest()
)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_novelty_checkpoint_verifies_and_matches_its_metrics(name, tmp_cache):
    profile = "quick"
    m = novelty.load(name, profile, train_if_missing=False)
    assert m.meta["recipe"] == novelty.ARTIFACTS[name].recipe(profile)
    res = novelty.evaluate(m, novelty.split_of(m.meta["recipe"]))
    assert res["auroc"] == pytest.approx(m.meta["metrics"]["auroc"], abs=1e-6)


@pytest.mark.slow
@pytest.mark.rebuild
def test_recipe_reproduces_a_shipped_novelty_detector(tmp_cache):
    """Retrain the quick DAE of protocol 1 (normal digit 8) from its recipe: the shipped
    detector's AUROC within 0.03.

    Training is chaotic in the reduction order: the weights differ across machines, the
    AUROC by about a point. Measured (same test split): shipped 0.855; retrained here
    0.869, under AVX2 kernels 0.856 (tools/second_order.py); seed 1 0.864. The tolerance
    is twice the largest difference seen.
    """
    name = "novelty-mnist-p1-8-dae"
    shipped = novelty.load(name, "quick", train_if_missing=False)
    fresh = store.build(novelty.ARTIFACTS[name], "quick", progress=False)
    assert fresh["meta"]["metrics"]["auroc"] == pytest.approx(
        shipped.meta["metrics"]["auroc"], abs=0.03
    )


# ---- misuse: bad arguments are refused and nothing is written; corrupted and tampered
# checkpoints are refused, by the functions and by the command line

AE = novelty.AutoEncoder().eval()
X3 = torch.rand(4, 3, 32, 32)  # COIL-100-shaped: not what AE takes
XS, YS = torch.rand(12, 1, 28, 28), torch.arange(12) % 3
SPLIT = novelty.protocol2(XS, YS, XS, YS, 0)
REC = novelty.recipe("mnist", "p2", 1, "dae", epochs=1)
AE_FUNCS = {  # f(model, images)
    "novelty.latent_distance": lambda m, x: novelty.latent_distance(m, x, x),
    "novelty.latent_attack": lambda m, x: novelty.latent_attack(m, x, 0.1, steps=1),
    "novelty.arae_loss": lambda m, x: novelty.arae_loss(m, x, x),
    "novelty.dae_loss": lambda m, x: novelty.dae_loss(m, x),
    "novelty.fit": lambda m, x: novelty.fit(
        m, x, epochs=1, steps=1, progress_bar=False
    ),
    "novelty.scores": lambda m, x: novelty.scores(m, x),
}


def _recipe(**changes):
    """novelty.recipe for MNIST, p2, class 1, ARAE, 1 epoch, with ``changes``."""
    args = {
        "dataset": "mnist",
        "protocol": "p2",
        "normal": 1,
        "method": "arae",
        "epochs": 1,
    }
    return novelty.recipe(**{**args, **changes})


# The labels must be the dataset's classes.
CLASSES_Y = [
    (d, y, exc, r"hold class indices in \[0, 9\]" if d == "negative" else m)
    for d, y, exc, m in BAD_Y
]
MISUSE = cases(
    "novelty",
    {
        "load_dataset:unknown": (
            lambda: novelty.load_dataset("cifar10"),
            ValueError,
            "dataset must be one of",
        ),
        "load_dataset:none": (
            lambda: novelty.load_dataset(None),
            ValueError,
            "dataset must be one of",
        ),
        "load_dataset:root-int": (
            lambda: novelty.load_dataset("mnist", root=1),
            TypeError,
            "root must be",
        ),
        "load_dataset:missing": (
            lambda: novelty.load_dataset("fashion_mnist", root="nowhere"),
            data.DataNotFoundError,
            "FashionMNIST",
        ),
        "protocol1:dataset": (
            lambda: novelty.protocol1(X, Y, 0, dataset="svhn"),
            ValueError,
            "dataset must be one of",
        ),
        "protocol1:class-out-of-range": (
            lambda: novelty.protocol1(X, Y, 10),
            ValueError,
            r"normal class must be <= 9",
        ),
        "protocol1:class-negative": (
            lambda: novelty.protocol1(X, Y, -1),
            ValueError,
            "normal class must be >= 0",
        ),
        "protocol1:normal-str": (
            lambda: novelty.protocol1(X, Y, "3"),
            TypeError,
            "normal must be a class index",
        ),
        "protocol1:normal-float": (
            lambda: novelty.protocol1(X, Y, 3.0),
            TypeError,
            "normal must be",
        ),
        "protocol1:normal-empty": (
            lambda: novelty.protocol1(X, Y, []),
            TypeError,
            "normal must be",
        ),
        "protocol1:normal-repeat": (
            lambda: novelty.protocol1(X, Y, [1, 1]),
            ValueError,
            "normal must not repeat",
        ),
        "protocol1:normal-all": (
            lambda: novelty.protocol1(X, Y, list(range(10))),
            ValueError,
            "normal must leave at least one",
        ),
        "protocol1:y-beyond-classes": (
            lambda: novelty.protocol1(X, Y + 7, 0),
            ValueError,
            r"y must hold class indices in \[0, 9\]",
        ),
        "protocol1:fraction-zero": (
            lambda: novelty.protocol1(X, Y, 0, 0.0),
            ValueError,
            r"anomaly_fraction must be in \(0, 1\)",
        ),
        "protocol1:fraction-one": (
            lambda: novelty.protocol1(X, Y, 0, 1.0),
            ValueError,
            "anomaly_fraction must be in",
        ),
        "protocol1:fraction-nan": (
            lambda: novelty.protocol1(X, Y, 0, NAN),
            ValueError,
            "anomaly_fraction must be in",
        ),
        "protocol1:fraction-str": (
            lambda: novelty.protocol1(X, Y, 0, "0.5"),
            TypeError,
            "anomaly_fraction must be",
        ),
        "protocol1:seed-negative": (
            lambda: novelty.protocol1(XS, YS, 0, seed=-1),
            ValueError,
            "seed must be >= 0",
        ),
        "protocol1:seed-float": (
            lambda: novelty.protocol1(XS, YS, 0, seed=0.5),
            TypeError,
            "seed must be an int",
        ),
        "protocol1:too-few-normal": (
            lambda: novelty.protocol1(X, Y, 0),
            ValueError,
            "at least 5 images",
        ),
        "protocol2:x_test-nan": (
            lambda: novelty.protocol2(X, Y, bad_x("nan"), Y, 0),
            ValueError,
            "x_test contains NaN",
        ),
        "protocol2:x_test-shape": (
            lambda: novelty.protocol2(X, Y, X3, Y, 0),
            ValueError,
            "x_test must hold images of the shape of x_train",
        ),
        "protocol2:no-normal": (
            lambda: novelty.protocol2(X, Y, X, Y, 7),
            ValueError,
            "holds no image of the normal",
        ),
        "protocol2:test-all-normal": (
            lambda: novelty.protocol2(X, Y, X, torch.zeros(4, dtype=torch.long), 0),
            ValueError,
            "both normal and anomalous",
        ),
        "protocol2:dataset": (
            lambda: novelty.protocol2(X, Y, X, Y, 0, dataset="cifar10"),
            ValueError,
            "dataset must be one of",
        ),
        "protocol2:class-out-of-range": (
            lambda: novelty.protocol2(X, Y, X, Y, 12),
            ValueError,
            "normal class must be",
        ),
        "prepare:dataset": (
            lambda: novelty.prepare("svhn", "p1", 0),
            ValueError,
            "dataset must be one of",
        ),
        "prepare:protocol": (
            lambda: novelty.prepare("mnist", "p3", 0),
            ValueError,
            "protocol must be one of",
        ),
        "prepare:class-out-of-range": (
            lambda: novelty.prepare("mnist", "p2", 10),
            ValueError,
            r"normal class must be <= 9",
        ),
        "prepare:coil-class": (
            lambda: novelty.prepare("coil100", "p1", 100),
            ValueError,
            r"normal class must be <= 99",
        ),
        "prepare:fraction-above": (
            lambda: novelty.prepare("mnist", "p1", 0, 1.5),
            ValueError,
            r"anomaly_fraction must be in \(0, 1\)",
        ),
        "prepare:fraction-negative": (
            lambda: novelty.prepare("mnist", "p1", 0, -0.5),
            ValueError,
            "anomaly_fraction must be in",
        ),
        "prepare:fraction-p2": (
            lambda: novelty.prepare("mnist", "p2", 0, 0.5),
            ValueError,
            "anomaly_fraction applies to protocol p1 only",
        ),
        "prepare:coil-p2": (
            lambda: novelty.prepare("coil100", "p2", 0),
            ValueError,
            "use protocol p1",
        ),
        "prepare:seed-str": (
            lambda: novelty.prepare("mnist", "p2", 0, seed="0"),
            TypeError,
            "seed must be an int",
        ),
        "prepare:max_train-one": (
            lambda: novelty.prepare("mnist", "p2", 0, max_train=1),
            ValueError,
            "max_train must be >= 2",
        ),
        "prepare:max_test-negative": (
            lambda: novelty.prepare("mnist", "p2", 0, max_test=-5),
            ValueError,
            "max_test must be >= 2",
        ),
        "prepare:max_test-float": (
            lambda: novelty.prepare("mnist", "p2", 0, max_test=1e3),
            TypeError,
            "max_test must be an int",
        ),
        "prepare:root-int": (
            lambda: novelty.prepare("mnist", "p2", 0, root=2),
            TypeError,
            "root must be",
        ),
        "prepare:missing": (
            lambda: novelty.prepare("fashion_mnist", "p2", 0, root="nowhere"),
            data.DataNotFoundError,
            "FashionMNIST",
        ),
        "latent_distance:x_other-shape": (
            lambda: novelty.latent_distance(AE, X, X[:2]),
            ValueError,
            r"x_other must have the shape of x",
        ),
        "latent_distance:x_other-range": (
            lambda: novelty.latent_distance(AE, X, X * 3),
            ValueError,
            r"x_other must have values in \[0, 1\]",
        ),
        "latent_attack:eps-negative": (
            lambda: novelty.latent_attack(AE, X, -0.1),
            ValueError,
            "eps must be in",
        ),
        "latent_attack:eps-absurd": (
            lambda: novelty.latent_attack(AE, X, 5.0),
            ValueError,
            r"eps must be in \[0, 1\]",
        ),
        "latent_attack:eps-nan": (
            lambda: novelty.latent_attack(AE, X, NAN),
            ValueError,
            "eps must be in",
        ),
        "latent_attack:eps-str": (
            lambda: novelty.latent_attack(AE, X, "0.2"),
            TypeError,
            "eps must be a real number",
        ),
        "latent_attack:steps-zero": (
            lambda: novelty.latent_attack(AE, X, steps=0),
            ValueError,
            "steps must be >= 1",
        ),
        "latent_attack:steps-absurd": (
            lambda: novelty.latent_attack(AE, X, steps=10**9),
            ValueError,
            "steps must be <=",
        ),
        "latent_attack:alpha-nan": (
            lambda: novelty.latent_attack(AE, X, alpha=NAN),
            ValueError,
            "alpha must be in",
        ),
        "latent_attack:restarts-zero": (
            lambda: novelty.latent_attack(AE, X, restarts=0),
            ValueError,
            "restarts must be >= 1",
        ),
        "latent_attack:generator": (
            lambda: novelty.latent_attack(AE, X, generator=0),
            TypeError,
            "generator must be a torch.Generator",
        ),
        "arae_loss:x_adv-shape": (
            lambda: novelty.arae_loss(AE, X, X[:1]),
            ValueError,
            "x_adv must have the shape",
        ),
        "arae_loss:x_adv-nan": (
            lambda: novelty.arae_loss(AE, X, bad_x("nan")),
            ValueError,
            "x_adv contains NaN",
        ),
        "arae_loss:gamma-negative": (
            lambda: novelty.arae_loss(AE, X, X, gamma=-1.0),
            ValueError,
            "gamma must be in",
        ),
        "arae_loss:gamma-nan": (
            lambda: novelty.arae_loss(AE, X, X, gamma=NAN),
            ValueError,
            "gamma must be in",
        ),
        "dae_loss:noise_std-negative": (
            lambda: novelty.dae_loss(AE, X, -0.2),
            ValueError,
            "noise_std must be in",
        ),
        "dae_loss:noise_std-nan": (
            lambda: novelty.dae_loss(AE, X, NAN),
            ValueError,
            "noise_std must be in",
        ),
        "dae_loss:noise_std-absurd": (
            lambda: novelty.dae_loss(AE, X, 1e9),
            ValueError,
            "noise_std must be in",
        ),
        "dae_loss:generator": (
            lambda: novelty.dae_loss(AE, X, generator="g"),
            TypeError,
            "generator must be",
        ),
        "fit:epochs-zero": (
            lambda: novelty.fit(AE, X, epochs=0, progress_bar=False),
            ValueError,
            "epochs must be >= 1",
        ),
        "fit:epochs-negative": (
            lambda: novelty.fit(AE, X, epochs=-3),
            ValueError,
            "epochs must be >= 1",
        ),
        "fit:epochs-absurd": (
            lambda: novelty.fit(AE, X, epochs=10**9),
            ValueError,
            "epochs must be <=",
        ),
        "fit:epochs-float": (
            lambda: novelty.fit(AE, X, epochs=2.0),
            TypeError,
            "epochs must be an int",
        ),
        "fit:batch_size-zero": (
            lambda: novelty.fit(AE, X, batch_size=0),
            ValueError,
            "batch_size must be >= 1",
        ),
        "fit:lr-zero": (
            lambda: novelty.fit(AE, X, lr=0.0),
            ValueError,
            "lr must be in",
        ),
        "fit:lr-nan": (lambda: novelty.fit(AE, X, lr=NAN), ValueError, "lr must be in"),
        "fit:lr-absurd": (
            lambda: novelty.fit(AE, X, lr=1e6),
            ValueError,
            "lr must be in",
        ),
        "fit:gamma-negative": (
            lambda: novelty.fit(AE, X, gamma=-0.1),
            ValueError,
            "gamma must be in",
        ),
        "fit:eps-absurd": (
            lambda: novelty.fit(AE, X, eps=2.0),
            ValueError,
            r"eps must be in \[0, 1\]",
        ),
        "fit:eps-negative": (
            lambda: novelty.fit(AE, X, eps=-0.2),
            ValueError,
            "eps must be in",
        ),
        "fit:steps-zero": (
            lambda: novelty.fit(AE, X, steps=0),
            ValueError,
            "steps must be >= 1",
        ),
        "fit:steps-absurd": (
            lambda: novelty.fit(AE, X, steps=10**8),
            ValueError,
            "steps must be <=",
        ),
        "fit:alpha-negative": (
            lambda: novelty.fit(AE, X, alpha=-0.01),
            ValueError,
            "alpha must be in",
        ),
        "fit:method": (
            lambda: novelty.fit(AE, X, method="vae"),
            ValueError,
            "method must be one of",
        ),
        "fit:noise_std-nan": (
            lambda: novelty.fit(AE, X, method="dae", noise_std=NAN),
            ValueError,
            "noise_std must be in",
        ),
        "fit:warmup-beyond-epochs": (
            lambda: novelty.fit(AE, X, epochs=2, eps_warmup_epochs=5.0),
            ValueError,
            "eps_warmup_epochs must be in",
        ),
        "fit:seed-str": (
            lambda: novelty.fit(AE, X, seed="0"),
            TypeError,
            "seed must be an int",
        ),
        "fit:seed-negative": (
            lambda: novelty.fit(AE, X, seed=-1),
            ValueError,
            "seed must be >= 0",
        ),
        "scores:batch_size-zero": (
            lambda: novelty.scores(AE, X, batch_size=0),
            ValueError,
            "batch_size must be >= 1",
        ),
        "scores:batch_size-float": (
            lambda: novelty.scores(AE, X, batch_size=10.0),
            TypeError,
            "batch_size must be an int",
        ),
        "f1_at:threshold-nan": (
            lambda: novelty.f1_at(SCORES, ANOM, NAN),
            ValueError,
            "threshold must be in",
        ),
        "f1_at:threshold-str": (
            lambda: novelty.f1_at(SCORES, ANOM, "0.5"),
            TypeError,
            "threshold must be a real",
        ),
        "evaluate:split-str": (
            lambda: novelty.evaluate(AE, "p2"),
            TypeError,
            "split must be a novelty.Split",
        ),
        "evaluate:split-dict": (
            lambda: novelty.evaluate(AE, {"x_test": X}),
            TypeError,
            "split must be",
        ),
        "evaluate:model-str": (
            lambda: novelty.evaluate("arae", SPLIT),
            TypeError,
            "model must be",
        ),
        "evaluate:model-shape": (
            lambda: novelty.evaluate(novelty.AutoEncoder((3, 32, 32), (8,), 4), SPLIT),
            ValueError,
            r"x must hold images of shape \(3, 32, 32\)",
        ),
        "recipe:dataset": (
            lambda: _recipe(dataset="svhn"),
            ValueError,
            "dataset must be one of",
        ),
        "recipe:protocol": (
            lambda: _recipe(protocol="p0"),
            ValueError,
            "protocol must be one of",
        ),
        "recipe:method": (
            lambda: _recipe(method="vae"),
            ValueError,
            "method must be one of",
        ),
        "recipe:class-out-of-range": (
            lambda: _recipe(normal=10),
            ValueError,
            "normal class must be <= 9",
        ),
        "recipe:epochs-zero": (
            lambda: _recipe(epochs=0),
            ValueError,
            "epochs must be >= 1",
        ),
        "recipe:epochs-absurd": (
            lambda: _recipe(epochs=10**9),
            ValueError,
            "epochs must be <=",
        ),
        "recipe:epochs-str": (
            lambda: _recipe(epochs="40"),
            TypeError,
            "epochs must be an int",
        ),
        "recipe:fraction": (
            lambda: _recipe(protocol="p1", anomaly_fraction=1.5),
            ValueError,
            r"anomaly_fraction must be in \(0, 1\)",
        ),
        "recipe:seed-negative": (
            lambda: _recipe(seed=-1),
            ValueError,
            "seed must be >= 0",
        ),
        "recipe:unknown-setting": (
            lambda: _recipe(stpes=3),
            ValueError,
            r"unknown recipe setting.*stpes",
        ),
        "recipe:steps-negative": (
            lambda: _recipe(steps=-1),
            ValueError,
            "steps must be >= 1",
        ),
        "recipe:batch_size-zero": (
            lambda: _recipe(batch_size=0),
            ValueError,
            "batch_size must be >= 1",
        ),
        "recipe:eps-absurd": (lambda: _recipe(eps=8.0), ValueError, "eps must be in"),
        "recipe:lr-nan": (lambda: _recipe(lr=NAN), ValueError, "lr must be in"),
        "recipe:max_test-one": (
            lambda: _recipe(max_test=1),
            ValueError,
            "max_test must be >= 2",
        ),
        "split_of:str": (
            lambda: novelty.split_of("novelty-mnist-p2-1-arae"),
            TypeError,
            "rec must be a recipe",
        ),
        "split_of:incomplete": (
            lambda: novelty.split_of({"dataset": "mnist"}),
            TypeError,
            "rec must be a recipe",
        ),
        "split_of:dataset": (
            lambda: novelty.split_of({**REC, "dataset": "svhn"}),
            ValueError,
            r"rec\['dataset'\] must be one of",
        ),
        "split_of:class-out-of-range": (
            lambda: novelty.split_of({**REC, "normal": [10]}),
            ValueError,
            "normal class must be",
        ),
        "make:none": (lambda: novelty.make(None), TypeError, "rec must be a recipe"),
        "make:dataset": (
            lambda: novelty.make({**REC, "dataset": "cifar10"}),
            ValueError,
            r"rec\['dataset'\]",
        ),
        "train_recipe:model-str": (
            lambda: novelty.train_recipe("arae", REC, False),
            TypeError,
            "model must be",
        ),
        "train_recipe:rec-str": (
            lambda: novelty.train_recipe(AE, "recipe", False),
            TypeError,
            "rec must be a recipe",
        ),
        "train_recipe:method": (
            lambda: novelty.train_recipe(AE, {**REC, "method": "vae"}, False),
            ValueError,
            r"rec\['method'\] must be one of",
        ),
        "train_recipe:epochs-zero": (
            lambda: novelty.train_recipe(AE, {**REC, "epochs": 0}, False),
            ValueError,
            r"rec\['epochs'\] must be >= 1",
        ),
        "train_recipe:steps-absurd": (
            lambda: novelty.train_recipe(AE, {**REC, "steps": 10**9}, False),
            ValueError,
            "steps must be <=",
        ),
        "train_recipe:model-shape": (
            lambda: novelty.train_recipe(
                AE, {**REC, "dataset": "coil100", "protocol": "p1"}, False
            ),
            ValueError,
            r"rec\['dataset'\] 'coil100'",
        ),
        "train_recipe:root-int": (
            lambda: novelty.train_recipe(AE, REC, False, root=4),
            TypeError,
            "root must be",
        ),
        "zoo_name:protocol": (
            lambda: novelty.zoo_name("p3", 1, "arae"),
            ValueError,
            "protocol must be one of",
        ),
        "zoo_name:class-out-of-range": (
            lambda: novelty.zoo_name("p2", 10, "arae"),
            ValueError,
            "normal must be <= 9",
        ),
        "zoo_name:class-str": (
            lambda: novelty.zoo_name("p2", "1", "arae"),
            TypeError,
            "normal must be an int",
        ),
        "zoo_name:method": (
            lambda: novelty.zoo_name("p2", 1, "vae"),
            ValueError,
            "method must be one of",
        ),
        "zoo_name:dataset": (
            lambda: novelty.zoo_name("p2", 1, "arae", "svhn"),
            ValueError,
            "dataset must be one of",
        ),
        "check_autoencoder:str": (
            lambda: novelty.check_autoencoder("ae"),
            TypeError,
            "model must be",
        ),
        "check_autoencoder:classifier": (
            lambda: novelty.check_autoencoder(M),
            TypeError,
            "model must be an autoencoder",
        ),
        "fit_recipe:rec": (
            lambda: novelty.fit_recipe(AE, {"x": 1}),
            TypeError,
            "rec must be a recipe dict",
        ),
    },
)
MISUSE += bad_images(
    {
        "novelty.protocol1": lambda x: novelty.protocol1(x, Y[: len(x)], 0),
        "novelty.protocol2": lambda x: novelty.protocol2(x, Y[: len(x)], X, Y, 0),
        **{k: (lambda x, f=f: f(AE, x)) for k, f in AE_FUNCS.items()},
    }
)
MISUSE += bad_labels(
    {"novelty.protocol1": lambda y: novelty.protocol1(X, y, 0)}, defects=CLASSES_Y
)
MISUSE += bad_labels(
    {"novelty.protocol2": lambda y: novelty.protocol2(X, y, X, Y, 0)},
    "y_train",
    CLASSES_Y,
)
MISUSE += bad_labels(
    {"novelty.protocol2": lambda y: novelty.protocol2(X, Y, X, y, 0)},
    "y_test",
    CLASSES_Y,
)
MISUSE += not_a_model(
    {k: (lambda m, f=f: f(m, X)) for k, f in AE_FUNCS.items()}, "arae", "model must be"
)
MISUSE += [
    case
    for k, f in AE_FUNCS.items()
    for case in (
        (
            f"{k}[x:image-size]",
            (lambda f=f: f(AE, X3)),
            ValueError,
            r"x must hold images of shape \(1, 28, 28\)",
        ),
        (
            f"{k}[model:not-an-autoencoder]",
            (lambda f=f: f(M, X)),
            TypeError,
            "model must be an autoencoder",
        ),
    )
]
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)


def _novelty_checkpoint(folder: Path) -> Path:
    """A novelty checkpoint as ``python -m robustcore.novelty train`` writes it
    (untrained weights)."""
    rec = novelty.recipe("mnist", "p2", 1, "dae", epochs=1, max_train=8, max_test=8)
    state = {k: v.detach().clone() for k, v in novelty.make(rec).state_dict().items()}
    target = folder / "model.pt"
    meta = {"recipe": rec, "metrics": {}, "root": None}
    io.atomic_save({"state_dict": state, "meta": meta}, target)
    return target


def _cli_refuses(argv, match, capsys):
    with pytest.raises(SystemExit) as e:
        novelty.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert re.search(match, err), err


@pytest.mark.parametrize("how", ["truncated", "flipped", "appended", "empty"])
def test_corrupted_novelty_checkpoint_is_refused(how, tmp_path, capsys):
    ckpt = _novelty_checkpoint(tmp_path)
    corrupt(ckpt, how)
    before = ckpt.read_bytes()
    argv = ["--dir", str(tmp_path), "test", str(ckpt)]
    _cli_refuses(argv, "corrupted or was modified", capsys)
    assert ckpt.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt", "model.pt.sha256"]


@pytest.mark.parametrize(
    "content, match",
    [
        ({"weights": torch.zeros(2)}, "not a novelty checkpoint"),
        ({"state_dict": {"w": torch.zeros(2)}, "meta": {}}, "not a novelty checkpoint"),
        ("state_dict", "not a novelty checkpoint"),
        ("wrong-shapes", "not a novelty checkpoint of its recipe"),
        ("wrong-dataset", "not a novelty checkpoint of its recipe"),
    ],
)
def test_tampered_novelty_checkpoint_with_a_forged_digest_is_refused(
    content, match, tmp_path, capsys
):
    """Someone edits the file and its .sha256: the content must still be a novelty
    checkpoint."""
    ckpt = _novelty_checkpoint(tmp_path)
    if content in ("wrong-shapes", "wrong-dataset"):
        obj = torch.load(ckpt, weights_only=True)
        if content == "wrong-shapes":
            obj["state_dict"] = novelty.AutoEncoder(latent=16).state_dict()
        else:
            obj["meta"]["recipe"]["dataset"] = "svhn"
        content = obj
    torch.save(content, ckpt)
    ckpt.with_name(ckpt.name + ".sha256").write_text(io.sha256(ckpt))
    _cli_refuses(["--dir", str(tmp_path), "test", str(ckpt)], match, capsys)


def test_novelty_checkpoint_without_digest_or_file_is_refused(tmp_path, capsys):
    ckpt = _novelty_checkpoint(tmp_path)
    ckpt.with_name(ckpt.name + ".sha256").unlink()
    argv = ["--dir", str(tmp_path), "test"]
    _cli_refuses([*argv, str(ckpt)], "unverified", capsys)
    _cli_refuses([*argv, str(tmp_path / "other.pt")], "no file at", capsys)


@pytest.mark.parametrize(
    "argv, match",
    [
        (["prepare", "mnist", "p3", "1"], "protocol must be one of"),
        (
            ["prepare", "mnist", "p1", "nan", "1"],
            r"anomaly_fraction must be in \(0, 1\)",
        ),
        (["prepare", "mnist", "p1", "0", "1"], r"anomaly_fraction must be in \(0, 1\)"),
        (["prepare", "mnist", "p2", "-1"], "normal class must be >= 0"),
        (["prepare", "coil100", "p1", "0.5", "100"], r"normal class must be <= 99"),
        (["prepare", "mnist", "p2", "1", "--max-train", "0"], "max_train must be >= 2"),
        (["prepare", "mnist", "p2", "1", "--seed", "-3"], "seed must be >= 0"),
    ],
)
def test_cli_misuse_writes_nothing(argv, match, sandbox, capsys):
    _cli_refuses(["--dir", str(sandbox / "run"), *argv], match, capsys)
    assert written(sandbox) == []


@pytest.mark.parametrize(
    "argv, match",
    [
        (["train", "--epochs", "0"], "epochs must be >= 1"),
        (["train", "--steps", "-1"], "steps must be >= 1"),
        (["train", "--batch-size", "0"], "batch_size must be >= 1"),
        (["train", "--eps", "3"], "eps must be in"),
        (["train", "--lr", "nan"], "lr must be in"),
    ],
)
def test_cli_train_misuse_writes_no_model(argv, match, sandbox, capsys):
    run = sandbox / "run"
    run.mkdir()
    split = {
        "dataset": "mnist",
        "protocol": "p2",
        "normal": [1],
        "anomaly_fraction": None,
        "seed": 0,
        "root": None,
        "max_train": 8,
        "max_test": 8,
    }
    io.atomic_write_json(split, run / "split.json")
    before = written(sandbox)
    _cli_refuses(["--dir", str(run), *argv], match, capsys)
    assert written(sandbox) == before
