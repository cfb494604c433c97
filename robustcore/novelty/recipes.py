"""Training recipes and the chapter's named novelty detectors (artifacts of the
store)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from .. import checks, profiles, store, zoo
from .model import (
    DAE_NOISE_STD,
    MAX_EPOCHS,
    MAX_STEPS,
    METHODS,
    AutoEncoder,
    check_autoencoder,
    evaluate,
    fit,
)
from .protocols import (
    DATASETS,
    NUM_CLASSES,
    PROTOCOLS,
    SHAPES,
    Split,
    anomaly_fraction_of,
    normal_classes,
    prepare,
)

# Per-dataset settings of the public training script: the attack's ε, its PGD steps,
# the batch size.
EPS = {"mnist": 0.2, "fashion_mnist": 0.05, "coil100": 0.05}
STEPS = {"mnist": 40, "fashion_mnist": 40, "coil100": 20}
BATCH_SIZE = {"mnist": 256, "fashion_mnist": 256, "coil100": 16}


# The version of the training code's algorithm, stored in every recipe: bump it when a
# change to the training changes what it builds, so no detector of the old code is used.
BUILT_BY = "robustcore.novelty autoencoder 1"


def recipe(
    dataset: str,
    protocol: str,
    normal: int | Sequence[int],
    method: str,
    *,
    epochs: int,
    anomaly_fraction: float | None = None,
    seed: int = 0,
    **overrides: Any,
) -> dict[str, Any]:
    """A JSON-able training recipe with the paper's settings for ``dataset``
    (overridable)."""
    checks.choice(dataset, "dataset", DATASETS)
    checks.choice(protocol, "protocol", PROTOCOLS)
    checks.choice(method, "method", METHODS)
    checks.integer(epochs, "epochs", 1, MAX_EPOCHS)
    checks.seed(seed)
    if protocol == "p1" and anomaly_fraction is not None:
        anomaly_fraction_of(anomaly_fraction)
    rec = {
        "dataset": dataset,
        "protocol": protocol,
        "normal": list(normal_classes(normal, dataset)),
        "anomaly_fraction": anomaly_fraction if protocol == "p1" else None,
        "method": method,
        "epochs": epochs,
        "batch_size": BATCH_SIZE[dataset],
        "lr": 1e-3,
        "gamma": 0.1,
        "eps": EPS[dataset],
        "steps": STEPS[dataset],
        "noise_std": DAE_NOISE_STD,
        "eps_warmup_epochs": 0.0,
        "seed": seed,
        "max_train": None,
        "max_test": None,
        **store.defaults(fit, "alpha"),
        "built_by": BUILT_BY,
    }
    unknown = set(overrides) - set(rec)
    if unknown:
        raise ValueError(
            f"unknown recipe setting(s) {sorted(unknown)}; known: {sorted(rec)}"
        )
    rec.update(overrides)
    _check_settings(rec)
    return rec


def _check_settings(rec: dict[str, Any]) -> None:
    """The training settings of a recipe, checked as :func:`fit` and :func:`prepare`
    check them."""
    rules = {
        "batch_size": lambda v: checks.integer(v, "batch_size", 1),
        "lr": lambda v: checks.number(v, "lr", 0.0, 10.0, lo_open=True),
        "gamma": lambda v: checks.number(v, "gamma", 0.0),
        "eps": lambda v: checks.number(v, "eps", 0.0, 1.0),
        "steps": lambda v: checks.integer(v, "steps", 1, MAX_STEPS),
        "noise_std": lambda v: checks.number(v, "noise_std", 0.0, 10.0),
        "eps_warmup_epochs": lambda v: checks.number(
            v, "eps_warmup_epochs", 0.0, float(rec["epochs"])
        ),
        "max_train": lambda v: v is None or checks.integer(v, "max_train", 2),
        "max_test": lambda v: v is None or checks.integer(v, "max_test", 2),
    }
    for key, check in rules.items():
        if key in rec:
            check(rec[key])


_RECIPE_KEYS = ("dataset", "protocol", "normal", "method", "epochs")


def _check_recipe(rec: Any) -> dict[str, Any]:
    if not isinstance(rec, dict) or any(k not in rec for k in _RECIPE_KEYS):
        raise TypeError(
            "rec must be a recipe dict (see novelty.recipe) with keys "
            f"{list(_RECIPE_KEYS)}, got {type(rec).__name__}"
        )
    checks.choice(rec["dataset"], "rec['dataset']", DATASETS)
    checks.choice(rec["protocol"], "rec['protocol']", PROTOCOLS)
    checks.choice(rec["method"], "rec['method']", METHODS)
    checks.integer(rec["epochs"], "rec['epochs']", 1, MAX_EPOCHS)
    return rec


def split_of(rec: dict[str, Any], root: str | Path | None = None) -> Split:
    """The :class:`Split` a recipe trains and tests on."""
    _check_recipe(rec)
    return prepare(
        rec["dataset"],
        rec["protocol"],
        rec["normal"],
        rec.get("anomaly_fraction"),
        seed=rec.get("seed", 0),
        root=root,
        max_train=rec.get("max_train"),
        max_test=rec.get("max_test"),
    )


def make(rec: dict[str, Any]) -> AutoEncoder:
    """The untrained autoencoder for a recipe's dataset."""
    _check_recipe(rec)
    return AutoEncoder(SHAPES[rec["dataset"]])


