import urllib.error

import pytest
import torch

from robustcore import data


def test_data_root_env(monkeypatch, tmp_path):
    monkeypatch.setenv("ROBUSTCORE_DATA", str(tmp_path))
    assert data.data_root() == tmp_path.resolve()
    monkeypatch.delenv("ROBUSTCORE_DATA")
    assert data.data_root().parts[-2:] == ("robustcore", "data")


@pytest.mark.parametrize("train,n", [(True, 60_000), (False, 10_000)])
def test_mnist_shapes_and_range(train, n):
    x, y = data.mnist(train=train)
    assert x.shape == (n, 1, 28, 28) and x.dtype == torch.float32
    assert y.shape == (n,) and y.dtype == torch.int64
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert set(y.unique().tolist()) == set(range(10))


def test_mnist_returns_copies():
    x, _ = data.mnist(train=False)
    x[0] = 0.5
    assert not torch.equal(data.mnist(train=False)[0][0], x[0])


def test_missing_data_offline_is_one_clear_error(tmp_path, monkeypatch):
    from torchvision.datasets import MNIST

    def offline(self):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(MNIST, "download", offline)
    with pytest.raises(data.DataNotFoundError) as e:
        data.mnist(train=False, root=tmp_path)
    msg = str(e.value)
    assert str(tmp_path / "MNIST" / "raw") in msg and "ROBUSTCORE_DATA" in msg
    assert all(f in msg for f in data.MNIST_FILES)
    assert e.value.__cause__ is None and e.value.__suppress_context__


def test_load_digits():
    x, y = data.load_digits()
    assert x.shape == (1797, 1, 28, 28) and y.shape == (1797,)
    assert float(x.min()) >= 0 and float(x.max()) == pytest.approx(1.0)
    # the digit sits in the central 20x20 box, like MNIST
    assert float(x[:, :, :4].abs().sum()) == 0 and float(x[:, :, -4:].abs().sum()) == 0
    assert data.load_digits(size=16)[0].shape == (1797, 1, 16, 16)
    with pytest.raises(ValueError, match="size"):
        data.load_digits(size=2)


def test_subset_deterministic_and_stratified(mnist_test):
    x, y = data.mnist(train=False)
    a = data.subset(x, y, 100, seed=3)
    b = data.subset(x, y, 100, seed=3)
    c = data.subset(x, y, 100, seed=4)
    assert torch.equal(a[1], b[1]) and torch.equal(a[0], b[0])
    assert not torch.equal(a[0], c[0])
    assert torch.bincount(a[1], minlength=10).tolist() == [10] * 10
    assert data.subset(x, y, None)[0].shape[0] == 10_000
    assert len(data.subset(x, y, 37, stratified=False)[1]) == 37


def test_subset_bad_args():
    x, y = torch.rand(10, 1, 4, 4), torch.arange(10)
    with pytest.raises(ValueError, match="n must be"):
        data.subset(x, y, 0)
    with pytest.raises(ValueError, match="y must have shape"):
        data.subset(x, y[:5], 3)
    with pytest.raises(TypeError, match="n must be an int"):
        data.subset(x, y, 2.5)
