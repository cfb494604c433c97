"""Robust and non-robust features (Ilyas et al., 2019): the datasets D_R, D_NR, D_rand, D_det.

* ``robust_dataset`` (D_R) and ``non_robust_dataset`` (D_NR) rebuild each training image x
  from another starting point x₀ by gradient descent on the *input* until a model's
  penultimate representation of it matches x's: minimise ‖g(x_r) − g(x)‖₂ / ‖g(x)‖₂.
  With an adversarially trained model g only keeps robust features, so x_r keeps only those;
  with a standard model, x_r carries the (invisible) features the standard model uses.
* ``relabelled_dataset`` (D_det, D_rand) perturbs each image toward a target class t by a
  small targeted L2 PGD attack on a standard model, then *labels it t*. To a person every
  image looks mislabelled; only the non-robust features agree with the new label.

Built datasets are stored through :mod:`robustcore.store` with the exact settings; ``load_constructed``
returns the cached one when its settings match the current recipe and rebuilds (with a
warning) when they do not, so a dataset built with other settings is never used silently.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from . import checks, attacks, data, io, profiles, store, zoo
from .utils import eval_mode, model_device, progress as progress_bar

INITS = ("image", "noise")
MODES = ("det", "rand")


@dataclass
class Constructed:
    """A constructed dataset: images ``x`` (N, C, H, W) in [0, 1], labels ``y`` (N,), and
    ``meta`` (what was built, how, from which model; loss or fooling-rate statistics)."""

    x: torch.Tensor
    y: torch.Tensor
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.y)


def representation_distance(model: torch.nn.Module, x: torch.Tensor, target_rep: torch.Tensor) -> torch.Tensor:
    """Per-example relative distance ‖g(x) − r‖₂ / ‖r‖₂ of the penultimate representation g, shape (N,)."""
    return (model.features(x) - target_rep).norm(dim=1) / target_rep.norm(dim=1).clamp_min(1e-12)


def _check_invert(model: Any, target: Any, start: Any, steps: Any, step_size: Any,
                  batch_size: Any) -> tuple[int, float, int]:
    checks.module(model)
    checks.images(target, "target")
    checks.images(start, "start")
    if start.shape != target.shape:
        raise ValueError(f"start must have the shape of target {tuple(target.shape)}, got {tuple(start.shape)}")
    if not hasattr(model, "features"):
        raise TypeError("model must expose features(x), its penultimate representation "
                        "(every robustcore.models classifier does)")
    return (checks.integer(steps, "steps", 1, 100_000),
            checks.number(step_size, "step_size", 0.0, 1_000.0, lo_open=True),
            checks.integer(batch_size, "batch_size", 1))


def invert(model: torch.nn.Module, target: torch.Tensor, start: torch.Tensor, *, steps: int = 200,
           step_size: float = 1.0, batch_size: int = 500, progress: bool = True,
           desc: str = "invert") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Find x_r ∈ [0, 1] with g(x_r) ≈ g(target), starting from ``start``.

    Normalised L2 gradient steps (as Ilyas et al.) whose size decays from ``step_size`` to 0 on a
    cosine schedule, each followed by clipping to [0, 1]. ``target``, ``start``: (N, C, H, W).
    Returns ``(x_r, final_distance (N,), mean_distance_per_step (steps,))``.
    """
    steps, step_size, batch_size = _check_invert(model, target, start, steps, step_size, batch_size)
    device = model_device(model)
    out, final, curve = [], [], torch.zeros(steps)
    with eval_mode(model):
        for i in progress_bar(range(0, len(target), batch_size), enabled=progress, desc=desc):
            t, x = target[i:i + batch_size].to(device), start[i:i + batch_size].to(device).clone()
            with torch.no_grad():
                rep = model.features(t)
            for k in range(steps):
                x.requires_grad_(True)
                dist = representation_distance(model, x, rep)
                (grad,) = torch.autograd.grad(dist.sum(), x)
                curve[k] += dist.detach().sum().cpu()
                with torch.no_grad():
                    alpha = step_size * 0.5 * (1 + math.cos(math.pi * k / steps))
                    x = x.detach() - attacks.ascent_step(grad, alpha, "l2")
                    x.clamp_(0, 1)
            with torch.no_grad():
                final.append(representation_distance(model, x, rep).cpu())
            out.append(x.detach().cpu())
    return torch.cat(out), torch.cat(final), curve / len(target)


