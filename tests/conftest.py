import os

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(scope="session")
def mnist_test():
    from robustcore import data
    x, y = data.mnist(train=False)
    return data.subset(x, y, 500, seed=1)


@pytest.fixture(scope="session")
def trained_mlp():
    """An MLP trained for one epoch on 10k MNIST images (about 2 s): accurate, not robust."""
    from robustcore import data, models, train
    x, y = data.mnist(train=True)
    x, y = data.subset(x, y, 10_000, seed=0)
    m = models.build("mlp")
    train.train(m, x, y, epochs=2, batch_size=128, lr=1e-3, progress=False)
    return m.eval()


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """An empty zoo cache for the test."""
    monkeypatch.setenv("ROBUSTCORE_CACHE", str(tmp_path / "ckpt"))
    return tmp_path / "ckpt"
