"""The published numbers the chapters stand beside: one entry per number, with what was
measured, on which model, and where it was published (see :mod:`robustcore.references`,
which reads them). Where a paper and its repository differ, both are entries."""

from __future__ import annotations

from typing import Any

ENTRIES: dict[str, dict[str, Any]] = {}


def _add(
    key: str,
    value: float,
    unit: str,
    dataset: str,
    measured: str,
    source: str,
    cite: str,
    *,
    model: str,
    approx: bool = False,
) -> None:
    ENTRIES[key] = {
        "value": value,
        "unit": unit,
        "dataset": dataset,
        "measured": measured,
        "source": source,
        "cite": cite,
        "model": model,
        "approx": approx,
    }


# Repositories, at the commit read.
_MADRY_CHALLENGE = (
    "MadryLab/mnist_challenge README.md@3ee3643c4a8c59458d8c191b84027f4a6cbd9580"
)
_AUTOATTACK = "fra31/auto-attack README.md@a39220048b3c9f2cca9a4d3a54604793c68eca7e"
_CONSTRUCTED = (
    "MadryLab/constructed-datasets README.md@feb0b08b6eb104c539e515d907fe7a1c3795a2fd"
)
_HYPER = (
    "Hyperparticle/one-pixel-attack-keras "
    "README.md@8261f976be922bd9b470040367a34d82fcd506d4"
)
_TIMM = (
    "huggingface/pytorch-image-models results/results-imagenet-a.csv"
    "@4e5207c7bb6592474ca56e28b2cf85be8f1a550f"
)
_TIMM_PREV = (
    "huggingface/pytorch-image-models results/results-imagenet-a.csv"
    "@bef0c124ccde5284701b812e824d41e84242d32a"
)
_ARAE_LOGS = (
    "rohban-lab/Salehi_submitted_2020 MNIST-union/results/class{c}.out"
    "@eacec61db8a91fdd260cbc2322cddaa22de880ed"
)


# ---- Chapter 1: Madry et al. 2018, MNIST, L∞ ε = 0.3,
# their adversarially trained CNN (A)
_M = "Madry et al.'s PGD-trained CNN (2 conv + fc 1024), MNIST test set, L∞ ε=0.3"
_M_MODEL = (
    "Madry et al.'s CNN: 2 conv layers (32 and 64 filters of 5×5, each with 2×2 "
    "max-pooling) + fc 1024, trained with PGD-40 (ε=0.3, step 0.01) for 100,000 "
    "iterations of 50 images"
)
_add(
    "madry/clean",
    98.8,
    "%",
    "MNIST",
    f"{_M}: clean accuracy",
    "Madry et al. 2018, Table 1 (Natural)",
    "madry2018towards",
    model=_M_MODEL,
)
_add(
    "madry/fgsm",
    95.6,
    "%",
    "MNIST",
    f"{_M}: accuracy under FGSM",
    "Madry et al. 2018, Table 1",
    "madry2018towards",
    model=_M_MODEL,
)
_add(
    "madry/pgd40",
    93.2,
    "%",
    "MNIST",
    f"{_M}: accuracy under PGD, 40 steps, 1 restart",
    "Madry et al. 2018, Table 1",
    "madry2018towards",
    model=_M_MODEL,
)
_add(
    "madry/pgd100x20",
    89.3,
    "%",
    "MNIST",
    f"{_M}: accuracy under PGD, 100 steps, 20 restarts",
    "Madry et al. 2018, Table 1",
    "madry2018towards",
    model=_M_MODEL,
)
_add(
    "madry-challenge/pgd100x50",
    89.62,
    "%",
    "MNIST",
    "the released secret model: PGD-100, cross-entropy, 50 restarts, L∞ ε=0.3",
    _MADRY_CHALLENGE,
    "madry2018towards",
    model="the challenge's secret model: Madry et al.'s architecture and recipe",
)
_add(
    "autoattack/madry-mnist",
    88.50,
    "%",
    "MNIST",
    "Madry et al.'s released MNIST model under AutoAttack (standard), L∞ ε=0.3",
    _AUTOATTACK,
    "croce2020reliable",
    model="Madry et al.'s released MNIST checkpoint (the challenge's secret model)",
)

