"""Same seed, same numbers, on the CPU: attacks, training, inversion, the one-pixel search, data
subsets — in one process and across processes. (The chapters' headline numbers are compared across
two whole runs of the book by `.ci/run`: `python -m robustcore.results compare`.)"""

from __future__ import annotations

import hashlib
import subprocess
import sys

import torch

from robustcore import attacks, data, features, models, train


def _model(seed: int = 0, arch: str = "cnn"):
    torch.manual_seed(seed)
    return models.build(arch).eval()


def _batch(n: int = 16):
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(
        0, 10, (n,), generator=g
    )


def _twice(fn):
    return fn(), fn()


def test_pgd_and_fgsm_same_seed_same_output():
    m, (x, y) = _model(), _batch(8)

    def run(norm):
        torch.manual_seed(7)
        return attacks.pgd(
            m, x, y, 0.3 if norm == "linf" else 2.0, norm=norm, steps=3, restarts=2
        )

    for norm in ("linf", "l2"):
        a, b = _twice(lambda: run(norm))
        assert torch.equal(a, b)
    a, b = _twice(
        lambda: (torch.manual_seed(3), attacks.fgsm(m, x, y, 0.2, random_start=True))[1]
    )
    assert torch.equal(a, b)


def test_standard_and_adversarial_training_same_seed_same_weights():
    x, y = _batch(32)
    for attack in (None, {"name": "pgd", "eps": 0.3, "steps": 2, "alpha": 0.1}):

        def fit():
            m = _model(1, "mlp")
            hist = train.train(
                m,
                x,
                y,
                epochs=2,
                batch_size=16,
                attack=attack,
                eps_warmup_epochs=1.0 if attack else 0.0,
                seed=5,
                progress=False,
            )
            return m.state_dict(), hist

        (s1, h1), (s2, h2) = _twice(fit)
        assert h1 == h2
        assert all(torch.equal(s1[k], s2[k]) for k in s1)


def test_evaluate_under_attack_same_seed_same_accuracy():
    m, (x, y) = _model(0, "mlp"), _batch(16)
    spec = {"name": "pgd", "eps": 0.1, "steps": 3}
    a, b = _twice(lambda: train.evaluate(m, x, y, spec, batch_size=8, seed=4))
    assert a == b


def test_inversion_and_constructed_datasets_same_seed_same_images():
    m, (x, y) = _model(), _batch(8)
    s1, s2 = _twice(lambda: features.starting_points(x, "image", seed=2))
    assert torch.equal(s1, s2) and not torch.equal(
        s1, features.starting_points(x, "image", seed=3)
    )
    (a, da, ca), (b, db, cb) = _twice(
        lambda: features.invert(m, x, s1, steps=5, progress=False)
    )
    assert torch.equal(a, b) and torch.equal(da, db) and torch.equal(ca, cb)
    r1, r2 = _twice(
        lambda: features.relabelled_dataset(
            m, x, y, mode="rand", eps=1.0, steps=3, seed=9, progress=False
        )
    )
    assert torch.equal(r1.x, r2.x) and torch.equal(r1.y, r2.y)
    d1, d2 = _twice(
        lambda: features.robust_dataset(m, x, y, steps=3, seed=1, progress=False)
    )
    assert torch.equal(d1.x, d2.x) and {
        k: v for k, v in d1.meta.items() if k != "seconds"
    } == {k: v for k, v in d2.meta.items() if k != "seconds"}


def test_one_pixel_same_seed_same_result():
    m, (x, y) = _model(), _batch(4)
    for strategy, bounds in (("rand1", "clip"), ("best1", "resample")):
        r1, r2 = _twice(
            lambda: attacks.one_pixel(
                m,
                x,
                y,
                pixels=3,
                popsize=12,
                generations=4,
                strategy=strategy,
                bounds=bounds,
                seed=11,
                progress=False,
            )
        )
        for field in (
            "x_adv",
            "success",
            "queries",
            "generations",
            "probs",
            "candidates",
        ):
            assert torch.equal(getattr(r1, field), getattr(r2, field)), field


def test_data_subsets_and_groups_same_seed_same_split():
    x, y = _batch(50)
    (a, ya), (b, yb) = _twice(lambda: data.subset(x, y, 20, seed=3))
    assert torch.equal(a, b) and torch.equal(ya, yb)
    g1, g2 = _twice(lambda: data.perturbation_groups(x, y, seed=1))
    assert all(torch.equal(u, v) for u, v in zip(g1, g2))


_CHILD = """
import hashlib, torch
from robustcore import attacks, models, train
torch.set_num_threads(1)
torch.manual_seed(0)
m = models.build("cnn")
g = torch.Generator().manual_seed(0)
x, y = torch.rand(16, 1, 28, 28, generator=g), torch.randint(0, 10, (16,), generator=g)
train.train(m, x, y, epochs=1, batch_size=8, attack={"name": "pgd", "eps": 0.3, "steps": 2}, seed=0, progress=False)
torch.manual_seed(1)
adv = attacks.pgd(m, x, y, 0.3, steps=3)
h = hashlib.sha256()
for v in [*m.state_dict().values(), adv]:
    h.update(v.detach().contiguous().numpy().tobytes())
print(h.hexdigest())
"""


def test_two_processes_same_seed_same_bits():
    """What two runs of a chapter do: fresh processes, same seeds → bit-identical weights and attacks."""
    outs = [
        subprocess.run(
            [sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert outs[0] == outs[1] and len(outs[0]) == 64
