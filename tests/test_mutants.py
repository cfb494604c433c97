"""Tests written to kill mutants that survived `make mutation` (tools/mutation.py): each pins a
documented behaviour the other tests left open, against a value worked out independently."""

import pytest
import torch
from torch import nn

from robustcore import attacks, novelty
from robustcore.attacks import fgsm, pgd


def _small_problem():
    """A tiny non-linear classifier and a batch: the step size changes where PGD ends."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3)
    ).eval()
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
    assert not torch.allclose(default, run(3.5 * eps / 5)) and not torch.allclose(
        default, run(1.5 * eps / 5)
    )


def test_fgsm_is_one_signed_step_away_from_or_towards_the_label():
    """FGSM by hand: x ± eps · sign(∇ CE), clipped to [0, 1] — up the loss of the true label,
    down the loss of the target when targeted; at eps = 1 it still moves."""
    model, x, y = _small_problem()
    for eps, targeted in ((0.1, False), (0.1, True), (1.0, False)):
        xr = x.clone().requires_grad_(True)
        loss = nn.functional.cross_entropy(model(xr), y, reduction="sum")
        (g,) = torch.autograd.grad(loss, xr)
        step = -eps * g.sign() if targeted else eps * g.sign()
        expected = (x + step).clamp(0, 1)
        assert torch.allclose(
            fgsm(model, x, y, eps, targeted=targeted), expected, atol=1e-6
        )


def test_latent_distance_and_scores_are_per_image_by_hand():
    torch.manual_seed(0)
    ae = novelty.AutoEncoder().eval()
    x, x2 = torch.rand(5, 1, 28, 28), torch.rand(5, 1, 28, 28)
    with torch.no_grad():
        z, z2 = ae.encode(x), ae.encode(x2)
        d = [float(((z[i] - z2[i]) ** 2).mean()) for i in range(5)]
        s = [float(((ae(x[i : i + 1]) - x[i : i + 1]) ** 2).mean()) for i in range(5)]
    assert torch.allclose(
        novelty.latent_distance(ae, x, x2), torch.tensor(d), rtol=1e-5
    )
    assert torch.allclose(novelty.scores(ae, x), torch.tensor(s), rtol=1e-5)


@pytest.mark.parametrize("eps", [0.0, 0.2, 1.0])
def test_latent_attack_step_and_budget(eps):
    """eps = 0 returns x itself (a copy); otherwise it moves, and its default step is
    2.5 · eps / steps (the same rule as pgd's)."""
    torch.manual_seed(0)
    ae = novelty.AutoEncoder().eval()
    x = torch.rand(4, 1, 28, 28)

    def run(alpha):
        return novelty.latent_attack(
            ae, x, eps, steps=4, alpha=alpha, generator=torch.Generator().manual_seed(1)
        )

    out = run(None)
    if eps == 0:
        assert torch.equal(out, x) and out is not x
        return
    assert not torch.equal(out, x) and (out - x).abs().max() <= eps + 1e-6
    assert torch.equal(out, run(2.5 * eps / 4))
    assert not torch.equal(out, run(3.5 * eps / 4))


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_random_delta_with_a_generator_ignores_the_global_generator(norm):
    """random_delta's doc: with ``generator`` the draw comes from it alone, so the same seed gives
    the same start whatever the global random state is."""
    x = torch.full((8, 1, 4, 4), 0.5)
    draws = []
    for global_seed in (0, 1):
        torch.manual_seed(global_seed)
        draws.append(
            attacks.random_delta(x, 0.3, norm, torch.Generator().manual_seed(7))
        )
    assert torch.equal(draws[0], draws[1])


def test_l2_random_radius_is_uniform_also_in_one_dimension():
    """In one dimension the direction d/|d| is ±1 whatever |d| is, so the radius |δ|/ε must be
    uniform on [0, 1] even though |d| < 1 two times in three (a floor on |d| above 1e-12 would
    shrink those radii)."""
    from scipy import stats

    x = torch.full((20000, 1, 1, 1), 0.5)
    delta = attacks.random_delta(x, 0.3, "l2", torch.Generator().manual_seed(0))
    radius = (delta.flatten().abs() / 0.3).numpy()
    assert radius.max() <= 1 + 1e-6
    assert stats.kstest(radius, "uniform").pvalue > 1e-3
