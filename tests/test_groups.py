"""The perturbation groups' strength: how far each changed pixel moves."""

import pytest
import torch

from robustcore import data


@pytest.fixture(scope="module")
def digits():
    x, y = data.mnist(train=False)
    return data.subset(x, y, 50, seed=2)


@pytest.mark.parametrize("group", list(data.GROUPS))
def test_strength_interpolates_between_the_digit_and_its_full_perturbation(
    digits, group
):
    x, _ = digits
    full = data.perturb(x, group, seed=4)
    assert torch.equal(data.perturb(x, group, seed=4, strength=1.0), full)
    assert torch.equal(data.perturb(x, group, seed=4, strength=0.0), x)
    half = data.perturb(x, group, seed=4, strength=0.5)
    assert torch.allclose(half, (x + full) / 2, atol=1e-6)
    if group != 5:  # group 5 changes nothing
        assert (full != x).any()  # the case is informative


def test_groups_at_a_strength_keep_the_split(digits):
    x, y = digits
    xs, ys, gs = data.perturbation_groups(x, y, seed=0, strength=0.25)
    xf, _, gf = data.perturbation_groups(x, y, seed=0)
    assert torch.equal(gs, gf) and torch.equal(ys, y)
    assert torch.allclose(xs, x + 0.25 * (xf - x), atol=1e-6)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "1"])
def test_bad_strength_is_refused(digits, bad):
    x, _ = digits
    with pytest.raises((ValueError, TypeError), match="strength"):
        data.perturb(x, 1, strength=bad)