# ---- Chapter 2: Ilyas et al. 2019, CIFAR-10; standard training on each constructed
# dataset, accuracy on the CIFAR-10 test set (robust: L2 ε=0.25). Rounded in the
# release README; the paper draws D, D_R and D_NR as bars (Fig. 2b). The README gives
# D_rand and D_det 0% robust accuracy too.
_I = "standard training (ResNet-50) on {d}, CIFAR-10 test set"
_I_MODEL = "ResNet-50, standard training on {d} (their Appendix C.2 settings)"
_add(
    "ilyas/D/clean",
    95.3,
    "%",
    "CIFAR-10",
    _I.format(d="D") + ": clean accuracy",
    "Ilyas et al. 2019, Fig. 2b (bar label)",
    "ilyas2019adversarial",
    model=_I_MODEL.format(d="CIFAR-10"),
    approx=True,
)
_add(
    "ilyas/D/l2",
    0.0,
    "%",
    "CIFAR-10",
    _I.format(d="D") + ": accuracy at L2 ε=0.25",
    "Ilyas et al. 2019, Fig. 2b (bar)",
    "ilyas2019adversarial",
    model=_I_MODEL.format(d="CIFAR-10"),
    approx=True,
)
for _d, _clean, _rob in (("D_R", 84, 48), ("D_NR", 88, 0)):
    _add(
        f"ilyas/{_d}/clean",
        _clean,
        "%",
        "CIFAR-10",
        _I.format(d=_d) + ": clean accuracy",
        _CONSTRUCTED,
        "ilyas2019adversarial",
        model=_I_MODEL.format(d=_d),
        approx=True,
    )
    _add(
        f"ilyas/{_d}/l2",
        _rob,
        "%",
        "CIFAR-10",
        _I.format(d=_d) + ": accuracy at L2 ε=0.25",
        _CONSTRUCTED,
        "ilyas2019adversarial",
        model=_I_MODEL.format(d=_d),
        approx=True,
    )
for _d, _clean in (("D_rand", 63), ("D_det", 44)):
    _add(
        f"ilyas/{_d}/clean",
        _clean,
        "%",
        "CIFAR-10",
        _I.format(d=_d) + ": clean accuracy",
        _CONSTRUCTED,
        "ilyas2019adversarial",
        model=_I_MODEL.format(d=_d),
        approx=True,
    )
    _add(
        f"ilyas/{_d}/l2",
        0.0,
        "%",
        "CIFAR-10",
        _I.format(d=_d) + ": accuracy at L2 ε=0.25",
        _CONSTRUCTED,
        "ilyas2019adversarial",
        model=_I_MODEL.format(d=_d),
        approx=True,
    )

# The chapter's Tables A and B follow a reference notebook on MNIST perturbation groups
# (the public MNIST-features study that seeded Chapter 2, not Ilyas et al.), which gives
# its accuracies but not its training sizes or perturbation strengths; it is not a
# paper, and its repository is not recorded here.
_NB = (
    "unpublished: a public MNIST-features notebook on perturbation groups, the seed "
    "of Chapter 2 (its Tables A and B; not a paper)"
)
_GROUPS = ("1", "2", "3", "4", "5")
for _table, _col, _what, _accs in (
    ("A", "STD", "STD CNN", (82.9, 54.9, 80.8, 72.7, 97.7)),
    ("A", "robust", "robust CNN", (96.8, 96.7, 96.9, 95.0, 97.2)),
    ("B", "D_R", "standard training on D_R", (79.2, 82.2, 90.8, 87.6, 96.0)),
    ("B", "D_NR", "standard training on D_NR", (85.6, 43.4, 86.5, 65.7, 95.4)),
):
    for _g, _a in zip(_GROUPS, _accs):
        _add(
            f"groups-notebook/{_table}/{_col}/{_g}",
            _a,
            "%",
            "MNIST perturbation groups",
            f"Table {_table}, {_what}, accuracy on group {_g}",
            _NB,
            "",  # a notebook, not a paper: nothing to cite
            model="the notebook's CNNs (architecture and training not given)",
        )

# ---- Chapter 3: one-pixel attacks on CIFAR-10
_add(
    "su/targeted-any",
    67.97,
    "%",
    "CIFAR-10 (Kaggle)",
    "1 pixel, share of images that DE moves to at least one of the 9 other classes",
    "Su et al. 2019, abstract",
    "su2019one",
    model="Su et al.'s all-convolutional network, network in network and VGG16, "
    "trained on Kaggle CIFAR-10",
)
_add(
    "su/targeted-any/confidence",
    74.03,
    "%",
    "CIFAR-10 (Kaggle)",
    "1 pixel, mean probability of the adversarial class where the attack succeeded",
    "Su et al. 2019, abstract",
    "su2019one",
    model="Su et al.'s all-convolutional network, network in network and VGG16, "
    "trained on Kaggle CIFAR-10",
)
for _net, _u, _t in (
    ("LeNet", 63.0, 34.4),
    ("ResNet", 34.0, 14.4),
    ("DenseNet", 31.0, 4.44),
):
    _add(
        f"hyperparticle/{_net}/1px/untargeted",
        _u,
        "%",
        "CIFAR-10",
        f"Keras {_net}, 1 pixel, untargeted success on 100 correctly classified test "
        "images (DE, population 400, 75 iterations)",
        _HYPER,
        "su2019one",
        model=f"the repository's Keras {_net}, trained by its own scripts",
    )
    _add(
        f"hyperparticle/{_net}/1px/targeted",
        _t,
        "%",
        "CIFAR-10",
        f"Keras {_net}, 1 pixel, targeted: share of (image, target) pairs, each of the "
        "9 other classes tried, that end misclassified (attack.py@13d2587e counts "
        "predicted != true for targeted runs too)",
        _HYPER,
        "su2019one",
        model=f"the repository's Keras {_net}, trained by its own scripts",
    )

