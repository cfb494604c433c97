"""Exact verification of a small ReLU network by mixed-integer linear programming
(Tjeng, Xiao & Tedrake 2019), with ``scipy.optimize.milp`` (HiGHS).

For one image and one other class j, the program minimises the margin
``z_y − z_j`` over the box of inputs. Every neuron's value is a variable; an
affine map is a set of equalities; a ReLU ``a = max(z, 0)`` whose input bounds
[l, u] straddle 0 gets a binary δ and the big-M constraints
``a ≥ z, a ≥ 0, a ≤ u·δ, a ≤ z − l·(1 − δ)``: exact, and the
tighter [l, u] (from :mod:`~robustcore.certify.bounds`), the faster. A ReLU
that is always on or always off is an equality. The minimum over the classes j
is the exact worst-case margin: > 0 means robust, < 0 comes with the input that
reaches it.

No checks: :func:`robustcore.certify.verify` validates.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from .network import Affine, ReLU


@dataclass
class Verdict:
    """The outcome for one image: ``status`` is "robust", "counterexample",
    "timeout" or "boundary" (the exact worst margin is ≤ 0, yet the model in
    float32 still reads y at the input that reaches it: a tie within
    rounding); ``margin``: the smallest exact margin over the classes the
    solver was asked about when it minimised them (``exact_margin``), else
    that of the point it found (∞ when every class is proved unable to win);
    for an image the bounds certify, the solver does not run and it is the
    bound's; ``counterexample`` (C, H, W) in the box, misclassified by the
    model, or None; ``seconds`` the solver's wall time."""

    status: str
    margin: float
    counterexample: torch.Tensor | None
    seconds: float


def _matrix(step: Affine) -> tuple[np.ndarray, np.ndarray]:
    """The affine map as a dense matrix L (out, in) and offset b (out,), float64."""
    d = int(torch.Size(step.in_shape).numel())
    eye = torch.eye(d).reshape(1, d, *step.in_shape)
    with torch.no_grad():
        out = step(eye[0]) - step.offset()  # each row: L e_i
    return out.reshape(
        d, -1
    ).T.double().numpy(), step.offset().flatten().double().numpy()


def _program(steps, pre, lo, hi):
    """Variables, bounds, integrality and constraints shared by every target class.
    Returns the pieces and the slice of the variables holding the last layer's input."""
    lows, highs, kinds = (
        [lo.flatten().double().numpy()],
        [hi.flatten().double().numpy()],
        [],
    )
    size = lows[0].size
    kinds.append(np.zeros(size))
    rows, lbs, ubs = [], [], []
    current = np.arange(size)  # indices of the variables holding the current values
    pending: tuple[np.ndarray, np.ndarray] | None = None  # affine maps not yet a layer

    def compose(step: Affine) -> None:
        nonlocal pending
        L, b = _matrix(step)
        pending = (L, b) if pending is None else (L @ pending[0], L @ pending[1] + b)

    for i, step in enumerate(steps[:-1]):
        if isinstance(step, Affine):
            compose(step)
            continue
        L, b = pending
        pending = None
        l, u = (t.flatten().double().numpy() for t in pre[i])
        m = l.size
        a = np.arange(size, size + m)
        on, off = l >= 0, u <= 0
        unstable = ~on & ~off
        k = int(unstable.sum())
        d = np.arange(size + m, size + m + k)
        size += m + k
        lows += [np.zeros(m), np.zeros(k)]
        highs += [np.maximum(u, 0.0) * ~off, np.ones(k)]
        kinds += [np.zeros(m), np.ones(k)]
        # on: a − L x = b;
        # unstable: a − L x ≥ b  and  a − L x − l·δ ≤ b − l
        for mask, lb, ub in ((on, b, b), (unstable, b, np.full(m, np.inf))):
            idx = np.flatnonzero(mask)
            rows.append(_rows(a[idx], current, L[idx], len(idx)))
            lbs.append(lb[idx])
            ubs.append(ub[idx])
        idx = np.flatnonzero(unstable)
        block = _rows(a[idx], current, L[idx], k, d, -l[idx])
        rows.append(block)
        lbs.append(np.full(k, -np.inf))
        ubs.append(b[idx] - l[idx])
        # a − u·δ ≤ 0
        rows.append(_rows(a[idx], None, None, k, d, -u[idx]))
        lbs.append(np.full(k, -np.inf))
        ubs.append(np.zeros(k))
        current = a
    compose(steps[-1])
    return lows, highs, kinds, rows, lbs, ubs, current, pending, size


