"""robustcore: the small, tested PyTorch library behind *Adversarial Robustness,
Hands-On*.

Modules map onto the book's concepts:

- :mod:`robustcore.data` — data root, MNIST, CIFAR-10, Fashion-MNIST, COIL-100 and UCI
  digits as tensors, subsets, groups
- :mod:`robustcore.digits` — digit bitmaps preprocessed as MNIST was made (crop to the
  ink, 20×20 box, centre of mass at the centre)
- :mod:`robustcore.models` — MLP, SmallCNN, SmallResNet and a registry by name
- :mod:`robustcore.attacks` — FGSM and PGD (L∞ / L2, targeted, restarts), projected
  gradient ascent on any loss, and the one-pixel attack (differential evolution,
  batched)
- :mod:`robustcore.train` — standard and adversarial training, evaluation
- :mod:`robustcore.audit` — strong, independent evaluation: AutoAttack, Square, sanity
  checks
- :mod:`robustcore.features` — robust and non-robust datasets D_R, D_NR, D_rand, D_det
- :mod:`robustcore.imagenet_a` — the ImageNet-A evaluator (200-class mask,
  calibration, AURRA) and the natural-adversarial filter
- :mod:`robustcore.novelty` — ARAE and DAE novelty detectors, protocols p1/p2
  (a package)
- :mod:`robustcore.metrics` — AUROC, F1, RMS calibration error, AURRA
- :mod:`robustcore.results` — headline numbers recorded by chapters for the
  reproduction summary
- :mod:`robustcore.noise` — which recorded numbers move when only the float reduction
  order changes (a chapter run twice, committed)
- :mod:`robustcore.tables` — Markdown tables: any rows, and the recorded results by
  kind
- :mod:`robustcore.glue` — numbers bound into a chapter's prose (myst-nb glue)
- :mod:`robustcore.references` — the published numbers, each with what was measured
  and its source
- :mod:`robustcore.claims` — a chapter's claims, asserted (or reported) and rendered
  as a list
- :mod:`robustcore.stats` — n and 95% intervals: Wilson for rates, bootstrap for AUROC
  and differences
- :mod:`robustcore.store` — named artifacts: cache → shipped → download → build,
  sha256-verified
- :mod:`robustcore.zoo` — the trained classifiers, as artifacts of the store
- :mod:`robustcore.zoo_recipes` — the zoo's named classifiers and their training
  recipes
- :mod:`robustcore.profiles` — the quick and full profiles
- :mod:`robustcore.plotting` — image grids, ε curves, bar charts
- :mod:`robustcore.io` — atomic writes, sha256-verified loading and downloads
- :mod:`robustcore.checks` — argument checks whose errors name the argument and its
  range

Images are float tensors in [0, 1], shaped (N, C, H, W).
Submodules are imported on first use; ``python -m robustcore artifacts ...`` is the
command line.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
_SUBMODULES = (
    "attacks",
    "audit",
    "checks",
    "claims",
    "data",
    "features",
    "imagenet_a",
    "io",
    "metrics",
    "models",
    "novelty",
    "plotting",
    "profiles",
    "references",
    "results",
    "stats",
    "store",
    "train",
    "utils",
    "widgets",
    "zoo",
    "zoo_recipes",
)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBMODULES])
