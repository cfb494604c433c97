"""Sound bounds on a network over a box of inputs: intervals (IBP) and linear bounds
(CROWN).

The input set is the L∞ ball of radius ε around each image, clipped to [0, 1]: a box
``[lo, hi]`` per pixel. A *specification* is a batch of linear forms of the logits,
``spec`` (N, S, K); the margins ``z_y − z_j`` are the rows ``e_y − e_j``
(:func:`margin_spec`). Both bounds return, per image and form, a number the form can
never go below anywhere in the box.

- **IBP** (interval bound propagation, Gowal et al. 2018) pushes a centre and a radius
  through the chain: ``f(c)`` and ``|L| r`` through an affine map, the interval's ends
  through a ReLU. One forward pass; loose, but differentiable, so it trains.
- **CROWN** (Zhang et al. 2018) walks back from the specification: a linear
  form of a layer's output is a linear form of its input (``Λ L``, plus
  ``Λ b``), and across a ReLU whose input lies in [l, u] with l < 0 < u it
  takes the line below or above the ReLU that keeps the bound sound (slope
  u / (u − l) above; 0 or 1 below). At the input, the form is bounded over the box
  exactly. The ReLUs' [l, u] come from the same walk back from each earlier
  layer (``crown``), or from IBP (``crown-ibp``, Zhang et al. 2020).

No checks: the public entry points of :mod:`robustcore.certify` validate.
"""

from __future__ import annotations

import torch

from .network import Affine, ReLU

METHODS = ("ibp", "crown-ibp", "crown")
# Elements of Λ held at once while walking back (about 256 MiB of float32): the rows
# of a specification are bounded in chunks that fit.
_BUDGET = 1 << 26


def margin_spec(y: torch.Tensor, classes: int) -> torch.Tensor:
    """Rows ``e_y − e_j`` for every class j: (N, K, K); row y is zero."""
    eye = torch.eye(classes, device=y.device)
    return eye[y].unsqueeze(1) - eye.unsqueeze(0)


def ibp(
    steps: list[Affine | ReLU], lo: torch.Tensor, hi: torch.Tensor
) -> tuple[dict[int, tuple[torch.Tensor, torch.Tensor]], torch.Tensor, torch.Tensor]:
    """Interval bounds through the chain, for inputs in the box [lo, hi] (N, *shape).

    Returns the bounds (l, u) of every ReLU's input, keyed by the ReLU's place in
    ``steps``, and the centre and radius of the input to the last (affine) step."""
    c, r = (hi + lo) / 2, (hi - lo) / 2
    pre = {}
    for i, step in enumerate(steps[:-1]):
        if isinstance(step, ReLU):
            # in place where a tensor is this loop's own: fewer large allocations
            l, u = c - r, c.add_(r)
            pre[i] = (l, u)
            l, u = l.clamp(min=0), u.clamp(min=0)
            c, r = (u + l).mul_(0.5), u.sub_(l).mul_(0.5)
        else:
            c, r = step(c), step.spread(r)
    return pre, c, r


def ibp_spec(
    steps: list[Affine | ReLU], lo: torch.Tensor, hi: torch.Tensor, spec: torch.Tensor
) -> torch.Tensor:
    """IBP's lower bound of each form of ``spec`` (N, S, K) over the box: (N, S).

    The forms are folded into the last affine map (Gowal et al.'s elision), which is
    tighter than combining the logits' intervals."""
    _, c, r = ibp(steps, lo, hi)
    last = steps[-1]
    n, s = spec.shape[:2]
    centre = (spec * last(c).unsqueeze(1)).sum(-1)
    forms = last.pull_back(spec)  # (N, S, *in_shape): Λ L
    radius = (forms.abs().flatten(2) * r.flatten(1).unsqueeze(1)).sum(-1)
    return centre - radius