def _rows(a_idx, x_idx, L, k, d_idx=None, d_coef=None):
    """Sparse rows ``a − L x (+ d_coef·δ)`` as (row, col, value) triples for k
    rows."""
    r = [np.arange(k)]
    c = [a_idx]
    v = [np.ones(k)]
    if L is not None:
        rr, cc = np.nonzero(L)
        r.append(rr)
        c.append(x_idx[cc])
        v.append(-L[rr, cc])
    if d_idx is not None:
        r.append(np.arange(k))
        c.append(d_idx)
        v.append(d_coef)
    return np.concatenate(r), np.concatenate(c), np.concatenate(v), k


def verify_one(
    model: torch.nn.Module,
    steps: list[Affine | ReLU],
    pre: dict[int, tuple[torch.Tensor, torch.Tensor]],
    lo: torch.Tensor,
    hi: torch.Tensor,
    y: int,
    order: list[int],
    time_limit: float,
    exact_margin: bool = False,
) -> Verdict:
    """Verify one image: box [lo, hi] (C, H, W), true class y, the other classes to try
    in ``order`` (most threatening first), ``pre`` its ReLU bounds (batch of one).

    By default each class j is a feasibility question, as in Tjeng et al.: is there an
    input with ``z_y − z_j ≤ 0``? An infeasible program proves j cannot win, usually
    far sooner than the minimum margin is found. ``exact_margin=True`` minimises the
    margin over the whole box instead, to optimality."""
    start = time.perf_counter()
    lows, highs, kinds, blocks, lbs, ubs, last, (W, b), size = _program(
        steps, pre, lo, hi
    )
    r, c, v, offset = [], [], [], 0
    for rr, cc, vv, k in blocks:
        r.append(rr + offset)
        c.append(cc)
        v.append(vv)
        offset += k
    A = sparse.csr_matrix(
        (np.concatenate(v), (np.concatenate(r), np.concatenate(c))),
        shape=(offset, size),
    )
    lb, ub = np.concatenate(lbs), np.concatenate(ubs)
    bounds = Bounds(np.concatenate(lows), np.concatenate(highs))
    integrality = np.concatenate(kinds)
    worst, timed_out = np.inf, False
    for j in order:
        left = time_limit - (time.perf_counter() - start)
        if left <= 0:
            timed_out = True
            break
        margin = np.zeros(size)
        margin[last] = W[y] - W[j]
        if exact_margin:
            constraint, gap = LinearConstraint(A, lb, ub), 0.0
        else:
            # only inputs with z_y − z_j ≤ 0: infeasible proves class j never wins;
            # the margin is still minimised (loosely) so that a point found lies
            # clearly past the boundary, not on it
            rows = sparse.vstack([A, sparse.csr_matrix(margin)])
            constraint = LinearConstraint(
                rows, np.append(lb, -np.inf), np.append(ub, b[j] - b[y])
            )
            gap = 0.5
        res = milp(
            margin,
            integrality=integrality,
            bounds=bounds,
            constraints=constraint,
            options={"time_limit": left, "mip_rel_gap": gap},
        )
        if res.status == 2:  # infeasible: class j never wins in the box
            continue
        if res.x is None:
            timed_out = True
            break
        value = float(margin @ res.x + b[y] - b[j])
        x = torch.from_numpy(res.x[: lo.numel()]).reshape(lo.shape).to(lo.dtype)
        x = torch.minimum(torch.maximum(x, lo), hi)
        with torch.no_grad():
            fooled = int(model(x.unsqueeze(0)).argmax(1)) != y
        if fooled:
            return Verdict(
                "counterexample", min(worst, value), x, time.perf_counter() - start
            )
        if res.status != 0 or not exact_margin:
            # out of time with an incumbent that does not fool the model, or a point
            # with z_y ≤ z_j that float32 still reads as y: a tie within rounding
            timed_out = res.status != 0
            worst = min(worst, value)
            break
        worst = min(worst, value)
    status = "timeout" if timed_out else "robust" if worst > 0 else "boundary"
    return Verdict(status, worst, None, time.perf_counter() - start)
