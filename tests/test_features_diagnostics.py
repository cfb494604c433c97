import pytest
import torch
from torch import nn

from robustcore import data, features, models


class Constant(nn.Module):
    """Always answers class ``c``."""

    def __init__(self, c: int, classes: int = 10):
        super().__init__()
        self.c, self.classes = c, classes
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        out = torch.zeros(len(x), self.classes) + 0 * self.w
        out[:, self.c] = 1.0
        return out


def test_read_as_counts_the_images_read_as_the_labels():
    x = torch.rand(8, 1, 28, 28)
    labels = torch.tensor([3, 3, 3, 1, 2, 3, 0, 3])
    est = features.read_as(Constant(3), x, labels)
    assert est.value == pytest.approx(5 / 8) and est.n == 8
    assert est.low < 5 / 8 < est.high


def test_relabel_sweep_separates_what_fools_the_standard_model_from_what_a_robust_one_reads(
    trained_mlp, mnist_test
):
    """A robust model that reads only the true label (here: one that is always right,
    by construction) reads every perturbed image as y whatever ε; the standard model
    is fooled toward t more as ε grows (D_det's targets, t = y + 1 mod 10)."""
    x, y = mnist_test
    x, y = x[:60], y[:60]

    class Oracle(nn.Module):  # answers the true class of the image it was given
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

        def forward(self, xb):
            return (
                nn.functional.one_hot(self.labels[: len(xb)], 10).float() + 0 * self.w
            )

    oracle = Oracle()
    oracle.labels = y
    rows = features.relabel_sweep(trained_mlp, oracle, x, y, [0.5, 3.0], steps=20)
    assert [r["eps"] for r in rows] == [0.5, 3.0]
    assert all(
        r["robust → y"].value == 1.0 and r["robust → t"].value == 0 for r in rows
    )
    assert rows[0]["std → t"].value < rows[1]["std → t"].value
    assert rows[1]["std → t"].value > 0.5


def test_relabel_sweep_rand_targets_are_other_classes(trained_mlp, mnist_test):
    x, y = mnist_test
    rows = features.relabel_sweep(
        trained_mlp, Constant(0), x[:40], y[:40], [3.0], mode="rand", steps=10
    )
    # the constant model says 0: "robust → y" is the share of 0s among y
    assert rows[0]["robust → y"].value == pytest.approx(
        float((y[:40] == 0).float().mean())
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"eps": []}, "eps"),
        ({"eps": "3"}, "eps"),
        ({"eps": [0.0]}, "eps"),
        ({"eps": [1.0], "mode": "random"}, "mode"),
        ({"eps": [1.0], "num_classes": 1}, "num_classes"),
    ],
)
def test_relabel_sweep_refuses_bad_arguments(kwargs, match):
    torch.manual_seed(0)
    x, y = data.mnist(train=False)
    m = models.build("cnn").eval()
    with pytest.raises((ValueError, TypeError), match=match):
        features.relabel_sweep(m, m, x[:4], y[:4], **kwargs)


def test_start_indices_name_the_image_each_start_was_taken_from():
    x, _ = data.mnist(train=False)
    x = x[:30]
    idx = features.start_indices(30, seed=5)
    assert torch.equal(features.starting_points(x, "image", seed=5), x[idx])
    assert not (idx == torch.arange(30)).any()
    assert sorted(idx.tolist()) == list(range(30))  # a permutation: each used once
    with pytest.raises(ValueError, match="n"):
        features.start_indices(1)
