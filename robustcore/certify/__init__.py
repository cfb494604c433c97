"""Certified robustness: lower bounds on robust accuracy, where attacks give upper ones.

An attack that fails on a digit proves nothing; a certificate does. For an image x with
label y and the L∞ ball of radius ε (clipped to [0, 1]):

- :func:`margins` bounds the margins ``z_y − z_j`` from below over the whole ball, by
  interval bound propagation (``"ibp"``), linear bounds (``"crown"``), or linear bounds
  on IBP's layer bounds (``"crown-ibp"``) — :mod:`~robustcore.certify.bounds`;
- :func:`certified` is the verdict: every margin bound > 0, so no attack can succeed;
- :func:`verify` solves the worst case exactly on small networks by MILP
  (:mod:`~robustcore.certify.milp`): robust, or a counterexample image;
- :func:`ibp_loss` is Gowal et al.'s certified training loss
  (:mod:`~robustcore.certify.training`).

The relation every test of this package checks, digit by digit:
certified by a bound ⇒ robust by MILP ⇒ no attack succeeds.

Why hand-written: the maintained verifiers (auto_LiRPA, last released on the package
index in 2022, and alpha-beta-CROWN, not packaged) do not install against current torch
here; IBP and CROWN on a chain of ReLU layers are a few dozen lines each.
"""

from __future__ import annotations

import torch

from .. import checks, chunks
from ..attacks import Ball
from ..utils import eval_mode
from .bounds import METHODS, lower_bound, margin_spec, relu_bounds
from .milp import Verdict, verify_one
from .network import chain
from .training import ibp_loss


def _check(model, x, y, eps, method="crown", batch_size=64, **_) -> dict:
    checks.module(model)
    checks.images(x)
    return {
        "y": checks.model_labels(model, x, y),
        "eps": checks.number(eps, "eps", 0.0, 1.0),
        "method": checks.choice(method, "method", METHODS),
        "batch_size": checks.integer(batch_size, "batch_size", 1),
    }


@checks.checked(_check)
def margins(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    method: str = "crown",
    batch_size: int = 64,
) -> torch.Tensor:
    """Lower bounds of the margins ``z_y − z_j`` over the L∞ ball of radius ``eps``
    around each image, clipped to [0, 1].

    x: (N, C, H, W) in [0, 1]; y: (N,) labels. Returns (N, K); column y is 0.
    Every bound is sound: no input in the ball has a smaller margin.
    """
    out = []
    with torch.no_grad(), eval_mode(model):
        steps = chain(model, tuple(x.shape[1:]))
        classes = steps[-1].out_shape[0]
        for k in range(0, len(x), batch_size):
            xb, yb = x[k : k + batch_size], y[k : k + batch_size]
            box = Ball(xb, eps, "linf")  # the L∞ ball ∩ [0, 1] is a box
            lo, hi = box.lo, box.hi
            spec = margin_spec(yb, classes).to(xb.dtype)
            out.append(lower_bound(steps, lo, hi, spec, method))
    return torch.cat(out)


@checks.checked(_check)
def certified(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    method: str = "crown",
    batch_size: int = 64,
    name: str | None = None,
    chunk: int = 50,
) -> torch.Tensor:
    """Which images are certified robust: every margin bound of :func:`margins` > 0
    (and the model reads y at x itself). Returns a bool tensor (N,).

    ``name``: resumable, ``chunk`` images at a time, kept under that name in the
    progress folder (:func:`robustcore.chunks.evaluate`); the verdicts are the same."""
    if name is not None:
        return chunks.evaluate(
            lambda xs, ys: {
                "certified": certified.unchecked(
                    model, xs, ys, eps, method=method, batch_size=batch_size
                )
            },
            x, y, name=name, model=model, chunk=chunk,
            settings={"eps": eps, "method": method},
        )["certified"]  # fmt: skip
    m = margins.unchecked(model, x, y, eps, method=method, batch_size=batch_size)
    m = m.scatter(1, y.unsqueeze(1), torch.inf)
    return (m > 0).all(1)


