import pytest
import torch
from torch import nn

from robustcore import attacks


class OnePixelSwitch(nn.Module):
    """Class 0 unless pixel (3, 4) is bright: logits (0.5, 10·x[3, 4]). One pixel provably flips it."""

    def forward(self, x):
        v = x[:, 0, 3, 4]
        return torch.stack([torch.full_like(v, 0.5), 10 * v], 1)


def linear(seed=0, c=1, side=6, classes=3):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(c * side * side, classes)).eval()


def test_encode_decode_round_trip_and_clipping():
    rows, cols = torch.tensor([[0, 5], [3, 2]]), torch.tensor([[4, 0], [1, 5]])
    vals = torch.rand(2, 2, 3)
    r, c, v = attacks.decode(attacks.encode(rows, cols, vals), 6, 6)
    assert torch.equal(r, rows) and torch.equal(c, cols) and torch.allclose(v, vals)
    wild = torch.tensor([[[-3.0, 9.7, 1.5], [5.99, 2.2, -0.5]]])
    r, c, v = attacks.decode(wild, 6, 6)
    assert r.tolist() == [[0, 5]] and c.tolist() == [[5, 2]] and v.min() >= 0 and v.max() <= 1


def test_apply_pixels_changes_exactly_those_pixels():
    x = torch.zeros(2, 3, 5, 5)
    cand = torch.tensor([[[1, 2, 0.1, 0.2, 0.3]], [[4, 0, 1.0, 1.0, 1.0]]])
    out = attacks.apply_pixels(x, cand)
    assert out[0, :, 1, 2].tolist() == pytest.approx([0.1, 0.2, 0.3]) and out[1, :, 4, 0].tolist() == [1, 1, 1]
    assert (out != 0).sum() == 6 and x.abs().sum() == 0  # x untouched


def test_finds_the_one_pixel_that_flips_a_hand_built_model():
    """A needle in a flat landscape: the paper's rand1 keeps exploring until it hits it."""
    x, y = torch.zeros(4, 1, 8, 8), torch.zeros(4, dtype=torch.long)
    r = attacks.one_pixel(OnePixelSwitch(), x, y, popsize=40, generations=50, progress=False)
    assert r.success.all() and (r.probs.argmax(1) == 1).all()
    assert (r.candidates[:, 0, :2] == torch.tensor([3.0, 4.0])).all()
    assert ((r.x_adv - x) != 0).flatten(1).sum(1).le(1).all()


def test_coordinates_and_values_stay_in_range_and_one_pixel_changes():
    model = linear(side=6)
    x, y = torch.rand(6, 1, 6, 6), torch.arange(6) % 3
    for k, bounds in ((1, "clip"), (3, "clip"), (3, "resample")):
        r = attacks.one_pixel(model, x, y, pixels=k, popsize=12, generations=5, bounds=bounds, progress=False)
        assert r.candidates.shape == (6, k, 3)
        assert r.candidates[..., :2].min() >= 0 and r.candidates[..., :2].max() <= 5
        assert r.x_adv.min() >= 0 and r.x_adv.max() <= 1
        assert ((r.x_adv - x) != 0).flatten(1).sum(1).le(k).all()
        assert torch.allclose(r.probs.sum(1), torch.ones(6))


def test_early_stop_spends_no_more_queries():
    x, y = torch.zeros(3, 1, 8, 8), torch.zeros(3, dtype=torch.long)
    x[0, 0, 3, 4] = 1.0  # already "class 1": the initial population succeeds at once
    switch = OnePixelSwitch()
    r = attacks.one_pixel(switch, x, y, popsize=10, generations=30, progress=False)
    assert r.success[0] and r.generations[0] == 0 and r.queries[0] == 10
    assert (r.queries == 10 * (r.generations + 1)).all()
    never = attacks.one_pixel(linear(side=8, classes=2).requires_grad_(False), x, torch.zeros(3, dtype=torch.long),
                               popsize=8, generations=4, progress=False)
    assert (never.queries[~never.success] == 8 * 5).all()  # failures spend the whole budget, no more


