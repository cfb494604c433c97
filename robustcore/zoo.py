"""The model zoo: named recipes → verified checkpoints.

``load(name)`` returns a trained model in eval mode. It looks, in order, for

1. a checkpoint in the cache (``$ROBUSTCORE_CACHE`` or ``~/.cache/robustcore/checkpoints``),
   verified against the ``.sha256`` written with it;
2. a checkpoint shipped with the package (``robustcore/weights/``), verified against
   ``weights/manifest.json``;
3. neither: it trains the model with the recipe and saves it atomically in the cache.

Every checkpoint stores the recipe it was trained with; a checkpoint whose recipe
differs from the current one is never used silently. All loads go through
``torch.load(weights_only=True)`` after the sha256 check.

Command line::

    python -m robustcore.zoo list
    python -m robustcore.zoo build mnist-cnn-std [--profile quick|full] [--force]
    python -m robustcore.zoo build --all
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from . import _checks, data, io, models, profiles, train
from .utils import default_device, env_dir

ENV_VAR = "ROBUSTCORE_CACHE"
WEIGHTS_DIR = Path(__file__).parent / "weights"
MANIFEST = WEIGHTS_DIR / "manifest.json"
# Modules that register further zoo entries when imported (chapters' own models).
_PROVIDERS: tuple[str, ...] = ("robustcore.novelty",)


@dataclass(frozen=True)
class Entry:
    """A zoo entry: how to make the untrained model and how to fit it, per profile recipe."""

    name: str
    recipes: dict[str, dict[str, Any]]  # profile name -> JSON-able settings
    make: Callable[[dict[str, Any]], torch.nn.Module]
    fit: Callable[[torch.nn.Module, dict[str, Any], bool], dict[str, Any]]  # -> metrics
    description: str = ""


_REGISTRY: dict[str, Entry] = {}


def register(entry: Entry) -> Entry:
    """Add an entry (its recipes must cover every profile)."""
    missing = set(profiles.NAMES) - set(entry.recipes)
    if missing:
        raise ValueError(f"entry {entry.name!r} has no recipe for profile(s) {sorted(missing)}")
    _REGISTRY[entry.name] = entry
    return entry


def _load_providers() -> None:
    for mod in _PROVIDERS:
        importlib.import_module(mod)


def names() -> list[str]:
    """All registered model names."""
    _load_providers()
    return sorted(_REGISTRY)


def entry(name: str) -> Entry:
    """The registered entry for ``name``; ``ValueError`` naming the known ones otherwise."""
    _load_providers()
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"unknown model name {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def recipe(name: str, profile: str | None = None) -> dict[str, Any]:
    """The recipe of ``name`` in ``profile`` (default: the current profile)."""
    profile = _profile_name(profile)
    return dict(entry(name).recipes[profile])


def _profile_name(profile: str | None) -> str:
    return profiles.default_name() if profile is None else _checks.choice(profile, "profile", profiles.NAMES)


def cache_dir() -> Path:
    """``$ROBUSTCORE_CACHE`` or ``~/.cache/robustcore/checkpoints``."""
    return env_dir(ENV_VAR, "checkpoints")


def filename(name: str, profile: str) -> str:
    return f"{name}-{profile}.pt"


def _manifest() -> dict[str, str]:
    return json.loads(MANIFEST.read_text()) if MANIFEST.is_file() else {}


def _from_checkpoint(name: str, profile: str, ckpt: Any, where: Path) -> torch.nn.Module | None:
    """Build the model from a loaded checkpoint, or None if its recipe is not the current one."""
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt or "meta" not in ckpt:
        raise io.ChecksumError(f"{where} is not a robustcore checkpoint (no state_dict/meta)")
    want = recipe(name, profile)
    if ckpt["meta"].get("recipe") != want:
        warnings.warn(f"{where} was trained with another recipe than {name}/{profile}'s current one; "
                      "ignoring it", stacklevel=3)
        return None
    model = entry(name).make(want)
    model.load_state_dict(ckpt["state_dict"])
    model.meta = ckpt["meta"]  # type: ignore[attr-defined]
    return model.eval()


def build(name: str, profile: str | None = None, progress: bool = True) -> torch.nn.Module:
    """Train ``name`` with its recipe, save it atomically in the cache, return it (eval mode)."""
    profile = _profile_name(profile)
    e, rec = entry(name), recipe(name, profile)
    model = e.make(rec).to(default_device())
    t0 = time.perf_counter()
    metrics = e.fit(model, rec, progress)
    meta = {"name": name, "profile": profile, "recipe": rec, "metrics": metrics,
            "train_seconds": round(time.perf_counter() - t0, 1), "torch": str(torch.__version__)}
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    io.atomic_save({"state_dict": state, "meta": meta}, cache_dir() / filename(name, profile))
    model.meta = meta  # type: ignore[attr-defined]
    return model.eval()


def load(name: str, profile: str | None = None, train_if_missing: bool = True,
         progress: bool = True, device: str | torch.device | None = None) -> torch.nn.Module:
    """A trained model in eval mode on ``device`` (default: the GPU if there is one, else the CPU):
    cached, else shipped, else trained now (see module doc).

    The checkpoint's metadata (recipe, test metrics, training time) is in ``model.meta``.
    Raises :class:`robustcore.io.ChecksumError` for a corrupted or tampered file.
    """
    if not isinstance(train_if_missing, bool):
        raise TypeError(f"train_if_missing must be True or False, got {train_if_missing!r}")
    try:
        device = torch.device(device) if device is not None else default_device()
    except (RuntimeError, TypeError):
        raise ValueError(f"device must name a torch device such as 'cpu' or 'cuda', got {device!r}") from None
    return _load(name, profile, train_if_missing, progress).to(device)


def _load(name: str, profile: str | None, train_if_missing: bool, progress: bool) -> torch.nn.Module:
    profile = _profile_name(profile)
    entry(name)
    fname = filename(name, profile)
    cached = cache_dir() / fname
    if cached.is_file():
        model = _from_checkpoint(name, profile, io.load_verified(cached), cached)
        if model is not None:
            return model
    shipped = WEIGHTS_DIR / fname
    if shipped.is_file():
        digest = _manifest().get(fname)
        if digest is None:
            raise io.ChecksumError(f"{shipped} is not listed in {MANIFEST.name}; refusing to load it")
        model = _from_checkpoint(name, profile, io.load_verified(shipped, digest), shipped)
        if model is not None:
            return model
    if not train_if_missing:
        raise FileNotFoundError(f"no checkpoint for {name!r} ({profile} profile) in {cache_dir()} "
                                f"or {WEIGHTS_DIR}; run: python -m robustcore.zoo build {name} --profile {profile}")
    return build(name, profile, progress)


def ship(name: str, profile: str) -> str:
    """Copy the cached checkpoint into ``robustcore/weights`` and record its sha256 (maintainers)."""
    src = cache_dir() / filename(name, profile)
    ckpt = io.load_verified(src)
    digest = io.atomic_save(ckpt, WEIGHTS_DIR / src.name)
    (WEIGHTS_DIR / (src.name + ".sha256")).unlink()  # the manifest is the record for shipped files
    manifest = _manifest()
    manifest[src.name] = digest
    io.atomic_write_json(manifest, MANIFEST)
    return digest


# --------------------------------------------------------------------------------------------
# The MNIST classifiers


def _make_classifier(rec: dict[str, Any]) -> torch.nn.Module:
    channels, side = data.SHAPES[rec.get("dataset", "mnist")]
    return models.build(rec["arch"], in_channels=channels, image_size=side,
                        num_classes=len(rec.get("classes") or range(10)))


def task_data(rec: dict[str, Any], train_split: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """The data a classifier recipe is trained (``train_split=True``) or tested on: its dataset
    (MNIST unless it names another), or the sub-task on ``rec["classes"]`` (relabelled 0..k-1)."""
    x, y = data.dataset(rec.get("dataset", "mnist"), train=train_split)
    return data.select_classes(x, y, rec["classes"]) if rec.get("classes") else (x, y)


def _fit_classifier(model: torch.nn.Module, rec: dict[str, Any], progress: bool) -> dict[str, Any]:
    x, y = task_data(rec, True)
    x, y = data.subset(x, y, rec.get("n_train"), seed=rec["seed"])
    if rec.get("augment") == "groups":  # each training digit in one of the five perturbation groups
        x, y, _ = data.perturbation_groups(x, y, seed=rec["seed"] + 1000)
    train.train(model, x, y, epochs=rec["epochs"], batch_size=rec["batch_size"], lr=rec["lr"],
                attack=rec.get("attack"), eps_warmup_epochs=rec.get("eps_warmup_epochs", 0.0),
                seed=rec["seed"], progress=progress, desc=rec["arch"])
    xt, yt = task_data(rec, False)
    return {"test_acc": train.evaluate(model, xt, yt)}


def _classifier(name: str, arch: str, quick: dict, full: dict, description: str) -> None:
    base = {"arch": arch, "batch_size": 128, "lr": 1e-3, "seed": 0, "n_train": None}
    register(Entry(name, {"quick": {**base, **quick}, "full": {**base, **full}},
                   _make_classifier, _fit_classifier, description))


_PGD_TRAIN_QUICK = {"name": "pgd", "eps": 0.3, "steps": 5, "alpha": 0.1}
# Madry et al. trained with PGD-40 (step 0.01); we train with 10 steps of 0.05, a quarter of the
# cost, so that the full recipe also fits a patient CPU (about half an hour on two cores).
_PGD_TRAIN_FULL = {"name": "pgd", "eps": 0.3, "steps": 10, "alpha": 0.05}

_classifier("mnist-mlp-std", "mlp", {"epochs": 8}, {"epochs": 20}, "MLP 784-256-256-10, standard training")
_classifier("mnist-cnn-std", "cnn", {"epochs": 6, "lr": 2e-3}, {"epochs": 15, "lr": 2e-3},
            "SmallCNN, standard training")
_classifier("mnist-resnet-std", "resnet", {"epochs": 4}, {"epochs": 15}, "SmallResNet, standard training")
# The same recipe with another seed: an independently trained ResNet beside Chapter 4's filter model.
_classifier("mnist-resnet-std-seed1", "resnet", {"epochs": 4, "seed": 1}, {"epochs": 15, "seed": 1},
            "SmallResNet, standard training, seed 1 (independent of mnist-resnet-std)")
_classifier("mnist-cnn-pgd-linf", "cnn",
            {"epochs": 8, "attack": _PGD_TRAIN_QUICK, "eps_warmup_epochs": 1.0},
            {"epochs": 20, "attack": _PGD_TRAIN_FULL, "eps_warmup_epochs": 2.0},
            "SmallCNN, PGD adversarial training at L∞ ε=0.3 (Madry et al.)")
_classifier("mnist-cnn-groups", "cnn", {"epochs": 6, "lr": 2e-3, "augment": "groups"},
            {"epochs": 15, "lr": 2e-3, "augment": "groups"},
            "SmallCNN, standard training on digits in the five perturbation groups")
# The binary task "3 vs 7" (label 0: a 3, label 1: a 7), for Chapter 2's binary vs 10-class study.
_classifier("mnist37-cnn-std", "cnn", {"epochs": 6, "lr": 2e-3, "classes": [3, 7]},
            {"epochs": 15, "lr": 2e-3, "classes": [3, 7]}, "SmallCNN on 3 vs 7, standard training")
_classifier("mnist37-cnn-pgd-linf", "cnn",
            {"epochs": 8, "attack": _PGD_TRAIN_QUICK, "eps_warmup_epochs": 1.0, "classes": [3, 7]},
            {"epochs": 20, "attack": _PGD_TRAIN_FULL, "eps_warmup_epochs": 2.0, "classes": [3, 7]},
            "SmallCNN on 3 vs 7, PGD adversarial training at L∞ ε=0.3")

# CIFAR-10 (online readers; meant for a GPU): the source models of Chapter 2's CIFAR-10 datasets.
# Ilyas et al. use a ResNet-50 and, for D_R, one adversarially trained with L2 PGD at ε=0.5. Ours is
# the small ResNet at 32×32×3 without data augmentation, so its clean accuracy is lower.
_PGD_L2_CIFAR = {"name": "pgd", "eps": 0.5, "norm": "l2", "steps": 7, "alpha": 0.1}
_CIFAR = {"dataset": "cifar10", "batch_size": 128}
_classifier("cifar10-resnet-std", "resnet", {**_CIFAR, "epochs": 10, "n_train": 10_000},
            {**_CIFAR, "epochs": 30}, "SmallResNet on CIFAR-10, standard training")
_classifier("cifar10-resnet-pgd-l2", "resnet",
            {**_CIFAR, "epochs": 10, "n_train": 10_000, "attack": _PGD_L2_CIFAR, "eps_warmup_epochs": 1.0},
            {**_CIFAR, "epochs": 30, "attack": _PGD_L2_CIFAR, "eps_warmup_epochs": 2.0},
            "SmallResNet on CIFAR-10, PGD adversarial training at L2 ε=0.5 (as Ilyas et al.)")


# --------------------------------------------------------------------------------------------
# Command line


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m robustcore.zoo", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the models and where their checkpoints are")
    b = sub.add_parser("build", help="train (or retrain) models and save them in the cache")
    b.add_argument("names", nargs="*")
    b.add_argument("--all", action="store_true", help="every registered model")
    b.add_argument("--profile", choices=profiles.NAMES, default=None)
    b.add_argument("--ship", action="store_true", help="also copy into robustcore/weights (maintainers)")
    args = p.parse_args(argv)
    if args.cmd == "list":
        for n in names():
            for prof in profiles.NAMES:
                f = filename(n, prof)
                where = ("cache" if (cache_dir() / f).is_file() else
                         "shipped" if (WEIGHTS_DIR / f).is_file() else "-")
                print(f"{n:28s} {prof:6s} {where:8s} {entry(n).description}")
        return 0
    todo = names() if args.all else args.names
    if not todo:
        p.error("name one or more models, or pass --all")
    for n in todo:  # fail early, as a usage error, on an unknown name
        try:
            entry(n)
        except ValueError as e:
            p.error(str(e))
    for n in todo:
        m = build(n, args.profile)
        print(f"{n} ({m.meta['profile']}): {m.meta['metrics']} in {m.meta['train_seconds']} s")
        if args.ship:
            print(f"  shipped, sha256 {ship(n, m.meta['profile'])}")
    return 0


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy: modules such as robustcore.novelty
    # register their entries in `robustcore.zoo`'s registry, which this copy does not share.
    from robustcore import zoo as _zoo

    sys.exit(_zoo.main())
