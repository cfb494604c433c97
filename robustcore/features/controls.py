"""The control of D_det and D_rand (Ilyas et al. 2019): the same images moved as far, in
a random direction, with the same labels. If a model trained on the control learns
nothing of the true label where one trained on D_det / D_rand does, the label signal
lies in the adversarial direction, not in a change of that size or in the relabelling.
"""

from __future__ import annotations


import torch

from .. import checks
from .dataset import Constructed


CONTROL_MATCH = ("clipped", "unclipped")
# halvings of the scale's bracket in random_direction_control's "clipped" match: the
# bracket starts at most 2**20 × the radius wide, so 60 leave it far below float32's
# resolution of an image's norm
_BISECTIONS = 60


def _check_control(x, adv, y, eps, match, seed) -> dict:
    checks.images(x, "x")
    if isinstance(adv, Constructed):
        if y is not None:
            raise ValueError(
                "y must be None when adv is a Constructed dataset: its labels adv.y "
                "are the ones copied"
            )
        x_adv, y = adv.x, adv.y
        adv_name = "adv.x"
    elif isinstance(adv, torch.Tensor):
        if y is None:
            raise TypeError(
                "y (the labels to copy, shape (N,)) is required when adv is a tensor "
                "of perturbed images; pass a Constructed dataset to copy its labels"
            )
        x_adv, adv_name = adv, "adv"
    else:
        raise TypeError(
            "adv must be a Constructed dataset (D_det, D_rand) or a tensor of "
            f"perturbed images (N, C, H, W), got {type(adv).__name__}"
        )
    checks.images(x_adv, adv_name)
    if x_adv.shape != x.shape:
        raise ValueError(
            f"{adv_name} must have the shape of x {tuple(x.shape)} (the same images, "
            f"perturbed), got {tuple(x_adv.shape)}"
        )
    name = "adv.y" if isinstance(adv, Constructed) else "y"
    y = checks.labels(y, x.shape[0], name)
    if eps is not None:
        eps = checks.number(eps, "eps", 0.0, lo_open=True)
    checks.choice(match, "match", CONTROL_MATCH)
    return {"x_adv": x_adv, "y": y, "eps": eps, "seed": checks.seed(seed)}


def random_direction_control(
    x: torch.Tensor,
    adv: Constructed | torch.Tensor,
    y: torch.Tensor | None = None,
    *,
    eps: float | None = None,
    match: str = "clipped",
    seed: int = 0,
) -> Constructed:
    """The control of D_det / D_rand: each image moved by the same L2 distance as its
    adversarial image, in a *random* direction, with the same (new) label.

    ``x``: the original images (N, C, H, W) in [0, 1]; ``adv``: the relabelled dataset
    built from them (a :class:`Constructed`, whose ``x`` (N, C, H, W) in [0, 1] and
    labels ``y`` (N,) are used), or a tensor of the perturbed images with the labels
    in ``y``. Each image i gets a direction d_i drawn uniformly on the unit sphere
    (a normalised standard normal; the draw is fixed by ``seed``) and the radius
    r_i = ‖adv_i − x_i‖₂ (the norm of its own adversarial change), or ``eps``
    for every image when given. Every image is clipped to [0, 1]:

    * ``match="clipped"`` (the default, the tighter control): the step s_i·d_i is
      scaled by bisection so that the change *after* clipping,
      ‖clip(x_i + s_i·d_i) − x_i‖₂, equals r_i (to float precision, not above);
      a random step loses much of its norm to clipping on a black background, an
      adversarial one hardly any.
    * ``match="unclipped"``: the step r_i·d_i has norm r_i before clipping, which can
      only shrink the change.

    Returns a :class:`Constructed` with the moved images (N, C, H, W) in [0, 1], a
    copy of the labels, and ``meta``: ``kind`` (``"<adv kind> control"``), ``match``,
    ``eps``, ``seed``, ``target_norm_mean`` (mean r_i) and ``norm_mean`` (mean change
    after clipping). The same arguments and seed give the same images on every
    device; the computation runs on the CPU.
    """
    args = _check_control(x, adv, y, eps, match, seed)
    x = x.detach().cpu().float()
    x_adv, labels = args["x_adv"].detach().cpu().float(), args["y"]
    n = len(x)
    if args["eps"] is None:
        radius = (x_adv - x).flatten(1).norm(dim=1)
    else:
        radius = torch.full((n,), args["eps"])
    g = torch.Generator().manual_seed(args["seed"])
    d = torch.randn(x.shape, generator=g)
    d /= d.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)
    shape = (-1,) + (1,) * (x.dim() - 1)

    def moved(scale: torch.Tensor) -> torch.Tensor:
        return (x + scale.view(shape) * d).clamp(0, 1)

    def change(scale: torch.Tensor) -> torch.Tensor:
        return (moved(scale) - x).flatten(1).norm(dim=1)

    if match == "unclipped":
        scale = radius
    else:  # ‖clip(x + s·d) − x‖ is continuous, non-decreasing in s, and ≤ s
        lo, hi = radius.clone(), radius.clone()
        for _ in range(20):  # widen hi until its change reaches the radius
            short = change(hi) < radius
            if not short.any():
                break
            hi = torch.where(short, hi * 2, hi)
        # where even the widest hi falls short, the largest reachable change is used
        lo = torch.where(change(hi) < radius, hi, lo)
        for _ in range(_BISECTIONS):
            mid = (lo + hi) / 2
            below = change(mid) <= radius
            lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
        scale = lo  # change(lo) ≤ radius: the control never moves further
    out = moved(scale)
    kind = adv.meta.get("kind") if isinstance(adv, Constructed) else None
    meta = {
        "kind": f"{kind or 'adversarial'} control",
        "match": match,
        "eps": args["eps"],
        "seed": args["seed"],
        "target_norm_mean": float(radius.mean()),
        "norm_mean": float((out - x).flatten(1).norm(dim=1).mean()),
    }
    return Constructed(out, labels.clone(), meta)