def _check_verify(
    model, x, y, eps, time_limit=60.0, method="crown", exact_margin=False, **_
) -> dict:
    out = _check(model, x, y, eps, method)
    out.pop("batch_size")
    if not isinstance(exact_margin, bool):
        raise TypeError(f"exact_margin must be True or False, got {exact_margin!r}")
    return {
        **out,
        "time_limit": checks.number(time_limit, "time_limit", 0.0, lo_open=True),
    }


@checks.checked(_check_verify)
def verify(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    time_limit: float = 60.0,
    method: str = "crown",
    exact_margin: bool = False,
    name: str | None = None,
    chunk: int = 20,
) -> list[Verdict]:
    """Exact robustness of each image in the L∞ ball (clipped to [0, 1]) by MILP, with
    the neurons' bounds from ``method`` and at most ``time_limit`` seconds per image.

    x: (N, C, H, W) in [0, 1]; y: (N,) labels. Returns one :class:`Verdict` per
    image. Meant for small networks (a few hundred ReLUs): the program has one binary
    variable per ReLU the bounds cannot decide. By default each other class is a
    feasibility question (can it win?), which proves robustness sooner;
    ``exact_margin=True`` also finds the smallest margin of each class the bounds
    leave open.

    ``name``: resumable, ``chunk`` images at a time, kept under that name in the
    progress folder (:func:`robustcore.chunks.evaluate`); a verdict read back from
    there is the one computed (its counterexample and seconds included).
    """
    if name is not None:
        return _unpack(
            chunks.evaluate(
                lambda xs, ys: _pack(
                    verify.unchecked(
                        model, xs, ys, eps, time_limit=time_limit, method=method,
                        exact_margin=exact_margin,
                    ),
                    xs,
                ),
                x, y, name=name, model=model, chunk=chunk,
                settings={"eps": eps, "time_limit": time_limit, "method": method,
                          "exact_margin": exact_margin},
            )
        )  # fmt: skip
    verdicts = []
    with torch.no_grad(), eval_mode(model):
        steps = chain(model, tuple(x.shape[1:]))
        classes = steps[-1].out_shape[0]
        for xi, yi in zip(x, y):
            box = Ball(xi.unsqueeze(0), eps, "linf")
            lo, hi = box.lo, box.hi
            pre = relu_bounds(steps, lo, hi, method)
            spec = margin_spec(yi.view(1), classes).to(x.dtype)
            bound = lower_bound(steps, lo, hi, spec, method)[0]
            bound[yi] = torch.inf
            if bool((bound > 0).all()):
                verdicts.append(Verdict("robust", float(bound.min()), None, 0.0))
                continue
            order = [int(j) for j in bound.argsort() if bound[j] <= 0]
            pre = {i: (l[0], u[0]) for i, (l, u) in pre.items()}
            verdicts.append(
                verify_one(
                    model,
                    steps,
                    pre,
                    lo[0],
                    hi[0],
                    int(yi),
                    order,
                    time_limit,
                    exact_margin,
                )
            )
    return verdicts


STATUSES = ("robust", "counterexample", "timeout", "boundary")


def _pack(verdicts: list[Verdict], x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Verdicts as tensors, one row per image (a chunk's outputs): the status's index
    in ``STATUSES``, the margin, the seconds and the counterexample (NaN where none)."""
    cex = torch.full_like(x, torch.nan)
    for i, v in enumerate(verdicts):
        if v.counterexample is not None:
            cex[i] = v.counterexample
    return {
        "status": torch.tensor([STATUSES.index(v.status) for v in verdicts]),
        "margin": torch.tensor([v.margin for v in verdicts], dtype=torch.float64),
        "seconds": torch.tensor([v.seconds for v in verdicts], dtype=torch.float64),
        "counterexample": cex,
    }


def _unpack(t: dict[str, torch.Tensor]) -> list[Verdict]:
    return [
        Verdict(
            STATUSES[int(s)], float(m), None if torch.isnan(c).all() else c, float(sec)
        )
        for s, m, sec, c in zip(
            t["status"], t["margin"], t["seconds"], t["counterexample"]
        )
    ]


__all__ = ["METHODS", "Verdict", "certified", "chain", "ibp_loss", "margins", "verify"]
