"""Tests written to kill mutants that survived `make mutation` (tools/mutation.py): each pins a
documented behaviour the other tests left open, against a value worked out independently."""

import pytest
import torch
from torch import nn

from robustcore import attacks, novelty
from robustcore.attacks import fgsm, pgd
from robustcore.novelty import baselines


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


def test_decode_floors_and_clips_rows_like_columns():
    """decode's doc: coordinates floored and clipped to the image (rows as columns)."""
    cand = torch.tensor([[[2.5, 2.5, 0.3], [8.0, 8.0, 0.3], [-0.5, -0.5, 0.3]]])
    rows, cols, _ = attacks.decode(cand, 6, 6)
    assert rows.tolist() == cols.tolist() == [[2, 5, 0]]
    one = attacks.decode(cand[0], 6, 6)[0]  # a single image's (k, 2 + C) works too
    assert one.tolist() == [2, 5, 0]


def test_initial_values_follow_the_papers_normal_distribution():
    """Values start from N(128, 127)/255, clipped to [0, 1]: about 16% at each bound."""
    from robustcore.attacks import differential_evolution as de

    pop = de.initial_population(
        50, 400, 1, (1, 28, 28), torch.Generator().manual_seed(0)
    )
    v = pop[..., 2].flatten()
    at_0, at_1 = float((v == 0).float().mean()), float((v == 1).float().mean())
    assert abs(at_0 - 0.157) < 0.01 and abs(at_1 - 0.159) < 0.01
    inner = v[(v > 0) & (v < 1)]
    assert abs(float(inner.mean()) - 0.5) < 0.01


def test_mutation_draws_three_distinct_members_uniformly():
    """DE/rand/1: member i's child = p[r1] + F·(p[r2] − p[r3]) with r1, r2, r3 distinct
    and other than i, each uniform over the other members. With member j's first number
    4**j and F = 0.5, a child's first number names its triple (4**a + (4**b − 4**c) / 2
    is unique for distinct a, b, c, and no triple with a repeated member gives one of
    those numbers)."""
    from itertools import permutations

    P = 5
    pop = torch.zeros(4000, P, 1, 3, dtype=torch.float64)
    pop[..., 0, 0] = 4.0 ** torch.arange(P, dtype=torch.float64)
    child = attacks.mutate(pop, None, 0.5, "rand1", torch.Generator().manual_seed(0))
    names = {
        4**a + 0.5 * (4**b - 4**c): (a, b, c) for a, b, c in permutations(range(P), 3)
    }
    assert len(names) == P * (P - 1) * (P - 2)  # the code is unambiguous
    values = child[..., 0, 0].tolist()  # (4000, P)
    assert all(v in names for row in values for v in row), "a repeated member"
    triples = torch.tensor([[names[v] for v in row] for row in values])  # (4000, P, 3)
    me = torch.arange(P)[None, :, None]
    assert not (triples == me).any(), "a child drawn from its own parent"
    for i in range(P):  # each position uniform over the P - 1 others
        for k in range(3):
            freq = torch.bincount(triples[:, i, k], minlength=P).float() / 4000
            others = [j for j in range(P) if j != i]
            assert (freq[others] - 1 / (P - 1)).abs().max() < 0.03


def test_mutation_needs_four_members():
    pop = torch.zeros(2, 3, 1, 3)
    with pytest.raises(ValueError, match="popsize must be at least 4"):
        attacks.mutate(pop, None, 0.5, "rand1", torch.Generator().manual_seed(0))


def test_best1_children_start_from_the_fittest_member():
    """DE/best/1: child = p[best] + F·(p[r2] − p[r3]), best the member of least fitness
    (fitness is minimised); with F = 0 every child is that member."""
    g = torch.Generator().manual_seed(0)
    pop = torch.rand(3, 6, 1, 3, generator=g)
    fit = torch.rand(3, 6, generator=g)
    child = attacks.mutate(pop, fit, 0.0, "best1", g)
    best = pop[torch.arange(3), fit.argmin(1)]  # (3, 1, 3)
    assert torch.equal(child, best[:, None].expand_as(pop))


