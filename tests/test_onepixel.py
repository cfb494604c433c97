import runpy
from pathlib import Path

import pytest
import torch
from torch import nn

from misuse import M, NAN, X, Y, bad_images, bad_labels, cases, misuse_test, not_a_model
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
    assert (
        r.tolist() == [[0, 5]]
        and c.tolist() == [[5, 2]]
        and v.min() >= 0
        and v.max() <= 1
    )


def test_apply_pixels_changes_exactly_those_pixels():
    x = torch.zeros(2, 3, 5, 5)
    cand = torch.tensor([[[1, 2, 0.1, 0.2, 0.3]], [[4, 0, 1.0, 1.0, 1.0]]])
    out = attacks.apply_pixels(x, cand)
    assert out[0, :, 1, 2].tolist() == pytest.approx([0.1, 0.2, 0.3]) and out[
        1, :, 4, 0
    ].tolist() == [1, 1, 1]
    assert (out != 0).sum() == 6 and x.abs().sum() == 0  # x untouched


def test_finds_the_one_pixel_that_flips_a_hand_built_model():
    """A needle in a flat landscape: the paper's rand1 keeps exploring until it hits it."""
    x, y = torch.zeros(4, 1, 8, 8), torch.zeros(4, dtype=torch.long)
    r = attacks.one_pixel(
        OnePixelSwitch(), x, y, popsize=40, generations=50, progress=False
    )
    assert r.success.all() and (r.probs.argmax(1) == 1).all()
    assert (r.candidates[:, 0, :2] == torch.tensor([3.0, 4.0])).all()
    assert ((r.x_adv - x) != 0).flatten(1).sum(1).le(1).all()


def test_coordinates_and_values_stay_in_range_and_one_pixel_changes():
    model = linear(side=6)
    x, y = torch.rand(6, 1, 6, 6), torch.arange(6) % 3
    for k, bounds in ((1, "clip"), (3, "clip"), (3, "resample")):
        r = attacks.one_pixel(
            model,
            x,
            y,
            pixels=k,
            popsize=12,
            generations=5,
            bounds=bounds,
            progress=False,
        )
        assert r.candidates.shape == (6, k, 3)
        assert r.candidates[..., :2].min() >= 0 and r.candidates[..., :2].max() <= 5
        assert r.x_adv.min() >= 0 and r.x_adv.max() <= 1
        assert ((r.x_adv - x) != 0).flatten(1).sum(1).le(k).all()
        assert torch.equal(
            r.x_adv, attacks.apply_pixels(x, r.candidates)
        )  # the candidates are what changed
        with torch.no_grad():
            assert torch.allclose(r.probs, model(r.x_adv).softmax(1), atol=1e-6)
        assert torch.equal(r.success, r.probs.argmax(1) != y)


def test_early_stop_spends_no_more_queries():
    x, y = torch.zeros(3, 1, 8, 8), torch.zeros(3, dtype=torch.long)
    x[0, 0, 3, 4] = 1.0  # already "class 1": the initial population succeeds at once
    switch = OnePixelSwitch()
    r = attacks.one_pixel(switch, x, y, popsize=10, generations=30, progress=False)
    assert r.success[0] and r.generations[0] == 0 and r.queries[0] == 10
    assert (r.queries == 10 * (r.generations + 1)).all()
    never = attacks.one_pixel(
        linear(side=8, classes=2).requires_grad_(False),
        x,
        torch.zeros(3, dtype=torch.long),
        popsize=8,
        generations=4,
        progress=False,
    )
    assert (
        never.queries[~never.success] == 8 * 5
    ).all()  # failures spend the whole budget, no more


class Brightness(nn.Module):
    """Three classes, logits (10, 0, sum of the pixels). On images dimmer than 9 in total class 0
    always wins, and p(class 2) grows with every pixel: the one change that raises it most is the
    darkest pixel set to 1, and nothing lowers it more than the brightest pixel set to 0."""

    def forward(self, x):
        s = x.flatten(1).sum(1)
        return torch.stack([torch.full_like(s, 10.0), torch.zeros_like(s), s], 1)


