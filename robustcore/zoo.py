"""The model zoo: named recipes → trained models, through the artifact store.

``load(name)`` returns a trained classifier in eval mode: its checkpoint comes from the
cache, the shipped artifacts, a download, or a training run with its recipe
(:mod:`robustcore.store`). Every checkpoint stores the recipe it was trained with, and
one trained with another recipe is never used silently. The names and their recipes are
in :mod:`robustcore.zoo_recipes`. :func:`model_artifact` turns any
``make`` / ``fit`` pair into such an artifact; the novelty detectors of
:mod:`robustcore.novelty` use it too.

Command line: ``python -m robustcore artifacts list | build NAME ... | build --all``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from . import data, models, store, train, zoo_recipes
from .utils import default_device


@dataclass(frozen=True, kw_only=True)
class ModelArtifact(store.Artifact):
    """An artifact whose payload is a model's ``state_dict``; ``make(recipe)`` builds
    the model."""

    make: Callable[[dict[str, Any]], torch.nn.Module]


def model_artifact(
    name: str,
    recipes: dict[str, dict[str, Any]],
    make: Callable[[dict[str, Any]], torch.nn.Module],
    fit: Callable[[torch.nn.Module, dict[str, Any], bool], dict[str, Any]],
    evaluate: Callable[[torch.nn.Module, dict[str, Any]], dict[str, Any]] | None = None,
    description: str = "",
    half: bool = False,
    estimate: Callable[[dict[str, Any]], float] | None = None,
) -> ModelArtifact:
    """A model artifact: ``make(recipe)`` → untrained model,
    ``fit(model, recipe, progress)`` trains it in place (→ training metrics),
    ``evaluate(model, recipe)`` → test metrics.

    ``estimate(recipe)``: seconds the build would take here (see
    :attr:`robustcore.store.Artifact.estimate`). ``half``: the weights are stored in
    float16 (half the size) and the test metrics are
    measured on the rounded weights, so a stored model is exactly the one that was
    evaluated.
    """

    def build(rec: dict[str, Any], progress: bool) -> dict[str, Any]:
        model = make(rec).to(default_device())
        t0 = time.perf_counter()
        metrics = dict(fit(model, rec, progress) or {})
        seconds = round(time.perf_counter() - t0, 1)
        if half:
            with torch.no_grad():
                for p in model.parameters():
                    p.copy_(p.half().float())
        if evaluate is not None:
            metrics = {**evaluate(model.eval(), rec), **metrics}
        state = {
            k: (
                v.detach().cpu().half()
                if half and v.is_floating_point()
                else v.detach().cpu()
            )
            for k, v in model.state_dict().items()
        }
        return {
            "state_dict": state,
            "meta": {
                "metrics": metrics,
                "train_seconds": seconds,
                "torch": str(torch.__version__),
            },
        }

    return ModelArtifact(
        name=name,
        recipes=recipes,
        build=build,
        description=description,
        make=make,
        estimate=estimate,
    )


def load_model(
    artifact: ModelArtifact,
    profile: str | None = None,
    train_if_missing: bool = True,
    progress: bool = True,
    device: str | torch.device | None = None,
) -> torch.nn.Module:
    """The trained model of ``artifact`` in eval mode on ``device`` (default: the GPU if
    there is one); its metadata (recipe, test metrics, training time) in
    ``model.meta``."""
    if not isinstance(train_if_missing, bool):
        raise TypeError(
            f"train_if_missing must be True or False, got {train_if_missing!r}"
        )
    try:
        device = torch.device(device) if device is not None else default_device()
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device must name a torch device such as 'cpu' or 'cuda', got {device!r}"
        ) from None
    payload = store.fetch(
        artifact, profile, build_if_missing=train_if_missing, progress=progress
    )
    model = artifact.make(payload["meta"]["recipe"])
    # float16 weights are cast to the model's float32
    model.load_state_dict(payload["state_dict"])
    model.meta = payload["meta"]  # type: ignore[attr-defined]
    return model.eval().to(device)


def load(
    name: str,
    profile: str | None = None,
    train_if_missing: bool = True,
    progress: bool = True,
    device: str | torch.device | None = None,
) -> torch.nn.Module:
    """A trained classifier ``name`` (a key of :data:`ARTIFACTS`) in eval mode on
    ``device``.

    Raises :class:`robustcore.io.ChecksumError` for a corrupted or tampered file.
    """
    return load_model(
        store.lookup(ARTIFACTS, name, "model name"),
        profile,
        train_if_missing,
        progress,
        device,
    )


def recipe(name: str, profile: str | None = None) -> dict[str, Any]:
    """The recipe of classifier ``name`` in ``profile`` (default: the current
    profile)."""
    return store.lookup(ARTIFACTS, name, "model name").recipe(profile)


def describe(name: str, profile: str | None = None) -> str:
    """Classifier ``name`` in ``profile`` in words — its architecture and training
    recipe — for a page to say how it differs from a published model."""
    rec = recipe(name, profile)
    arch = {
        "mlp": "an MLP 784-256-256-10",
        "mlp-small": "an MLP 784-50-50-10",
        "cnn": "a small CNN (2 strided 4×4 conv, 32 and 64 channels, + fc 128)",
        "resnet": "a small ResNet (3 residual stages)",
    }[rec["arch"]]
    attack, ibp = rec["attack"], rec.get("ibp")
    how = (
        f"PGD-{attack['steps']} adversarial training at L∞ ε={attack['eps']:g}"
        if attack
        else f"IBP training at L∞ ε={ibp['eps']:g}"
        if ibp
        else "standard training"
    )
    digits = "all" if rec["n_train"] is None else f"{rec['n_train']:,}"
    return f"{arch}, {how}, {rec['epochs']} epochs on {digits} training images"


# --------------------------------------------------------------------------------------
# The MNIST classifiers


def _make_classifier(rec: dict[str, Any]) -> torch.nn.Module:
    channels, side = data.SHAPES[rec.get("dataset", "mnist")]
    return models.build(
        rec["arch"],
        in_channels=channels,
        image_size=side,
        num_classes=len(rec.get("classes") or range(10)),
    )


def task_data(
    rec: dict[str, Any], train_split: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """The data a classifier recipe is trained (``train_split=True``) or tested on: its
    dataset (MNIST unless it names another), or the sub-task on ``rec["classes"]``
    (relabelled 0..k-1)."""
    x, y = data.dataset(rec.get("dataset", "mnist"), train=train_split)
    return data.select_classes(x, y, rec["classes"]) if rec.get("classes") else (x, y)


def _fit_classifier(
    model: torch.nn.Module, rec: dict[str, Any], progress: bool
) -> dict[str, Any]:
    x, y = task_data(rec, True)
    x, y = data.subset(x, y, rec.get("n_train"), seed=rec["seed"])
    if rec.get("augment") == "groups":
        # each training digit in one of the five perturbation groups
        x, y, _ = data.perturbation_groups(x, y, seed=rec["seed"] + 1000)
    train.train(
        model,
        x,
        y,
        ibp=rec.get("ibp"),  # only in the recipes of certified training
        epochs=rec["epochs"],
        batch_size=rec["batch_size"],
        lr=rec["lr"],
        optimizer=rec["optimizer"],
        schedule=rec["schedule"],
        weight_decay=rec["weight_decay"],
        attack=rec["attack"],
        eps_warmup_epochs=rec["eps_warmup_epochs"],
        seed=rec["seed"],
        progress=progress,
        desc=rec["arch"],
    )
    return {}


PROBE_BATCHES = 4  # batches timed to estimate a training run


def _estimate_classifier(rec: dict[str, Any]) -> float:
    """Seconds the recipe's training would take here: a few batches of it timed after
    one untimed (the attack included), scaled to its epochs and training set."""
    x, y = task_data(rec, True)
    n = min(rec.get("n_train") or len(x), len(x))
    bs = min(rec["batch_size"], n)
    model = _make_classifier(rec).to(default_device())
    seconds = []
    for batches in (1, PROBE_BATCHES):  # the first call pays one-off costs
        t0 = time.perf_counter()
        train.train(
            model,
            x[: batches * bs],
            y[: batches * bs],
            epochs=1,
            batch_size=bs,
            lr=rec["lr"],
            attack=rec.get("attack"),
            ibp=rec.get("ibp"),
            seed=rec["seed"],
            progress=False,
        )
        seconds.append((time.perf_counter() - t0) / batches)
    return seconds[-1] * -(-n // bs) * rec["epochs"]


def _test_classifier(model: torch.nn.Module, rec: dict[str, Any]) -> dict[str, Any]:
    xt, yt = task_data(rec, False)
    return {"test_acc": train.evaluate(model, xt, yt)}


# The named classifiers of :mod:`robustcore.zoo_recipes`, as artifacts.
ARTIFACTS: dict[str, ModelArtifact] = {
    name: model_artifact(
        name,
        recipes,
        _make_classifier,
        _fit_classifier,
        _test_classifier,
        zoo_recipes.DESCRIPTIONS[name],
        estimate=_estimate_classifier,
    )
    for name, recipes in zoo_recipes.RECIPES.items()
}