def starting_points(x: torch.Tensor, init: str = "image", seed: int = 0) -> torch.Tensor:
    """Starting points x₀ for :func:`invert`, one per image of ``x``.

    ``"image"``: another image of ``x`` drawn at random (never the image itself), as Ilyas et al.
    do for D_R; ``"noise"``: uniform noise in [0, 1].
    """
    checks.images(x)
    checks.choice(init, "init", INITS)
    g = torch.Generator().manual_seed(checks.seed(seed))
    if init == "noise":
        return torch.rand(x.shape, generator=g)
    n = len(x)
    if n < 2:
        raise ValueError("x must hold at least 2 images to start each from another one")
    # A random shift of a random permutation: position i gets perm[(j+s) mod n], never itself.
    perm = torch.randperm(n, generator=g)
    shift = int(torch.randint(1, n, (1,), generator=g))
    src = torch.empty(n, dtype=torch.long)
    src[perm] = perm.roll(-shift)
    return x[src].clone()


def _inverted(kind: str, model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, init: str, steps: int,
              step_size: float, seed: int, batch_size: int, progress: bool) -> Constructed:
    checks.images(x)
    y = checks.labels(y, x.shape[0])
    t0 = time.perf_counter()
    xr, final, curve = invert(model, x, starting_points(x, init, seed), steps=steps, step_size=step_size,
                              batch_size=batch_size, progress=progress, desc=kind)
    meta = {"kind": kind, "init": init, "steps": steps, "step_size": step_size, "seed": seed,
            "final_distance_mean": float(final.mean()), "final_distance_max": float(final.max()),
            "distance_curve": [round(float(v), 5) for v in curve],
            "seconds": round(time.perf_counter() - t0, 1)}
    return Constructed(xr, y.clone(), meta)


def robust_dataset(robust_model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, *, init: str = "image",
                   steps: int = 200, step_size: float = 8.0, seed: int = 0, batch_size: int = 500,
                   progress: bool = True) -> Constructed:
    """D_R: each image of ``x`` rebuilt from the representation of an adversarially trained model.

    x: (N, C, H, W) in [0, 1]; y: (N,) labels, kept. See :func:`invert` for the optimisation.
    """
    return _inverted("D_R", robust_model, x, y, init, steps, step_size, seed, batch_size, progress)


def non_robust_dataset(std_model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, *, init: str = "image",
                       steps: int = 100, step_size: float = 0.1, seed: int = 0, batch_size: int = 500,
                       progress: bool = True) -> Constructed:
    """D_NR: the same inversion with a standard model; the rebuilt images look like their starts."""
    return _inverted("D_NR", std_model, x, y, init, steps, step_size, seed, batch_size, progress)


def relabelled_dataset(std_model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, *, mode: str = "det",
                       eps: float = 3.0, steps: int = 40, alpha: float | None = None,
                       num_classes: int | None = None, seed: int = 0, batch_size: int = 500,
                       progress: bool = True) -> Constructed:
    """D_det (``mode="det"``: t = (y + 1) mod C) or D_rand (``"rand"``: t uniform over the classes ≠ y).

    Each image gets a targeted L2 PGD perturbation of size ≤ ``eps`` toward t on ``std_model``
    and the label t. ``meta["fooling_rate"]`` is the share of images the model classifies as t.
    """
    checks.module(std_model)
    checks.images(x)
    checks.choice(mode, "mode", MODES)
    y = checks.labels(y, x.shape[0])
    if num_classes is None:
        num_classes = int(y.max()) + 1
    num_classes = checks.integer(num_classes, "num_classes", 2)
    checks.labels(y, x.shape[0], num_classes=num_classes)
    batch_size = checks.integer(batch_size, "batch_size", 1)
    g = torch.Generator().manual_seed(checks.seed(seed))
    if mode == "det":
        t = (y + 1) % num_classes
    else:  # y + a uniform offset in 1..C-1 is uniform over the other classes
        t = (y + torch.randint(1, num_classes, y.shape, generator=g)) % num_classes
    t, settings = attacks.check("pgd", std_model, x, t, eps=eps, norm="l2", steps=steps, alpha=alpha, targeted=True)
    device = model_device(std_model)
    t0 = time.perf_counter()
    torch.manual_seed(seed)  # PGD's random start
    out, fooled = [], 0
    for i in progress_bar(range(0, len(y), batch_size), enabled=progress, desc=f"D_{mode}"):
        tb = t[i:i + batch_size]
        xa = attacks.pgd.unchecked(std_model, x[i:i + batch_size].to(device), tb.to(device), **settings)
        with torch.no_grad():
            pred = std_model(xa).argmax(1).cpu()
        fooled += int((pred == tb).sum())
        out.append(xa.cpu())
    meta = {"kind": f"D_{mode}", "mode": mode, "eps": eps, "steps": steps, "alpha": alpha, "seed": seed,
            "num_classes": num_classes, "fooling_rate": fooled / len(y),
            "seconds": round(time.perf_counter() - t0, 1)}
    return Constructed(torch.cat(out), t, meta)


