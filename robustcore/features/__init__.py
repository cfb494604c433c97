"""Robust and non-robust features (Ilyas et al., 2019): the datasets D_R, D_NR, D_rand,
D_det.

* ``robust_dataset`` (D_R) and ``non_robust_dataset`` (D_NR) rebuild each training
  image x from another starting point x₀ by gradient descent on the *input* until a
  model's penultimate representation of it matches x's: minimise
  ‖g(x_r) − g(x)‖₂ / ‖g(x)‖₂. With an adversarially trained model g only
  keeps robust features, so x_r keeps only those; with a standard model, x_r carries the
  (invisible) features the standard model uses.
* ``relabelled_dataset`` (D_det, D_rand) perturbs each image toward a target class t by
  a small targeted L2 PGD attack on a standard model, then *labels it t*. To a person
  every image looks mislabelled; only the non-robust features agree with the new label.
  ``random_direction_control`` is their control: the same images moved by the same L2
  distance in a random direction, with the same labels t.

Built datasets are stored through :mod:`robustcore.store` with the exact settings;
``load_constructed`` returns the cached one when its settings match the current recipe
and rebuilds (with a warning) when they do not, so a dataset built with other settings
is never used silently.

Modules: :mod:`~robustcore.features.construct` (the inversion and the relabelling),
:mod:`~robustcore.features.controls` (the random-direction control),
:mod:`~robustcore.features.dataset` (:class:`Constructed`, saving and loading),
:mod:`~robustcore.features.recipes` (the named recipes, :data:`ARTIFACTS`,
:func:`load_constructed`), :mod:`~robustcore.features.diagnostics` (what a robust model
reads in constructed images).
"""

from __future__ import annotations

from .controls import random_direction_control
from .construct import (
    INITS,
    MODES,
    invert,
    non_robust_dataset,
    relabelled_dataset,
    representation_distance,
    robust_dataset,
    start_indices,
    starting_points,
)
from .dataset import Constructed, from_uint8, load, save, to_uint8
from .diagnostics import read_as, relabel_sweep
from .recipes import (
    ARTIFACTS,
    RECIPES,
    artifact,
    build,
    load_constructed,
    recipe,
    source_data,
)

__all__ = [
    "ARTIFACTS",
    "INITS",
    "MODES",
    "RECIPES",
    "Constructed",
    "artifact",
    "build",
    "from_uint8",
    "invert",
    "load",
    "load_constructed",
    "non_robust_dataset",
    "random_direction_control",
    "read_as",
    "recipe",
    "relabel_sweep",
    "relabelled_dataset",
    "representation_distance",
    "robust_dataset",
    "save",
    "source_data",
    "start_indices",
    "starting_points",
    "to_uint8",
]
