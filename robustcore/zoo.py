"""The model zoo: named recipes → trained models, through the artifact store.

``load(name)`` returns a trained classifier in eval mode: its checkpoint comes from the
cache, the shipped artifacts, a download, or a training run with its recipe
(:mod:`robustcore.store`). Every checkpoint stores the recipe it was trained with, and
one trained with another recipe is never used silently. :func:`model_artifact` turns any
``make`` / ``fit`` pair into such an artifact; the novelty detectors of
:mod:`robustcore.novelty` use it too.

Command line: ``python -m robustcore artifacts list | build NAME ... | build --all``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from . import attacks, data, models, store, train
from .utils import default_device


@dataclass(frozen=True, kw_only=True)
class ModelArtifact(store.Artifact):
    """An artifact whose payload is a model's ``state_dict``; ``make(recipe)`` builds
    the model."""

    make: Callable[[dict[str, Any]], torch.nn.Module]


def model_artifact(
    name: str,
    recipes: dict[str, dict[str, Any]],
    make: Callable[[dict[str, Any]], torch.nn.Module],
    fit: Callable[[torch.nn.Module, dict[str, Any], bool], dict[str, Any]],
    evaluate: Callable[[torch.nn.Module, dict[str, Any]], dict[str, Any]] | None = None,
    description: str = "",
    half: bool = False,
    estimate: Callable[[dict[str, Any]], float] | None = None,
) -> ModelArtifact:
    """A model artifact: ``make(recipe)`` → untrained model,
    ``fit(model, recipe, progress)`` trains it in place (→ training metrics),
    ``evaluate(model, recipe)`` → test metrics.

    ``estimate(recipe)``: seconds the build would take here (see
    :attr:`robustcore.store.Artifact.estimate`). ``half``: the weights are stored in
    float16 (half the size) and the test metrics are
    measured on the rounded weights, so a stored model is exactly the one that was
    evaluated.
    """

    def build(rec: dict[str, Any], progress: bool) -> dict[str, Any]:
        model = make(rec).to(default_device())
        t0 = time.perf_counter()
        metrics = dict(fit(model, rec, progress) or {})
        seconds = round(time.perf_counter() - t0, 1)
        if half:
            with torch.no_grad():
                for p in model.parameters():
                    p.copy_(p.half().float())
        if evaluate is not None:
            metrics = {**evaluate(model.eval(), rec), **metrics}
        state = {
            k: (
                v.detach().cpu().half()
                if half and v.is_floating_point()
                else v.detach().cpu()
            )
            for k, v in model.state_dict().items()
        }
        return {
            "state_dict": state,
            "meta": {
                "metrics": metrics,
                "train_seconds": seconds,
                "torch": str(torch.__version__),
            },
        }

    return ModelArtifact(
        name=name,
        recipes=recipes,
        build=build,
        description=description,
        make=make,
        estimate=estimate,
    )


def load_model(
    artifact: ModelArtifact,
    profile: str | None = None,
    train_if_missing: bool = True,
    progress: bool = True,
    device: str | torch.device | None = None,
) -> torch.nn.Module:
    """The trained model of ``artifact`` in eval mode on ``device`` (default: the GPU if
    there is one); its metadata (recipe, test metrics, training time) in
    ``model.meta``."""
    if not isinstance(train_if_missing, bool):
        raise TypeError(
            f"train_if_missing must be True or False, got {train_if_missing!r}"
        )
    try:
        device = torch.device(device) if device is not None else default_device()
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device must name a torch device such as 'cpu' or 'cuda', got {device!r}"
        ) from None
    payload = store.fetch(
        artifact, profile, build_if_missing=train_if_missing, progress=progress
    )
    model = artifact.make(payload["meta"]["recipe"])
    # float16 weights are cast to the model's float32
    model.load_state_dict(payload["state_dict"])
    model.meta = payload["meta"]  # type: ignore[attr-defined]
    return model.eval().to(device)


def load(
    name: str,
    profile: str | None = None,
    train_if_missing: bool = True,
    progress: bool = True,
    device: str | torch.device | None = None,
) -> torch.nn.Module:
    """A trained classifier ``name`` (a key of :data:`ARTIFACTS`) in eval mode on
    ``device``.

    Raises :class:`robustcore.io.ChecksumError` for a corrupted or tampered file.
    """
    return load_model(
        store.lookup(ARTIFACTS, name, "model name"),
        profile,
        train_if_missing,
        progress,
        device,
    )


def recipe(name: str, profile: str | None = None) -> dict[str, Any]:
    """The recipe of classifier ``name`` in ``profile`` (default: the current
    profile)."""
    return store.lookup(ARTIFACTS, name, "model name").recipe(profile)


def describe(name: str, profile: str | None = None) -> str:
    """Classifier ``name`` in ``profile`` in words — its architecture and training
    recipe — for a page to say how it differs from a published model."""
    rec = recipe(name, profile)
    arch = {
        "mlp": "an MLP 784-256-256-10",
        "mlp-small": "an MLP 784-50-50-10",
        "cnn": "a small CNN (2 strided 4×4 conv, 32 and 64 channels, + fc 128)",
        "resnet": "a small ResNet (3 residual stages)",
    }[rec["arch"]]
    attack, ibp = rec["attack"], rec.get("ibp")
    how = (
        f"PGD-{attack['steps']} adversarial training at L∞ ε={attack['eps']:g}"
        if attack
        else f"IBP training at L∞ ε={ibp['eps']:g}"
        if ibp
        else "standard training"
    )
    digits = "all" if rec["n_train"] is None else f"{rec['n_train']:,}"
    return f"{arch}, {how}, {rec['epochs']} epochs on {digits} training images"


# --------------------------------------------------------------------------------------
# The MNIST classifiers


def _make_classifier(rec: dict[str, Any]) -> torch.nn.Module:
    channels, side = data.SHAPES[rec.get("dataset", "mnist")]
    return models.build(
        rec["arch"],
        in_channels=channels,
        image_size=side,
        num_classes=len(rec.get("classes") or range(10)),
    )


def task_data(
    rec: dict[str, Any], train_split: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """The data a classifier recipe is trained (``train_split=True``) or tested on: its
    dataset (MNIST unless it names another), or the sub-task on ``rec["classes"]``
    (relabelled 0..k-1)."""
    x, y = data.dataset(rec.get("dataset", "mnist"), train=train_split)
    return data.select_classes(x, y, rec["classes"]) if rec.get("classes") else (x, y)


def _fit_classifier(
    model: torch.nn.Module, rec: dict[str, Any], progress: bool
) -> dict[str, Any]:
    x, y = task_data(rec, True)
    x, y = data.subset(x, y, rec.get("n_train"), seed=rec["seed"])
    if rec.get("augment") == "groups":
        # each training digit in one of the five perturbation groups
        x, y, _ = data.perturbation_groups(x, y, seed=rec["seed"] + 1000)
    train.train(
        model,
        x,
        y,
        ibp=rec.get("ibp"),  # only in the recipes of certified training
        epochs=rec["epochs"],
        batch_size=rec["batch_size"],
        lr=rec["lr"],
        optimizer=rec["optimizer"],
        schedule=rec["schedule"],
        weight_decay=rec["weight_decay"],
        attack=rec["attack"],
        eps_warmup_epochs=rec["eps_warmup_epochs"],
        seed=rec["seed"],
        progress=progress,
        desc=rec["arch"],
    )
    return {}


PROBE_BATCHES = 4  # batches timed to estimate a training run


def _estimate_classifier(rec: dict[str, Any]) -> float:
    """Seconds the recipe's training would take here: a few batches of it timed after
    one untimed (the attack included), scaled to its epochs and training set."""
    x, y = task_data(rec, True)
    n = min(rec.get("n_train") or len(x), len(x))
    bs = min(rec["batch_size"], n)
    model = _make_classifier(rec).to(default_device())
    seconds = []
    for batches in (1, PROBE_BATCHES):  # the first call pays one-off costs
        t0 = time.perf_counter()
        train.train(
            model,
            x[: batches * bs],
            y[: batches * bs],
            epochs=1,
            batch_size=bs,
            lr=rec["lr"],
            attack=rec.get("attack"),
            ibp=rec.get("ibp"),
            seed=rec["seed"],
            progress=False,
        )
        seconds.append((time.perf_counter() - t0) / batches)
    return seconds[-1] * -(-n // bs) * rec["epochs"]


def _test_classifier(model: torch.nn.Module, rec: dict[str, Any]) -> dict[str, Any]:
    xt, yt = task_data(rec, False)
    return {"test_acc": train.evaluate(model, xt, yt)}


ARTIFACTS: dict[str, ModelArtifact] = {}


# The version of the training code's algorithm, stored in every recipe: bump it when a
# change to the training changes what it builds, so that no checkpoint of the old code
# is used.
BUILT_BY = "robustcore.zoo classifier 1"
# train.train's other settings, at their defaults: in every recipe, so that a changed
# default changes the recipe too.
_TRAIN = store.defaults(
    train.train, "optimizer", "schedule", "weight_decay", "eps_warmup_epochs"
)
_PGD = store.defaults(attacks.pgd, "norm", "random_start", "restarts", "targeted")


def _classifier(
    name: str, arch: str, quick: dict, full: dict, description: str
) -> None:
    base = {
        "arch": arch,
        "dataset": "mnist",
        "classes": None,
        "batch_size": 128,
        "lr": 1e-3,
        "seed": 0,
        "n_train": None,
        "augment": None,
        "attack": None,
        **_TRAIN,
        "built_by": BUILT_BY,
    }

    def complete(rec: dict) -> dict:
        attack = rec["attack"]
        return {**rec, "attack": None if attack is None else {**_PGD, **attack}}

    ARTIFACTS[name] = model_artifact(
        name,
        {"quick": complete({**base, **quick}), "full": complete({**base, **full})},
        _make_classifier,
        _fit_classifier,
        _test_classifier,
        description,
        estimate=_estimate_classifier,
    )


_PGD_TRAIN_QUICK = {"name": "pgd", "eps": 0.3, "steps": 5, "alpha": 0.1}
# Madry et al. trained with PGD-40 (step 0.01); we train with 10 steps of 0.05, a
# quarter of the cost, so that the full recipe also fits a patient CPU (about half an
# hour on two cores).
_PGD_TRAIN_FULL = {"name": "pgd", "eps": 0.3, "steps": 10, "alpha": 0.05}

_classifier(
    "mnist-mlp-std",
    "mlp",
    {"epochs": 8},
    {"epochs": 20},
    "MLP 784-256-256-10, standard training",
)
_classifier(
    "mnist-cnn-std",
    "cnn",
    {"epochs": 6, "lr": 2e-3},
    {"epochs": 15, "lr": 2e-3},
    "SmallCNN, standard training",
)
_classifier(
    "mnist-resnet-std",
    "resnet",
    {"epochs": 4},
    {"epochs": 15},
    "SmallResNet, standard training",
)
# The same recipe with another seed: an independently trained ResNet beside Chapter 4's
# filter model.
_classifier(
    "mnist-resnet-std-seed1",
    "resnet",
    {"epochs": 4, "seed": 1},
    {"epochs": 15, "seed": 1},
    "SmallResNet, standard training, seed 1 (independent of mnist-resnet-std)",
)
_classifier(
    "mnist-cnn-pgd-linf",
    "cnn",
    {"epochs": 8, "attack": _PGD_TRAIN_QUICK, "eps_warmup_epochs": 1.0},
    {"epochs": 20, "attack": _PGD_TRAIN_FULL, "eps_warmup_epochs": 2.0},
    "SmallCNN, PGD adversarial training at L∞ ε=0.3 (Madry et al.)",
)
# Chapter 1's seed spread: the same recipe trained from seeds 1 and 2.
for _seed in (1, 2):
    _classifier(
        f"mnist-cnn-pgd-linf-seed{_seed}",
        "cnn",
        {
            "epochs": 8,
            "attack": _PGD_TRAIN_QUICK,
            "eps_warmup_epochs": 1.0,
            "seed": _seed,
        },
        {
            "epochs": 20,
            "attack": _PGD_TRAIN_FULL,
            "eps_warmup_epochs": 2.0,
            "seed": _seed,
        },
        f"SmallCNN, PGD adversarial training at L∞ ε=0.3, seed {_seed} "
        "(independent of mnist-cnn-pgd-linf)",
    )
_classifier(
    "mnist-cnn-groups",
    "cnn",
    {"epochs": 6, "lr": 2e-3, "augment": "groups"},
    {"epochs": 15, "lr": 2e-3, "augment": "groups"},
    "SmallCNN, standard training on digits in the five perturbation groups",
)
# Chapter 6: certified training (Gowal et al. 2018 train MNIST with ε_train = 0.4 for a
# test ε of 0.3, ε ramped from 0 and κ from 1 to 0.5), and the small MLPs that MILP
# verifies exactly: standard, PGD-trained and IBP-trained at ε = 0.1.
_IBP_TRAIN = {"eps": 0.4, "kappa": 0.5}
_classifier(
    "mnist-cnn-ibp-linf",
    "cnn",
    {"epochs": 8, "ibp": _IBP_TRAIN, "eps_warmup_epochs": 4.0},
    {"epochs": 40, "ibp": _IBP_TRAIN, "eps_warmup_epochs": 15.0},
    "SmallCNN, IBP certified training at L∞ ε_train=0.4 (Gowal et al.)",
)
_SMALL_PGD = {"name": "pgd", "eps": 0.1, "steps": 10, "alpha": 0.025}
_classifier(
    "mnist-mlp-small-std",
    "mlp-small",
    {"epochs": 8},
    {"epochs": 20},
    "MLP 784-50-50-10, standard training",
)
_classifier(
    "mnist-mlp-small-pgd-linf",
    "mlp-small",
    {"epochs": 8, "attack": _SMALL_PGD, "eps_warmup_epochs": 1.0},
    {"epochs": 20, "attack": _SMALL_PGD, "eps_warmup_epochs": 2.0},
    "MLP 784-50-50-10, PGD adversarial training at L∞ ε=0.1",
)
_classifier(
    "mnist-mlp-small-ibp-linf",
    "mlp-small",
    {"epochs": 8, "ibp": {"eps": 0.1, "kappa": 0.5}, "eps_warmup_epochs": 4.0},
    {"epochs": 20, "ibp": {"eps": 0.1, "kappa": 0.5}, "eps_warmup_epochs": 8.0},
    "MLP 784-50-50-10, IBP certified training at L∞ ε=0.1",
)

# The binary task "3 vs 7" (label 0: a 3, label 1: a 7), for Chapter 2's binary vs
# 10-class study.
_classifier(
    "mnist37-cnn-std",
    "cnn",
    {"epochs": 6, "lr": 2e-3, "classes": [3, 7]},
    {"epochs": 15, "lr": 2e-3, "classes": [3, 7]},
    "SmallCNN on 3 vs 7, standard training",
)
_classifier(
    "mnist37-cnn-pgd-linf",
    "cnn",
    {
        "epochs": 8,
        "attack": _PGD_TRAIN_QUICK,
        "eps_warmup_epochs": 1.0,
        "classes": [3, 7],
    },
    {
        "epochs": 20,
        "attack": _PGD_TRAIN_FULL,
        "eps_warmup_epochs": 2.0,
        "classes": [3, 7],
    },
    "SmallCNN on 3 vs 7, PGD adversarial training at L∞ ε=0.3",
)

# CIFAR-10 (online readers; meant for a GPU): the source models of Chapter 2's CIFAR-10
# datasets. Ilyas et al. use a ResNet-50 and, for D_R, one adversarially trained with L2
# PGD at ε=0.5. Ours is the small ResNet at 32×32×3 without data augmentation, so its
# clean accuracy is lower.
_PGD_L2_CIFAR = {"name": "pgd", "eps": 0.5, "norm": "l2", "steps": 7, "alpha": 0.1}
_CIFAR = {"dataset": "cifar10", "batch_size": 128}
_classifier(
    "cifar10-resnet-std",
    "resnet",
    {**_CIFAR, "epochs": 10, "n_train": 10_000},
    {**_CIFAR, "epochs": 30},
    "SmallResNet on CIFAR-10, standard training",
)
_classifier(
    "cifar10-resnet-pgd-l2",
    "resnet",
    {
        **_CIFAR,
        "epochs": 10,
        "n_train": 10_000,
        "attack": _PGD_L2_CIFAR,
        "eps_warmup_epochs": 1.0,
    },
    {**_CIFAR, "epochs": 30, "attack": _PGD_L2_CIFAR, "eps_warmup_epochs": 2.0},
    "SmallResNet on CIFAR-10, PGD adversarial training at L2 ε=0.5 (as Ilyas et al.)",
)