def test_success_by_generation_by_hand():
    """Image i counts from the generation it was fooled at, if it was fooled at all."""
    r = attacks.OnePixelResult(
        x_adv=torch.zeros(3, 1, 2, 2),
        success=torch.tensor([True, True, False]),
        queries=torch.zeros(3, dtype=torch.long),
        generations=torch.tensor([0, 2, 3]),
        probs=torch.zeros(3, 2),
        candidates=torch.zeros(3, 1, 3),
    )
    assert torch.allclose(
        r.success_by_generation(3), torch.tensor([1 / 3, 1 / 3, 2 / 3, 2 / 3])
    )


class _CornerModel(nn.Module):
    """Two classes; class 0's logit falls with the value of pixel (0, 0) but always stays
    above class 1's: never fooled, and the fittest candidate writes 1 at (0, 0)."""

    def forward(self, x):
        z0 = 10.0 - 5.0 * x[:, 0, 0, 0]
        return torch.stack([z0, torch.zeros_like(z0)], 1)


def test_one_pixel_runs_every_generation_and_keeps_the_fittest_candidate():
    x, y = torch.zeros(2, 1, 3, 3), torch.zeros(2, dtype=torch.long)
    r = attacks.one_pixel(
        _CornerModel(), x, y, popsize=20, generations=6, progress=False
    )
    assert not r.success.any()
    assert r.queries.tolist() == [20 * 7] * 2 and r.generations.tolist() == [6] * 2
    assert r.candidates[:, 0, :2].tolist() == [[0.0, 0.0]] * 2  # pixel (0, 0)
    p_clean = torch.softmax(torch.tensor([10.0, 0.0]), 0)[0]
    assert (r.probs[:, 0] < p_clean - 1e-4).all()


def test_one_pixel_on_colour_images():
    """Candidates of colour images carry 2 + 3 numbers; the search runs and each image
    changes in at most one pixel (all its channels)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 3)).eval()
    x, y = torch.rand(2, 3, 4, 4), torch.tensor([0, 1])
    for bounds in ("clip", "resample"):
        r = attacks.one_pixel(
            model, x, y, popsize=10, generations=3, bounds=bounds, progress=False
        )
        assert r.candidates.shape == (2, 1, 5)
        changed = (r.x_adv != x).any(1).flatten(1).sum(1)
        assert (changed <= 1).all()


def test_exhaustive_one_pixel_by_hand():
    """p(true) after writing each value at each pixel, computed one image at a time."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(9, 3)).eval()
    x, y = torch.rand(2, 1, 3, 3), torch.tensor([2, 0])
    got = attacks.exhaustive_one_pixel(model, x, y, (0.0, 0.5, 1.0))
    p_true, fooled = attacks.exhaustive_one_pixel(
        model, x, y, (0.0, 0.5, 1.0), fooled=True
    )
    assert got.shape == fooled.shape == (2, 3, 3, 3) and torch.equal(got, p_true)
    for i in range(2):
        for v_i, v in enumerate((0.0, 0.5, 1.0)):
            for r in range(3):
                for c in range(3):
                    xi = x[i : i + 1].clone()
                    xi[0, 0, r, c] = v
                    with torch.no_grad():
                        probs = model(xi).softmax(1)[0]
                    assert torch.isclose(got[i, v_i, r, c], probs[y[i]], atol=1e-5)
                    assert bool(fooled[i, v_i, r, c]) == bool(probs.argmax() != y[i])
    assert fooled.any() and not fooled.all()  # the case is informative


def test_best1_difference_is_of_two_distinct_members():
    """best1 with F = 0.5: child − fittest = (p[r2] − p[r3]) / 2 with r2 ≠ r3; with member
    j's first number 4**j the difference names the pair."""
    from itertools import permutations

    P = 5
    pop = torch.zeros(400, P, 1, 3, dtype=torch.float64)
    pop[..., 0, 0] = 4.0 ** torch.arange(P, dtype=torch.float64)
    fit = torch.rand(400, P, generator=torch.Generator().manual_seed(1))
    child = attacks.mutate(pop, fit, 0.5, "best1", torch.Generator().manual_seed(0))
    best = pop[torch.arange(400), fit.argmin(1)][:, None]
    diffs = (child - best)[..., 0, 0].flatten().tolist()
    pairs = {0.5 * (4**b - 4**c) for b, c in permutations(range(P), 2)}
    assert all(d in pairs for d in diffs)


