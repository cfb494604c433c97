"""Novelty detection with autoencoders: the denoising baseline (DAE) and ARAE
(Salehi et al.).

An autoencoder is trained on one *normal* class only; at test time its reconstruction
error of the clean input is the anomaly score, and images of the other classes should
score high. ARAE trains the autoencoder to be robust in its latent space:

.. math::

    \\min_\\theta\\; \\mathrm{MSE}(D(E(x^*)), x)
        + \\gamma\\, \\mathrm{MSE}(E(x), E(x^*)), \\qquad
    x^* = \\arg\\max_{\\|x' - x\\|_\\infty \\le \\varepsilon,\\; x' \\in [0, 1]}
        \\mathrm{MSE}(E(x), E(x'))

with :math:`x^*` found by L∞ PGD (:func:`latent_attack`). The DAE minimises
:math:`\\mathrm{MSE}(D(E(\\tilde x)), x)` with :math:`\\tilde x` the input plus clipped
Gaussian noise.

Protocols (:func:`prepare`):

- **p1** — train and test splits merged; the normal class(es) shuffled and split
  60/20/20 into train / validation / test; anomalies from the other classes are added to
  the test split so that they make up ``anomaly_fraction`` of it, and — disjoint from
  those — to the validation split at the same fraction. The F1 threshold is chosen on
  the validation split (:func:`best_threshold`).
- **p2** — train on the normal class of the standard train split; test on the whole
  standard test split, every other class anomalous. AUROC only.

Datasets: MNIST, Fashion-MNIST (read by torchvision from ``<root>/FashionMNIST/raw/``)
and COIL-100 (the official zip's ``<root>/coil-100/obj{1..100}__{angle}.png``, 128×128
colour, resized to 32×32; label = object number − 1; p1 only). Labels are 0-based
everywhere.

Command line, the workflow of the public scripts::

    # protocol, anomaly fraction, normal class
    python -m robustcore.novelty prepare mnist p1 0.5 8
    # protocol p2, normal class 2
    python -m robustcore.novelty prepare fashion_mnist p2 2
    python -m robustcore.novelty prepare coil100 p1 0.25 3 17 42 64
    python -m robustcore.novelty train [--method arae|dae] [--epochs N]
    python -m robustcore.novelty test [checkpoint file or model name]

Modules: :mod:`~robustcore.novelty.protocols` (p1, p2), :mod:`~robustcore.novelty.model`
(the autoencoder, the latent attack, losses, training, scores),
:mod:`~robustcore.novelty.recipes` (recipes and the chapter's named models,
:data:`ARTIFACTS`), :mod:`~robustcore.novelty.seeds` (several seeds per method, their
spread, paired tests) and :mod:`~robustcore.novelty.baselines` (one-class SVM and PCA
on the same splits); the metrics live in :mod:`robustcore.metrics` and are re-exported
here.
"""

from __future__ import annotations

from ..metrics import auroc, best_threshold, f1_at, roc
from .cli import main
from .model import (
    DAE_NOISE_STD,
    MAX_EPOCHS,
    MAX_STEPS,
    METHODS,
    AutoEncoder,
    arae_loss,
    check_autoencoder,
    dae_loss,
    evaluate,
    evaluate_scores,
    fit,
    latent_attack,
    latent_distance,
    scores,
)
from .protocols import (
    COIL_FRACTIONS,
    DATASETS,
    NUM_CLASSES,
    PROTOCOLS,
    SHAPES,
    Split,
    draw_normal_sets,
    load_dataset,
    prepare,
    protocol1,
    protocol2,
)
from .recipes import (
    ARTIFACTS,
    BATCH_SIZE,
    EPOCHS,
    EPS,
    P1_FRACTION,
    QUICK,
    STEPS,
    fit_recipe,
    load,
    make,
    recipe,
    split_of,
    train_recipe,
    zoo_name,
)
from .seeds import SEEDS, STUDY, PairedTest, mean_std, paired_test, study, train_seeds
from . import baselines

__all__ = [
    "ARTIFACTS",
    "BATCH_SIZE",
    "COIL_FRACTIONS",
    "DAE_NOISE_STD",
    "DATASETS",
    "EPOCHS",
    "EPS",
    "MAX_EPOCHS",
    "MAX_STEPS",
    "METHODS",
    "NUM_CLASSES",
    "P1_FRACTION",
    "PROTOCOLS",
    "QUICK",
    "SEEDS",
    "SHAPES",
    "STEPS",
    "STUDY",
    "AutoEncoder",
    "PairedTest",
    "Split",
    "arae_loss",
    "auroc",
    "baselines",
    "best_threshold",
    "check_autoencoder",
    "dae_loss",
    "draw_normal_sets",
    "evaluate",
    "evaluate_scores",
    "f1_at",
    "fit",
    "fit_recipe",
    "latent_attack",
    "latent_distance",
    "load",
    "load_dataset",
    "main",
    "make",
    "mean_std",
    "paired_test",
    "prepare",
    "protocol1",
    "protocol2",
    "recipe",
    "roc",
    "scores",
    "split_of",
    "study",
    "train_recipe",
    "train_seeds",
    "zoo_name",
]
