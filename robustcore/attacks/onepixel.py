"""The one-pixel attack (Su, Vargas & Sakurai, 2019): differential evolution over k
pixels, the search itself in :mod:`~robustcore.attacks.differential_evolution` (how a
candidate is encoded, the DE/rand/1 generation, the initial population).

The model is only queried for probabilities (a black-box attack). Fitness, minimised:
untargeted, the probability of the true class; targeted, minus the probability of the
target. Both are compared as log-probabilities: the same order, but a standard MNIST
model gives the true class a probability that rounds to 1.0 in float32 for most
candidates, which would leave the selection nothing to choose between. An image stops as
soon as one candidate succeeds — untargeted: the predicted label is no longer the
true one; targeted: the target is the predicted label (the paper's ImageNet runs also
stopped at p_target > 0.5; on 10 classes the top label is the usual criterion).

Batched: the populations of all images still running are evaluated together, in
forward passes of at most ``batch_size`` images, and an image that succeeds drops out at
once, so no query is spent on it afterwards. torchattacks' OnePixel wraps scipy's
``differential_evolution``, which calls the model once per image with that image's
population; the batching across images is what needs this hand-written loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import checks
from ..utils import model_device, progress as progress_bar
from .base import eval_mode
from .differential_evolution import (
    BOUNDS,
    STRATEGIES,
    VALUE_MEAN,
    VALUE_STD,
    apply_pixels,
    decode,
    encode,
    generation,
    initial_population,
    mutate,
)

# The attack's names, and the search's, which stay importable from here too.
__all__ = [
    "OnePixelResult",
    "exhaustive_one_pixel",
    "one_pixel",
    "BOUNDS",
    "STRATEGIES",
    "VALUE_MEAN",
    "VALUE_STD",
    "apply_pixels",
    "decode",
    "encode",
    "generation",
    "mutate",
]


@dataclass
class OnePixelResult:
    """What :func:`one_pixel` returns, one entry per image.

    ``x_adv`` (N, C, H, W) in [0, 1]: the best candidate applied (successful or not);
    ``success`` (N,) bool; ``queries`` (N,) model evaluations spent on each image;
    ``generations`` (N,) generations run (0: the initial population already succeeded);
    ``probs`` (N, classes) the model's probabilities on ``x_adv``;
    ``candidates`` (N, pixels, 2 + C) the best candidate: integer row, column, then
    values.
    """

    x_adv: torch.Tensor
    success: torch.Tensor
    queries: torch.Tensor
    generations: torch.Tensor
    probs: torch.Tensor
    candidates: torch.Tensor

    def success_by_generation(self, generations: int) -> torch.Tensor:
        """Share of images fooled after each generation 0..``generations``, shape
        (generations + 1,)."""
        checks.integer(generations, "generations", 0)
        g = torch.arange(generations + 1)
        done = self.success[:, None] & (self.generations[:, None] <= g[None])
        return done.float().mean(0)


# how many logits one scoring of candidates may hold (for up to 1,000 classes)
_SCORED_LOGITS = 2**22


class _Fitness:
    """Fitness (minimised) and success of candidates on their images, in forward passes
    of at most ``batch_size`` images. Untargeted: log p(cls), success when cls is no
    longer the predicted label; targeted: −log p(cls), success when cls is the
    predicted label.

    The candidate images are written into one buffer (batch_size, C, H, W) kept across
    calls, each image copied once and only its candidate's pixels written: with a small
    model, the work around the forward pass is what limits the throughput.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        x: torch.Tensor,
        cls: torch.Tensor,
        targeted: bool,
        batch_size: int,
    ):
        self.model, self.cls, self.targeted, self.batch_size = (
            model,
            cls,
            targeted,
            batch_size,
        )
        self.shape = x.shape[1:]
        self.x = x.reshape(len(x), x.shape[1], -1)  # (N, C, H·W)
        self.buffer = torch.empty(0, device=x.device, dtype=x.dtype)

    @torch.no_grad()
    def __call__(
        self, images: torch.Tensor, candidates: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """images (A,) indices into x; candidates (A, P, k, 2 + C) → (fitness (A, P),
        success (A, P))."""
        a, p = candidates.shape[:2]
        n, (c, h, w) = a * p, self.shape
        rows, cols, vals = decode(candidates.reshape(n, -1, c + 2), h, w)
        where, vals = rows * w + cols, vals.to(self.x.dtype)  # (n, k), (n, k, C)
        img = images.repeat_interleave(p)
        size = min(self.batch_size, n)
        if len(self.buffer) < size:
            self.buffer = self.x.new_empty((size, c, h * w))
        idx = torch.arange(size, device=self.x.device)
        # logits of up to ``block`` rows (whole forward passes) are scored at once
        block = self.batch_size * max(1, _SCORED_LOGITS // (self.batch_size * 1000))
        fit = torch.empty(n, device=self.x.device)
        hit = torch.empty(n, dtype=torch.bool, device=self.x.device)
        for b in range(0, n, block):
            logits = None
            for s in range(b, min(b + block, n), self.batch_size):
                e = min(s + self.batch_size, n)
                batch = torch.index_select(
                    self.x, 0, img[s:e], out=self.buffer[: e - s]
                )
                for j in range(where.shape[1]):  # as apply_pixels: one at a time
                    batch[idx[: e - s], :, where[s:e, j]] = vals[s:e, j]
                out = self.model(batch.view(e - s, c, h, w))
                if logits is None:
                    logits = out.new_empty((min(block, n - b), out.shape[1]))
                logits[s - b : e - b] = out
            logp = logits.log_softmax(1)
            cls = self.cls[img[b : b + len(logp)]]
            lp_cls = logp.gather(1, cls[:, None])[:, 0]
            right = logp.argmax(1) == cls
            fit[b : b + len(logp)] = -lp_cls if self.targeted else lp_cls
            hit[b : b + len(logp)] = right if self.targeted else ~right
        return fit.view(a, p), hit.view(a, p)


class _Record:
    """What :func:`one_pixel` keeps per image: the best candidate ``best``
    (N, k, 2 + C), ``success``, ``queries`` spent and the generation it ``stopped_at``
    (N,)."""

    def __init__(
        self, n: int, pixels: int, channels: int, generations: int, device: torch.device
    ):
        self.best = torch.zeros(n, pixels, 2 + channels, device=device)
        self.success = torch.zeros(n, dtype=torch.bool)
        self.queries = torch.zeros(n, dtype=torch.long)
        self.stopped_at = torch.full((n,), generations, dtype=torch.long)

    def update(
        self,
        active: torch.Tensor,
        cands: torch.Tensor,
        fit: torch.Tensor,
        hit: torch.Tensor,
        gen: int,
    ) -> torch.Tensor:
        """Count the queries of the candidates (A, P, k, 2 + C) just scored for the
        images ``active`` (A,) and record the images with a successful one; return the
        mask (A,) of those still running."""
        self.queries[active] += cands.shape[1]
        won = hit.any(1)
        if won.any():
            # the fittest successful candidate
            pick = fit.masked_fill(~hit, float("inf")).argmin(1)
            ids = active[won.cpu()]
            self.best[ids.to(self.best.device)] = cands[won, pick[won]]
            self.success[ids] = True
            self.stopped_at[ids] = gen
        return ~won.cpu()


def _running(
    keep: torch.Tensor, pop: torch.Tensor, fit: torch.Tensor, active: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The populations (A, P, ...), fitness (A, P) and indices (A,) of the images still
    running (mask ``keep`` (A,), on the CPU); no copy when all are."""
    if keep.all():
        return pop, fit, active
    on = keep.to(pop.device)
    return pop[on], fit[on], active[keep]


def _check(
    model,
    x,
    y,
    pixels,
    target,
    popsize,
    generations,
    F,
    strategy,
    bounds,
    seed,
    batch_size,
    **_,
) -> dict:
    checks.module(model)
    checks.images(x)
    k = checks.classes_of(model, x)
    y = checks.labels(y, x.shape[0], num_classes=k)
    out = {
        "y": y,
        "pixels": checks.integer(pixels, "pixels", 1, x.shape[2] * x.shape[3]),
        "popsize": checks.integer(popsize, "popsize", 4, 1_000_000),
        "generations": checks.integer(generations, "generations", 0, 100_000),
        "seed": checks.seed(seed),
        "F": checks.number(F, "F", 0.0, 2.0, lo_open=True),
        "strategy": checks.choice(strategy, "strategy", STRATEGIES),
        "bounds": checks.choice(bounds, "bounds", BOUNDS),
    }
    if target is not None:
        out["target"] = checks.labels(target, x.shape[0], "target", k)
        if (out["target"] == y).any():
            raise ValueError("target must differ from the true label y for every image")
    if batch_size is not None:
        checks.integer(batch_size, "batch_size", 1)
    return out


@checks.checked(_check)
def one_pixel(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    pixels: int = 1,
    target: torch.Tensor | None = None,
    popsize: int = 400,
    generations: int = 100,
    F: float = 0.5,
    strategy: str = "rand1",
    bounds: str = "clip",
    seed: int = 0,
    batch_size: int | None = None,
    progress: bool = True,
) -> OnePixelResult:
    """Attack each image of ``x`` (N, C, H, W) in [0, 1] with true labels ``y`` (N,) by
    changing ``pixels`` pixels, found by differential evolution (see the module doc).

    ``target`` (N,) makes it targeted. ``strategy``: ``"rand1"``, the paper's
    p[r1] + F·(p[r2] − p[r3]), or ``"best1"``, scipy's default,
    p[best] + F·(p[r1] − p[r2]): greedier, faster to converge in the 15 dimensions of
    five pixels, more prone to stall. ``bounds``: what happens to a child's number that
    leaves the image or [0, 1]: ``"clip"`` to the nearest bound, or ``"resample"``
    uniformly inside (scipy's rule; with ``best1`` it keeps the greedy search
    exploring). ``batch_size``: images per forward pass (default 512 on a CPU, where
    larger batches are slower per image, and 16,384 on a GPU). Same seed, same
    result.
    """
    device = model_device(model)
    n, c, h, w = x.shape
    g = torch.Generator().manual_seed(seed)
    if batch_size is None:
        batch_size = 16_384 if device.type == "cuda" else 512
    xd = x.to(device)
    fitness = _Fitness(
        model,
        xd,
        (y if target is None else target).to(device),
        target is not None,
        batch_size,
    )
    box = (
        torch.zeros(2 + c, device=device),
        torch.tensor([h - 1e-4, w - 1e-4] + [1.0] * c, device=device),
    )
    rec = _Record(n, pixels, c, generations, device)
    with eval_mode(model):
        active = torch.arange(n)  # the images still running
        pop = initial_population(n, popsize, pixels, (c, h, w), g).to(device)
        fit, hit = fitness(active.to(device), pop)
        pop, fit, active = _running(
            rec.update(active, pop, fit, hit, 0), pop, fit, active
        )
        for gen in progress_bar(
            range(1, generations + 1), enabled=progress, desc=f"one-pixel k={pixels}"
        ):
            if len(active) == 0:
                break
            on = active.to(device)
            pop, fit, child, c_fit, c_hit = generation(
                pop,
                fit,
                lambda cands: fitness(on, cands),
                F=F,
                strategy=strategy,
                bounds=bounds,
                box=box,
                g=g,
            )
            pop, fit, active = _running(
                rec.update(active, child, c_fit, c_hit, gen), pop, fit, active
            )
        if len(active):  # not fooled: keep the fittest candidate found
            rec.best[active.to(device)] = pop[
                torch.arange(len(active), device=device), fit.argmin(1)
            ]
        x_adv = apply_pixels(xd, rec.best)
        with torch.no_grad():
            probs = model(x_adv).softmax(1)
    rows, cols, vals = decode(rec.best, h, w)
    return OnePixelResult(
        x_adv.to(x.device),
        rec.success,
        rec.queries,
        rec.stopped_at,
        probs.cpu(),
        encode(rows, cols, vals).cpu(),
    )


def exhaustive_one_pixel(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    values: tuple[float, ...] | list[float] | torch.Tensor = (0.0, 1.0),
    *,
    batch_size: int = 1024,
    fooled: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Every single-pixel change of every image: the probability of the true class after
    setting pixel (r, c) to each value. ``values``: floats in [0, 1] (written to every
    channel) or a (V, C) tensor of colours. Returns (N, V, H, W); with ``fooled`` also
    whether each change makes the model predict another class, (N, V, H, W) bool. The
    ground truth a 1-pixel DE is compared with."""
    checks.module(model)
    checks.images(x)
    y = checks.model_labels(model, x, y)
    n, c, h, w = x.shape
    try:
        vals = torch.as_tensor(values, dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(
            f"values must be floats in [0, 1] or a (V, {c}) tensor of colours, "
            f"got {values!r}"
        ) from None
    if vals.dim() == 1:
        vals = vals[:, None].expand(-1, c)
    if vals.dim() != 2 or vals.shape[1] != c or len(vals) == 0:
        raise ValueError(
            f"values must be floats or a (V, {c}) tensor of colours, "
            f"got shape {tuple(vals.shape)}"
        )
    checks.images(vals[None, :, :, None], "values")
    batch_size = checks.integer(batch_size, "batch_size", 1)
    if not isinstance(fooled, bool):
        raise TypeError(f"fooled must be True or False, got {fooled!r}")
    device = model_device(model)
    rr, cc = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    # every (row, column, value) candidate, shape (V·H·W, 1, D)
    grid = (
        torch.cat(
            [
                rr.reshape(-1, 1, 1).float().expand(-1, len(vals), 1),
                cc.reshape(-1, 1, 1).float().expand(-1, len(vals), 1),
                vals[None].expand(h * w, -1, -1),
            ],
            -1,
        )
        .transpose(0, 1)
        .reshape(-1, 1, 2 + c)
    )
    out = torch.empty(n, len(vals) * h * w)
    flips = torch.empty(n, len(vals) * h * w, dtype=torch.bool)
    fitness, grid = (
        _Fitness(model, x.to(device), y.to(device), False, batch_size),
        grid[None].to(device),
    )
    with eval_mode(model):
        for i in range(n):
            log_p, hit = fitness(torch.tensor([i], device=device), grid)
            out[i], flips[i] = log_p[0].exp().cpu(), hit[0].cpu()
    shape = (n, len(vals), h, w)
    return (out.view(shape), flips.view(shape)) if fooled else out.view(shape)