def test_targeted_maximises_the_probability_of_the_target():
    g = torch.Generator().manual_seed(0)
    x = 0.2 + 0.2 * torch.rand(
        4, 1, 4, 4, generator=g
    )  # a total below 6.4: class 0 wins whatever one pixel does
    dark = torch.tensor([[0, 0], [1, 3], [2, 2], [3, 1]])
    x[torch.arange(4), 0, dark[:, 0], dark[:, 1]] = 0.0
    y, target = torch.zeros(4, dtype=torch.long), torch.full((4,), 2)
    r = attacks.one_pixel(
        Brightness(), x, y, target=target, popsize=40, generations=40, progress=False
    )
    assert not r.success.any() and (r.generations == 40).all()
    assert torch.equal(
        r.candidates[:, 0], torch.cat([dark.float(), torch.ones(4, 1)], 1)
    )  # by hand
    best = torch.stack(
        [torch.full((4,), 10.0), torch.zeros(4), x.flatten(1).sum(1) + 1], 1
    ).softmax(1)
    assert torch.allclose(r.probs, best, atol=1e-6)


def test_generation_lets_a_child_replace_its_parent_when_at_least_as_fit():
    """Selection by hand on made-up scores: ties go to the child (the paper's "at least as fit")."""
    g = torch.Generator().manual_seed(0)
    box = torch.zeros(3), torch.tensor([6 - 1e-4, 6 - 1e-4, 1.0])
    pop = torch.rand(2, 6, 1, 3, generator=g) * box[1]
    fit = torch.tensor(
        [[1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.0, -1.0, 2.0, 2.0, 0.5, 0.5]]
    )
    c_fit = torch.tensor(
        [[1.0, 0.5, 1.5, 1.0, 2.0, 1.0], [0.0, -2.0, 2.0, 3.0, 0.6, 0.4]]
    )
    replaced = torch.tensor([[1, 1, 0, 1, 0, 1], [1, 1, 1, 0, 0, 1]], dtype=torch.bool)
    c_hit = torch.zeros(2, 6, dtype=torch.bool)
    seen = []
    new_pop, new_fit, child, got_fit, got_hit = attacks.generation(
        pop,
        fit,
        lambda c: seen.append(c) or (c_fit, c_hit),
        F=0.5,
        strategy="rand1",
        bounds="clip",
        box=box,
        g=g,
    )
    assert (
        len(seen) == 1 and seen[0] is child and got_fit is c_fit and got_hit is c_hit
    )  # scored once
    assert (child >= box[0]).all() and (
        child <= box[1]
    ).all()  # clipped into the image and [0, 1]
    for a in range(2):
        for p in range(6):
            assert torch.equal(
                new_pop[a, p], child[a, p] if replaced[a, p] else pop[a, p]
            ), (a, p)
            assert new_fit[a, p] == (c_fit if replaced[a, p] else fit)[a, p]


def test_same_seed_same_result():
    model, x, y = linear(), torch.rand(5, 1, 6, 6), torch.arange(5) % 3
    a, b = (
        attacks.one_pixel(
            model, x, y, popsize=16, generations=6, seed=3, progress=False
        )
        for _ in range(2)
    )
    assert (
        torch.equal(a.x_adv, b.x_adv)
        and torch.equal(a.queries, b.queries)
        and torch.equal(a.success, b.success)
    )


def test_targeted_reaches_the_target():
    x, y = torch.zeros(3, 1, 8, 8), torch.zeros(3, dtype=torch.long)
    r = attacks.one_pixel(
        OnePixelSwitch(),
        x,
        y,
        target=torch.ones(3, dtype=torch.long),
        popsize=30,
        generations=40,
        progress=False,
    )
    assert r.success.all() and (r.probs.argmax(1) == 1).all()
    with pytest.raises(ValueError, match="target must differ"):
        attacks.one_pixel(OnePixelSwitch(), x, y, target=y, progress=False)