def fit_recipe(
    model: AutoEncoder,
    rec: dict[str, Any],
    progress_bar: bool = True,
    root: str | Path | None = None,
) -> dict[str, Any]:
    """Fit ``model`` with a recipe on its split's training images; return
    ``{"train_loss"}``."""
    model = check_autoencoder(model)
    _check_recipe(rec)
    if tuple(getattr(model, "shape", SHAPES[rec["dataset"]])) != SHAPES[rec["dataset"]]:
        raise ValueError(
            f"model takes images of shape {tuple(model.shape)} but rec['dataset'] "
            f"{rec['dataset']!r} has {SHAPES[rec['dataset']]}"
        )
    _check_settings(rec)
    split = split_of(rec, root)
    hist = fit(
        model,
        split.x_train,
        **_fit_settings(rec),
        epochs=rec["epochs"],
        eps_warmup_epochs=rec.get("eps_warmup_epochs", 0.0),
        seed=rec.get("train_seed", rec["seed"]),
        progress_bar=progress_bar,
        desc=f"{rec['method']} {rec['dataset']} {rec['protocol']} {rec['normal']}",
    )
    return {"train_loss": hist[-1]["loss"]}


def _fit_settings(rec: dict[str, Any]) -> dict[str, Any]:
    """The settings of :func:`fit` a recipe fixes, other than its schedule."""
    keys = ("method", "batch_size", "lr", "gamma", "eps", "steps", "alpha", "noise_std")
    return {k: rec[k] for k in keys}


def estimate_recipe(rec: dict[str, Any]) -> float:
    """Seconds :func:`fit_recipe` would take here: one pass over a few batches of the
    split's training images timed after an untimed one, scaled to the recipe's passes
    over all of them."""
    _check_recipe(rec)
    x = split_of(rec).x_train
    bs = min(rec["batch_size"], len(x))
    model = make(rec)
    seconds = []
    for batches in (1, 4):  # the first call pays one-off costs
        k = min(batches * bs, len(x))
        t0 = time.perf_counter()
        settings = {**_fit_settings(rec), "batch_size": bs}
        fit(model, x[:k], **settings, epochs=1, seed=rec["seed"], progress_bar=False)
        seconds.append((time.perf_counter() - t0) / -(-k // bs))
    return seconds[-1] * -(-len(x) // bs) * rec["epochs"]


def train_recipe(
    model: AutoEncoder,
    rec: dict[str, Any],
    progress_bar: bool = True,
    root: str | Path | None = None,
) -> dict[str, Any]:
    """Fit ``model`` with a recipe on its split's training images; return its test
    metrics."""
    train_info = fit_recipe(model, rec, progress_bar, root)
    return {**evaluate(model, split_of(rec, root)), **train_info}


def zoo_name(protocol: str, normal: int, method: str, dataset: str = "mnist") -> str:
    """The zoo name of a chapter model, e.g. ``novelty-mnist-p2-8-arae``."""
    checks.choice(protocol, "protocol", PROTOCOLS)
    checks.choice(method, "method", METHODS)
    checks.choice(dataset, "dataset", DATASETS)
    checks.integer(normal, "normal", 0, NUM_CLASSES[dataset] - 1)
    return f"novelty-{dataset}-{protocol}-{normal}-{method}"


# Training passes over the normal images. The public Keras script makes 1,600 passes on
# MNIST and the union model 500; the full profile makes 200 with the paper's settings.
# The quick profile is a CPU budget: 40 passes in batches of 64 (more Adam steps for the
# same work) with a 5-step attack (step 2.5ε/5) instead of 40 steps, and ε ramped up
# over the first 10 passes: a sigmoid network facing the full ε from the start spends
# a short schedule outputting the mean image.
EPOCHS = {"quick": 40, "full": 200}
QUICK = {"batch_size": 64, "steps": 5, "eps_warmup_epochs": 10.0}
P1_FRACTION = 0.5


def _artifact(protocol: str, c: int, method: str) -> zoo.ModelArtifact:
    frac = P1_FRACTION if protocol == "p1" else None
    recs = {
        p: recipe(
            "mnist",
            protocol,
            c,
            method,
            epochs=EPOCHS[p],
            anomaly_fraction=frac,
            **(QUICK if p == "quick" else {}),
        )
        for p in profiles.NAMES
    }
    # float16 weights: half the size to ship, and the metrics are those of the rounded
    # weights.
    return zoo.model_artifact(
        zoo_name(protocol, c, method),
        recs,
        make,
        lambda m, r, pb: fit_recipe(m, r, pb),
        lambda m, r: evaluate(m, split_of(r)),
        f"{method.upper()} novelty detector, MNIST normal class {c}, protocol "
        f"{protocol}",
        half=True,
        estimate=estimate_recipe,
    )


ARTIFACTS: dict[str, zoo.ModelArtifact] = {
    a.name: a
    for a in (
        _artifact(protocol, c, method)
        for protocol in PROTOCOLS
        for c in range(10)
        for method in ("dae", "arae")
    )
}


def load(
    name: str,
    profile: str | None = None,
    train_if_missing: bool = True,
    progress: bool = True,
    device: str | torch.device | None = None,
) -> AutoEncoder:
    """The trained autoencoder ``name`` (a key of :data:`ARTIFACTS`, see
    :func:`zoo_name`) in eval mode, from the artifact store (cached, shipped,
    downloaded, or trained now)."""
    artifact = store.lookup(ARTIFACTS, name, "novelty model name")
    model = zoo.load_model(artifact, profile, train_if_missing, progress, device)
    return model  # type: ignore[return-value]