# ---- Chapter 4: ImageNet-A, torchvision weights, top-1 over the 200 ImageNet-A classes
_add(
    "hendrycks/densenet121",
    2.0,
    "%",
    "ImageNet-A",
    'DenseNet-121 top-1 accuracy ("around 2%")',
    "Hendrycks et al. 2021, abstract",
    "hendrycks2021natural",
    model="an ImageNet-trained DenseNet-121",
    approx=True,
)
for _arch, _acc in (
    ("resnet18", 1.120),
    ("densenet121", 2.467),
    ("vgg16", 2.560),
    ("resnet152", 6.053),
):
    _add(
        f"timm/{_arch}",
        _acc,
        "%",
        "ImageNet-A",
        f"torchvision {_arch} weights (tv_in1k), top-1 over the 200 classes, 224 px",
        _TIMM,
        "hendrycks2021natural",
        model=f"torchvision's ImageNet-trained {_arch} weights",
    )
_add(
    "timm/resnet50",
    0.040,
    "%",
    "ImageNet-A",
    "torchvision resnet50 weights (tv_in1k), the filter model: top-1 over the 200 "
    "classes",
    _TIMM_PREV,
    "hendrycks2021natural",
    model="torchvision's ImageNet-trained resnet50 weights",
)

# ---- Chapter 5: ARAE, MNIST protocol 2 (one digit normal, the other nine novel), AUROC
# on the test set. The repository logs the AUROC of its union model (L2 + L∞ + spatial
# attacks, 500 epochs) after every epoch; the paper's L∞ model has no stored numbers
# there.
_ARAE_MODEL = (
    "the repository's ARAE trained against a union of L2, L∞ and spatial attacks "
    "for 500 epochs"
)
_LAST = (
    0.99093,
    0.98792,
    0.95327,
    0.97071,
    0.97794,
    0.98189,
    0.99206,
    0.97197,
    0.95904,
    0.97163,
)
_E451 = (
    0.99208,
    0.99805,
    0.95563,
    0.96812,
    0.97840,
    0.98046,
    0.99203,
    0.97166,
    0.95708,
    0.97029,
)
for _c in range(10):
    _add(
        f"arae-repo/p2/{_c}/last",
        _LAST[_c],
        "AUROC",
        "MNIST",
        f"the repository's union-of-attacks ARAE, normal class {_c}, AUROC after the "
        "last (500th) epoch",
        _ARAE_LOGS.format(c=_c),
        "salehi2021arae",
        model=_ARAE_MODEL,
    )
    _add(
        f"arae-repo/p2/{_c}/epoch451",
        _E451[_c],
        "AUROC",
        "MNIST",
        f"the repository's union-of-attacks ARAE, normal class {_c}, AUROC after epoch "
        "451 (its released checkpoint)",
        _ARAE_LOGS.format(c=_c),
        "salehi2021arae",
        model=_ARAE_MODEL,
    )

# ---- Chapter 6: certified robustness, MNIST, L∞. CROWN-IBP's repository gives its
# best model's verified error (the "dm-large" CNN of Gowal et al. 2018, trained with
# CROWN-IBP at ε_train=0.4) on the 10,000 test digits.
_CROWN_IBP = "huanzhang12/CROWN-IBP README.md@dbfd741f0e4ca9dd06c2cb2cf38728a9b64cd212"
for _eps, _err in ((0.3, 6.68), (0.4, 12.46)):
    _add(
        f"crown-ibp/dm-large/verified-error/{_eps}",
        _err,
        "%",
        "MNIST",
        "CROWN-IBP's released dm-large CNN (the largest model of Gowal et al. 2018): "
        f"verified error at L∞ ε={_eps} on the 10,000 test digits",
        _CROWN_IBP,
        "zhang2020crownibp",
        model="the dm-large CNN (5 conv + fc 512) trained with CROWN-IBP at "
        "ε_train=0.4",
    )