def _generation(pop, bounds, lo=0.0, hi=1.0):
    """One generation with F = 0 (each child copies a random member) and a score that
    never accepts a child, so only the children's bounds handling is seen."""
    box = (torch.full((3,), lo), torch.full((3,), hi))
    fit = torch.zeros(pop.shape[:2])

    def score(c):
        return torch.full(c.shape[:2], 1.0), torch.zeros(c.shape[:2], dtype=torch.bool)

    g = torch.Generator().manual_seed(0)
    return attacks.generation(
        pop, fit, score, F=0.0, strategy="rand1", bounds=bounds, box=box, g=g
    )[2]


def test_resample_redraws_only_what_left_the_box_uniformly_inside_it():
    outside = torch.full((200, 5, 1, 3), 2.0)
    child = _generation(outside, "resample", lo=-1.0, hi=1.0)
    assert child.min() >= -1.0 and child.max() <= 1.0
    assert abs(float(child.mean())) < 0.05 and abs(float(child.var()) - 1 / 3) < 0.03
    for edge in (-1.0, 1.0):  # on the boundary is inside: kept as it is
        on_edge = torch.full((4, 5, 1, 3), edge)
        assert torch.equal(_generation(on_edge, "resample", lo=-1.0, hi=1.0), on_edge)
    clipped = _generation(outside, "clip", lo=-1.0, hi=1.0)
    assert torch.equal(clipped, torch.ones_like(outside))


def test_exhaustive_one_pixel_writes_colours_on_every_channel():
    """values as a (V, C) tensor of colours: each candidate writes its colour at (r, c)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3)).eval()
    x, y = torch.rand(1, 3, 2, 2), torch.tensor([1])
    colours = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.5, 1.0]])
    got = attacks.exhaustive_one_pixel(model, x, y, colours)
    assert got.shape == (1, 2, 2, 2)
    for v in range(2):
        for r in range(2):
            for c in range(2):
                xi = x.clone()
                xi[0, :, r, c] = colours[v]
                with torch.no_grad():
                    p = model(xi).softmax(1)[0, 1]
                assert torch.isclose(got[0, v, r, c], p, atol=1e-5)


def _split(val, test):
    """A p1 split whose images are constant, so a mean-intensity score returns the given
    values; labels 1 (anomaly) where the value is marked ``a``."""

    def part(items):
        v = torch.tensor([float(s) for s, _ in items])
        lab = torch.tensor([int(t == "a") for _, t in items])
        return v.view(-1, 1, 1, 1).expand(-1, 1, 4, 4).clone(), lab

    (xv, yv), (xt, yt) = part(val), part(test)
    return novelty.Split(
        dataset="toy", protocol="p1", normal=(0,), anomaly_fraction=0.5, seed=0,
        x_train=xv, x_test=xt, y_test=yt, c_test=yt, x_val=xv, y_val=yv, c_val=yv,
    )  # fmt: skip


def test_the_f1_threshold_is_chosen_on_the_validation_split_only():
    """On validation data the best threshold lies between 0.2 and 0.4; on the test
    split it would lie between 0.6 and 0.8. The reported F1 is the test F1 at the
    validation threshold (2/3 here), never the test split's own best (1.0)."""
    split = _split(
        val=[(0.1, "n"), (0.2, "n"), (0.4, "a"), (0.9, "a")],
        test=[(0.1, "n"), (0.3, "n"), (0.5, "n"), (0.6, "n"), (0.8, "a"), (0.9, "a")],
    )
    mean = lambda x: x.flatten(1).mean(1)  # noqa: E731
    detector = baselines.Detector(name="mean", score=mean)
    for out in (
        novelty.evaluate_scores(mean, split),
        baselines.evaluate(detector, split),
    ):
        assert out["threshold"] == pytest.approx(0.3)
        assert out["f1"] == pytest.approx(2 * 2 / (4 + 2))  # 4 flagged, 2 right
        assert out["auroc"] == pytest.approx(1.0)
    # the case is informative: the test split's own best threshold is elsewhere
    assert novelty.best_threshold(mean(split.x_test), split.y_test) == pytest.approx(
        0.7
    )
