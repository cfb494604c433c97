"""Reference novelty detectors beside the autoencoders, on the same splits: a one-class
SVM and PCA reconstruction error (scikit-learn), and Deep SVDD (PyOD), on flattened
pixels.

Neither sees an anomaly before the test. Their one setting each is chosen without
labels, on normal images held out from the training images (:func:`holdout`):

- **PCA** — the smallest number of components that explains ``variance`` (0.9) of the
  pixel variance of the *held-out* normal images; the score is the mean squared
  reconstruction error, the autoencoders' score.
- **One-class SVM** — RBF kernel with ``gamma="scale"`` (1 / (D · pixel variance));
  ``nu`` is the candidate whose false-alarm rate on the held-out normal images (the
  share scored outside the learned region) is nearest ``false_alarm`` (0.05). The score
  is minus the decision function: higher is more novel.
- **Deep SVDD** (Ruff et al. 2018) — PyOD's: a network that maps the normal images
  close to one centre, the score the distance to it; PyOD keeps the weights of the epoch
  with the lowest training loss. Nothing is chosen: PyOD's defaults, ``epochs`` the
  budget.

Each detector is then refitted on all training images with its chosen setting.
Images (N, C, H, W) in [0, 1]; scores (N,) float tensors. Same data → same detector.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.svm import OneClassSVM
from threadpoolctl import threadpool_limits

from .. import checks
from .model import evaluate_scores
from .protocols import Split


def _one_blas_thread(fn: Callable) -> Callable:
    """``fn`` with NumPy/SciPy's BLAS on one thread. OpenBLAS's threads wait for work by
    spinning: with another process busy on the same cores (a second chapter, a test
    worker) fitting these detectors took 15 s instead of 2.7 s on two cores; alone, one
    thread is as fast at these sizes."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper


BASELINES = ("ocsvm", "pca", "deepsvdd")
NAMES = {"ocsvm": "one-class SVM", "pca": "PCA", "deepsvdd": "Deep SVDD"}
DSVDD_EPOCHS = 10  # PyOD's default is 100 (the full profile's)
# Candidate ν of the one-class SVM (an upper bound on the share of training outliers).
NUS = (0.01, 0.02, 0.05, 0.1, 0.2)
HOLDOUT = 0.2
FALSE_ALARM = 0.05
VARIANCE = 0.9


@dataclass(frozen=True)
class Detector:
    """A fitted classical detector: ``score(x)`` (N, C, H, W) → (N,) novelty scores
    (higher = more novel); ``setting`` is what was chosen on held-out normals and how
    (e.g. ``{"nu": 0.05, "held_out_false_alarm": 0.06}``)."""

    name: str
    score: Callable[[torch.Tensor], torch.Tensor]
    setting: dict[str, float] = field(default_factory=dict)