@pytest.mark.parametrize(
    "strategy, bounds", [("rand1", "clip"), ("best1", "clip"), ("best1", "resample")]
)
def test_de_agrees_with_the_exhaustive_scan_on_a_linear_model(strategy, bounds):
    """For a linear model one pixel's best value is 0 or 1, so the scan over {0, 1} is exact."""
    model = linear(seed=1, side=5, classes=3)
    x, y = torch.rand(12, 1, 5, 5), torch.arange(12) % 3
    scan = attacks.exhaustive_one_pixel(model, x, y, (0.0, 1.0))
    assert scan.shape == (12, 2, 5, 5)
    # ground truth: can one pixel flip the label?
    cands = torch.stack(
        torch.meshgrid(torch.arange(5.0), torch.arange(5.0), indexing="ij"), -1
    ).reshape(-1, 2)
    flips = []
    for i in range(12):
        c = torch.cat(
            [
                cands.repeat(2, 1),
                torch.tensor([0.0, 1.0]).repeat_interleave(25)[:, None],
            ],
            1,
        )[:, None]
        preds = model(
            attacks.apply_pixels(x[i : i + 1].expand(50, -1, -1, -1), c)
        ).argmax(1)
        flips.append(bool((preds != y[i]).any()))
    r = attacks.one_pixel(
        model,
        x,
        y,
        popsize=50,
        generations=40,
        strategy=strategy,
        bounds=bounds,
        progress=False,
    )
    found = r.success.tolist()
    assert all(
        f for s, f in zip(found, flips) if s
    )  # no success where the scan says none exists
    if strategy == "rand1":
        assert found == flips
    else:  # the greedy best1 may stall short of a flip that exists
        assert sum(found) >= 0.8 * sum(flips)
    best_de = r.probs.gather(1, y[:, None])[:, 0]
    best_scan = scan.flatten(1).min(1).values
    fooled = torch.tensor(flips)
    if strategy == "rand1":
        assert (
            best_de[~fooled] <= best_scan[~fooled] + 1e-3
        ).all()  # not fooled: DE reaches the scan's optimum


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"pixels": 0}, "pixels"),
        ({"popsize": 3}, "popsize"),
        ({"generations": -1}, "generations"),
        ({"F": 0.0}, "F"),
        ({"batch_size": 0}, "batch_size"),
        ({"strategy": "best2"}, "strategy"),
        ({"bounds": "wrap"}, "bounds"),
    ],
)
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


# ---- misuse: bad arguments are refused and nothing is written

CANDS = torch.zeros(4, 1, 3)
RESULT = attacks.OnePixelResult(X, Y > 0, Y, Y, Y, CANDS)
MISUSE = (
    cases(
        "attacks",
        {
            "one_pixel:pixels-zero": (
                lambda: attacks.one_pixel(M, X, Y, pixels=0),
                ValueError,
                "pixels must be >= 1",
            ),
            "one_pixel:pixels-absurd": (
                lambda: attacks.one_pixel(M, X, Y, pixels=10**6),
                ValueError,
                "pixels must be <=",
            ),
            "one_pixel:popsize-small": (
                lambda: attacks.one_pixel(M, X, Y, popsize=3),
                ValueError,
                "popsize must be >= 4",
            ),
            "one_pixel:popsize-absurd": (
                lambda: attacks.one_pixel(M, X, Y, popsize=10**9),
                ValueError,
                "popsize must be <=",
            ),
            "one_pixel:generations-negative": (
                lambda: attacks.one_pixel(M, X, Y, generations=-1),
                ValueError,
                "generations must be >= 0",
            ),
            "one_pixel:generations-absurd": (
                lambda: attacks.one_pixel(M, X, Y, generations=10**9),
                ValueError,
                "generations must be <=",
            ),
            "one_pixel:F-zero": (
                lambda: attacks.one_pixel(M, X, Y, F=0.0),
                ValueError,
                "F must be in",
            ),
            "one_pixel:F-nan": (
                lambda: attacks.one_pixel(M, X, Y, F=NAN),
                ValueError,
                "F must be in",
            ),
            "one_pixel:strategy": (
                lambda: attacks.one_pixel(M, X, Y, strategy="best2"),
                ValueError,
                "strategy must be one of",
            ),
            "one_pixel:bounds": (
                lambda: attacks.one_pixel(M, X, Y, bounds="wrap"),
                ValueError,
                "bounds must be one of",
            ),
            "one_pixel:target-equals-y": (
                lambda: attacks.one_pixel(M, X, Y, target=Y),
                ValueError,
                "target must differ",
            ),
            "one_pixel:target-shape": (
                lambda: attacks.one_pixel(M, X, Y, target=Y[:2]),
                ValueError,
                "target must have",
            ),
            "one_pixel:batch_size-zero": (
                lambda: attacks.one_pixel(M, X, Y, batch_size=0),
                ValueError,
                "batch_size must be",
            ),
            "one_pixel:seed-float": (
                lambda: attacks.one_pixel(M, X, Y, seed=1.5),
                TypeError,
                "seed must be an int",
            ),
            "exhaustive_one_pixel:values-range": (
                lambda: attacks.exhaustive_one_pixel(M, X, Y, (2.0,)),
                ValueError,
                "values",
            ),
            "exhaustive_one_pixel:values-empty": (
                lambda: attacks.exhaustive_one_pixel(M, X, Y, ()),
                ValueError,
                "values must be",
            ),
            "exhaustive_one_pixel:values-str": (
                lambda: attacks.exhaustive_one_pixel(M, X, Y, "white"),
                TypeError,
                "values must be",
            ),
            "exhaustive_one_pixel:values-nan": (
                lambda: attacks.exhaustive_one_pixel(M, X, Y, (NAN,)),
                ValueError,
                "values",
            ),
            "exhaustive_one_pixel:batch_size": (
                lambda: attacks.exhaustive_one_pixel(M, X, Y, batch_size=0),
                ValueError,
                "batch_size",
            ),
            "apply_pixels:shape": (
                lambda: attacks.apply_pixels(X, CANDS[:2]),
                ValueError,
                "candidates must have shape",
            ),
            "apply_pixels:x-list": (
                lambda: attacks.apply_pixels([X], CANDS),
                ValueError,
                "x must be",
            ),
            "apply_pixels:candidates-list": (
                lambda: attacks.apply_pixels(X, [0, 0, 0]),
                TypeError,
                "candidates must be",
            ),
            "decode:shape": (
                lambda: attacks.decode(torch.zeros(3), 28, 28),
                ValueError,
                "candidates must be",
            ),
            "decode:height": (
                lambda: attacks.decode(CANDS, 0, 28),
                ValueError,
                "height must be >= 1",
            ),
            "exhaustive_one_pixel:fooled": (
                lambda: attacks.exhaustive_one_pixel(M, X, Y, fooled=1),
                TypeError,
                "fooled must be True or False",
            ),
            "decode:width": (
                lambda: attacks.decode(CANDS, 28, 0),
                ValueError,
                "width must be >= 1",
            ),
            "success_by_generation:negative": (
                lambda: RESULT.success_by_generation(-1),
                ValueError,
                "generations must be >= 0",
            ),
        },
    )
    + bad_images(
        {
            "attacks.one_pixel": lambda x: attacks.one_pixel(
                M, x, Y[: len(x)], popsize=4, generations=0, progress=False
            ),
            "attacks.exhaustive_one_pixel": lambda x: attacks.exhaustive_one_pixel(
                M, x, Y[: len(x)]
            ),
        }
    )
    + bad_labels(
        {
            "attacks.one_pixel": lambda y: attacks.one_pixel(
                M, X, y, popsize=4, generations=0, progress=False
            )
        }
    )
    + not_a_model(
        {
            "attacks.one_pixel": lambda m: attacks.one_pixel(m, X, Y, progress=False),
            "attacks.exhaustive_one_pixel": lambda m: attacks.exhaustive_one_pixel(
                m, X, Y
            ),
        }
    )
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)


