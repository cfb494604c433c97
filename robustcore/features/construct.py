"""The constructions of Ilyas et al. (2019): representation inversion (D_R, D_NR) and
relabelling by a targeted attack (D_det, D_rand), and the random-direction control of
the relabelling.

Each public function checks its arguments and returns a
:class:`~robustcore.features.dataset.Constructed` dataset (or, for :func:`invert`, the
rebuilt images). Where a progress folder is set (``$ROBUSTCORE_PROGRESS``; ``make full``
sets one) D_R and D_NR are built in chunks kept as they finish
(:mod:`robustcore.chunks`), so an interrupted build resumes; the images are the same.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch

from .. import attacks, checks, chunks
from ..utils import eval_mode, model_device
from ..utils import progress as progress_bar
from .dataset import Constructed

INITS = ("image", "noise")
# how the step size of :func:`invert` moves: decays to 0 on a cosine, or stays fixed
# (Ilyas et al.'s 1000 normalised steps of 0.1)
SCHEDULES = ("cosine", "constant")
# a resumable construction keeps this many batches per chunk (robustcore.chunks): a few
# minutes of work on a CPU, and the same batches as a construction in one go
CHUNK_BATCHES = 10
MODES = ("det", "rand")


def representation_distance(
    model: torch.nn.Module, x: torch.Tensor, target_rep: torch.Tensor
) -> torch.Tensor:
    """Per-example relative distance ‖g(x) − r‖₂ / ‖r‖₂ of the penultimate
    representation g, shape (N,)."""
    return (model.features(x) - target_rep).norm(dim=1) / target_rep.norm(
        dim=1
    ).clamp_min(1e-12)


def _check_settings(
    model: Any, steps: Any, step_size: Any, batch_size: Any, schedule: Any = "cosine"
) -> dict:
    """The model and the optimiser's settings of :func:`invert`."""
    checks.module(model)
    if not hasattr(model, "features"):
        raise TypeError(
            "model must expose features(x), its penultimate representation "
            "(every robustcore.models classifier does)"
        )
    return {
        "steps": checks.integer(steps, "steps", 1, 100_000),
        "step_size": checks.number(step_size, "step_size", 0.0, 1_000.0, lo_open=True),
        "batch_size": checks.integer(batch_size, "batch_size", 1),
        "schedule": checks.choice(schedule, "schedule", SCHEDULES),
    }


def _check_invert(
    model, target, start, steps, step_size, batch_size, schedule="cosine", **_
) -> dict:
    checks.module(model)
    checks.images(target, "target")
    checks.images(start, "start")
    if start.shape != target.shape:
        raise ValueError(
            f"start must have the shape of target {tuple(target.shape)}, "
            f"got {tuple(start.shape)}"
        )
    return _check_settings(model, steps, step_size, batch_size, schedule)