def _back(
    steps: list[Affine | ReLU],
    lam: torch.Tensor,
    pre: dict[int, tuple[torch.Tensor, torch.Tensor]],
    lo: torch.Tensor,
    hi: torch.Tensor,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """CROWN's lower bound of the forms ``lam`` (N, S, *out) of the output of
    ``steps``, plus ``bias`` (N, S), over the box [lo, hi]: (N, S)."""
    if bias is None:
        bias = torch.zeros(lam.shape[:2], dtype=lam.dtype, device=lam.device)
    for i in range(len(steps) - 1, -1, -1):
        step = steps[i]
        if isinstance(step, Affine):
            bias = bias + lam.flatten(2) @ step.offset().flatten()
            lam = step.pull_back(lam)
            continue
        l, u = (t.unsqueeze(1) for t in pre[i])
        unstable = (l < 0) & (u > 0)
        up = torch.where(unstable, u / (u - l).clamp_min(1e-12), (l >= 0).to(lam.dtype))
        # below an unstable ReLU: the line of slope 1 or 0, whichever is closer
        down = torch.where(unstable, (u > -l).to(lam.dtype), (l >= 0).to(lam.dtype))
        cut = torch.where(unstable, -l * up, torch.zeros_like(up))  # up's intercept
        pos = lam.clamp(min=0)
        neg = lam - pos
        bias = bias + _dot(neg, cut)
        lam = pos.mul_(down).addcmul_(neg, up)
    pos = lam.clamp(min=0)
    return _dot(pos, lo.unsqueeze(1)) + _dot(lam - pos, hi.unsqueeze(1)) + bias


def _dot(forms: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Each form (N, S, *shape) applied to its image's vector v (N, 1, *shape): (N, S),
    as a batched matrix product (no (N, S, *shape) temporary)."""
    return (forms.flatten(2) @ v.flatten(2).transpose(1, 2)).squeeze(-1)


def _rows_per_walk(steps: list[Affine | ReLU], forms: int) -> int:
    """How many rows of a specification to walk back at once, ``forms`` (N, or 2N
    for a bound and its negative) forms per row, within the budget."""
    widest = max(
        [int(torch.Size(s.in_shape).numel()) for s in steps if isinstance(s, Affine)]
    )
    return max(1, _BUDGET // max(1, forms * widest))


def _chunked_back(steps, lam, pre, lo, hi) -> torch.Tensor:
    rows = _rows_per_walk(steps, lam.shape[0])
    return torch.cat(
        [
            _back(steps, lam[:, k : k + rows], pre, lo, hi)
            for k in range(0, lam.shape[1], rows)
        ],
        dim=1,
    )


def _neuron_bounds(
    steps: list[Affine | ReLU],
    idx: torch.Tensor,
    kept: torch.Tensor,
    pre: dict[int, tuple[torch.Tensor, torch.Tensor]],
    lo: torch.Tensor,
    hi: torch.Tensor,
) -> torch.Tensor:
    """CROWN's lower bounds of the output neurons ``idx`` (N, k) of ``steps`` (a row
    whose ``kept`` is False: a form of zeros), then of their negatives: (N, 2k).

    A neuron's form pulled back through the last affine step is that step's row: the
    rows are made once for the whole batch, not per image (a convolution's transpose
    on one-hot forms was most of the cost), and gathered per image as the walk back
    needs them."""
    last, n = steps[-1], idx.shape[0]
    d = int(torch.Size(last.out_shape).numel())
    eye = torch.eye(d, dtype=lo.dtype, device=lo.device)
    basis = last.pull_back(eye.reshape(1, d, *last.out_shape))[0].flatten(1)
    offset = last.offset().flatten()
    rows = _rows_per_walk(steps, 2 * n)
    lows, highs = [], []
    for a in range(0, idx.shape[1], rows):
        sel, keep = idx[:, a : a + rows], kept[:, a : a + rows]
        lam, b = basis[sel], offset[sel]
        if not keep.all():
            lam, b = lam * keep.unsqueeze(2), b * keep
        lam = lam.reshape(n, -1, *last.in_shape)
        low = _back(steps[:-1], torch.cat([lam, -lam], 1), pre, lo, hi,
                    torch.cat([b, -b], 1))  # fmt: skip
        lows.append(low[:, : sel.shape[1]])
        highs.append(low[:, sel.shape[1] :])
    return torch.cat(lows + highs, 1)


def relu_bounds(
    steps: list[Affine | ReLU],
    lo: torch.Tensor,
    hi: torch.Tensor,
    method: str,
    unstable_only: bool = False,
) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
    """Bounds (l, u) of every ReLU's input over the box, keyed by its place in
    ``steps``: IBP's, or (``crown``) the tighter of IBP's and CROWN's, layer by
    layer. ``unstable_only``: CROWN walks back only from the neurons IBP leaves
    unstable (l < 0 < u); a stable one's relaxation is the ReLU itself whatever its
    bounds, so every later bound is the same, at a fraction of the cost on a network
    with many stable neurons; the stable ones keep IBP's bounds."""
    pre, _, _ = ibp(steps, lo, hi)
    if method != "crown":
        return pre
    tight: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    for i, step in enumerate(steps):
        if not isinstance(step, ReLU):
            continue
        if not tight:  # before the first ReLU the chain is affine: intervals are exact
            tight[i] = pre[i]
            continue
        n, d = lo.shape[0], int(torch.Size(step.shape).numel())
        l0, u0 = (t.reshape(n, d) for t in pre[i])
        rows = (l0 < 0) & (u0 > 0) if unstable_only else torch.ones_like(l0, dtype=bool)
        k = int(rows.sum(1).max())
        if k == 0:
            tight[i] = pre[i]
            continue
        # per image, the neurons to bound first (stable sort: in their order), padded
        # to the batch's largest count with forms of zeros whose bounds are dropped
        idx = torch.sort((~rows).to(torch.uint8), dim=1, stable=True).indices[:, :k]
        kept = rows.gather(1, idx)
        low = _neuron_bounds(steps[:i], idx, kept, tight, lo, hi)
        l_old, u_old = l0.gather(1, idx), u0.gather(1, idx)
        l_new = torch.where(kept, torch.maximum(low[:, :k], l_old), l_old)
        u_new = torch.where(kept, torch.minimum(-low[:, k:], u_old), u_old)
        l, u = l0.clone().scatter_(1, idx, l_new), u0.clone().scatter_(1, idx, u_new)
        tight[i] = (l.reshape(n, *step.shape), u.reshape(n, *step.shape))
    return tight


def lower_bound(
    steps: list[Affine | ReLU],
    lo: torch.Tensor,
    hi: torch.Tensor,
    spec: torch.Tensor,
    method: str,
    unstable_only: bool = True,
) -> torch.Tensor:
    """A lower bound of every form of ``spec`` (N, S, K) over the box [lo, hi]:
    (N, S). ``unstable_only``: as :func:`relu_bounds` (the same bound, faster)."""
    if method == "ibp":
        return ibp_spec(steps, lo, hi, spec)
    pre = relu_bounds(steps, lo, hi, method, unstable_only)
    return _chunked_back(steps, spec, pre, lo, hi)
