"""The CIFAR-10 path, offline: a tiny dataset written in CIFAR-10's real on-disk format
(``cifar-10-batches-py/``: pickled dicts of uint8 rows of 3072 = 3·32·32 bytes, channel-major),
read by torchvision's CIFAR10, then through the zoo and Chapter 2's constructions."""

import dataclasses
import pickle
import urllib.error

import numpy as np
import pytest
import torch
import torchvision.datasets.cifar

from robustcore import data, features, zoo

PER_BATCH, N_TEST = 8, 10


def _write_batch(path, rng, n):
    rows = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, size=n)]
    with open(path, "wb") as f:
        pickle.dump(
            {
                "batch_label": path.name,
                "labels": labels,
                "data": rows,
                "filenames": [f"{i}.png" for i in range(n)],
            },
            f,
        )
    return rows, labels


@pytest.fixture
def cifar_root(tmp_path, monkeypatch):
    """A 40 + 10 image CIFAR-10 in its on-disk format; returns (root, train rows, train labels, test rows)."""
    folder = tmp_path / data.CIFAR10_FOLDER
    folder.mkdir()
    rng = np.random.default_rng(0)
    train = [
        _write_batch(folder / f"data_batch_{i}", rng, PER_BATCH) for i in range(1, 6)
    ]
    test_rows, _ = _write_batch(folder / "test_batch", rng, N_TEST)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump(
            {
                "label_names": [
                    "airplane",
                    "automobile",
                    "bird",
                    "cat",
                    "deer",
                    "dog",
                    "frog",
                    "horse",
                    "ship",
                    "truck",
                ],
                "num_cases_per_batch": PER_BATCH,
            },
            f,
        )
    # The fixture cannot have the md5 sums torchvision checks the real files against.
    monkeypatch.setattr(
        torchvision.datasets.cifar, "check_integrity", lambda *a, **k: True
    )
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    rows = np.concatenate([r for r, _ in train])
    labels = [v for _, lab in train for v in lab]
    return tmp_path, rows, labels, test_rows


def test_cifar10_reads_the_on_disk_format_as_nchw_in_unit_range(cifar_root):
    root, rows, labels, test_rows = cifar_root
    x, y = data.cifar10(train=True)
    assert x.shape == (5 * PER_BATCH, 3, 32, 32) and x.dtype == torch.float32
    assert torch.equal(y, torch.tensor(labels))
    # Row layout: 1024 red, then 1024 green, then 1024 blue bytes, each row-major 32×32.
    assert torch.equal(
        (x * 255).round().to(torch.uint8), torch.from_numpy(rows.reshape(-1, 3, 32, 32))
    )
    xt, _ = data.cifar10(train=False)
    assert xt.shape == (N_TEST, 3, 32, 32) and torch.equal(
        data.dataset("cifar10", train=False)[0], xt
    )


def test_missing_cifar10_names_the_folder_and_files(tmp_path, monkeypatch):
    def offline(self):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torchvision.datasets.CIFAR10, "download", offline)
    with pytest.raises(data.DataNotFoundError) as e:
        data.cifar10(root=tmp_path)
    msg = str(e.value)
    assert (
        str(tmp_path / data.CIFAR10_FOLDER) in msg
        and "data_batch_1" in msg
        and data.ENV_VAR in msg
    )


def test_zoo_and_constructions_run_on_cifar10(cifar_root, tmp_cache, monkeypatch):
    """The same zoo fit and the same D_R / D_det construction as for MNIST, at 3×32×32."""
    for name in ("cifar10-resnet-std", "cifar10-resnet-pgd-l2"):
        a = zoo.ARTIFACTS[name]
        tiny = {
            p: {**r, "epochs": 1, "n_train": None, "eps_warmup_epochs": 0.0}
            for p, r in a.recipes.items()
        }
        monkeypatch.setitem(zoo.ARTIFACTS, name, dataclasses.replace(a, recipes=tiny))
    model = zoo.load("cifar10-resnet-pgd-l2", "quick", progress=False)
    assert model.meta["metrics"]["test_acc"] >= 0 and model.features(
        torch.zeros(2, 3, 32, 32)
    ).shape == (2, 64)
    for name, extra in (("cifar10-d_r", {"steps": 2}), ("cifar10-d_det", {"steps": 2})):
        rec = {**features.recipe(name, "quick"), "n": 12, **extra}
        monkeypatch.setitem(
            features.ARTIFACTS,
            name,
            features.artifact(name, {"quick": rec, "full": rec}),
        )
        ds = features.load_constructed(name, "quick", progress=False)
        x, y = features.source_data(rec)
        assert ds.x.shape == (12, 3, 32, 32) and 0 <= ds.x.min() and ds.x.max() <= 1
        assert torch.equal(ds.y, y if rec["kind"] == "D_R" else (y + 1) % 10)
        assert (tmp_cache / f"{name}-quick.pt").is_file()


def test_one_pixel_attack_writes_colour_pixels_on_cifar10(cifar_root):
    """A candidate pixel is (row, col, red, green, blue): all three channels change together."""
    from robustcore import attacks, models

    x, y = data.cifar10(train=False)
    torch.manual_seed(0)
    net = models.build("resnet", in_channels=3, image_size=32).eval()
    r = attacks.one_pixel(
        net, x[:4], y[:4], pixels=2, popsize=8, generations=2, progress=False
    )
    assert r.candidates.shape == (4, 2, 5)
    changed = (r.x_adv != x[:4]).any(1)  # (N, H, W): pixels with any channel changed
    assert changed.flatten(1).sum(1).le(2).all()
    rows, cols = r.candidates[..., 0].long(), r.candidates[..., 1].long()
    for i in range(4):
        for j in range(2):
            assert torch.allclose(
                r.x_adv[i, :, rows[i, j], cols[i, j]],
                r.candidates[i, j, 2:].clamp(0, 1),
            )
