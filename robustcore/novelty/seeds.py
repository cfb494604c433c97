"""Several training seeds per autoencoder, their spread, and a paired test between two
methods: is a difference of a few AUROC points more than the luck of one run?

:func:`train_seeds` trains each method of :data:`~robustcore.novelty.METHODS` ("ae",
"dae", "arae") once per seed on one split (the seed fixes the initial weights, the batch
order, the noise and the attack's random starts; the split stays fixed), and scores
each on the test images. :func:`mean_std` summarises runs; :func:`paired_test` compares
two methods over runs that pair up (same split, same seed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy import stats as sps

from .. import checks, profiles
from ..utils import set_seed
from .model import METHODS, AutoEncoder, evaluate, fit, scores
from .protocols import SHAPES, Split

SEEDS = (0, 1, 2)
# What the seed study trains in each profile. Full: the paper's settings (batches of
# 256, a 40-step attack at ε = 0.2, γ = 0.1) for 200 passes over all training images.
# Quick: a CPU budget for nine models per split — 10 passes over 500 training images
# in batches of 16 (enough Adam steps to get past drawing the mean image), a 5-step
# attack with ε ramped up over the first 2.5 passes, scored on a stratified subset of
# 2,000 test images.
STUDY: dict[str, dict[str, Any]] = {
    "quick": {
        "fit": {"epochs": 10, "batch_size": 16, "steps": 5, "eps_warmup_epochs": 2.5},
        "max_train": 500,
        "max_test": 2000,
    },
    "full": {"fit": {"epochs": 200}, "max_train": None, "max_test": None},
}
FIT_SETTINGS = (
    "epochs",
    "batch_size",
    "lr",
    "gamma",
    "eps",
    "steps",
    "alpha",
    "noise_std",
    "eps_warmup_epochs",
)


def study(profile: str | None = None) -> dict[str, Any]:
    """The seed study's settings in ``profile`` (default: the current one): ``{"fit":
    keyword arguments of fit, "max_train", "max_test"}`` (the last two for
    :func:`~robustcore.novelty.prepare`)."""
    s = STUDY[profiles.resolve(profile)]
    return {
        "fit": dict(s["fit"]),
        "max_train": s["max_train"],
        "max_test": s["max_test"],
    }


def train_seeds(
    split: Split,
    methods: Sequence[str] = METHODS,
    seeds: Sequence[int] = SEEDS,
    settings: dict[str, Any] | None = None,
    progress_bar: bool = False,
    keep_scores: bool = False,
) -> dict[tuple[str, int], dict[str, Any]]:
    """Train one autoencoder per method and seed on ``split.x_train`` and evaluate it
    on the split (:func:`~robustcore.novelty.evaluate`).

    ``settings``: keyword arguments of :func:`~robustcore.novelty.fit` (see
    :data:`FIT_SETTINGS`; default: fit's own, the paper's). Returns ``{(method, seed):
    {"auroc", ...}}``, with ``"f1"`` and ``"threshold"`` under protocol p1, and with
    ``keep_scores`` the test images' novelty scores (``"scores"``, (N,)), for a
    comparison that resamples the images. Same seed → same numbers.
    """
    if not isinstance(split, Split):
        raise TypeError(
            f"split must be a novelty.Split (see prepare), got {type(split).__name__}"
        )
    if isinstance(methods, str) or not isinstance(methods, Sequence) or not methods:
        raise TypeError(f"methods must be a non-empty sequence, got {methods!r}")
    methods = tuple(checks.choice(m, "methods[i]", METHODS) for m in methods)
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or not seeds:
        raise TypeError(f"seeds must be a non-empty sequence of ints, got {seeds!r}")
    seeds = tuple(checks.seed(s, "seeds[i]") for s in seeds)
    if len(set(seeds)) != len(seeds) or len(set(methods)) != len(methods):
        raise ValueError(f"methods {methods} and seeds {seeds} must not repeat")
    if not isinstance(keep_scores, bool):
        raise TypeError(f"keep_scores must be True or False, got {keep_scores!r}")
    settings = dict(settings or {})
    unknown = set(settings) - set(FIT_SETTINGS)
    if unknown:
        raise ValueError(
            f"settings has unknown key(s) {sorted(unknown)}; known: "
            f"{list(FIT_SETTINGS)}"
        )
    out = {}
    # One CPU thread: on small batches it is about as fast as several, far faster when
    # the cores are shared, and the numbers do not depend on the machine's core count.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for seed in seeds:
            for method in methods:
                set_seed(seed)  # the initial weights
                model = AutoEncoder(SHAPES[split.dataset])
                fit(
                    model,
                    split.x_train,
                    method=method,
                    seed=seed,
                    progress_bar=progress_bar,
                    desc=f"{method} seed {seed}",
                    **settings,
                )
                out[method, seed] = evaluate(model, split)
                if keep_scores:
                    out[method, seed]["scores"] = scores(model, split.x_test)
    finally:
        torch.set_num_threads(threads)
    return out


def _values(v: Any, name: str) -> np.ndarray:
    try:
        a = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of real numbers") from None
    if a.ndim != 1 or a.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D sequence, got shape {a.shape}"
        )
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must hold finite numbers")
    return a


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """``(mean, standard deviation)`` of runs (sample std, ddof = 1; 0 for one run)."""
    a = _values(values, "values")
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0


@dataclass(frozen=True)
class PairedTest:
    """``a - b`` over ``n`` paired runs: the mean difference, how many pairs ``a`` wins
    and loses, the two-sided p-value of Wilcoxon's signed-rank test (scipy; exact for
    small n without ties) and, for comparison, of the paired t-test."""

    n: int
    mean_difference: float
    wins: int
    losses: int
    p_wilcoxon: float
    p_ttest: float

    def __format__(self, spec: str) -> str:
        """``"+0.012 (7 of 9 ahead), Wilcoxon p = 0.04, paired t p = 0.03"``."""
        spec = spec or ".3f"
        return (
            f"{self.mean_difference:+{spec}} ({self.wins} of {self.n} ahead), "
            f"Wilcoxon p = {self.p_wilcoxon:.2g}, paired t p = {self.p_ttest:.2g}"
        )


def paired_test(a: Sequence[float], b: Sequence[float]) -> PairedTest:
    """Compare runs ``a`` and ``b`` (the same length n >= 2, entry i of each on the
    same split with the same seed). Wilcoxon's signed-rank test asks whether the
    differences are centred on zero using only their signs and ranks (no normality
    assumed, which a handful of AUROC differences cannot support); the paired t-test is
    reported beside it. All-zero differences give p = 1."""
    x, y = _values(a, "a"), _values(b, "b")
    if x.shape != y.shape:
        raise ValueError(
            f"a and b must pair up run by run, got {x.size} and {y.size} values"
        )
    if x.size < 2:
        raise ValueError(f"a and b must hold at least 2 paired runs, got {x.size}")
    d = x - y
    if not d.any():
        p_w = p_t = 1.0
    else:
        p_w = float(sps.wilcoxon(d, alternative="two-sided").pvalue)
        sd = float(d.std(ddof=1))
        if sd == 0.0:  # every pair differs by the same amount
            p_t = 0.0
        else:
            t = float(d.mean()) / (sd / math.sqrt(d.size))
            p_t = float(2 * sps.t.sf(abs(t), d.size - 1))
    return PairedTest(
        int(d.size), float(d.mean()), int((d > 0).sum()), int((d < 0).sum()), p_w, p_t
    )
