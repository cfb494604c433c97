"""Novelty-detection protocols p1 and p2 (Salehi et al.): which images are normal, which
anomalous.

Images (N, C, H, W) in [0, 1]; labels 0-based. See :func:`prepare`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .. import checks, data

DATASETS = ("mnist", "fashion_mnist", "coil100")
PROTOCOLS = ("p1", "p2")
NUM_CLASSES = {"mnist": 10, "fashion_mnist": 10, "coil100": 100}
SHAPES = {"mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28), "coil100": (3, 32, 32)}
# COIL-100 under p1: anomaly fraction of the test split for 1, 4 and 7 normal objects.
COIL_FRACTIONS = {1: 0.5, 4: 0.25, 7: 0.15}


def load_dataset(
    name: str, root: str | Path | None = None
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{"train": (x, y), "test": (x, y)}`` of ``name`` (a key of :data:`DATASETS`);
    COIL-100, which has no standard split, gives ``{"all": (x, y)}``. Images in [0, 1],
    labels 0-based."""
    checks.choice(name, "dataset", DATASETS)
    if name == "coil100":
        return {"all": data.coil100(root)}
    read = data.mnist if name == "mnist" else data.fashion_mnist
    return {"train": read(train=True, root=root), "test": read(train=False, root=root)}


@dataclass(frozen=True)
class Split:
    """One novelty-detection task. Images (N, C, H, W) in [0, 1]; ``y_*`` are 1 for an
    anomaly, 0 for a normal image; ``c_*`` are the original class labels. p2 has no
    validation split."""

    dataset: str
    protocol: str
    normal: tuple[int, ...]
    anomaly_fraction: float | None
    seed: int
    x_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    c_test: torch.Tensor
    x_val: torch.Tensor | None = None
    y_val: torch.Tensor | None = None
    c_val: torch.Tensor | None = None

    def summary(self) -> str:
        """One line: sizes and anomaly shares."""
        val = (
            f", val {len(self.x_val)} "
            f"({float(self.y_val.float().mean()):.0%} anomalies)"
            if self.x_val is not None
            else ""
        )
        return (
            f"{self.dataset} {self.protocol}, normal {list(self.normal)}: "
            f"train {len(self.x_train)}{val}, test {len(self.x_test)} "
            f"({float(self.y_test.float().mean()):.0%} anomalies)"
        )


def normal_classes(normal: Any, dataset: str) -> tuple[int, ...]:
    """``normal`` (a class index or a list of them) as a tuple, checked against
    ``dataset``."""
    k = NUM_CLASSES[dataset]
    classes = (
        [normal] if isinstance(normal, int) and not isinstance(normal, bool) else normal
    )
    if not isinstance(classes, (list, tuple)) or not classes:
        raise TypeError(
            f"normal must be a class index or a non-empty list of them, got {normal!r}"
        )
    for c in classes:
        checks.integer(c, "normal class", 0, k - 1)
    if len(set(classes)) != len(classes):
        raise ValueError(f"normal must not repeat a class, got {list(classes)}")
    if len(classes) >= k:
        raise ValueError(
            f"normal must leave at least one of the {k} classes of {dataset} as "
            "anomalies"
        )
    return tuple(int(c) for c in classes)


def draw_normal_sets(
    size: int, count: int = 1, seed: int = 0, dataset: str = "mnist"
) -> list[tuple[int, ...]]:
    """``count`` distinct sets of ``size`` normal classes of ``dataset``, each sorted,
    drawn at random with ``seed`` (same seed → same sets): the several-normal-classes
    setting, e.g. the public scripts' 1, 4 or 7 normal COIL-100 objects
    (:data:`COIL_FRACTIONS`)."""
    checks.choice(dataset, "dataset", DATASETS)
    k = NUM_CLASSES[dataset]
    size = checks.integer(size, "size", 1, k - 1)
    count = checks.integer(count, "count", 1, math.comb(k, size))
    g = torch.Generator().manual_seed(checks.seed(seed))
    sets: list[tuple[int, ...]] = []
    while len(sets) < count:
        s = tuple(sorted(int(c) for c in torch.randperm(k, generator=g)[:size]))
        if s not in sets:
            sets.append(s)
    return sets


