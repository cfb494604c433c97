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


def test_select_classes_relabels_in_the_given_order(mnist_test):
    x, y = mnist_test
    xs, ys = data.select_classes(x, y, (7, 3))
    assert set(ys.tolist()) == {0, 1} and len(ys) == int(((y == 3) | (y == 7)).sum())
    assert torch.equal(ys == 0, y[(y == 3) | (y == 7)] == 7)
    for bad in [(3,), (3, 3), [3, -1]]:
        with pytest.raises(ValueError, match="classes"):
            data.select_classes(x, y, bad)


def test_perturbation_groups_are_deterministic_and_each_does_what_it_says(mnist_test):
    x, y = mnist_test
    xp, yp, g = data.perturbation_groups(x, y, seed=5)
    xp2, _, g2 = data.perturbation_groups(x, y, seed=5)
    assert torch.equal(xp, xp2) and torch.equal(g, g2) and torch.equal(yp, y)
    assert not torch.equal(data.perturbation_groups(x, y, seed=6)[0], xp)
    assert torch.bincount(g, minlength=6)[1:].tolist() == [100] * 5
    assert 0 <= xp.min() and xp.max() <= 1
    diff = xp - x
    assert torch.equal(xp[g == 5], x[g == 5])                      # 5: unmodified
    for gid, axis in [(1, 2), (2, 3)]:                              # 1: vertical, 2: horizontal lines
        changed = diff[g == gid].abs() > 0
        assert (xp[g == gid][changed] == 1).all()                   # strokes are white
        box = xp[g == gid][:, :, 4:24, 4:24]                        # the central 20×20 box
        lines = (box == 1).all(dim=axis)[:, 0]                      # columns / rows white across it
        assert lines.any(1).all()
    noise = diff[g == 3].abs().flatten(1)
    assert ((noise > 0).float().mean(1) > 0.5).all()               # 3: noise touches most pixels
    rem = diff[g == 4]
    assert (rem <= 0).all()                                         # 4: removal only darkens ...
    for d in rem[:, 0]:                                             # ... inside one PATCH × PATCH square
        rows, cols = (d != 0).nonzero(as_tuple=True)
        if len(rows):
            assert rows.max() - rows.min() < data.PATCH and cols.max() - cols.min() < data.PATCH


def test_perturb_rejects_bad_groups_and_tiny_images(mnist_test):
    x, _ = mnist_test
    with pytest.raises(ValueError, match="group"):
        data.perturb(x, 6)
    with pytest.raises(ValueError, match="16"):
        data.perturb(torch.zeros(2, 1, 8, 8), 1)