@checks.checked(_check_invert)
def invert(
    model: torch.nn.Module,
    target: torch.Tensor,
    start: torch.Tensor,
    *,
    steps: int = 200,
    step_size: float = 1.0,
    batch_size: int = 500,
    schedule: str = "cosine",
    progress: bool = True,
    desc: str = "invert",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Find x_r ∈ [0, 1] with g(x_r) ≈ g(target), starting from ``start``.

    Normalised L2 gradient steps (as Ilyas et al.), each followed by clipping to
    [0, 1]; their size decays from ``step_size`` to 0 on a cosine (``schedule=
    "cosine"``) or stays ``step_size`` (``"constant"``, the paper's). ``target``,
    ``start``: (N, C, H, W). Returns
    ``(x_r, final_distance (N,), mean_distance_per_step (steps,))``.
    """
    device = model_device(model)
    out, final, curve = [], [], torch.zeros(steps)
    with eval_mode(model):
        for i in progress_bar(
            range(0, len(target), batch_size), enabled=progress, desc=desc
        ):
            t, x = (
                target[i : i + batch_size].to(device),
                start[i : i + batch_size].to(device).clone(),
            )
            with torch.no_grad():
                rep = model.features(t)
            for k in range(steps):
                x.requires_grad_(True)
                dist = representation_distance(model, x, rep)
                (grad,) = torch.autograd.grad(dist.sum(), x)
                curve[k] += dist.detach().sum().cpu()
                with torch.no_grad():
                    alpha = (
                        step_size * 0.5 * (1 + math.cos(math.pi * k / steps))
                        if schedule == "cosine"
                        else step_size
                    )
                    x = x.detach() - attacks.ascent_step(grad, alpha, "l2")
                    x.clamp_(0, 1)
            with torch.no_grad():
                final.append(representation_distance(model, x, rep).cpu())
            out.append(x.detach().cpu())
    return torch.cat(out), torch.cat(final), curve / len(target)


def _check_starting_points(x, init, seed, **_) -> dict:
    checks.images(x)
    checks.choice(init, "init", INITS)
    if init == "image" and len(x) < 2:
        raise ValueError("x must hold at least 2 images to start each from another one")
    return {"seed": checks.seed(seed)}


@checks.checked(_check_starting_points)
def starting_points(
    x: torch.Tensor, init: str = "image", seed: int = 0
) -> torch.Tensor:
    """Starting points x₀ for :func:`invert`, one per image of ``x``.

    ``"image"``: another image of ``x`` drawn at random (never the image itself), as
    Ilyas et al. do for D_R; ``"noise"``: uniform noise in [0, 1].
    """
    if init == "noise":
        return torch.rand(x.shape, generator=torch.Generator().manual_seed(seed))
    return x[start_indices(len(x), seed)].clone()


def start_indices(n: int, seed: int = 0) -> torch.Tensor:
    """Which image each of ``n`` images starts from with ``init="image"``: (n,) int64,
    a random other index (never i itself), the same draw as :func:`starting_points`
    with the same seed."""
    n = checks.integer(n, "n", 2)
    g = torch.Generator().manual_seed(checks.seed(seed))
    # A random shift of a random permutation: position i gets perm[(j+s) mod n],
    # never itself.
    perm = torch.randperm(n, generator=g)
    shift = int(torch.randint(1, n, (1,), generator=g))
    src = torch.empty(n, dtype=torch.long)
    src[perm] = perm.roll(-shift)
    return src


def _inverted(
    kind: str,
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    init: str,
    steps: int,
    step_size: float,
    seed: int,
    batch_size: int,
    schedule: str,
    progress: bool,
) -> Constructed:
    # checked once here; the steps below run unchecked
    start_args = starting_points.check(x, init, seed)  # x, init, seed
    settings = _check_settings(model, steps, step_size, batch_size, schedule)
    y = checks.model_labels(model, x, y)
    t0 = time.perf_counter()
    start = starting_points.unchecked(**start_args)
    if chunks.progress_dir() is None:
        xr, final, curve = invert.unchecked(
            model, x, start, **settings, progress=progress, desc=kind
        )
    else:  # resumable (make full): each chunk of digits is kept as it finishes

        def part(t: torch.Tensor, s: torch.Tensor) -> dict[str, torch.Tensor]:
            xr, final, curve = invert.unchecked(
                model, t, s, **settings, progress=False, desc=kind
            )  # each row carries its chunk's mean curve: their mean is the whole's
            return {"x": xr, "final": final, "curve": curve.expand(len(t), -1)}

        done = chunks.evaluate(
            part,
            x,
            start,
            name=f"{kind}-{chunks.fingerprint((x, start))[:16]}",
            model=model,
            chunk=settings["batch_size"] * CHUNK_BATCHES,
            settings={**settings, "init": init, "seed": seed},
            show_progress=progress,
        )
        xr, final, curve = done["x"], done["final"], done["curve"].mean(0)
    meta = {
        "kind": kind,
        "init": init,
        "steps": steps,
        "step_size": step_size,
        "schedule": schedule,
        "seed": seed,
        "final_distance_mean": float(final.mean()),
        "final_distance_max": float(final.max()),
        "distance_curve": [round(float(v), 5) for v in curve],
        "seconds": round(time.perf_counter() - t0, 1),
    }
    return Constructed(xr, y.clone(), meta)


def robust_dataset(
    robust_model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    init: str = "image",
    steps: int = 200,
    step_size: float = 8.0,
    seed: int = 0,
    batch_size: int = 500,
    schedule: str = "cosine",
    progress: bool = True,
) -> Constructed:
    """D_R: each image of ``x`` rebuilt from the representation of an adversarially
    trained model.

    x: (N, C, H, W) in [0, 1]; y: (N,) labels, kept. See :func:`invert` for the
    optimisation.
    """
    settings = (init, steps, step_size, seed, batch_size, schedule)
    return _inverted("D_R", robust_model, x, y, *settings, progress)


def non_robust_dataset(
    std_model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    init: str = "image",
    steps: int = 200,
    step_size: float = 8.0,
    seed: int = 0,
    batch_size: int = 500,
    schedule: str = "cosine",
    progress: bool = True,
) -> Constructed:
    """D_NR: the same inversion, with the same optimiser, from a standard model's
    representation."""
    settings = (init, steps, step_size, seed, batch_size, schedule)
    return _inverted("D_NR", std_model, x, y, *settings, progress)


def relabelled_dataset(
    std_model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    mode: str = "det",
    eps: float = 3.0,
    steps: int = 40,
    alpha: float | None = None,
    num_classes: int | None = None,
    seed: int = 0,
    batch_size: int = 500,
    progress: bool = True,
) -> Constructed:
    """D_det (``mode="det"``: t = (y + 1) mod C) or D_rand (``"rand"``: t uniform over
    the classes ≠ y); C is ``num_classes``, by default the classes ``std_model``
    scores.

    Each image gets a targeted L2 PGD perturbation of size ≤ ``eps`` toward t on
    ``std_model`` and the label t. ``meta["fooling_rate"]`` is the share of images the
    model classifies as t.
    """
    checks.module(std_model)
    checks.images(x)
    checks.choice(mode, "mode", MODES)
    k = checks.classes_of(std_model, x, "std_model")
    if num_classes is None:
        num_classes = k
    num_classes = checks.integer(num_classes, "num_classes", 2, k)
    y = checks.labels(y, x.shape[0], num_classes=num_classes)
    batch_size = checks.integer(batch_size, "batch_size", 1)
    g = torch.Generator().manual_seed(checks.seed(seed))
    if mode == "det":
        t = (y + 1) % num_classes
    else:  # y + a uniform offset in 1..C-1 is uniform over the other classes
        t = (y + torch.randint(1, num_classes, y.shape, generator=g)) % num_classes
    t, settings = attacks.check(
        "pgd",
        std_model,
        x,
        t,
        eps=eps,
        norm="l2",
        steps=steps,
        alpha=alpha,
        targeted=True,
    )
    device = model_device(std_model)
    t0 = time.perf_counter()
    torch.manual_seed(seed)  # PGD's random start
    out, fooled = [], 0
    for i in progress_bar(
        range(0, len(y), batch_size), enabled=progress, desc=f"D_{mode}"
    ):
        tb = t[i : i + batch_size]
        xa = attacks.pgd.unchecked(
            std_model, x[i : i + batch_size].to(device), tb.to(device), **settings
        )
        with torch.no_grad():
            pred = std_model(xa).argmax(1).cpu()
        fooled += int((pred == tb).sum())
        out.append(xa.cpu())
    meta = {
        "kind": f"D_{mode}",
        "mode": mode,
        "eps": eps,
        "steps": steps,
        "alpha": alpha,
        "seed": seed,
        "num_classes": num_classes,
        "fooling_rate": fooled / len(y),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    return Constructed(torch.cat(out), t, meta)