# --------------------------------------------------------------------------------------------
# Saving and loading


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] → 8-bit images (what an image file would hold)."""
    return x.mul(255).round_().to(torch.uint8)


def from_uint8(x: torch.Tensor) -> torch.Tensor:
    return x.float().div_(255)


def save(ds: Constructed, path: str | Path) -> str:
    """Save as 8-bit images, atomically (temp file, then rename), with a ``.sha256`` beside it.

    Returns the digest. 8 bits per pixel, like an image file: a quarter of the float size, and
    the rounding (≤ 1/510 per pixel) is far below any perturbation studied here.
    """
    if not isinstance(ds, Constructed):
        raise TypeError(f"ds must be a Constructed dataset, got {type(ds).__name__}")
    path = checks.path(path, "path")
    if path.is_dir():
        raise ValueError(f"path must be a file name, got the folder {path}")
    checks.images(ds.x, "ds.x")
    checks.labels(ds.y, ds.x.shape[0], "ds.y")
    return io.atomic_save({"x": to_uint8(ds.x), "y": ds.y, "meta": ds.meta}, path)


def load(path: str | Path, expected_sha256: str | None = None) -> Constructed:
    """Load a dataset written by :func:`save`, after checking its sha256 (``weights_only`` load)."""
    obj = io.load_verified(checks.path(path, "path"), expected_sha256)
    if (not isinstance(obj, dict) or not {"x", "y", "meta"} <= set(obj)
            or not isinstance(obj["x"], torch.Tensor) or obj["x"].dtype != torch.uint8):
        raise io.ChecksumError(f"{path} is not a robustcore constructed dataset (uint8 x, y, meta)")
    return Constructed(from_uint8(obj["x"]), obj["y"], obj["meta"])


# --------------------------------------------------------------------------------------------
# Named recipes, cached like the zoo's checkpoints

# Quick: 10,000 training digits (1,000 a class). With 2,000, D_det did not reach chance on
# held-out *training* digits (a validation split; the test set played no part in this choice).
_COMMON = {"quick": {"n": 10_000, "seed": 0}, "full": {"n": None, "seed": 0}}
# Ilyas et al. take 1000 normalised steps of 0.1 for both. A standard model's representation moves
# a long way for a small input change, so 100 such steps already yield D_NR, and its images stay
# close to their starting points. An adversarially trained model's representation needs large input
# changes, so D_R takes larger steps (8.0, decaying) to get there in 200.
_INVERT_R = {"init": "image", "steps": 200, "step_size": 8.0}
_INVERT_NR = {"init": "image", "steps": 100, "step_size": 0.1}
_RELABEL = {"eps": 3.0, "steps": 40}

RECIPES: dict[str, dict[str, dict[str, Any]]] = {}


def _recipe(name: str, kind: str, source: str, settings: dict, classes: list[int] | None = None,
            n: dict | None = None, dataset: str | None = None) -> None:
    RECIPES[name] = {
        prof: {"kind": kind, "source": source, "classes": classes, **_COMMON[prof],
               **({"n": n[prof]} if n else {}), **({"dataset": dataset} if dataset else {}), **settings}
        for prof in profiles.NAMES}


_recipe("mnist-d_r", "D_R", "mnist-cnn-pgd-linf", _INVERT_R)
_recipe("mnist-d_nr", "D_NR", "mnist-cnn-std", _INVERT_NR)
_recipe("mnist-d_det", "D_det", "mnist-cnn-std", {"mode": "det", **_RELABEL})
_recipe("mnist-d_rand", "D_rand", "mnist-cnn-std", {"mode": "rand", **_RELABEL})
_BINARY_N = {"quick": 2000, "full": None}  # 1,000 a class, as for ten classes
_recipe("mnist37-d_r", "D_R", "mnist37-cnn-pgd-linf", _INVERT_R, [3, 7], _BINARY_N)
_recipe("mnist37-d_nr", "D_NR", "mnist37-cnn-std", _INVERT_NR, [3, 7], _BINARY_N)
# CIFAR-10 (online readers, GPU): the paper's settings for D_det / D_rand (targeted L2 PGD, ε=0.5,
# 100 steps of 0.1) and its 1000 normalised steps of 0.1 for D_R / D_NR, from a random image.
_CIFAR_N = {"quick": 5_000, "full": None}
_INVERT_PAPER = {"init": "image", "steps": 1000, "step_size": 0.1}
_RELABEL_PAPER = {"eps": 0.5, "steps": 100, "alpha": 0.1}
_recipe("cifar10-d_r", "D_R", "cifar10-resnet-pgd-l2", _INVERT_PAPER, n=_CIFAR_N, dataset="cifar10")
_recipe("cifar10-d_nr", "D_NR", "cifar10-resnet-std", _INVERT_PAPER, n=_CIFAR_N, dataset="cifar10")
_recipe("cifar10-d_det", "D_det", "cifar10-resnet-std", {"mode": "det", **_RELABEL_PAPER}, n=_CIFAR_N,
        dataset="cifar10")
_recipe("cifar10-d_rand", "D_rand", "cifar10-resnet-std", {"mode": "rand", **_RELABEL_PAPER}, n=_CIFAR_N,
        dataset="cifar10")


def recipe(name: str, profile: str | None = None) -> dict[str, Any]:
    """The settings of constructed dataset ``name`` in ``profile`` (default: the current one)."""
    return store.lookup(ARTIFACTS, name, "constructed dataset").recipe(profile)


def _check_recipe(rec: Any) -> dict[str, Any]:
    if not isinstance(rec, dict):
        raise TypeError(f"rec must be a recipe dict (see features.recipe(name)), got {type(rec).__name__}")
    missing = {"kind", "source", "classes", "n", "seed"} - set(rec)
    if missing:
        raise ValueError(f"rec is not a constructed-dataset recipe: no {sorted(missing)} (see features.recipe(name))")
    checks.choice(rec["kind"], "rec['kind']", ("D_R", "D_NR", "D_det", "D_rand"))
    return rec


def source_data(rec: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """The original training images a recipe starts from (its task, its deterministic subset)."""
    _check_recipe(rec)
    x, y = data.dataset(rec.get("dataset", "mnist"), train=True)
    if rec["classes"]:
        x, y = data.select_classes(x, y, rec["classes"])
    return data.subset(x, y, rec["n"], seed=rec["seed"])


def build(rec: dict[str, Any], progress: bool = True) -> Constructed:
    """Construct the dataset a recipe describes (its source model comes from the zoo)."""
    _check_recipe(rec)
    zoo.recipe(rec["source"])  # an unknown source model fails before any data is read
    x, y = source_data(rec)
    model = zoo.load(rec["source"], progress=progress)
    keys = {"D_R": ("init", "steps", "step_size"), "D_NR": ("init", "steps", "step_size")}
    if rec["kind"] in keys:
        fn = robust_dataset if rec["kind"] == "D_R" else non_robust_dataset
        ds = fn(model, x, y, seed=rec["seed"], progress=progress, **{k: rec[k] for k in keys[rec["kind"]]})
    else:
        ds = relabelled_dataset(model, x, y, mode=rec["mode"], eps=rec["eps"], steps=rec["steps"],
                                alpha=rec.get("alpha"), num_classes=len(rec["classes"] or range(10)), seed=rec["seed"], progress=progress)
    ds.meta["recipe"] = rec
    ds.x = from_uint8(to_uint8(ds.x))  # exactly what the saved copy will return
    return ds


def _payload(rec: dict[str, Any], progress: bool) -> dict[str, Any]:
    ds = build(rec, progress)
    return {"x": to_uint8(ds.x), "y": ds.y, "meta": ds.meta}


def artifact(name: str, recipes: dict[str, dict[str, Any]]) -> store.Artifact:
    """A constructed dataset as an artifact of the store: one recipe per profile (see :data:`RECIPES`)."""
    return store.Artifact(name, recipes, _payload, f"{recipes['quick']['kind']} from {recipes['quick']['source']}")


ARTIFACTS: dict[str, store.Artifact] = {name: artifact(name, recs) for name, recs in RECIPES.items()}


def load_constructed(name: str, profile: str | None = None, build_if_missing: bool = True,
                     progress: bool = True) -> Constructed:
    """Constructed dataset ``name`` (a key of :data:`RECIPES`) built with the current recipe, from
    the artifact store: cached, shipped, downloaded, or built now (:mod:`robustcore.store`). A copy
    built with other settings is never used: it is skipped with a warning."""
    artifact = store.lookup(ARTIFACTS, name, "constructed dataset")
    payload = store.fetch(artifact, profile, build_if_missing=build_if_missing, progress=progress)
    if not isinstance(payload.get("x"), torch.Tensor) or payload["x"].dtype != torch.uint8:
        raise io.ChecksumError(f"the stored {name!r} is not a constructed dataset (uint8 x, y, meta)")
    return Constructed(from_uint8(payload["x"]), payload["y"], payload["meta"])
