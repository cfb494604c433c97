import urllib.error
from pathlib import Path

import pytest
import torch

from misuse import X, Y, bad_images, bad_labels, cases, misuse_test, written
from robustcore import data, digits, novelty


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
    # as MNIST's: a 20-px ink box, placed by its centre of mass (tests/test_digits.py)
    assert (digits.ink_box(x).amax(1) == 20).all()
    # stretched, the whole frame fills the central 20x20 box
    xs, ys = data.load_digits(style="stretch")
    assert torch.equal(ys, y)
    assert (
        float(xs[:, :, :4].abs().sum()) == 0 and float(xs[:, :, -4:].abs().sum()) == 0
    )
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
    assert torch.equal(xp[g == 5], x[g == 5])  # 5: unmodified
    for gid, axis in [(1, 2), (2, 3)]:  # 1: vertical, 2: horizontal lines
        changed = diff[g == gid].abs() > 0
        assert (xp[g == gid][changed] == 1).all()  # strokes are white
        box = xp[g == gid][:, :, 4:24, 4:24]  # the central 20×20 box
        lines = (box == 1).all(dim=axis)[:, 0]  # columns / rows white across it
        assert lines.any(1).all()
    noise = diff[g == 3].abs().flatten(1)
    assert ((noise > 0).float().mean(1) > 0.5).all()  # 3: noise touches most pixels
    rem = diff[g == 4]
    assert (rem <= 0).all()  # 4: removal only darkens ...
    for d in rem[:, 0]:  # ... inside one PATCH × PATCH square
        rows, cols = (d != 0).nonzero(as_tuple=True)
        if len(rows):
            assert (
                rows.max() - rows.min() < data.PATCH
                and cols.max() - cols.min() < data.PATCH
            )


def test_perturb_rejects_bad_groups_and_tiny_images(mnist_test):
    x, _ = mnist_test
    with pytest.raises(ValueError, match="group"):
        data.perturb(x, 6)
    with pytest.raises(ValueError, match="16"):
        data.perturb(torch.zeros(2, 1, 8, 8), 1)


# ---- misuse: bad arguments are refused, wrong folder layouts are named, and nothing
# is written

MISUSE = (
    cases(
        "data",
        {
            "dataset:unknown": (
                lambda: data.dataset("imagenet"),
                ValueError,
                "dataset must be one of 'mnist', 'cifar10'",
            ),
            "mnist:train-str": (
                lambda: data.mnist(train="yes"),
                TypeError,
                "train must be",
            ),
            "mnist:root-int": (lambda: data.mnist(root=3), TypeError, "root must be"),
            "cifar10:root-empty": (
                lambda: data.cifar10(root=""),
                TypeError,
                "root must be",
            ),
            "load_digits:size-small": (
                lambda: data.load_digits(size=4),
                ValueError,
                "size must be >= 8",
            ),
            "load_digits:size-huge": (
                lambda: data.load_digits(size=10**6),
                ValueError,
                "size must be <= 512",
            ),
            "load_digits:size-str": (
                lambda: data.load_digits(size="28"),
                TypeError,
                "size must be an int",
            ),
            "subset:n-zero": (
                lambda: data.subset(X, Y, 0),
                ValueError,
                "n must be >= 1",
            ),
            "subset:n-negative": (
                lambda: data.subset(X, Y, -3),
                ValueError,
                "n must be >= 1",
            ),
            "subset:n-float": (
                lambda: data.subset(X, Y, 2.5),
                TypeError,
                "n must be an int",
            ),
            "subset:seed-str": (
                lambda: data.subset(X, Y, 2, seed="0"),
                TypeError,
                "seed must be an int",
            ),
            "subset:seed-negative": (
                lambda: data.subset(X, Y, 2, seed=-1),
                ValueError,
                "seed must be >= 0",
            ),
            "select_classes:one": (
                lambda: data.select_classes(X, Y, (1,)),
                ValueError,
                "classes must be",
            ),
            "select_classes:repeat": (
                lambda: data.select_classes(X, Y, (1, 1)),
                ValueError,
                "classes must not repeat",
            ),
            "select_classes:str": (
                lambda: data.select_classes(X, Y, ("a", "b")),
                TypeError,
                r"classes\[i\]",
            ),
            "select_classes:absent": (
                lambda: data.select_classes(X, Y, (8, 9)),
                ValueError,
                "none of the classes",
            ),
            "perturb:group-unknown": (
                lambda: data.perturb(X, 7),
                ValueError,
                "group must be one of",
            ),
            "perturb:too-small": (
                lambda: data.perturb(torch.rand(2, 1, 8, 8), 1),
                ValueError,
                "at least 16",
            ),
            "perturb:seed-float": (
                lambda: data.perturb(X, 3, seed=0.5),
                TypeError,
                "seed must be an int",
            ),
            "perturbation_groups:too-few": (
                lambda: data.perturbation_groups(X[:3], Y[:3]),
                ValueError,
                "at least 5",
            ),
            "fashion_mnist:train-str": (
                lambda: data.fashion_mnist(train="test"),
                TypeError,
                "train must be",
            ),
            "fashion_mnist:root-int": (
                lambda: data.fashion_mnist(root=3),
                TypeError,
                "root must be",
            ),
            "fashion_mnist:missing": (
                lambda: data.fashion_mnist(False, root="nowhere"),
                data.DataNotFoundError,
                "FashionMNIST/raw",
            ),
            "coil100:size-small": (
                lambda: data.coil100(size=4),
                ValueError,
                "size must be >= 8",
            ),
            "coil100:size-huge": (
                lambda: data.coil100(size=4096),
                ValueError,
                "size must be <= 128",
            ),
            "coil100:size-str": (
                lambda: data.coil100(size="32"),
                TypeError,
                "size must be an int",
            ),
            "coil100:root-int": (
                lambda: data.coil100(root=3),
                TypeError,
                "root must be",
            ),
            "coil100:root-empty": (
                lambda: data.coil100(root=""),
                TypeError,
                "root must be",
            ),
            "coil100:missing": (
                lambda: data.coil100(root="nowhere/deeper"),
                data.DataNotFoundError,
                "COIL-100 is not in",
            ),
            "coil100:missing-default-root": (
                lambda: data.coil100(),
                data.DataNotFoundError,
                "COIL-100 is not in",
            ),
        },
    )
    + bad_images(
        {
            "data.subset": lambda x: data.subset(x, Y[: len(x)], 2),
            "data.select_classes": lambda x: data.select_classes(
                x, Y[: len(x)], (0, 1)
            ),
            "data.perturb": lambda x: data.perturb(x, 1),
            "data.perturbation_groups": lambda x: data.perturbation_groups(
                x, Y[: len(x)]
            ),
        }
    )
    + bad_labels({"data.subset": lambda y: data.subset(X, y, 2)})
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)


