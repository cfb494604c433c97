"""Tests written to kill mutants that survived `make mutation` (tools/mutation.py): each pins a
documented behaviour the other tests left open, against a value worked out independently."""

import pytest
import torch
from torch import nn

from robustcore.attacks import pgd


def _small_problem():
    """A tiny non-linear classifier and a batch: the step size changes where PGD ends."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3)).eval()
    return model, torch.rand(6, 1, 4, 4), torch.randint(0, 3, (6,))


@pytest.mark.parametrize("norm,eps", [("linf", 0.3), ("l2", 1.0)])
def test_pgd_default_step_is_two_and_a_half_eps_over_steps(norm, eps):
    """pgd's doc: ``alpha`` defaults to 2.5 · eps / steps (Madry et al.'s rule of thumb)."""
    model, x, y = _small_problem()

    def run(alpha):
        torch.manual_seed(1)  # the same random start for every run
        return pgd(model, x, y, eps, norm=norm, steps=5, alpha=alpha)

    default = run(None)
    assert torch.equal(default, run(2.5 * eps / 5))
    # the case is informative: a step 40% longer or shorter ends elsewhere
    assert not torch.allclose(default, run(3.5 * eps / 5)) and not torch.allclose(default, run(1.5 * eps / 5))
