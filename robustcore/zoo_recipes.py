"""The zoo's classifiers: each name's training recipe in the quick and full profiles.

:data:`RECIPES` maps a name to its recipe per profile, :data:`DESCRIPTIONS` to a line
about it; :mod:`robustcore.zoo` makes each an artifact of the store and loads it. A
recipe holds every setting its training uses, the defaults of ``train.train`` and of
the PGD attack included, and :data:`BUILT_BY`, the version of the training code.
"""

from __future__ import annotations

from typing import Any

from . import attacks, store, train

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


# name -> profile -> recipe, and name -> description, in registration order
RECIPES: dict[str, dict[str, dict[str, Any]]] = {}
DESCRIPTIONS: dict[str, str] = {}


def _classifier(
    name: str, arch: str, quick: dict, full: dict, description: str
) -> None:
    """Register classifier ``name``: the quick and full profiles' settings over the
    common ones, every recipe completed with the defaults it does not change."""
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

    RECIPES[name] = {
        "quick": complete({**base, **quick}),
        "full": complete({**base, **full}),
    }
    DESCRIPTIONS[name] = description


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
# Chapter 4's seed study (full profile): three trained models per architecture, each
# the recipe of its first model from another seed.
for _base, _seeds in (
    ("mnist-mlp-std", (1, 2)),
    ("mnist-cnn-std", (1, 2)),
    ("mnist-resnet-std", (2, 3)),
):
    for _seed in _seeds:
        _classifier(
            f"{_base}-seed{_seed}",
            RECIPES[_base]["quick"]["arch"],
            {**RECIPES[_base]["quick"], "seed": _seed},
            {**RECIPES[_base]["full"], "seed": _seed},
            f"{DESCRIPTIONS[_base]}, seed {_seed} (independent of {_base})",
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