def _idx_files(where: Path, files: list[str], layout: str) -> None:
    """Would-be IDX files (not readable) in ``where``: gzipped names for ``gz-only``,
    none for ``empty``."""
    where.mkdir(parents=True)
    for f in files:
        if layout != "empty":
            name = f + (".gz" if layout == "gz-only" else "")
            (where / name).write_bytes(b"not an idx file")


@pytest.mark.parametrize("layout", ["flat", "lowercase", "gz-only", "empty"])
def test_mnist_wrong_folder_layout(layout, sandbox):
    root = sandbox / "mnist-root"
    where = {
        "flat": root,
        "lowercase": root / "mnist" / "raw",
        "gz-only": root / "MNIST" / "raw",
        "empty": root,
    }[layout]
    _idx_files(where, data.MNIST_FILES, layout)
    before = written(sandbox)
    with pytest.raises(data.DataNotFoundError, match=r"MNIST/raw"):
        data.mnist(train=False, root=root)
    assert written(sandbox) == before, "a failed read left files or folders behind"


@pytest.mark.parametrize(
    "layout", ["flat", "lowercase", "mnist-name", "gz-only", "empty"]
)
def test_fashion_mnist_wrong_folder_layout(layout, sandbox):
    root = sandbox / "fashion-root"
    where = {
        "flat": root,
        "lowercase": root / "fashionmnist" / "raw",
        "mnist-name": root / "MNIST" / "raw",
        "gz-only": root / "FashionMNIST" / "raw",
        "empty": root,
    }[layout]
    _idx_files(where, data.FASHION_FILES, layout)
    before = written(sandbox)
    with pytest.raises(data.DataNotFoundError, match="FashionMNIST/raw"):
        data.fashion_mnist(train=False, root=root)
    with pytest.raises(data.DataNotFoundError, match="FashionMNIST/raw"):
        novelty.prepare("fashion_mnist", "p2", 0, root=root)
    assert written(sandbox) == before, "a failed read left files or folders behind"


def test_cifar_wrong_folder_layout(sandbox):
    root = sandbox / "cifar-root"
    (root / "cifar10").mkdir(parents=True)  # the wrong name for torchvision's folder
    before = written(sandbox)
    with pytest.raises(data.DataNotFoundError, match="cifar-10-batches-py"):
        data.cifar10(train=False, root=root)
    assert written(sandbox) == before


@pytest.mark.parametrize(
    "layout, exc, match",
    [
        ("wrong-folder", data.DataNotFoundError, "COIL-100 is not in"),
        ("flat", data.DataNotFoundError, "COIL-100 is not in"),
        ("wrong-names", data.DataNotFoundError, r"holds no obj\{k\}__\{angle\}.png"),
        ("nested", data.DataNotFoundError, "holds no obj"),
        ("object-0", ValueError, "object numbers run from 1 to 100"),
        ("not-a-png", ValueError, "obj2__0.png: not a readable PNG image"),
    ],
)
def test_coil100_wrong_folder_layout(layout, exc, match, sandbox):
    from PIL import Image

    root = sandbox / "coil-root"
    folder = {
        "wrong-folder": root / "coil100",
        "flat": root,
        "nested": root / "coil-100" / "coil-100",
    }.get(layout, root / "coil-100")
    folder.mkdir(parents=True)
    names = {
        "wrong-names": ["obj_1_0.png", "1__0.png"],
        "object-0": ["obj0__0.png"],
    }.get(layout, ["obj1__0.png", "obj2__0.png"])
    for name in names:
        image = torch.zeros(16, 16, 3, dtype=torch.uint8).numpy()
        Image.fromarray(image).save(folder / name)
    if layout == "not-a-png":
        (folder / "obj2__0.png").write_bytes(b"\x89PNG truncated")
    before = written(sandbox)
    with pytest.raises(exc, match=match):
        data.coil100(root)
    with pytest.raises(exc, match=match):
        novelty.prepare("coil100", "p1", 0, root=root)
    assert written(sandbox) == before, "a failed read left files or folders behind"


def test_missing_data_root_is_not_created(sandbox):
    with pytest.raises(data.DataNotFoundError):
        data.mnist(train=True, root=sandbox / "nowhere" / "data")
    assert written(sandbox) == []
