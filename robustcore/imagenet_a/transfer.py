"""Do a filter's mistakes transfer because of the filter, or because the digits are
hard for everyone? Two tools to tell:

* :func:`cross_filter` filters with each model in turn and scores every model on each
  filtered set: entry (i, j) is model j's accuracy on what model i gets wrong.
* :func:`matched_control` draws a control set from the candidates the filter got
  right, with the filtered set's size and class mix, matched digit by digit on a
  difficulty score that the filter did not compute (e.g. :func:`difficulty`, the mean
  loss of other models). A model less accurate on the filtered set than on its matched
  control shares the filter's mistakes beyond what that difficulty explains.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .. import checks, stats
from .evaluation import EvalResult


def _correct(correct: Any) -> torch.Tensor:
    if not isinstance(correct, torch.Tensor) or correct.dtype != torch.bool:
        raise TypeError(
            "correct must be a bool tensor (models, candidates), got "
            + (
                f"dtype {correct.dtype}"
                if isinstance(correct, torch.Tensor)
                else type(correct).__name__
            )
        )
    if correct.dim() != 2 or correct.shape[0] < 2 or correct.shape[1] == 0:
        raise ValueError(
            "correct must have shape (models ≥ 2, candidates ≥ 1), got "
            f"{tuple(correct.shape)}"
        )
    return correct


def cross_filter(correct: torch.Tensor) -> list[list[stats.Estimate]]:
    """The cross-filter matrix: entry ``[i][j]`` is the accuracy of model ``j`` on the
    candidates model ``i`` gets wrong, with its Wilson interval and n (the size of
    filter ``i``'s set).

    ``correct``: bool (M, N), ``correct[i, k]`` whether model ``i`` classifies
    candidate ``k`` right. The diagonal is 0 by construction. Raises ``ValueError`` if
    a model makes no mistake (its filtered set would be empty).
    """
    correct = _correct(correct)
    out = []
    for i, row in enumerate(correct):
        wrong = ~row
        if not wrong.any():
            raise ValueError(
                f"correct[{i}] has no mistake: filter {i} keeps no candidate"
            )
        out.append([stats.proportion(c[wrong]) for c in correct])
    return out


def difficulty(results: Sequence[EvalResult]) -> torch.Tensor:
    """Mean cross-entropy (N,) ≥ 0 of the true class over ``results`` of several
    models on the same N candidates: a difficulty score none of them owns alone."""
    if (
        isinstance(results, (str, bytes))
        or not isinstance(results, Sequence)
        or not results
        or not all(isinstance(r, EvalResult) for r in results)
    ):
        raise TypeError("results must be a non-empty sequence of EvalResult")
    labels = results[0].labels
    if any(not torch.equal(r.labels, labels) for r in results):
        raise ValueError("results must be evaluations on the same candidates")
    rows = torch.arange(len(labels))
    return torch.stack(
        [-r.probabilities[rows, labels].clamp_min(1e-12).log() for r in results]
    ).mean(0)


def matched_control(
    proxy: torch.Tensor,
    labels: torch.Tensor,
    kept: torch.Tensor,
    *,
    replace: bool = False,
    seed: int = 0,
) -> torch.Tensor:
    """A control for the filtered set ``kept``: for each kept candidate, an unkept
    candidate of the same class with the nearest ``proxy`` value (each used once, or,
    with ``replace=True``, as often as it is the nearest).

    ``proxy``: (N,) finite difficulty scores, computed without the filter model;
    ``labels``: (N,) int classes; ``kept``: (K,) distinct int indices into the N
    candidates. Kept candidates are matched in a random order (``seed``), ties broken
    at random. Returns (K,) int64 indices, ``control[k]`` the match of ``kept[k]``:
    the same size and class mix, and pairs for a paired comparison. Raises
    ``ValueError`` if a class has no unkept candidate, or, without ``replace``, fewer
    unkept than kept ones.
    """
    if not isinstance(proxy, torch.Tensor) or not proxy.is_floating_point():
        raise TypeError("proxy must be a floating torch.Tensor of difficulty scores")
    if proxy.dim() != 1 or proxy.numel() == 0:
        raise ValueError(f"proxy must have shape (N,), got {tuple(proxy.shape)}")
    if not torch.isfinite(proxy).all():
        raise ValueError("proxy holds NaN or infinite values")
    n = proxy.numel()
    labels = checks.labels(labels, n, "labels")
    if not isinstance(kept, torch.Tensor) or kept.dtype != torch.long:
        raise TypeError("kept must be an int64 torch.Tensor of candidate indices")
    if kept.dim() != 1 or kept.numel() == 0:
        raise ValueError(f"kept must have shape (K ≥ 1,), got {tuple(kept.shape)}")
    if (
        int(kept.min()) < 0
        or int(kept.max()) >= n
        or kept.unique().numel() != len(kept)
    ):
        raise ValueError(f"kept must hold distinct indices in [0, {n})")
    if not isinstance(replace, bool):
        raise TypeError(f"replace must be True or False, got {replace!r}")
    seed = checks.seed(seed)
    rng = np.random.default_rng(seed)
    p, y, k = proxy.double().numpy(), labels.numpy(), kept.numpy()
    free = np.ones(n, dtype=bool)
    free[k] = False
    control = np.empty(len(k), dtype=np.int64)
    for c in np.unique(y[k]):
        mine = np.flatnonzero(y[k] == c)
        pool = rng.permutation(np.flatnonzero(free & (y == c)))  # random tie order
        if len(pool) < (1 if replace else len(mine)):
            raise ValueError(
                f"class {int(c)} has {len(mine)} kept but only {len(pool)} unkept "
                "candidates to match them"
                + ("" if replace or not len(pool) else "; pass replace=True")
            )
        for t in rng.permutation(mine):
            j = int(np.argmin(np.abs(p[pool] - p[k[t]])))
            control[t] = pool[j]
            if not replace:
                pool = np.delete(pool, j)
    return torch.from_numpy(control)