def test_same_seed_same_result():
    model, x, y = linear(), torch.rand(5, 1, 6, 6), torch.arange(5) % 3
    a, b = (attacks.one_pixel(model, x, y, popsize=16, generations=6, seed=3, progress=False) for _ in range(2))
    assert torch.equal(a.x_adv, b.x_adv) and torch.equal(a.queries, b.queries) and torch.equal(a.success, b.success)


def test_targeted_reaches_the_target():
    x, y = torch.zeros(3, 1, 8, 8), torch.zeros(3, dtype=torch.long)
    r = attacks.one_pixel(OnePixelSwitch(), x, y, target=torch.ones(3, dtype=torch.long), popsize=30,
                           generations=40, progress=False)
    assert r.success.all() and (r.probs.argmax(1) == 1).all()
    with pytest.raises(ValueError, match="target must differ"):
        attacks.one_pixel(OnePixelSwitch(), x, y, target=y, progress=False)


@pytest.mark.parametrize("strategy, bounds", [("rand1", "clip"), ("best1", "clip"), ("best1", "resample")])
def test_de_agrees_with_the_exhaustive_scan_on_a_linear_model(strategy, bounds):
    """For a linear model one pixel's best value is 0 or 1, so the scan over {0, 1} is exact."""
    model = linear(seed=1, side=5, classes=3)
    x, y = torch.rand(12, 1, 5, 5), torch.arange(12) % 3
    scan = attacks.exhaustive_one_pixel(model, x, y, (0.0, 1.0))
    assert scan.shape == (12, 2, 5, 5)
    # ground truth: can one pixel flip the label?
    cands = torch.stack(torch.meshgrid(torch.arange(5.0), torch.arange(5.0), indexing="ij"), -1).reshape(-1, 2)
    flips = []
    for i in range(12):
        c = torch.cat([cands.repeat(2, 1), torch.tensor([0.0, 1.0]).repeat_interleave(25)[:, None]], 1)[:, None]
        preds = model(attacks.apply_pixels(x[i:i + 1].expand(50, -1, -1, -1), c)).argmax(1)
        flips.append(bool((preds != y[i]).any()))
    r = attacks.one_pixel(model, x, y, popsize=50, generations=40, strategy=strategy, bounds=bounds,
                           progress=False)
    found = r.success.tolist()
    assert all(f for s, f in zip(found, flips) if s)  # no success where the scan says none exists
    if strategy == "rand1":
        assert found == flips
    else:  # the greedy best1 may stall short of a flip that exists
        assert sum(found) >= 0.8 * sum(flips)
    best_de = r.probs.gather(1, y[:, None])[:, 0]
    best_scan = scan.flatten(1).min(1).values
    fooled = torch.tensor(flips)
    if strategy == "rand1":
        assert (best_de[~fooled] <= best_scan[~fooled] + 1e-3).all()  # not fooled: DE reaches the scan's optimum


@pytest.mark.parametrize("kwargs, match", [
    ({"pixels": 0}, "pixels"), ({"popsize": 3}, "popsize"), ({"generations": -1}, "generations"),
    ({"F": 0.0}, "F"), ({"batch_size": 0}, "batch_size"), ({"strategy": "best2"}, "strategy"),
    ({"bounds": "wrap"}, "bounds"),
])
def test_bad_arguments(kwargs, match):
    x, y = torch.rand(2, 1, 6, 6), torch.zeros(2, dtype=torch.long)
    with pytest.raises((ValueError, TypeError), match=match):
        attacks.one_pixel(linear(), x, y, progress=False, **kwargs)


def test_bad_images_and_values():
    y = torch.zeros(2, dtype=torch.long)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        attacks.one_pixel(linear(), torch.rand(2, 1, 6, 6) * 3, y, progress=False)
    with pytest.raises(ValueError, match="shape"):
        attacks.one_pixel(linear(), torch.rand(2, 36), y, progress=False)
    with pytest.raises(ValueError, match="values"):
        attacks.exhaustive_one_pixel(linear(), torch.rand(2, 1, 6, 6), y, (0.0, 2.0))
    with pytest.raises(ValueError, match="candidates"):
        attacks.apply_pixels(torch.rand(2, 1, 6, 6), torch.zeros(2, 1, 4))