def anomaly_fraction_of(v: Any) -> float:
    """``v`` checked to be an anomaly fraction in (0, 1), as a float."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(
            f"anomaly_fraction must be a real number in (0, 1), got {type(v).__name__}"
        )
    if not 0.0 < float(v) < 1.0:
        raise ValueError(f"anomaly_fraction must be in (0, 1), got {v!r}")
    return float(v)


def _is_normal(y: torch.Tensor, normal: tuple[int, ...]) -> torch.Tensor:
    return torch.isin(y, torch.tensor(normal, dtype=y.dtype))


def protocol1(
    x: torch.Tensor,
    y: torch.Tensor,
    normal: int | Sequence[int],
    anomaly_fraction: float = 0.5,
    seed: int = 0,
    dataset: str = "mnist",
) -> Split:
    """Protocol p1 on a pool of images ``x`` (N, C, H, W) with labels ``y`` (N,) (train
    and test merged by the caller).

    The normal images are shuffled and split 60/20/20 into train / validation / test.
    Anomalies (all other classes, shuffled) are added to the test split so that they are
    ``anomaly_fraction`` of it, and a *disjoint* set to the validation split at the same
    fraction, which is what the F1 threshold is chosen on (:func:`best_threshold`);
    the test split never is. If the anomaly pool is too small for both, each side
    takes half of it and its normal images are trimmed to keep the fraction. Same
    seed, same split.
    """
    checks.choice(dataset, "dataset", DATASETS)
    checks.images(x)
    y = checks.labels(y, x.shape[0], num_classes=NUM_CLASSES[dataset])
    normal = normal_classes(normal, dataset)
    f = anomaly_fraction_of(anomaly_fraction)
    seed = checks.integer(seed, "seed", 0)
    g = torch.Generator().manual_seed(seed)
    is_norm = _is_normal(y, normal)
    norm_idx = is_norm.nonzero().squeeze(1)
    anom_idx = (~is_norm).nonzero().squeeze(1)
    if len(norm_idx) < 5:
        raise ValueError(
            "protocol p1 needs at least 5 images of the normal class(es) "
            f"{list(normal)}, got {len(norm_idx)}"
        )
    if len(anom_idx) < 2:
        raise ValueError("protocol p1 needs at least 2 images of the other classes")
    norm_idx = norm_idx[torch.randperm(len(norm_idx), generator=g)]
    anom_idx = anom_idx[torch.randperm(len(anom_idx), generator=g)]
    n = len(norm_idx)
    n_tr, n_va = int(0.6 * n), int(0.2 * n)
    tr, va, te = norm_idx[:n_tr], norm_idx[n_tr : n_tr + n_va], norm_idx[n_tr + n_va :]

    def n_anomalies(n_norm: int) -> int:
        return max(1, round(n_norm * f / (1 - f)))

    half = len(anom_idx) // 2
    a_te, a_va = n_anomalies(len(te)), n_anomalies(len(va))
    # too few anomalies: take half the pool and trim the normals to keep the fraction
    if a_te > half:
        a_te, te = half, te[: max(1, round(half * (1 - f) / f))]
    if a_va > half:
        a_va, va = half, va[: max(1, round(half * (1 - f) / f))]
    test = torch.cat([te, anom_idx[:a_te]])
    val = torch.cat([va, anom_idx[a_te : a_te + a_va]])
    lab = (~is_norm).long()
    return Split(
        dataset,
        "p1",
        normal,
        f,
        seed,
        x_train=x[tr],
        x_test=x[test],
        y_test=lab[test],
        c_test=y[test],
        x_val=x[val],
        y_val=lab[val],
        c_val=y[val],
    )


def protocol2(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    normal: int | Sequence[int],
    dataset: str = "mnist",
) -> Split:
    """Protocol p2: train on the normal class(es) of the standard train split
    (x_train, y_train); test on the whole test split (x_test, y_test), every other class
    anomalous. No validation split."""
    checks.choice(dataset, "dataset", DATASETS)
    checks.images(x_train, "x_train")
    y_train = checks.labels(y_train, x_train.shape[0], "y_train", NUM_CLASSES[dataset])
    checks.images(x_test, "x_test")
    y_test = checks.labels(y_test, x_test.shape[0], "y_test", NUM_CLASSES[dataset])
    if x_test.shape[1:] != x_train.shape[1:]:
        raise ValueError(
            "x_test must hold images of the shape of x_train's "
            f"{tuple(x_train.shape[1:])}, got {tuple(x_test.shape[1:])}"
        )
    normal = normal_classes(normal, dataset)
    keep = _is_normal(y_train, normal)
    if not keep.any():
        raise ValueError(
            f"the train split holds no image of the normal class(es) {list(normal)}"
        )
    lab = (~_is_normal(y_test, normal)).long()
    if lab.min() == lab.max():
        raise ValueError("the test split must hold both normal and anomalous images")
    return Split(
        dataset,
        "p2",
        normal,
        None,
        0,
        x_train=x_train[keep],
        x_test=x_test,
        y_test=lab,
        c_test=y_test,
    )


def prepare(
    dataset: str,
    protocol: str,
    normal: int | Sequence[int],
    anomaly_fraction: float | None = None,
    seed: int = 0,
    root: str | Path | None = None,
    max_train: int | None = None,
    max_test: int | None = None,
) -> Split:
    """The :class:`Split` of ``dataset`` under ``protocol`` ("p1" or "p2") for the
    ``normal`` class(es).

    p1 needs ``anomaly_fraction`` in (0, 1) (default 0.5; for COIL-100 the public choice
    for 1/4/7 normal objects, :data:`COIL_FRACTIONS`). COIL-100 supports p1 only.
    ``max_train`` / ``max_test`` keep a deterministic subset (stratified over
    normal/anomalous for the test and validation splits), for quick runs and tests.
    """
    checks.choice(dataset, "dataset", DATASETS)
    checks.choice(protocol, "protocol", PROTOCOLS)
    normal = normal_classes(normal, dataset)
    seed = checks.integer(seed, "seed", 0)
    for v, name in ((max_train, "max_train"), (max_test, "max_test")):
        if v is not None:
            checks.integer(v, name, 2)
    if protocol == "p1":
        if anomaly_fraction is None:
            anomaly_fraction = (
                COIL_FRACTIONS.get(len(normal), 0.5) if dataset == "coil100" else 0.5
            )
        anomaly_fraction = anomaly_fraction_of(anomaly_fraction)
    elif anomaly_fraction is not None:
        raise ValueError(
            "anomaly_fraction applies to protocol p1 only; p2 tests on the whole test "
            "split"
        )
    if dataset == "coil100" and protocol == "p2":
        raise ValueError("coil100 has no standard train/test split: use protocol p1")
    sets = load_dataset(dataset, root)
    if protocol == "p1":
        x, y = (
            sets["all"]
            if "all" in sets
            else (
                torch.cat([sets["train"][0], sets["test"][0]]),
                torch.cat([sets["train"][1], sets["test"][1]]),
            )
        )
        split = protocol1(x, y, normal, anomaly_fraction, seed, dataset)
    else:
        split = protocol2(*sets["train"], *sets["test"], normal, dataset)
    return _limit(split, max_train, max_test)


def _limit(s: Split, max_train: int | None, max_test: int | None) -> Split:
    def cut(x, y, c, n):
        if x is None or n is None or n >= len(x):
            return x, y, c
        g = torch.Generator().manual_seed(1000 + s.seed)
        perm = torch.randperm(len(y), generator=g)
        # the same share of anomalies as before, at least one of each kind
        n_anom = min(max(1, round(n * float(y.float().mean()))), n - 1)
        take = (
            torch.cat([perm[y[perm] == 1][:n_anom], perm[y[perm] == 0][: n - n_anom]])
            .sort()
            .values
        )
        return x[take], y[take], c[take]

    x_train = s.x_train if max_train is None else s.x_train[:max_train]
    x_test, y_test, c_test = cut(s.x_test, s.y_test, s.c_test, max_test)
    x_val, y_val, c_val = cut(s.x_val, s.y_val, s.c_val, max_test)
    return Split(
        s.dataset,
        s.protocol,
        s.normal,
        s.anomaly_fraction,
        s.seed,
        x_train,
        x_test,
        y_test,
        c_test,
        x_val,
        y_val,
        c_val,
    )