def _flat(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().flatten(1).double().numpy()


def _subset(x: torch.Tensor, n: int | None, seed: int) -> torch.Tensor:
    if n is None or n >= len(x):
        return x
    g = torch.Generator().manual_seed(seed)
    return x[torch.randperm(len(x), generator=g)[:n].sort().values]


def holdout(
    x: torch.Tensor, fraction: float = HOLDOUT, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Split normal training images ``x`` (N, C, H, W) at random into ``(fit,
    held_out)``, ``fraction`` of them (in (0, 1), at least one each side) held out."""
    checks.images(x)
    fraction = checks.number(fraction, "fraction", 0.0, 1.0, lo_open=True)
    if fraction >= 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction!r}")
    seed = checks.seed(seed)
    if len(x) < 2:
        raise ValueError(
            f"x must hold at least 2 images to hold some out, got {len(x)}"
        )
    n_out = min(max(1, round(fraction * len(x))), len(x) - 1)
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    return x[perm[n_out:].sort().values], x[perm[:n_out].sort().values]


def _check_common(x: Any, max_train: Any, seed: Any) -> None:
    checks.images(x, "x_train")
    if len(x) < 4:
        raise ValueError(f"x_train must hold at least 4 images, got {len(x)}")
    if max_train is not None:
        checks.integer(max_train, "max_train", 4)
    checks.seed(seed)


@_one_blas_thread
def fit_pca(
    x_train: torch.Tensor,
    *,
    variance: float = VARIANCE,
    holdout_fraction: float = HOLDOUT,
    max_train: int | None = None,
    seed: int = 0,
) -> Detector:
    """PCA reconstruction error, with the smallest number of components that explains
    ``variance`` (in (0, 1]) of the held-out normal images' pixel variance.

    ``x_train``: normal images (N, C, H, W) in [0, 1]; ``max_train``: a seeded subset
    of them, for speed. Setting: ``{"components", "held_out_variance"}``.
    """
    _check_common(x_train, max_train, seed)
    variance = checks.number(variance, "variance", 0.0, 1.0, lo_open=True)
    x_train = _subset(x_train, max_train, seed)
    x_fit, x_out = holdout(x_train, holdout_fraction, seed)
    pca = PCA(svd_solver="covariance_eigh").fit(_flat(x_fit))
    centred = _flat(x_out) - pca.mean_
    total = float((centred**2).sum())
    # variance of the held-out images that the first k components explain, k = 1, 2, …
    explained = np.cumsum(((centred @ pca.components_.T) ** 2).sum(0)) / max(
        total, 1e-12
    )
    k = int(min(np.searchsorted(explained, variance) + 1, len(explained)))
    final = PCA(n_components=k, svd_solver="covariance_eigh").fit(_flat(x_train))

    def score(x: torch.Tensor) -> torch.Tensor:
        a = _flat(checks.images(x))
        back = final.inverse_transform(final.transform(a))
        return torch.from_numpy(((back - a) ** 2).mean(1)).float()

    setting = {"components": float(k), "held_out_variance": float(explained[k - 1])}
    return Detector("pca", _one_blas_thread(score), setting)


@_one_blas_thread
def fit_ocsvm(
    x_train: torch.Tensor,
    *,
    false_alarm: float = FALSE_ALARM,
    nus: Sequence[float] = NUS,
    holdout_fraction: float = HOLDOUT,
    max_train: int | None = None,
    seed: int = 0,
) -> Detector:
    """One-class SVM (RBF, ``gamma="scale"``) with the ``nu`` of ``nus`` (each in
    (0, 1]) whose false-alarm rate on the held-out normal images is nearest
    ``false_alarm`` (in (0, 1); ties go to the smaller ν).

    ``x_train``: normal images (N, C, H, W) in [0, 1]; ``max_train``: a seeded subset
    of them (the SVM's cost grows with N²). Setting: ``{"nu",
    "held_out_false_alarm"}``.
    """
    _check_common(x_train, max_train, seed)
    false_alarm = checks.number(false_alarm, "false_alarm", 0.0, 1.0, lo_open=True)
    if isinstance(nus, (str, bytes)) or not isinstance(nus, Sequence) or not nus:
        raise TypeError(f"nus must be a non-empty sequence of numbers, got {nus!r}")
    nus = tuple(checks.number(v, "nus[i]", 0.0, 1.0, lo_open=True) for v in nus)
    x_train = _subset(x_train, max_train, seed)
    x_fit, x_out = holdout(x_train, holdout_fraction, seed)
    a_fit, a_out = _flat(x_fit), _flat(x_out)
    rates = {
        nu: float(
            (
                OneClassSVM(nu=nu, gamma="scale").fit(a_fit).decision_function(a_out)
                < 0
            ).mean()
        )
        for nu in sorted(nus)
    }
    nu = min(rates, key=lambda v: (abs(rates[v] - false_alarm), v))
    final = OneClassSVM(nu=nu, gamma="scale").fit(_flat(x_train))

    def score(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(-final.decision_function(_flat(checks.images(x))))

    return Detector(
        "ocsvm",
        _one_blas_thread(score),
        {"nu": float(nu), "held_out_false_alarm": rates[nu]},
    )


def fit_deep_svdd(
    x_train: torch.Tensor,
    *,
    epochs: int = DSVDD_EPOCHS,
    max_train: int | None = None,
    seed: int = 0,
) -> Detector:
    """Deep SVDD as PyOD ships it, trained ``epochs`` (≥ 1) passes on the normal
    images ``x_train`` (N, C, H, W) in [0, 1] (a seeded subset of ``max_train`` of
    them).
    Same data and seed → same detector: PyOD draws from NumPy's and torch's global
    generators, which are seeded here and restored after. Setting: ``{"epochs"}``."""
    _check_common(x_train, max_train, seed)
    epochs = checks.integer(epochs, "epochs", 1)
    from pyod.models.deep_svdd import DeepSVDD  # imports numba: only when used

    x_train = _subset(x_train, max_train, seed)
    a = _flat(x_train).astype(np.float32)
    state = np.random.get_state()
    try:
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            np.random.seed(seed)
            det = DeepSVDD(
                n_features=a.shape[1], epochs=epochs, random_state=seed, verbose=0
            ).fit(a)
    finally:
        np.random.set_state(state)

    def score(x: torch.Tensor) -> torch.Tensor:
        flat = _flat(checks.images(x)).astype(np.float32)
        with torch.no_grad():
            return torch.from_numpy(det.decision_function(flat)).float()

    return Detector("deepsvdd", score, {"epochs": float(epochs)})


def fit_baselines(
    x_train: torch.Tensor,
    *,
    max_train: int | None = None,
    deep_svdd_epochs: int = DSVDD_EPOCHS,
    seed: int = 0,
) -> dict[str, Detector]:
    """The detectors of :data:`BASELINES` with their default criteria, fitted on the
    normal images ``x_train`` (N, C, H, W); ``max_train`` caps the one-class SVM's and
    Deep SVDD's training images (PCA uses them all)."""
    return {
        "ocsvm": fit_ocsvm(x_train, max_train=max_train, seed=seed),
        "pca": fit_pca(x_train, seed=seed),
        "deepsvdd": fit_deep_svdd(
            x_train, epochs=deep_svdd_epochs, max_train=max_train, seed=seed
        ),
    }


def evaluate(detector: Detector, split: Split) -> dict[str, float]:
    """``{"auroc"}`` of a :class:`Detector` on the split's test images, and for p1 also
    ``{"f1", "threshold"}`` with the threshold chosen on the validation split — as
    :func:`robustcore.novelty.evaluate` does for an autoencoder."""
    if not isinstance(detector, Detector):
        raise TypeError(
            "detector must be a baselines.Detector (see fit_pca, fit_ocsvm), got "
            f"{type(detector).__name__}"
        )
    return evaluate_scores(detector.score, split)
