"""Differential evolution (DE) over candidate pixels, batched over images: the search of
the one-pixel attack (:mod:`~robustcore.attacks.onepixel`).

A candidate changes ``k`` pixels; each is ``(row, col, value per channel)``, so a
candidate is a vector of ``k·(2 + C)`` numbers (grayscale: ``(row, col, v)``; colour:
``(row, col, r, g, b)``). Values live on the [0, 1] scale of the images.

The search is DE/rand/1 as in the paper: for every member i of a population of
``popsize`` candidates, a child ``p[r1] + F·(p[r2] − p[r3])`` (r1, r2, r3 distinct
and other than i, F = 0.5, no crossover) replaces its parent if it is at least as fit.
Coordinates start uniform over the image; values start from N(128, 127) on the 0–255
scale, i.e. N(0.502, 0.498) here, for every channel — grayscale images get the same
distribution on their one channel (the paper has no grayscale setting; this keeps one
rule for both).

Each image has its own population; the functions here take those of A images at once,
(A, P, k, 2 + C), and leave what makes a candidate fit to the caller's ``score``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .. import checks

# the paper's N(128, 127) on the 0–255 scale
VALUE_MEAN, VALUE_STD = 128 / 255, 127 / 255
STRATEGIES = ("rand1", "best1")
BOUNDS = ("clip", "resample")


def encode(
    rows: torch.Tensor, cols: torch.Tensor, values: torch.Tensor
) -> torch.Tensor:
    """Candidates from their parts: rows, cols (N, k); values (N, k, C) →
    (N, k, 2 + C)."""
    return torch.cat(
        [rows[..., None].float(), cols[..., None].float(), values.float()], dim=-1
    )


def decode(
    candidates: torch.Tensor, height: int, width: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(rows, cols, values) of candidates (..., k, 2 + C): coordinates floored and
    clipped to the image, values clipped to [0, 1]. Inverse of :func:`encode` for
    in-range integer coordinates."""
    if (
        not isinstance(candidates, torch.Tensor)
        or candidates.dim() < 2
        or candidates.shape[-1] < 3
    ):
        raise ValueError(
            f"candidates must be a tensor of shape (..., pixels, 2 + C), "
            f"got {getattr(candidates, 'shape', type(candidates).__name__)}"
        )
    checks.integer(height, "height", 1)
    checks.integer(width, "width", 1)
    rows = candidates[..., 0].floor().clamp(0, height - 1).long()
    cols = candidates[..., 1].floor().clamp(0, width - 1).long()
    return rows, cols, candidates[..., 2:].clamp(0, 1)


def apply_pixels(x: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """Images ``x`` (N, C, H, W) with candidate i's pixels written into image i; a new
    tensor."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise ValueError(
            "x must be a batch of images (N, C, H, W), "
            f"got {getattr(x, 'shape', type(x).__name__)}"
        )
    if not isinstance(candidates, torch.Tensor):
        raise TypeError(f"candidates must be a tensor, got {type(candidates).__name__}")
    n, c, h, w = x.shape
    if (
        candidates.shape[0] != n
        or candidates.shape[-1] != 2 + c
        or candidates.dim() != 3
    ):
        raise ValueError(
            f"candidates must have shape ({n}, pixels, {2 + c}) "
            f"for x of shape {tuple(x.shape)}, got {tuple(candidates.shape)}"
        )
    rows, cols, vals = decode(candidates, h, w)
    out = x.clone().view(n, c, h * w)
    idx = torch.arange(n, device=x.device)
    # k is 1–5: a loop over pixels, vectorised over images
    for j in range(candidates.shape[1]):
        out[idx, :, rows[:, j] * w + cols[:, j]] = vals[:, j].to(out.dtype)
    return out.view(n, c, h, w)


def initial_population(
    n: int, popsize: int, pixels: int, shape: tuple[int, int, int], g: torch.Generator
) -> torch.Tensor:
    """(n, popsize, pixels, 2 + C): coordinates uniform over the image ``shape``
    (C, H, W), values N(128, 127)/255. No checks: callers validate."""
    c, h, w = shape
    pos = torch.rand(n, popsize, pixels, 2, generator=g) * torch.tensor([h, w])
    val = (
        VALUE_MEAN + VALUE_STD * torch.randn(n, popsize, pixels, c, generator=g)
    ).clamp(0, 1)
    return torch.cat([pos, val], -1)


def _distinct_triples(n_img: int, popsize: int, g: torch.Generator) -> torch.Tensor:
    """Indices (n_img, popsize, 3) into each population: for member i, three distinct
    members other than i (as scipy's and Su et al.'s DE draw them)."""
    if popsize < 4:  # fewer, and no three distinct others exist: the loop never ends
        raise ValueError(f"popsize must be at least 4, got {popsize}")
    # draw from the popsize - 1 others: 0..popsize-2, shifted past i
    me = torch.arange(popsize)[None, :, None]
    r = torch.randint(0, popsize - 1, (n_img, popsize, 3), generator=g)
    while True:
        bad = (
            (r[..., 0] == r[..., 1])
            | (r[..., 0] == r[..., 2])
            | (r[..., 1] == r[..., 2])
        )
        if not bad.any():
            return r + (r >= me).long()
        r[bad] = torch.randint(0, popsize - 1, (int(bad.sum()), 3), generator=g)


def mutate(
    pop: torch.Tensor, fit: torch.Tensor, F: float, strategy: str, g: torch.Generator
) -> torch.Tensor:
    """One DE generation's children: pop (A, P, ...) → (A, P, ...), one child per
    member i, from three members other than i drawn at random in each image's population
    (``fit`` (A, P): for ``best1``)."""
    r = _distinct_triples(pop.shape[0], pop.shape[1], g).to(pop.device)
    flat = pop.flatten(2)

    def member(j: int) -> torch.Tensor:
        return flat.gather(1, r[..., j, None].expand(-1, -1, flat.shape[-1]))

    if strategy == "rand1":
        child = member(0) + F * (member(1) - member(2))
    else:  # best1: every child starts from its image's fittest member
        fittest = flat[torch.arange(len(flat), device=flat.device), fit.argmin(1)]
        child = fittest[:, None] + F * (member(1) - member(2))
    return child.view_as(pop)


def generation(
    pop: torch.Tensor,
    fit: torch.Tensor,
    score: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
    *,
    F: float,
    strategy: str,
    bounds: str,
    box: tuple[torch.Tensor, torch.Tensor],
    g: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One DE generation: mutate, score, select. Each member of each population gets a
    child (:func:`mutate`); a child's numbers outside ``box`` = (lo, hi), each (2 + C,),
    are clipped or resampled inside (``bounds``); ``score(children)`` gives their
    (fitness, success), each (A, P); a child replaces its parent if it is at least as
    fit (fitness is minimised).

    pop (A, P, k, 2 + C), fit (A, P) → (pop, fit) after selection, then the children,
    their fitness and their success. No checks: callers validate.
    """
    lo, hi = box
    child = mutate(pop, fit, F, strategy, g)
    if bounds == "clip":
        child = torch.maximum(torch.minimum(child, hi), lo)
    else:  # resample what left the box uniformly inside it, as scipy's DE does
        fresh = lo + (hi - lo) * torch.rand(child.shape, generator=g).to(child.device)
        child = torch.where((child < lo) | (child > hi), fresh, child)
    c_fit, c_hit = score(child)
    better = c_fit <= fit
    return (
        torch.where(better[..., None, None], child, pop),
        torch.where(better, c_fit, fit),
        child,
        c_fit,
        c_hit,
    )