def test_every_image_scored_is_its_original_with_at_most_k_pixels_changed():
    """Candidates are written into a buffer reused across forward passes: no pixel of
    an earlier candidate or image may leak into a later one."""
    torch.manual_seed(0)
    seen = []

    class Spy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4 * 5 * 5, 3)

        def forward(self, x):
            seen.append(x.detach().clone())
            return self.fc(x.flatten(1))

    x = torch.rand(3, 4, 5, 5)  # 4 channels: rows of values, not one number
    y = torch.tensor([0, 1, 2])
    r = attacks.one_pixel(
        Spy(), x, y, pixels=2, popsize=7, generations=3, batch_size=5, progress=False
    )
    batches = torch.cat(seen)
    # and the final forward, and the one image the label check scores
    assert len(batches) == int(r.queries.sum()) + len(x) + 1
    # pixels changed against the closest original image: at most 2
    changed = (batches[:, None] != x[None]).any(2).flatten(2).sum(2)
    assert changed.min(1).values.max() <= 2
    assert all(len(b) <= 5 for b in seen)


def test_the_benchmark_runs_on_its_small_cnn(capsys):
    """benchmarks/one_pixel.py with its own small CNN, at the tiny settings of
    ``run_all.py --smoke`` (the timings mean nothing here)."""
    bench = Path(__file__).resolve().parents[1] / "benchmarks"
    run_all = runpy.run_path(str(bench / "run_all.py"))
    script, args = run_all["SCRIPTS"]["one_pixel_small"]
    smoke = run_all["SMOKE"]["one_pixel_small"]
    res = runpy.run_path(str(bench / f"{script}.py"))["main"](args + smoke)
    assert res["model"] == "small-cnn" and "256" in res["model_training"]
    assert set(res["seconds"]) == {"robustcore", "torchattacks", "raw"}
    assert res["speedup_vs_torchattacks"] > 0 and res["throughput_vs_raw"] > 0
    assert "throughput vs raw forward" in capsys.readouterr().out
