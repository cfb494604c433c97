"""The library under misuse: every public function refuses bad input with a TypeError or ValueError
that names the argument, before anything is written to disk; interrupted writes leave nothing that
loads; corrupted and tampered files are refused.

Each bad call runs with the data, cache and results folders, ``$HOME`` and the working directory
pointed at an empty temporary folder, which must still be empty afterwards.
"""

from __future__ import annotations

import math
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch
from torch import nn

from robustcore import (checks, attacks, data, features, imagenet_a, io, metrics, models, novelty, plotting,
                        profiles, results, store, train, utils, widgets, zoo)

NAN = float("nan")
torch.manual_seed(0)
M = models.build("mlp").eval()          # untrained: bad-input checks come before any real work
X = torch.rand(4, 1, 28, 28)
Y = torch.tensor([0, 1, 2, 3])
CANDS = torch.zeros(4, 1, 3)
PGD = {"name": "pgd", "eps": 0.1, "steps": 2}


def _x(**kw):
    """X with one defect: ``nan``, ``range`` (values above 1), ``dtype`` (uint8), ``shape`` (3-D), ``empty``."""
    if "nan" in kw:
        x = X.clone()
        x[0, 0, 0, 0] = NAN
        return x
    if "range" in kw:
        return X * 2
    if "dtype" in kw:
        return (X * 255).to(torch.uint8)
    if "shape" in kw:
        return X[:, 0]
    if "empty" in kw:
        return X[:0]
    raise AssertionError(kw)


BAD_X = [("nan", ValueError, "NaN"), ("range", ValueError, r"\[0, 1\]"), ("dtype", TypeError, "floating"),
         ("shape", ValueError, r"\(N, C, H, W\)"), ("empty", ValueError, "empty")]

# (id, call, exception type, regex the message must match: it names the argument)
CASES: list[tuple[str, object, type, str]] = []


def cases(prefix: str, calls: dict[str, tuple[object, type, str]]) -> None:
    for k, (fn, exc, match) in calls.items():
        CASES.append((f"{prefix}.{k}", fn, exc, match))


# ---- images, the same way for every function that takes a batch
IMAGE_FUNCS = {
    "data.subset": lambda x: data.subset(x, Y[:len(x)], 2),
    "data.select_classes": lambda x: data.select_classes(x, Y[:len(x)], (0, 1)),
    "data.perturb": lambda x: data.perturb(x, 1),
    "data.perturbation_groups": lambda x: data.perturbation_groups(x, Y[:len(x)]),
    "attacks.fgsm": lambda x: attacks.fgsm(M, x, Y[:len(x)], 0.1),
    "attacks.pgd": lambda x: attacks.pgd(M, x, Y[:len(x)], 0.1, steps=1),
    "attacks.check": lambda x: attacks.check("pgd", M, x, Y[:len(x)], eps=0.1),
    "train.train": lambda x: train.train(M, x, Y[:len(x)], progress=False),
    "train.predict": lambda x: train.predict(M, x),
    "train.evaluate": lambda x: train.evaluate(M, x, Y[:len(x)]),
    "train.run_attack": lambda x: train.run_attack(M, x, Y[:len(x)], PGD),
    "features.invert": lambda x: features.invert(M, x, x, steps=1, progress=False),
    "features.starting_points": lambda x: features.starting_points(x),
    "features.robust_dataset": lambda x: features.robust_dataset(M, x, Y[:len(x)], steps=1, progress=False),
    "features.non_robust_dataset": lambda x: features.non_robust_dataset(M, x, Y[:len(x)], steps=1, progress=False),
    "features.relabelled_dataset": lambda x: features.relabelled_dataset(M, x, Y[:len(x)], steps=1, progress=False),
    "features.save": lambda x: features.save(features.Constructed(x, Y[:len(x)]), "ds.pt"),
    "attacks.one_pixel": lambda x: attacks.one_pixel(M, x, Y[:len(x)], popsize=4, generations=0, progress=False),
    "attacks.exhaustive_one_pixel": lambda x: attacks.exhaustive_one_pixel(M, x, Y[:len(x)]),
    "plotting.image_grid": lambda x: plotting.image_grid(x),
    "plotting.show_predictions": lambda x: plotting.show_predictions(x, Y[:len(x)]),
    "plotting.changed_pixels": lambda x: plotting.changed_pixels(x, x, Y[:len(x)], Y[:len(x)]),
    "widgets.eps_slider": lambda x: widgets.eps_slider({"m": M}, x, Y[:len(x)]),
    "widgets.one_pixel_explorer": lambda x: widgets.one_pixel_explorer({"m": M}, x, Y[:len(x)]),
}
for fname, fn in IMAGE_FUNCS.items():
    for defect, exc, match in BAD_X:
        CASES.append((f"{fname}[x:{defect}]", (lambda f=fn, d=defect: f(_x(**{d: True}))), exc, match))

# ---- labels, likewise
LABEL_FUNCS = {
    "data.subset": lambda y: data.subset(X, y, 2),
    "attacks.pgd": lambda y: attacks.pgd(M, X, y, 0.1, steps=1),
    "attacks.fgsm": lambda y: attacks.fgsm(M, X, y, 0.1),
    "attacks.check": lambda y: attacks.check("fgsm", M, X, y, eps=0.1),
    "train.train": lambda y: train.train(M, X, y, progress=False),
    "train.evaluate": lambda y: train.evaluate(M, X, y),
    "features.robust_dataset": lambda y: features.robust_dataset(M, X, y, steps=1, progress=False),
    "features.relabelled_dataset": lambda y: features.relabelled_dataset(M, X, y, steps=1, progress=False),
    "attacks.one_pixel": lambda y: attacks.one_pixel(M, X, y, popsize=4, generations=0, progress=False),
}
BAD_Y = [("float", Y.float(), TypeError, "integer tensor"), ("length", Y[:2], ValueError, r"shape \(4,\)"),
         ("negative", torch.tensor([0, -1, 2, 3]), ValueError, ">= 0"), ("list", [0, 1, 2, 3], TypeError, "Tensor")]
for fname, fn in LABEL_FUNCS.items():
    for defect, y, exc, match in BAD_Y:
        CASES.append((f"{fname}[y:{defect}]", (lambda f=fn, y=y: f(y)), exc, f"y must .*{match}"))

# ---- models that are not models
NOT_A_MODEL = {
    "attacks.pgd": lambda m: attacks.pgd(m, X, Y, 0.1),
    "attacks.fgsm": lambda m: attacks.fgsm(m, X, Y, 0.1),
    "attacks.check": lambda m: attacks.check("pgd", m, X, Y, eps=0.1),
    "train.train": lambda m: train.train(m, X, Y, progress=False),
    "train.predict": lambda m: train.predict(m, X),
    "train.evaluate": lambda m: train.evaluate(m, X, Y),
    "features.invert": lambda m: features.invert(m, X, X, progress=False),
    "features.relabelled_dataset": lambda m: features.relabelled_dataset(m, X, Y, progress=False),
    "attacks.one_pixel": lambda m: attacks.one_pixel(m, X, Y, progress=False),
    "attacks.exhaustive_one_pixel": lambda m: attacks.exhaustive_one_pixel(m, X, Y),
    "models.num_parameters": lambda m: models.num_parameters(m),
    "utils.model_device": lambda m: utils.model_device(m),
    "widgets.eps_slider": lambda m: widgets.eps_slider({"m": m}, X, Y),
}
for fname, fn in NOT_A_MODEL.items():
    CASES.append((f"{fname}[model:str]", (lambda f=fn: f("mnist-cnn-std")), TypeError, "model"))

cases("data", {
    "dataset:unknown": (lambda: data.dataset("imagenet"), ValueError, "dataset must be one of 'mnist', 'cifar10'"),
    "mnist:train-str": (lambda: data.mnist(train="yes"), TypeError, "train must be"),
    "mnist:root-int": (lambda: data.mnist(root=3), TypeError, "root must be"),
    "cifar10:root-empty": (lambda: data.cifar10(root=""), TypeError, "root must be"),
    "load_digits:size-small": (lambda: data.load_digits(size=4), ValueError, "size must be >= 8"),
    "load_digits:size-huge": (lambda: data.load_digits(size=10**6), ValueError, "size must be <= 512"),
    "load_digits:size-str": (lambda: data.load_digits(size="28"), TypeError, "size must be an int"),
    "subset:n-zero": (lambda: data.subset(X, Y, 0), ValueError, "n must be >= 1"),
    "subset:n-negative": (lambda: data.subset(X, Y, -3), ValueError, "n must be >= 1"),
    "subset:n-float": (lambda: data.subset(X, Y, 2.5), TypeError, "n must be an int"),
    "subset:seed-str": (lambda: data.subset(X, Y, 2, seed="0"), TypeError, "seed must be an int"),
    "subset:seed-negative": (lambda: data.subset(X, Y, 2, seed=-1), ValueError, "seed must be >= 0"),
    "select_classes:one": (lambda: data.select_classes(X, Y, (1,)), ValueError, "classes must be"),
    "select_classes:repeat": (lambda: data.select_classes(X, Y, (1, 1)), ValueError, "classes must not repeat"),
    "select_classes:str": (lambda: data.select_classes(X, Y, ("a", "b")), TypeError, r"classes\[i\]"),
    "select_classes:absent": (lambda: data.select_classes(X, Y, (8, 9)), ValueError, "none of the classes"),
    "perturb:group-unknown": (lambda: data.perturb(X, 7), ValueError, "group must be one of"),
    "perturb:too-small": (lambda: data.perturb(torch.rand(2, 1, 8, 8), 1), ValueError, "at least 16"),
    "perturb:seed-float": (lambda: data.perturb(X, 3, seed=0.5), TypeError, "seed must be an int"),
    "perturbation_groups:too-few": (lambda: data.perturbation_groups(X[:3], Y[:3]), ValueError, "at least 5"),
})
cases("models", {
    "build:unknown": (lambda: models.build("vgg"), ValueError, "arch must be one of"),
    "build:in_channels-zero": (lambda: models.build("mlp", in_channels=0), ValueError, "in_channels must be >= 1"),
    "build:in_channels-float": (lambda: models.build("cnn", in_channels=1.5), TypeError, "in_channels must be an int"),
    "build:num_classes-one": (lambda: models.build("cnn", num_classes=1), ValueError, "num_classes must be >= 2"),
    "build:image_size-small": (lambda: models.build("resnet", image_size=4), ValueError, "image_size must be >= 8"),
})
cases("attacks", {
    "make:unknown": (lambda: attacks.make("cw", eps=0.3), ValueError, "attack name must be one of"),
    "make:unknown-setting": (lambda: attacks.make("pgd", eps=0.3, stpes=10), TypeError, "stpes"),
    "pgd:eps-negative": (lambda: attacks.pgd(M, X, Y, -0.1), ValueError, "eps must be in"),
    "pgd:eps-nan": (lambda: attacks.pgd(M, X, Y, NAN), ValueError, "eps must be in"),
    "pgd:eps-inf": (lambda: attacks.pgd(M, X, Y, math.inf), ValueError, "eps must be in"),
    "pgd:eps-absurd-linf": (lambda: attacks.pgd(M, X, Y, 2.0), ValueError, r"eps must be in \[0, 1\]"),
    "pgd:eps-absurd-l2": (lambda: attacks.pgd(M, X, Y, 1e6, norm="l2"), ValueError, "eps must be in"),
    "pgd:eps-str": (lambda: attacks.pgd(M, X, Y, "0.3"), TypeError, "eps must be a real number"),
    "pgd:eps-tensor": (lambda: attacks.pgd(M, X, Y, torch.tensor(0.3)), TypeError, "eps must be a real number"),
    "pgd:norm-unknown": (lambda: attacks.pgd(M, X, Y, 0.1, norm="l1"), ValueError, "norm must be one of"),
    "pgd:steps-zero": (lambda: attacks.pgd(M, X, Y, 0.1, steps=0), ValueError, "steps must be >= 1"),
    "pgd:steps-absurd": (lambda: attacks.pgd(M, X, Y, 0.1, steps=10**9), ValueError, "steps must be <= "),
    "pgd:steps-float": (lambda: attacks.pgd(M, X, Y, 0.1, steps=10.0), TypeError, "steps must be an int"),
    "pgd:restarts-zero": (lambda: attacks.pgd(M, X, Y, 0.1, restarts=0), ValueError, "restarts must be >= 1"),
    "pgd:restarts-absurd": (lambda: attacks.pgd(M, X, Y, 0.1, restarts=10**7), ValueError, "restarts must be <="),
    "pgd:alpha-negative": (lambda: attacks.pgd(M, X, Y, 0.1, alpha=-0.01), ValueError, "alpha must be in"),
    "pgd:alpha-nan": (lambda: attacks.pgd(M, X, Y, 0.1, alpha=NAN), ValueError, "alpha must be in"),
    "fgsm:eps-negative": (lambda: attacks.fgsm(M, X, Y, -1.0), ValueError, "eps must be in"),
    "fgsm:alpha-nan": (lambda: attacks.fgsm(M, X, Y, 0.1, alpha=NAN), ValueError, "alpha must be in"),
    "fgsm:setting-unknown": (lambda: attacks.fgsm(M, X, Y, 0.1, steps=3), TypeError, "steps"),
    "check:unknown": (lambda: attacks.check("cw", M, X, Y, eps=0.3), ValueError, "attack name must be one of"),
    "check:unknown-setting": (lambda: attacks.check("pgd", M, X, Y, eps=0.3, stpes=10), TypeError, "stpes"),
    "check:eps-absurd": (lambda: attacks.check("pgd", M, X, Y, eps=2.0), ValueError, r"eps must be in \[0, 1\]"),
    "check:no-eps": (lambda: attacks.check("pgd", M, X, Y), TypeError, "eps"),
    "check:steps-zero": (lambda: attacks.check("pgd", M, X, Y, eps=0.1, steps=0), ValueError, "steps must be >= 1"),
    "check:fgsm-steps": (lambda: attacks.check("fgsm", M, X, Y, eps=0.1, steps=3), TypeError, "steps"),
    "eval_mode:model-str": (lambda: attacks.eval_mode("mnist-cnn-std").__enter__(), TypeError, "model must be"),
})
cases("train", {
    "train:epochs-zero": (lambda: train.train(M, X, Y, epochs=0, progress=False), ValueError, "epochs must be >= 1"),
    "train:epochs-absurd": (lambda: train.train(M, X, Y, epochs=10**8, progress=False), ValueError, "epochs must be <="),
    "train:batch_size-zero": (lambda: train.train(M, X, Y, batch_size=0, progress=False), ValueError, "batch_size"),
    "train:lr-zero": (lambda: train.train(M, X, Y, lr=0.0, progress=False), ValueError, "lr must be in"),
    "train:lr-nan": (lambda: train.train(M, X, Y, lr=NAN, progress=False), ValueError, "lr must be in"),
    "train:lr-absurd": (lambda: train.train(M, X, Y, lr=1e6, progress=False), ValueError, "lr must be in"),
    "train:optimizer-unknown": (lambda: train.train(M, X, Y, optimizer="rmsprop", progress=False), ValueError,
                                "optimizer must be one of"),
    "train:schedule-unknown": (lambda: train.train(M, X, Y, schedule="step", progress=False), ValueError,
                               "schedule must be one of"),
    "train:weight_decay-negative": (lambda: train.train(M, X, Y, weight_decay=-1.0, progress=False), ValueError,
                                    "weight_decay must be in"),
    "train:warmup-beyond-epochs": (lambda: train.train(M, X, Y, epochs=1, eps_warmup_epochs=2.0, progress=False),
                                   ValueError, "eps_warmup_epochs must be in"),
    "train:attack-str": (lambda: train.train(M, X, Y, attack="pgd", progress=False), TypeError, "attack must be"),
    "train:attack-no-eps": (lambda: train.train(M, X, Y, attack={"name": "pgd"}, progress=False), TypeError,
                            "attack must be"),
    "train:attack-unknown": (lambda: train.train(M, X, Y, attack={"name": "cw", "eps": 0.3}, progress=False),
                             ValueError, r"attack\['name'\]"),
    "train:attack-eps-negative": (lambda: train.train(M, X, Y, attack={"name": "pgd", "eps": -0.3}, progress=False),
                                  ValueError, r"attack\['eps'\]"),
    "train:seed-str": (lambda: train.train(M, X, Y, seed="0", progress=False), TypeError, "seed must be an int"),
    "predict:batch_size-zero": (lambda: train.predict(M, X, batch_size=0), ValueError, "batch_size must be >= 1"),
    "evaluate:attack-str": (lambda: train.evaluate(M, X, Y, attack="pgd"), TypeError, "attack must be"),
    "evaluate:seed-negative": (lambda: train.evaluate(M, X, Y, PGD, seed=-2), ValueError, "seed must be >= 0"),
    "run_attack:eps_scale-negative": (lambda: train.run_attack(M, X, Y, PGD, eps_scale=-1.0), ValueError,
                                      "eps_scale must be in"),
    "run_attack:spec-none": (lambda: train.run_attack(M, X, Y, None), TypeError, "attack spec must be a dict"),
    "run_attack:steps-zero": (lambda: train.run_attack(M, X, Y, {**PGD, "steps": 0}), ValueError, "steps must be >= 1"),
    "evaluate:attack-steps-zero": (lambda: train.evaluate(M, X, Y, {**PGD, "steps": 0}), ValueError,
                                   "steps must be >= 1"),
    "train:attack-setting-unknown": (lambda: train.train(M, X, Y, attack={**PGD, "stpes": 3}, progress=False),
                                     TypeError, "stpes"),
    "accuracy_vs_eps:empty": (lambda: train.accuracy_vs_eps(M, X, Y, [], PGD), ValueError, "eps_values"),
    "accuracy_vs_eps:str": (lambda: train.accuracy_vs_eps(M, X, Y, "0.1", PGD), ValueError, "eps_values"),
    "accuracy_vs_eps:negative": (lambda: train.accuracy_vs_eps(M, X, Y, [-0.1], PGD, progress=False), ValueError,
                                 r"attack\['eps'\]"),
    "accuracy_vs_eps:attack-str": (lambda: train.accuracy_vs_eps(M, X, Y, [0.1], "pgd"), TypeError, "attack must be"),
})
cases("features", {
    "invert:steps-zero": (lambda: features.invert(M, X, X, steps=0), ValueError, "steps must be >= 1"),
    "invert:steps-absurd": (lambda: features.invert(M, X, X, steps=10**9), ValueError, "steps must be <="),
    "invert:step_size-zero": (lambda: features.invert(M, X, X, step_size=0.0), ValueError, "step_size must be in"),
    "invert:step_size-nan": (lambda: features.invert(M, X, X, step_size=NAN), ValueError, "step_size must be in"),
    "invert:start-shape": (lambda: features.invert(M, X, X[:2]), ValueError, "start must have the shape"),
    "invert:no-features": (lambda: features.invert(nn.Flatten(), X, X), TypeError, "features"),
    "invert:batch_size-zero": (lambda: features.invert(M, X, X, batch_size=0), ValueError, "batch_size"),
    "starting_points:init-unknown": (lambda: features.starting_points(X, "zeros"), ValueError, "init must be one of"),
    "starting_points:one-image": (lambda: features.starting_points(X[:1]), ValueError, "at least 2"),
    "starting_points:seed-str": (lambda: features.starting_points(X, seed="1"), TypeError, "seed must be an int"),
    "robust_dataset:steps-negative": (lambda: features.robust_dataset(M, X, Y, steps=-1, progress=False),
                                      ValueError, "steps must be >= 1"),
    "relabelled_dataset:mode": (lambda: features.relabelled_dataset(M, X, Y, mode="x"), ValueError,
                                "mode must be one of"),
    "relabelled_dataset:eps-negative": (lambda: features.relabelled_dataset(M, X, Y, eps=-3.0, progress=False),
                                        ValueError, "eps must be in"),
    "relabelled_dataset:num_classes-one": (lambda: features.relabelled_dataset(M, X, Y, num_classes=1),
                                           ValueError, "num_classes must be >= 2"),
    "relabelled_dataset:labels-beyond": (lambda: features.relabelled_dataset(M, X, Y, num_classes=3),
                                         ValueError, r"y must hold class indices in \[0, 2\]"),
    "save:not-a-dataset": (lambda: features.save({"x": X, "y": Y}, "ds.pt"), TypeError, "ds must be"),
    "save:path-int": (lambda: features.save(features.Constructed(X, Y), 5), TypeError, "path must be"),
    "load:path-none": (lambda: features.load(None), TypeError, "path must be"),
    "recipe:unknown": (lambda: features.recipe("mnist-d_x"), ValueError, "unknown constructed dataset"),
    "recipe:profile": (lambda: features.recipe("mnist-d_r", "medium"), ValueError, "profile must be one of"),
    "load_constructed:unknown": (lambda: features.load_constructed("cifar100-d_r"), ValueError,
                                 "unknown constructed dataset"),
    "load_constructed:profile": (lambda: features.load_constructed("mnist-d_r", "medium"), ValueError,
                                 "profile must be one of"),
    "build:not-a-recipe": (lambda: features.build("mnist-d_r"), TypeError, "rec must be a recipe"),
    "build:incomplete": (lambda: features.build({"kind": "D_R"}), ValueError, "rec is not a"),
    "build:unknown-source": (lambda: features.build({**features.recipe("mnist-d_r", "quick"), "source": "nope"}),
                             ValueError, "unknown model name"),
    "source_data:not-a-recipe": (lambda: features.source_data(None), TypeError, "rec must be a recipe"),
})
cases("attacks", {  # the one-pixel attack
    "one_pixel:pixels-zero": (lambda: attacks.one_pixel(M, X, Y, pixels=0), ValueError, "pixels must be >= 1"),
    "one_pixel:pixels-absurd": (lambda: attacks.one_pixel(M, X, Y, pixels=10**6), ValueError, "pixels must be <="),
    "one_pixel:popsize-small": (lambda: attacks.one_pixel(M, X, Y, popsize=3), ValueError, "popsize must be >= 4"),
    "one_pixel:popsize-absurd": (lambda: attacks.one_pixel(M, X, Y, popsize=10**9), ValueError, "popsize must be <="),
    "one_pixel:generations-negative": (lambda: attacks.one_pixel(M, X, Y, generations=-1), ValueError,
                                       "generations must be >= 0"),
    "one_pixel:generations-absurd": (lambda: attacks.one_pixel(M, X, Y, generations=10**9), ValueError,
                                     "generations must be <="),
    "one_pixel:F-zero": (lambda: attacks.one_pixel(M, X, Y, F=0.0), ValueError, "F must be in"),
    "one_pixel:F-nan": (lambda: attacks.one_pixel(M, X, Y, F=NAN), ValueError, "F must be in"),
    "one_pixel:strategy": (lambda: attacks.one_pixel(M, X, Y, strategy="best2"), ValueError, "strategy must be one of"),
    "one_pixel:bounds": (lambda: attacks.one_pixel(M, X, Y, bounds="wrap"), ValueError, "bounds must be one of"),
    "one_pixel:target-equals-y": (lambda: attacks.one_pixel(M, X, Y, target=Y), ValueError, "target must differ"),
    "one_pixel:target-shape": (lambda: attacks.one_pixel(M, X, Y, target=Y[:2]), ValueError, "target must have"),
    "one_pixel:batch_size-zero": (lambda: attacks.one_pixel(M, X, Y, batch_size=0), ValueError, "batch_size must be"),
    "one_pixel:seed-float": (lambda: attacks.one_pixel(M, X, Y, seed=1.5), TypeError, "seed must be an int"),
    "exhaustive_one_pixel:values-range": (lambda: attacks.exhaustive_one_pixel(M, X, Y, (2.0,)), ValueError,
                                          "values"),
    "exhaustive_one_pixel:values-empty": (lambda: attacks.exhaustive_one_pixel(M, X, Y, ()), ValueError,
                                          "values must be"),
    "exhaustive_one_pixel:values-str": (lambda: attacks.exhaustive_one_pixel(M, X, Y, "white"), TypeError,
                                        "values must be"),
    "exhaustive_one_pixel:values-nan": (lambda: attacks.exhaustive_one_pixel(M, X, Y, (NAN,)), ValueError, "values"),
    "exhaustive_one_pixel:batch_size": (lambda: attacks.exhaustive_one_pixel(M, X, Y, batch_size=0), ValueError,
                                        "batch_size"),
    "apply_pixels:shape": (lambda: attacks.apply_pixels(X, CANDS[:2]), ValueError, "candidates must have shape"),
    "apply_pixels:x-list": (lambda: attacks.apply_pixels([X], CANDS), ValueError, "x must be"),
    "apply_pixels:candidates-list": (lambda: attacks.apply_pixels(X, [0, 0, 0]), TypeError, "candidates must be"),
    "decode:shape": (lambda: attacks.decode(torch.zeros(3), 28, 28), ValueError, "candidates must be"),
    "decode:height": (lambda: attacks.decode(CANDS, 0, 28), ValueError, "height must be >= 1"),
    "success_by_generation:negative": (
        lambda: attacks.OnePixelResult(X, Y > 0, Y, Y, Y, CANDS).success_by_generation(-1), ValueError,
        "generations must be >= 0"),
})
cases("zoo", {
    "load:unknown": (lambda: zoo.load("mnist-vgg"), ValueError, "unknown model name"),
    "load:name-int": (lambda: zoo.load(3), ValueError, "unknown model name"),
    "load:profile": (lambda: zoo.load("mnist-cnn-std", profile="medium"), ValueError, "profile must be one of"),
    "load:device": (lambda: zoo.load("mnist-cnn-std", device="tpu"), ValueError, "device must name"),
    "load:train_if_missing": (lambda: zoo.load("mnist-cnn-std", train_if_missing="no"), TypeError,
                              "train_if_missing must be"),
    "recipe:unknown": (lambda: zoo.recipe("nope"), ValueError, "unknown model name"),
    "model_artifact:profiles": (lambda: zoo.model_artifact("x", {"quick": {}}, None, None), ValueError,
                                "no recipe for profile"),
    "load_model:profile": (lambda: zoo.load_model(zoo.ARTIFACTS["mnist-cnn-std"], "medium"), ValueError,
                           "profile must be one of"),
    "task_data:dataset": (lambda: zoo.task_data({"dataset": "svhn"}), ValueError, "dataset must be one of"),
})
cases("results", {
    "book_chapters:toc-int": (lambda: results.book_chapters(3), TypeError, "toc must be"),
    "book_chapters:missing": (lambda: results.book_chapters("nowhere/_toc.yml"), FileNotFoundError,
                              "no table of contents"),
})
cases("store", {
    "lookup:unknown": (lambda: store.lookup(zoo.ARTIFACTS, "nope", "model name"), ValueError,
                       "unknown model name 'nope'"),
    "lookup:int": (lambda: store.lookup(zoo.ARTIFACTS, 3), ValueError, "unknown name 3"),
    "fetch:profile": (lambda: store.fetch(zoo.ARTIFACTS["mnist-cnn-std"], "medium"), ValueError,
                      "profile must be one of"),
    "build:profile": (lambda: store.build(zoo.ARTIFACTS["mnist-cnn-std"], "medium"), ValueError,
                      "profile must be one of"),
    "ship:profile": (lambda: store.ship(zoo.ARTIFACTS["mnist-cnn-std"], "medium"), ValueError,
                     "profile must be one of"),
    "Artifact:profiles": (lambda: store.Artifact("x", {"full": {}}, None), ValueError, "no recipe for profile"),
})
cases("io", {
    "download:path-int": (lambda: io.download("http://127.0.0.1:9/x", 3, "0" * 64), TypeError, "path must be"),
    "download:path-empty": (lambda: io.download("http://127.0.0.1:9/x", "", "0" * 64), TypeError,
                            "path must be"),
    "atomic_save:path-int": (lambda: io.atomic_save({}, 3), TypeError, "path must be"),
    "atomic_save:path-empty": (lambda: io.atomic_save({}, ""), TypeError, "path must be"),
    "atomic_save:path-folder": (lambda: io.atomic_save({}, "."), ValueError, "path must name a file"),
    "atomic_write_json:not-json": (lambda: io.atomic_write_json({"x": X}, "r.json"), TypeError, "JSON serializable"),
    "atomic_write_json:path-none": (lambda: io.atomic_write_json({}, None), TypeError, "path must be"),
    "load_verified:digest-short": (lambda: io.load_verified("a.pt", "abc"), ValueError, "expected_sha256 must be"),
    "load_verified:digest-int": (lambda: io.load_verified("a.pt", 12), ValueError, "expected_sha256 must be"),
    "load_verified:path-list": (lambda: io.load_verified(["a.pt"]), TypeError, "path must be"),
    "load_verified:missing": (lambda: io.load_verified("missing.pt"), FileNotFoundError, "no file at"),
})
cases("plotting", {
    "image_grid:nrow": (lambda: plotting.image_grid(X, nrow=0), ValueError, "nrow must be >= 1"),
    "image_grid:padding": (lambda: plotting.image_grid(X, padding=-1), ValueError, "padding must be >= 0"),
    "show_predictions:pred-length": (lambda: plotting.show_predictions(X, Y[:2]), ValueError, "pred must be"),
    "show_predictions:y-length": (lambda: plotting.show_predictions(X, Y, Y[:3]), ValueError, "y must be"),
    "show_predictions:ncols": (lambda: plotting.show_predictions(X, Y, ncols=0), ValueError, "ncols must be"),
    "eps_curves:length": (lambda: plotting.eps_curves([0.0, 0.1], {"a": [1.0]}), ValueError, "curve 'a'"),
    "eps_curves:not-a-mapping": (lambda: plotting.eps_curves([0.0], [[1.0]]), TypeError, "curves must map"),
    "grouped_bars:length": (lambda: plotting.grouped_bars(["g1"], {"s": [0.1, 0.2]}), ValueError, "series 's'"),
    "grouped_bars:not-a-mapping": (lambda: plotting.grouped_bars(["g1"], [0.1]), TypeError, "series must map"),
    "changed_pixels:shape": (lambda: plotting.changed_pixels(X, X[:2], Y, Y), ValueError, "x_adv must have"),
    "pixel_map:3d": (lambda: plotting.pixel_map(X[0]), ValueError, "values must be a"),
    "pixel_map:background": (lambda: plotting.pixel_map(X[0, 0], background=X[0]), ValueError, "background must be"),
})
cases("widgets", {
    "attack_one:x-batch": (lambda: widgets.attack_one(M, X, 0, 0.1), ValueError, "x must be one image"),
    "attack_one:x-range": (lambda: widgets.attack_one(M, X[0] * 2, 0, 0.1), ValueError, r"\[0, 1\]"),
    "attack_one:y-str": (lambda: widgets.attack_one(M, X[0], "seven", 0.1), TypeError, "y must be"),
    "attack_one:y-negative": (lambda: widgets.attack_one(M, X[0], -1, 0.1), ValueError, "y must be"),
    "attack_one:eps-negative": (lambda: widgets.attack_one(M, X[0], 0, -0.1), ValueError, "eps must be"),
    "attack_one:attack": (lambda: widgets.attack_one(M, X[0], 0, 0.1, attack="cw"), ValueError, "attack must be"),
    "attack_one:fgsm-l2": (lambda: widgets.attack_one(M, X[0], 0, 0.1, attack="fgsm", norm="l2"), ValueError,
                           "norm must be 'linf'"),
    "one_pixel_one:pixels": (lambda: widgets.one_pixel_one(M, X[0], 0, pixels=0), ValueError, "pixels must be"),
    "one_pixel_one:target": (lambda: widgets.one_pixel_one(M, X[0], 0, target=0), ValueError, "target must differ"),
    "one_pixel_one:x-batch": (lambda: widgets.one_pixel_one(M, X, 0), ValueError, "x must be one image"),
    "eps_slider:no-models": (lambda: widgets.eps_slider({}, X, Y), ValueError, "models must map"),
    "one_pixel_explorer:not-a-model": (lambda: widgets.one_pixel_explorer({"m": "cnn"}, X, Y), TypeError,
                                       r"models\['m'\]"),
    "one_pixel_explorer:empty": (lambda: widgets.one_pixel_explorer({"m": M}, X[:0], Y[:0]), ValueError, "empty"),
})
cases("profiles", {
    "Profile:unknown": (lambda: profiles.Profile("medium"), ValueError, "profile must be one of"),
    "pick:positional": (lambda: profiles.Profile("quick").pick(1, 2), TypeError, "positional"),
})
cases("results", {
    "record:chapter-int": (lambda: results.record(4, "x", 1.0), TypeError, "chapter must be"),
    "record:chapter-path": (lambda: results.record("../04", "x", 1.0), ValueError, "chapter must be"),
    "record:name-empty": (lambda: results.record("04", "", 1.0), TypeError, "name must be"),
    "record:value-nan": (lambda: results.record("04", "x", NAN), ValueError, "value must be"),
    "record:value-str": (lambda: results.record("04", "x", "98%"), TypeError, "value must be"),
    "record:value-tensor": (lambda: results.record("04", "x", torch.ones(3)), ValueError, "value must be a single"),
    "record:reference-inf": (lambda: results.record("04", "x", 1.0, reference=math.inf), ValueError,
                             "reference must be"),
    "record:unit-int": (lambda: results.record("04", "x", 1.0, unit=1), TypeError, "unit must be"),
    "record:profile": (lambda: results.record("04", "x", 1.0, profile="medium"), ValueError, "profile must be one of"),
    "load:profile": (lambda: results.load("04", "medium"), ValueError, "profile must be one of"),
    "load:chapter-none": (lambda: results.load(None), TypeError, "chapter must be"),
    "load_all:profile": (lambda: results.load_all("paper"), ValueError, "profile must be one of"),
    "table:chapters": (lambda: results.table("quick", chapters=(4,)), TypeError, "chapter must be"),
    "compare:not-a-folder": (lambda: results.compare("nowhere", "."), ValueError, "dir_a must be"),
})
cases("utils", {
    "eval_mode:model-str": (lambda: utils.eval_mode("mnist-cnn-std").__enter__(), TypeError, "model must be"),
    "set_seed:str": (lambda: utils.set_seed("0"), TypeError, "seed must be an int"),
    "set_seed:negative": (lambda: utils.set_seed(-1), ValueError, "seed must be an int"),
    "batches:batch_size-zero": (lambda: list(utils.batches(10, 0)), ValueError, "batch_size must be >= 1"),
    "batches:n-negative": (lambda: list(utils.batches(-1, 2)), ValueError, "n must be >= 0"),
    "batches:n-float": (lambda: list(utils.batches(2.5, 2)), TypeError, "n must be an int"),
})
# ---- ImageNet-A: the 200-class mask, the data, the metrics, evaluation and the filter
CONF, CORRECT = torch.tensor([0.9, 0.6, 0.3, 0.8]), torch.tensor([True, False, True, True])
PROBS = torch.full((4, 10), 0.1)
PAIR = (X, Y)
IA_SOURCE_FUNCS = {  # (model, source) -> call
    "imagenet_a.predict_proba": lambda m, src: imagenet_a.predict_proba(m, src),
    "imagenet_a.evaluate": lambda m, src: imagenet_a.evaluate(m, src),
    "imagenet_a.natural_adversarial_filter": lambda m, src: imagenet_a.natural_adversarial_filter(m, src),
}
for fname, fn in IA_SOURCE_FUNCS.items():
    CASES.append((f"{fname}[x:nan]", (lambda f=fn: f(M, (_x(nan=True), Y))), ValueError,
                  "source holds images with NaN"))
    for defect, y, exc, match in BAD_Y[:3]:
        CASES.append((f"{fname}[y:{defect}]", (lambda f=fn, y=y: f(M, (X, y))), exc,
                      "labels must|differ in length"))
    CASES.append((f"{fname}[model:str]", (lambda f=fn: f("resnet50", PAIR)), TypeError, "model must be"))

cases("imagenet_a", {
    "mask_logits:list": (lambda: imagenet_a.mask_logits([[0.0] * 1000]), TypeError, "logits must be"),
    "mask_logits:int": (lambda: imagenet_a.mask_logits(torch.zeros(2, 1000, dtype=torch.long)), TypeError,
                        "logits must be a floating"),
    "mask_logits:200": (lambda: imagenet_a.mask_logits(torch.zeros(2, 200)), ValueError, r"logits must have shape"),
    "mask_logits:1d": (lambda: imagenet_a.mask_logits(torch.zeros(1000)), ValueError, r"logits must have shape"),
    "transform:normalize-str": (lambda: imagenet_a.transform("no"), TypeError, "normalize must be True or False"),
    "find:root-int": (lambda: imagenet_a.find(3), TypeError, "root must be"),
    "find:root-empty": (lambda: imagenet_a.find(""), TypeError, "root must be"),
    "check_layout:root-none": (lambda: imagenet_a.check_layout(None), TypeError, "root must be"),
    "check_layout:missing": (lambda: imagenet_a.check_layout("nowhere"), FileNotFoundError, "root .* not a folder"),
    "dataset:missing": (lambda: imagenet_a.dataset("nowhere"), data.DataNotFoundError, "not on disk"),
    "dataset:root-int": (lambda: imagenet_a.dataset(7), TypeError, "root must be"),
    "dataset:normalize-str": (lambda: imagenet_a.dataset("nowhere", normalize="yes"), TypeError,
                              "normalize must be"),
    "loader:batch_size-zero": (lambda: imagenet_a.loader("nowhere", batch_size=0), ValueError,
                               "batch_size must be >= 1"),
    "loader:batch_size-float": (lambda: imagenet_a.loader("nowhere", batch_size=8.0), TypeError,
                                "batch_size must be an int"),
    "loader:num_workers-negative": (lambda: imagenet_a.loader("nowhere", num_workers=-1), ValueError,
                                    "num_workers must be >= 0"),
    "loader:missing": (lambda: imagenet_a.loader("nowhere", num_workers=0), data.DataNotFoundError, "not on disk"),
    "download:root-int": (lambda: imagenet_a.download(5), TypeError, "root must be"),
    "download:offline": (lambda: imagenet_a.download("ia-root/sub"), data.DataNotFoundError,
                         "could not download ImageNet-A"),
    "download:offline-default-root": (lambda: imagenet_a.download(), data.DataNotFoundError,
                                      "could not download ImageNet-A"),
    "adaptive_bins:n-zero": (lambda: imagenet_a.adaptive_bins(0), ValueError, "n must be >= 1"),
    "adaptive_bins:n-float": (lambda: imagenet_a.adaptive_bins(10.0), TypeError, "n must be an int"),
    "adaptive_bins:beta-zero": (lambda: imagenet_a.adaptive_bins(10, 0), ValueError, "beta must be >= 1"),
    "adaptive_bins:beta-negative": (lambda: imagenet_a.adaptive_bins(10, -5), ValueError, "beta must be >= 1"),
    "calibration_error:nan": (lambda: imagenet_a.calibration_error(torch.tensor([NAN, 0.5]), [1, 0]), ValueError,
                              "confidence must hold finite"),
    "calibration_error:above-one": (lambda: imagenet_a.calibration_error([1.5, 0.5], [1, 0]), ValueError,
                                    r"confidence must hold finite probabilities in \[0, 1\]"),
    "calibration_error:negative": (lambda: imagenet_a.calibration_error([-0.1, 0.5], [1, 0]), ValueError,
                                   "confidence must hold"),
    "calibration_error:empty": (lambda: imagenet_a.calibration_error([], []), ValueError, "confidence is empty"),
    "calibration_error:str": (lambda: imagenet_a.calibration_error("high", [1]), TypeError, "confidence"),
    "calibration_error:objects": (lambda: imagenet_a.calibration_error([{"p": 0.5}], [1]), TypeError,
                                  "confidence must be"),
    "calibration_error:length": (lambda: imagenet_a.calibration_error(CONF, CORRECT[:2]), ValueError,
                                 "confidence and correct must be 1-D and of equal length"),
    "calibration_error:correct-2": (lambda: imagenet_a.calibration_error(CONF, [0, 1, 2, 1]), ValueError,
                                    "correct must hold booleans"),
    "calibration_error:correct-nan": (lambda: imagenet_a.calibration_error(CONF, [0, 1, NAN, 1]), ValueError,
                                      "correct must hold booleans"),
    "calibration_error:beta-zero": (lambda: imagenet_a.calibration_error(CONF, CORRECT, 0), ValueError,
                                    "beta must be >= 1"),
    "calibration_error:beta-float": (lambda: imagenet_a.calibration_error(CONF, CORRECT, 2.5), TypeError,
                                     "beta must be an int"),
    "rra_curve:2d": (lambda: imagenet_a.rra_curve(PROBS, CORRECT), ValueError, "confidence and correct must be 1-D"),
    "rra_curve:empty": (lambda: imagenet_a.rra_curve(CONF[:0], CORRECT[:0]), ValueError, "confidence is empty"),
    "aurra:correct-2": (lambda: imagenet_a.aurra(CONF, torch.tensor([2, 0, 1, 1])), ValueError, "correct must hold"),
    "aurra:inf": (lambda: imagenet_a.aurra([math.inf, 0.2], [1, 0]), ValueError, "confidence must hold finite"),
    "reliability_diagram:beta-zero": (lambda: imagenet_a.reliability_diagram(CONF, CORRECT, beta=0), ValueError,
                                      "beta must be >= 1"),
    "reliability_diagram:range": (lambda: imagenet_a.reliability_diagram(CONF * 3, CORRECT), ValueError,
                                  "confidence must hold"),
    "reliability_diagram:ax-str": (lambda: imagenet_a.reliability_diagram(CONF, CORRECT, ax="left"), TypeError,
                                   "ax must be a matplotlib Axes"),
    "reliability_diagram:title-int": (lambda: imagenet_a.reliability_diagram(CONF, CORRECT, title=3), TypeError,
                                      "title must be a str"),
    "predict_proba:batch_size-zero": (lambda: imagenet_a.predict_proba(M, PAIR, batch_size=0), ValueError,
                                      "batch_size must be >= 1"),
    "predict_proba:classes-negative": (lambda: imagenet_a.predict_proba(M, PAIR, classes=[-1, 2]), ValueError,
                                       "classes must be >= 0"),
    "predict_proba:classes-float": (lambda: imagenet_a.predict_proba(M, PAIR, classes=[0.5, 2.5]), TypeError,
                                    "classes must hold int"),
    "predict_proba:classes-str": (lambda: imagenet_a.predict_proba(M, PAIR, classes="0123"), TypeError,
                                  "classes must be a sequence"),
    "predict_proba:classes-int": (lambda: imagenet_a.predict_proba(M, PAIR, classes=5), TypeError,
                                  "classes must be a sequence"),
    "predict_proba:classes-empty": (lambda: imagenet_a.predict_proba(M, PAIR, classes=[]), ValueError,
                                    "classes must be a non-empty"),
    "predict_proba:classes-repeat": (lambda: imagenet_a.predict_proba(M, PAIR, classes=[1, 1]), ValueError,
                                     "distinct"),
    "predict_proba:classes-beyond": (lambda: imagenet_a.predict_proba(M, PAIR, classes=imagenet_a.indices()),
                                     ValueError, "classes holds index .* 10 logits"),
    "predict_proba:source-str": (lambda: imagenet_a.predict_proba(M, "imagenet-a"), TypeError, "data must be"),
    "predict_proba:source-int": (lambda: imagenet_a.predict_proba(M, 42), TypeError, "data must be"),
    "predict_proba:source-dict": (lambda: imagenet_a.predict_proba(M, {"x": X, "y": Y}), TypeError, "data must be"),
    "predict_proba:length": (lambda: imagenet_a.predict_proba(M, (X, Y[:2])), ValueError, "differ in length"),
    "predict_proba:empty": (lambda: imagenet_a.predict_proba(M, (X[:0], Y[:0])), ValueError, "empty"),
    "predict_proba:labels-beyond": (lambda: imagenet_a.predict_proba(M, (X, Y + 8)), ValueError,
                                    "only 10 class scores"),
    "result:list": (lambda: imagenet_a.result([[0.5, 0.5]], torch.tensor([0])), ValueError,
                    r"probabilities must be a tensor of shape \(N, classes\)"),
    "result:1d": (lambda: imagenet_a.result(CONF, Y), ValueError, "probabilities must be a tensor of shape"),
    "result:int": (lambda: imagenet_a.result(PROBS.long(), Y), TypeError, "probabilities must be a floating"),
    "result:nan": (lambda: imagenet_a.result(torch.full((4, 10), NAN), Y), ValueError,
                   r"probabilities must hold finite values in \[0, 1\]"),
    "result:range": (lambda: imagenet_a.result(PROBS * 20, Y), ValueError, "probabilities must hold finite"),
    "result:empty": (lambda: imagenet_a.result(PROBS[:0], Y[:0]), ValueError, "probabilities is empty"),
    "result:labels-length": (lambda: imagenet_a.result(PROBS, Y[:3]), ValueError, r"labels must have shape \(4,\)"),
    "result:labels-beyond": (lambda: imagenet_a.result(PROBS, Y + 7), ValueError,
                             r"labels must hold class indices in \[0, 9\]"),
    "result:labels-float": (lambda: imagenet_a.result(PROBS, Y.float()), TypeError, "labels must be an integer"),
    "result:beta-zero": (lambda: imagenet_a.result(PROBS, Y, beta=0), ValueError, "beta must be >= 1"),
    "evaluate:beta-zero": (lambda: imagenet_a.evaluate(M, PAIR, beta=0), ValueError, "beta must be >= 1"),
    "evaluate:batch_size-negative": (lambda: imagenet_a.evaluate(M, PAIR, batch_size=-1), ValueError,
                                     "batch_size must be >= 1"),
    "evaluate:source-none": (lambda: imagenet_a.evaluate(M, None), TypeError, "data must be"),
    "evaluate:classes-float": (lambda: imagenet_a.evaluate(M, PAIR, classes=[1.0, 2.0]), TypeError, "classes"),
    "natural_adversarial_filter:min_confidence-nan": (
        lambda: imagenet_a.natural_adversarial_filter(M, PAIR, min_confidence=NAN), ValueError,
        "min_confidence must be in"),
    "natural_adversarial_filter:min_confidence-above": (
        lambda: imagenet_a.natural_adversarial_filter(M, PAIR, min_confidence=1.5), ValueError,
        r"min_confidence must be in \[0, 1\]"),
    "natural_adversarial_filter:min_confidence-str": (
        lambda: imagenet_a.natural_adversarial_filter(M, PAIR, min_confidence="high"), TypeError,
        "min_confidence must be a real number"),
    "natural_adversarial_filter:source-triple": (
        lambda: imagenet_a.natural_adversarial_filter(M, (X, Y, Y)), TypeError, "source must be"),
    "natural_adversarial_filter:source-loader": (
        lambda: imagenet_a.natural_adversarial_filter(M, iter([PAIR])), TypeError, "source must be"),
    "natural_adversarial_filter:model-str": (
        lambda: imagenet_a.natural_adversarial_filter("resnet50", PAIR), TypeError, "model must be"),
    "natural_adversarial_filter:batch_size-zero": (
        lambda: imagenet_a.natural_adversarial_filter(M, PAIR, batch_size=0), ValueError, "batch_size must be"),
})

# ---- novelty detection: datasets, protocols, the autoencoder, scores, recipes
AE = novelty.AutoEncoder().eval()
X3 = torch.rand(4, 3, 32, 32)                      # COIL-100-shaped: not what AE takes
XS, YS = torch.rand(12, 1, 28, 28), torch.arange(12) % 3
SPLIT = novelty.protocol2(XS, YS, XS, YS, 0)
SCORES, ANOM = torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1])
REC = novelty.recipe("mnist", "p2", 1, "dae", epochs=1)
AE_FUNCS = {  # (model, images) -> call
    "novelty.latent_distance": lambda m, x: novelty.latent_distance(m, x, x),
    "novelty.latent_attack": lambda m, x: novelty.latent_attack(m, x, 0.1, steps=1),
    "novelty.arae_loss": lambda m, x: novelty.arae_loss(m, x, x),
    "novelty.dae_loss": lambda m, x: novelty.dae_loss(m, x),
    "novelty.fit": lambda m, x: novelty.fit(m, x, epochs=1, steps=1, progress_bar=False),
    "novelty.scores": lambda m, x: novelty.scores(m, x),
}
for fname, fn in {"novelty.protocol1": lambda x: novelty.protocol1(x, Y[:len(x)], 0),
                  "novelty.protocol2": lambda x: novelty.protocol2(x, Y[:len(x)], X, Y, 0),
                  **{k: (lambda x, f=f: f(AE, x)) for k, f in AE_FUNCS.items()}}.items():
    for defect, exc, match in BAD_X:
        CASES.append((f"{fname}[x:{defect}]", (lambda f=fn, d=defect: f(_x(**{d: True}))), exc, match))
for fname, fn in AE_FUNCS.items():
    CASES.append((f"{fname}[x:image-size]", (lambda f=fn: f(AE, X3)), ValueError,
                  r"x must hold images of shape \(1, 28, 28\)"))
    CASES.append((f"{fname}[model:str]", (lambda f=fn: f("arae", X)), TypeError, "model must be"))
    CASES.append((f"{fname}[model:not-an-autoencoder]", (lambda f=fn: f(M, X)), TypeError,
                  "model must be an autoencoder"))
for defect, y, exc, match in BAD_Y:
    match = r"hold class indices in \[0, 9\]" if defect == "negative" else match  # the dataset's classes
    CASES.append((f"novelty.protocol1[y:{defect}]", (lambda y=y: novelty.protocol1(X, y, 0)), exc, f"y must .*{match}"))
    CASES.append((f"novelty.protocol2[y_train:{defect}]", (lambda y=y: novelty.protocol2(X, y, X, Y, 0)), exc,
                  f"y_train must .*{match}"))
    CASES.append((f"novelty.protocol2[y_test:{defect}]", (lambda y=y: novelty.protocol2(X, Y, X, y, 0)), exc,
                  f"y_test must .*{match}"))
for metric, fn in {"auroc": metrics.auroc, "roc": metrics.roc, "best_threshold": metrics.best_threshold,
                   "f1_at": lambda s, lab: metrics.f1_at(s, lab, 0.5), "check_scores": metrics.check_scores}.items():
    cases(f"metrics.{metric}", {
        "nan": (lambda f=fn: f(torch.tensor([0.1, NAN, 0.3, 0.4]), ANOM), ValueError, "scores contain NaN"),
        "inf": (lambda f=fn: f([0.1, math.inf, 0.3, 0.4], ANOM), ValueError, "scores contain NaN or infinite"),
        "one-class": (lambda f=fn: f(SCORES, torch.zeros(4, dtype=torch.long)), ValueError, "both normal"),
        "labels-2": (lambda f=fn: f(SCORES, torch.tensor([0, 2, 1, 1])), ValueError, r"labels must be 0 \(normal\)"),
        "length": (lambda f=fn: f(SCORES, ANOM[:3]), ValueError, "scores and labels must be 1-D of equal length"),
        "2d": (lambda f=fn: f(PROBS, ANOM), ValueError, "scores and labels must be 1-D"),
        "empty": (lambda f=fn: f([], []), ValueError, "scores and labels are empty"),
        "str": (lambda f=fn: f("0.1 0.2", ANOM), TypeError, "scores and labels must be sequences of numbers"),
        "objects": (lambda f=fn: f([None, {}, 1, 2], ANOM), TypeError, "scores must be"),
    })

cases("data", {
    "fashion_mnist:train-str": (lambda: data.fashion_mnist(train="test"), TypeError, "train must be"),
    "fashion_mnist:root-int": (lambda: data.fashion_mnist(root=3), TypeError, "root must be"),
    "fashion_mnist:missing": (lambda: data.fashion_mnist(False, root="nowhere"), data.DataNotFoundError,
                              "FashionMNIST/raw"),
    "coil100:size-small": (lambda: data.coil100(size=4), ValueError, "size must be >= 8"),
    "coil100:size-huge": (lambda: data.coil100(size=4096), ValueError, "size must be <= 128"),
    "coil100:size-str": (lambda: data.coil100(size="32"), TypeError, "size must be an int"),
    "coil100:root-int": (lambda: data.coil100(root=3), TypeError, "root must be"),
    "coil100:root-empty": (lambda: data.coil100(root=""), TypeError, "root must be"),
    "coil100:missing": (lambda: data.coil100(root="nowhere/deeper"), data.DataNotFoundError,
                        "COIL-100 is not in"),
    "coil100:missing-default-root": (lambda: data.coil100(), data.DataNotFoundError, "COIL-100 is not in"),
})
cases("novelty", {
    "load_dataset:unknown": (lambda: novelty.load_dataset("cifar10"), ValueError, "dataset must be one of"),
    "load_dataset:none": (lambda: novelty.load_dataset(None), ValueError, "dataset must be one of"),
    "load_dataset:root-int": (lambda: novelty.load_dataset("mnist", root=1), TypeError, "root must be"),
    "load_dataset:missing": (lambda: novelty.load_dataset("fashion_mnist", root="nowhere"), data.DataNotFoundError,
                             "FashionMNIST"),
    "protocol1:dataset": (lambda: novelty.protocol1(X, Y, 0, dataset="svhn"), ValueError, "dataset must be one of"),
    "protocol1:class-out-of-range": (lambda: novelty.protocol1(X, Y, 10), ValueError,
                                     r"normal class must be <= 9"),
    "protocol1:class-negative": (lambda: novelty.protocol1(X, Y, -1), ValueError, "normal class must be >= 0"),
    "protocol1:normal-str": (lambda: novelty.protocol1(X, Y, "3"), TypeError, "normal must be a class index"),
    "protocol1:normal-float": (lambda: novelty.protocol1(X, Y, 3.0), TypeError, "normal must be"),
    "protocol1:normal-empty": (lambda: novelty.protocol1(X, Y, []), TypeError, "normal must be"),
    "protocol1:normal-repeat": (lambda: novelty.protocol1(X, Y, [1, 1]), ValueError, "normal must not repeat"),
    "protocol1:normal-all": (lambda: novelty.protocol1(X, Y, list(range(10))), ValueError,
                             "normal must leave at least one"),
    "protocol1:y-beyond-classes": (lambda: novelty.protocol1(X, Y + 7, 0), ValueError,
                                   r"y must hold class indices in \[0, 9\]"),
    "protocol1:fraction-zero": (lambda: novelty.protocol1(X, Y, 0, 0.0), ValueError,
                                r"anomaly_fraction must be in \(0, 1\)"),
    "protocol1:fraction-one": (lambda: novelty.protocol1(X, Y, 0, 1.0), ValueError, "anomaly_fraction must be in"),
    "protocol1:fraction-nan": (lambda: novelty.protocol1(X, Y, 0, NAN), ValueError, "anomaly_fraction must be in"),
    "protocol1:fraction-str": (lambda: novelty.protocol1(X, Y, 0, "0.5"), TypeError, "anomaly_fraction must be"),
    "protocol1:seed-negative": (lambda: novelty.protocol1(XS, YS, 0, seed=-1), ValueError, "seed must be >= 0"),
    "protocol1:seed-float": (lambda: novelty.protocol1(XS, YS, 0, seed=0.5), TypeError, "seed must be an int"),
    "protocol1:too-few-normal": (lambda: novelty.protocol1(X, Y, 0), ValueError, "at least 5 images"),
    "protocol2:x_test-nan": (lambda: novelty.protocol2(X, Y, _x(nan=True), Y, 0), ValueError, "x_test contains NaN"),
    "protocol2:x_test-shape": (lambda: novelty.protocol2(X, Y, X3, Y, 0), ValueError,
                               "x_test must hold images of the shape of x_train"),
    "protocol2:no-normal": (lambda: novelty.protocol2(X, Y, X, Y, 7), ValueError, "holds no image of the normal"),
    "protocol2:test-all-normal": (lambda: novelty.protocol2(X, Y, X, torch.zeros(4, dtype=torch.long), 0),
                                  ValueError, "both normal and anomalous"),
    "protocol2:dataset": (lambda: novelty.protocol2(X, Y, X, Y, 0, dataset="cifar10"), ValueError,
                          "dataset must be one of"),
    "protocol2:class-out-of-range": (lambda: novelty.protocol2(X, Y, X, Y, 12), ValueError, "normal class must be"),
    "prepare:dataset": (lambda: novelty.prepare("svhn", "p1", 0), ValueError, "dataset must be one of"),
    "prepare:protocol": (lambda: novelty.prepare("mnist", "p3", 0), ValueError, "protocol must be one of"),
    "prepare:class-out-of-range": (lambda: novelty.prepare("mnist", "p2", 10), ValueError,
                                   r"normal class must be <= 9"),
    "prepare:coil-class": (lambda: novelty.prepare("coil100", "p1", 100), ValueError, r"normal class must be <= 99"),
    "prepare:fraction-above": (lambda: novelty.prepare("mnist", "p1", 0, 1.5), ValueError,
                               r"anomaly_fraction must be in \(0, 1\)"),
    "prepare:fraction-negative": (lambda: novelty.prepare("mnist", "p1", 0, -0.5), ValueError,
                                  "anomaly_fraction must be in"),
    "prepare:fraction-p2": (lambda: novelty.prepare("mnist", "p2", 0, 0.5), ValueError,
                            "anomaly_fraction applies to protocol p1 only"),
    "prepare:coil-p2": (lambda: novelty.prepare("coil100", "p2", 0), ValueError, "use protocol p1"),
    "prepare:seed-str": (lambda: novelty.prepare("mnist", "p2", 0, seed="0"), TypeError, "seed must be an int"),
    "prepare:max_train-one": (lambda: novelty.prepare("mnist", "p2", 0, max_train=1), ValueError,
                              "max_train must be >= 2"),
    "prepare:max_test-negative": (lambda: novelty.prepare("mnist", "p2", 0, max_test=-5), ValueError,
                                  "max_test must be >= 2"),
    "prepare:max_test-float": (lambda: novelty.prepare("mnist", "p2", 0, max_test=1e3), TypeError,
                               "max_test must be an int"),
    "prepare:root-int": (lambda: novelty.prepare("mnist", "p2", 0, root=2), TypeError, "root must be"),
    "prepare:missing": (lambda: novelty.prepare("fashion_mnist", "p2", 0, root="nowhere"), data.DataNotFoundError,
                        "FashionMNIST"),
    "latent_distance:x_other-shape": (lambda: novelty.latent_distance(AE, X, X[:2]), ValueError,
                                      r"x_other must have the shape of x"),
    "latent_distance:x_other-range": (lambda: novelty.latent_distance(AE, X, X * 3), ValueError,
                                      r"x_other must have values in \[0, 1\]"),
    "latent_attack:eps-negative": (lambda: novelty.latent_attack(AE, X, -0.1), ValueError, "eps must be in"),
    "latent_attack:eps-absurd": (lambda: novelty.latent_attack(AE, X, 5.0), ValueError, r"eps must be in \[0, 1\]"),
    "latent_attack:eps-nan": (lambda: novelty.latent_attack(AE, X, NAN), ValueError, "eps must be in"),
    "latent_attack:eps-str": (lambda: novelty.latent_attack(AE, X, "0.2"), TypeError, "eps must be a real number"),
    "latent_attack:steps-zero": (lambda: novelty.latent_attack(AE, X, steps=0), ValueError, "steps must be >= 1"),
    "latent_attack:steps-absurd": (lambda: novelty.latent_attack(AE, X, steps=10**9), ValueError,
                                   "steps must be <="),
    "latent_attack:alpha-nan": (lambda: novelty.latent_attack(AE, X, alpha=NAN), ValueError, "alpha must be in"),
    "latent_attack:generator": (lambda: novelty.latent_attack(AE, X, generator=0), TypeError,
                                "generator must be a torch.Generator"),
    "arae_loss:x_adv-shape": (lambda: novelty.arae_loss(AE, X, X[:1]), ValueError, "x_adv must have the shape"),
    "arae_loss:x_adv-nan": (lambda: novelty.arae_loss(AE, X, _x(nan=True)), ValueError, "x_adv contains NaN"),
    "arae_loss:gamma-negative": (lambda: novelty.arae_loss(AE, X, X, gamma=-1.0), ValueError, "gamma must be in"),
    "arae_loss:gamma-nan": (lambda: novelty.arae_loss(AE, X, X, gamma=NAN), ValueError, "gamma must be in"),
    "dae_loss:noise_std-negative": (lambda: novelty.dae_loss(AE, X, -0.2), ValueError, "noise_std must be in"),
    "dae_loss:noise_std-nan": (lambda: novelty.dae_loss(AE, X, NAN), ValueError, "noise_std must be in"),
    "dae_loss:noise_std-absurd": (lambda: novelty.dae_loss(AE, X, 1e9), ValueError, "noise_std must be in"),
    "dae_loss:generator": (lambda: novelty.dae_loss(AE, X, generator="g"), TypeError, "generator must be"),
    "fit:epochs-zero": (lambda: novelty.fit(AE, X, epochs=0, progress_bar=False), ValueError, "epochs must be >= 1"),
    "fit:epochs-negative": (lambda: novelty.fit(AE, X, epochs=-3), ValueError, "epochs must be >= 1"),
    "fit:epochs-absurd": (lambda: novelty.fit(AE, X, epochs=10**9), ValueError, "epochs must be <="),
    "fit:epochs-float": (lambda: novelty.fit(AE, X, epochs=2.0), TypeError, "epochs must be an int"),
    "fit:batch_size-zero": (lambda: novelty.fit(AE, X, batch_size=0), ValueError, "batch_size must be >= 1"),
    "fit:lr-zero": (lambda: novelty.fit(AE, X, lr=0.0), ValueError, "lr must be in"),
    "fit:lr-nan": (lambda: novelty.fit(AE, X, lr=NAN), ValueError, "lr must be in"),
    "fit:lr-absurd": (lambda: novelty.fit(AE, X, lr=1e6), ValueError, "lr must be in"),
    "fit:gamma-negative": (lambda: novelty.fit(AE, X, gamma=-0.1), ValueError, "gamma must be in"),
    "fit:eps-absurd": (lambda: novelty.fit(AE, X, eps=2.0), ValueError, r"eps must be in \[0, 1\]"),
    "fit:eps-negative": (lambda: novelty.fit(AE, X, eps=-0.2), ValueError, "eps must be in"),
    "fit:steps-zero": (lambda: novelty.fit(AE, X, steps=0), ValueError, "steps must be >= 1"),
    "fit:steps-absurd": (lambda: novelty.fit(AE, X, steps=10**8), ValueError, "steps must be <="),
    "fit:alpha-negative": (lambda: novelty.fit(AE, X, alpha=-0.01), ValueError, "alpha must be in"),
    "fit:method": (lambda: novelty.fit(AE, X, method="vae"), ValueError, "method must be one of"),
    "fit:noise_std-nan": (lambda: novelty.fit(AE, X, method="dae", noise_std=NAN), ValueError,
                          "noise_std must be in"),
    "fit:warmup-beyond-epochs": (lambda: novelty.fit(AE, X, epochs=2, eps_warmup_epochs=5.0), ValueError,
                                 "eps_warmup_epochs must be in"),
    "fit:seed-str": (lambda: novelty.fit(AE, X, seed="0"), TypeError, "seed must be an int"),
    "fit:seed-negative": (lambda: novelty.fit(AE, X, seed=-1), ValueError, "seed must be >= 0"),
    "scores:batch_size-zero": (lambda: novelty.scores(AE, X, batch_size=0), ValueError, "batch_size must be >= 1"),
    "scores:batch_size-float": (lambda: novelty.scores(AE, X, batch_size=10.0), TypeError,
                                "batch_size must be an int"),
    "f1_at:threshold-nan": (lambda: novelty.f1_at(SCORES, ANOM, NAN), ValueError, "threshold must be in"),
    "f1_at:threshold-str": (lambda: novelty.f1_at(SCORES, ANOM, "0.5"), TypeError, "threshold must be a real"),
    "evaluate:split-str": (lambda: novelty.evaluate(AE, "p2"), TypeError, "split must be a novelty.Split"),
    "evaluate:split-dict": (lambda: novelty.evaluate(AE, {"x_test": X}), TypeError, "split must be"),
    "evaluate:model-str": (lambda: novelty.evaluate("arae", SPLIT), TypeError, "model must be"),
    "evaluate:model-shape": (lambda: novelty.evaluate(novelty.AutoEncoder((3, 32, 32), (8,), 4), SPLIT),
                             ValueError, r"x must hold images of shape \(3, 32, 32\)"),
    "recipe:dataset": (lambda: novelty.recipe("svhn", "p2", 1, "arae", epochs=1), ValueError,
                       "dataset must be one of"),
    "recipe:protocol": (lambda: novelty.recipe("mnist", "p0", 1, "arae", epochs=1), ValueError,
                        "protocol must be one of"),
    "recipe:method": (lambda: novelty.recipe("mnist", "p2", 1, "vae", epochs=1), ValueError,
                      "method must be one of"),
    "recipe:class-out-of-range": (lambda: novelty.recipe("mnist", "p2", 10, "arae", epochs=1), ValueError,
                                  "normal class must be <= 9"),
    "recipe:epochs-zero": (lambda: novelty.recipe("mnist", "p2", 1, "arae", epochs=0), ValueError,
                           "epochs must be >= 1"),
    "recipe:epochs-absurd": (lambda: novelty.recipe("mnist", "p2", 1, "arae", epochs=10**9), ValueError,
                             "epochs must be <="),
    "recipe:epochs-str": (lambda: novelty.recipe("mnist", "p2", 1, "arae", epochs="40"), TypeError,
                          "epochs must be an int"),
    "recipe:fraction": (lambda: novelty.recipe("mnist", "p1", 1, "arae", epochs=1, anomaly_fraction=1.5),
                        ValueError, r"anomaly_fraction must be in \(0, 1\)"),
    "recipe:seed-negative": (lambda: novelty.recipe("mnist", "p2", 1, "arae", epochs=1, seed=-1), ValueError,
                             "seed must be >= 0"),
    "recipe:unknown-setting": (lambda: novelty.recipe("mnist", "p2", 1, "arae", epochs=1, stpes=3), ValueError,
                               r"unknown recipe setting.*stpes"),
    "recipe:steps-negative": (lambda: novelty.recipe("mnist", "p2", 1, "arae", epochs=1, steps=-1), ValueError,
                              "steps must be >= 1"),
    "recipe:batch_size-zero": (lambda: novelty.recipe("mnist", "p2", 1, "arae", epochs=1, batch_size=0),
                               ValueError, "batch_size must be >= 1"),
    "recipe:eps-absurd": (lambda: novelty.recipe("mnist", "p2", 1, "arae", epochs=1, eps=8.0), ValueError,
                          "eps must be in"),
    "recipe:lr-nan": (lambda: novelty.recipe("mnist", "p2", 1, "arae", epochs=1, lr=NAN), ValueError,
                      "lr must be in"),
    "recipe:max_test-one": (lambda: novelty.recipe("mnist", "p2", 1, "arae", epochs=1, max_test=1), ValueError,
                            "max_test must be >= 2"),
    "split_of:str": (lambda: novelty.split_of("novelty-mnist-p2-1-arae"), TypeError, "rec must be a recipe"),
    "split_of:incomplete": (lambda: novelty.split_of({"dataset": "mnist"}), TypeError, "rec must be a recipe"),
    "split_of:dataset": (lambda: novelty.split_of({**REC, "dataset": "svhn"}), ValueError,
                         r"rec\['dataset'\] must be one of"),
    "split_of:class-out-of-range": (lambda: novelty.split_of({**REC, "normal": [10]}), ValueError,
                                    "normal class must be"),
    "make:none": (lambda: novelty.make(None), TypeError, "rec must be a recipe"),
    "make:dataset": (lambda: novelty.make({**REC, "dataset": "cifar10"}), ValueError, r"rec\['dataset'\]"),
    "train_recipe:model-str": (lambda: novelty.train_recipe("arae", REC, False), TypeError, "model must be"),
    "train_recipe:rec-str": (lambda: novelty.train_recipe(AE, "recipe", False), TypeError, "rec must be a recipe"),
    "train_recipe:method": (lambda: novelty.train_recipe(AE, {**REC, "method": "vae"}, False), ValueError,
                            r"rec\['method'\] must be one of"),
    "train_recipe:epochs-zero": (lambda: novelty.train_recipe(AE, {**REC, "epochs": 0}, False), ValueError,
                                 r"rec\['epochs'\] must be >= 1"),
    "train_recipe:steps-absurd": (lambda: novelty.train_recipe(AE, {**REC, "steps": 10**9}, False), ValueError,
                                  "steps must be <="),
    "train_recipe:model-shape": (lambda: novelty.train_recipe(AE, {**REC, "dataset": "coil100", "protocol": "p1"},
                                                              False), ValueError, r"rec\['dataset'\] 'coil100'"),
    "train_recipe:root-int": (lambda: novelty.train_recipe(AE, REC, False, root=4), TypeError, "root must be"),
    "zoo_name:protocol": (lambda: novelty.zoo_name("p3", 1, "arae"), ValueError, "protocol must be one of"),
    "zoo_name:class-out-of-range": (lambda: novelty.zoo_name("p2", 10, "arae"), ValueError, "normal must be <= 9"),
    "zoo_name:class-str": (lambda: novelty.zoo_name("p2", "1", "arae"), TypeError, "normal must be an int"),
    "zoo_name:method": (lambda: novelty.zoo_name("p2", 1, "vae"), ValueError, "method must be one of"),
    "zoo_name:dataset": (lambda: novelty.zoo_name("p2", 1, "arae", "svhn"), ValueError, "dataset must be one of"),
})
cases("novelty", {
    "check_autoencoder:str": (lambda: novelty.check_autoencoder("ae"), TypeError, "model must be"),
    "check_autoencoder:classifier": (lambda: novelty.check_autoencoder(M), TypeError, "model must be an autoencoder"),
    "fit_recipe:rec": (lambda: novelty.fit_recipe(AE, {"x": 1}), TypeError, "rec must be a recipe dict"),
})
cases("metrics", {
    "check_confidence:empty": (lambda: metrics.check_confidence([], []), ValueError, "confidence is empty"),
    "check_confidence:above-one": (lambda: metrics.check_confidence([1.5], [1]), ValueError, r"\[0, 1\]"),
    "calibration_error:nan": (lambda: metrics.calibration_error([NAN, 0.5], [1, 0]), ValueError, "finite"),
    "rra_curve:length": (lambda: metrics.rra_curve([0.5, 0.5], [1]), ValueError, "equal length"),
    "aurra:str": (lambda: metrics.aurra("high", [1]), TypeError, "confidence"),
    "adaptive_bins:n-zero": (lambda: metrics.adaptive_bins(0), ValueError, "n must be >= 1"),
})
cases("checks", {
    "seed:bool": (lambda: checks.seed(True), TypeError, "seed must be an int"),
    "path:none": (lambda: checks.path(None, "where"), TypeError, "where must be"),
})


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """Every folder the library may write to, and the working directory, inside one empty tmp folder."""
    root = tmp_path / "sandbox"
    root.mkdir()
    for var, sub in (("ROBUSTCORE_CACHE", "cache"), ("ROBUSTCORE_DATA", "data"), ("ROBUSTCORE_RESULTS", "results"),
                     ("XDG_CACHE_HOME", "xdg"), ("HOME", "home")):
        monkeypatch.setenv(var, str(root / sub))
    monkeypatch.chdir(root)
    monkeypatch.setattr(urllib.request, "urlopen", _offline)  # no download attempt reaches the network
    return root


def _offline(*args, **kwargs):
    raise urllib.error.URLError("offline (test)")


def _written(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_every_public_function_has_cases():
    """Each module's public functions appear in the table (so a new function needs its cases)."""
    import inspect

    covered = " ".join(c[0] for c in CASES)
    mods = {"data": data, "models": models, "attacks": attacks, "train": train, "features": features,
            "zoo": zoo, "io": io, "plotting": plotting, "widgets": widgets,
            "results": results, "utils": utils, "imagenet_a": imagenet_a, "novelty": novelty, "store": store,
            "metrics": metrics}  # robustcore.checks: the validators every case below exercises
    # Functions that take no input to check, or that only read state: nothing to misuse.
    exempt = {"data.data_root", "features.to_uint8", "features.artifact", "imagenet_a.subset_from_timm",
              "features.from_uint8", "features.representation_distance",
              "io.sha256", "results.results_dir", "results.machine", "results.gap", "results.main",
              "utils.default_device", "utils.progress", "utils.env_dir", "attacks.encode", "attacks.mutate",
              "widgets.plot_attack_one", "widgets.plot_one_pixel", "attacks.flat_norm",
              "imagenet_a.wnids", "imagenet_a.indices", "imagenet_a.class_names",
              "store.cache_dir", "store.shipped_dir", "store.base_url", "store.manifest", "store.shipped_name",
              "store.where", "data.quiet_download", "io.read_json",
              "novelty.main",  # the command line's misuse: tests/test_novelty.py and below
              # Building blocks that run inside checked entry points, on every step or batch: no checks,
              # callers validate (attacks.check, the attacks' own checks, train's _check_attack).
              "attacks.ascent_step", "attacks.random_delta", "attacks.projected_ascent", "attacks.generation",
              "train.attack_batch"}
    # A function is listed under the module that defines it (for a package, any of its submodules)
    # and under imagenet_a for the metrics it re-exports; cases under any of those names cover it.
    homes: dict[object, set[str]] = {}
    for mname, mod in mods.items():
        for name, obj in vars(mod).items():
            home = obj.__module__ if inspect.isfunction(obj) else ""
            if not name.startswith("_") and (home == mod.__name__ or home.startswith(mod.__name__ + ".")
                                             or (mname == "imagenet_a" and home == metrics.__name__)):
                homes.setdefault(obj, set()).add(f"{mname}.{name}")
    missing = []
    for obj, keys in homes.items():
        if keys & exempt:
            continue
        if not any(k in covered for k in keys):
            missing.append(sorted(keys)[0])
    assert not missing, (f"public functions without misuse cases: {missing}; add bad-input cases to "
                         "tests/test_reliability.py (or, for a function with no input to check, to `exempt`)")


@pytest.mark.parametrize("call,exc,match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_clearly_and_writes_nothing(call, exc, match, sandbox):
    with pytest.raises(exc, match=match):
        call()
    assert not issubclass(exc, (KeyError, AttributeError, IndexError, RuntimeError)), exc
    assert _written(sandbox) == [], f"a refused call wrote {_written(sandbox)}"


def test_profile_environment_variable(monkeypatch, sandbox):
    monkeypatch.setenv("ROBUSTCORE_PROFILE", "medium")
    with pytest.raises(ValueError, match="ROBUSTCORE_PROFILE must be one of"):
        profiles.current()
    with pytest.raises(ValueError, match="ROBUSTCORE_PROFILE must be one of"):
        zoo.load("mnist-cnn-std")
    assert _written(sandbox) == []


# --------------------------------------------------------------------------------------------
# Data: wrong folder layouts, without a download and without leaving anything behind


@pytest.mark.parametrize("layout", ["flat", "lowercase", "gz-only", "empty"])
def test_mnist_wrong_folder_layout(layout, sandbox):
    root = sandbox / "mnist-root"
    where = {"flat": root, "lowercase": root / "mnist" / "raw", "gz-only": root / "MNIST" / "raw",
             "empty": root}[layout]
    where.mkdir(parents=True)
    for f in data.MNIST_FILES:
        if layout != "empty":
            (where / (f + (".gz" if layout == "gz-only" else ""))).write_bytes(b"not an idx file")
    before = _written(sandbox)
    with pytest.raises(data.DataNotFoundError, match=r"MNIST/raw"):
        data.mnist(train=False, root=root)
    assert _written(sandbox) == before, "a failed read left files or folders behind"


def test_cifar_wrong_folder_layout(sandbox):
    root = sandbox / "cifar-root"
    (root / "cifar10").mkdir(parents=True)  # the wrong name for torchvision's folder
    before = _written(sandbox)
    with pytest.raises(data.DataNotFoundError, match="cifar-10-batches-py"):
        data.cifar10(train=False, root=root)
    assert _written(sandbox) == before


def _imagenet_a_tree(root: Path, layout: str) -> Path:
    """A would-be ImageNet-A folder of one image per class, laid out wrongly in one way."""
    wnids = imagenet_a.wnids()
    folders = {"wrong-wnids": [f"n{i:08d}" for i in range(200)], "missing-classes": wnids[:199],
               "extra-class": [*wnids, "n99999999"], "no-images": wnids, "nested": wnids, "flat": []}[layout]
    base = root / "imagenet-a" / "imagenet-a" if layout == "nested" else root / "imagenet-a"
    base.mkdir(parents=True)
    for w in folders:
        (base / w).mkdir()
        if layout != "no-images":
            (base / w / "0.jpg").write_bytes(b"")
    if layout == "flat":
        for i in range(3):
            (base / f"{wnids[i]}_0.jpg").write_bytes(b"")
    return root / "imagenet-a"


@pytest.mark.parametrize("layout, exc, match", [
    ("wrong-wnids", ValueError, "200 missing.*200 unexpected"),
    ("missing-classes", ValueError, "1 missing.*0 unexpected"),
    ("extra-class", ValueError, r"0 missing.*1 unexpected .*n99999999"),
    ("no-images", ValueError, "200 class folder.*hold no images"),
    ("nested", ValueError, "not ImageNet-A's layout"),
    ("flat", ValueError, "not ImageNet-A's layout"),
])
def test_imagenet_a_wrong_folder_layout(layout, exc, match, sandbox):
    folder = _imagenet_a_tree(sandbox / "ia-root", layout)
    before = _written(sandbox)
    with pytest.raises(exc, match=match):
        imagenet_a.check_layout(folder)
    if layout in ("nested", "flat"):  # no wnid folder where one is looked for: not found at all
        with pytest.raises(data.DataNotFoundError, match="ImageNet-A is not on disk"):
            imagenet_a.dataset(sandbox / "ia-root")
    else:
        with pytest.raises(exc, match=match):
            imagenet_a.dataset(sandbox / "ia-root")
        with pytest.raises(exc, match=match):
            imagenet_a.loader(folder, num_workers=0)
    assert _written(sandbox) == before, "a refused layout left files or folders behind"


@pytest.mark.parametrize("layout", ["flat", "lowercase", "mnist-name", "gz-only", "empty"])
def test_fashion_mnist_wrong_folder_layout(layout, sandbox):
    root = sandbox / "fashion-root"
    where = {"flat": root, "lowercase": root / "fashionmnist" / "raw", "mnist-name": root / "MNIST" / "raw",
             "gz-only": root / "FashionMNIST" / "raw", "empty": root}[layout]
    where.mkdir(parents=True)
    for f in data.FASHION_FILES:
        if layout != "empty":
            (where / (f + (".gz" if layout == "gz-only" else ""))).write_bytes(b"not an idx file")
    before = _written(sandbox)
    with pytest.raises(data.DataNotFoundError, match="FashionMNIST/raw"):
        data.fashion_mnist(train=False, root=root)
    with pytest.raises(data.DataNotFoundError, match="FashionMNIST/raw"):
        novelty.prepare("fashion_mnist", "p2", 0, root=root)
    assert _written(sandbox) == before, "a failed read left files or folders behind"


@pytest.mark.parametrize("layout, exc, match", [
    ("wrong-folder", data.DataNotFoundError, "COIL-100 is not in"),
    ("flat", data.DataNotFoundError, "COIL-100 is not in"),
    ("wrong-names", data.DataNotFoundError, r"holds no obj\{k\}__\{angle\}.png"),
    ("nested", data.DataNotFoundError, "holds no obj"),
    ("object-0", ValueError, "object numbers run from 1 to 100"),
    ("not-a-png", ValueError, "obj2__0.png: not a readable PNG image"),
])
def test_coil100_wrong_folder_layout(layout, exc, match, sandbox):
    from PIL import Image

    root = sandbox / "coil-root"
    folder = {"wrong-folder": root / "coil100", "flat": root, "nested": root / "coil-100" / "coil-100"}.get(
        layout, root / "coil-100")
    folder.mkdir(parents=True)
    names = {"wrong-names": ["obj_1_0.png", "1__0.png"], "object-0": ["obj0__0.png"]}.get(
        layout, ["obj1__0.png", "obj2__0.png"])
    for name in names:
        Image.fromarray(torch.zeros(16, 16, 3, dtype=torch.uint8).numpy()).save(folder / name)
    if layout == "not-a-png":
        (folder / "obj2__0.png").write_bytes(b"\x89PNG truncated")
    before = _written(sandbox)
    with pytest.raises(exc, match=match):
        data.coil100(root)
    with pytest.raises(exc, match=match):
        novelty.prepare("coil100", "p1", 0, root=root)
    assert _written(sandbox) == before, "a failed read left files or folders behind"


def test_missing_data_root_is_not_created(sandbox):
    with pytest.raises(data.DataNotFoundError):
        data.mnist(train=True, root=sandbox / "nowhere" / "data")
    assert _written(sandbox) == []


# --------------------------------------------------------------------------------------------
# Interrupted writes leave no file that loads; corrupted and tampered files are refused


def _half_then_fail(obj, f, *args, **kwargs):
    f.write(b"PK\x03\x04 half a checkpoint")
    raise OSError("no space left on device (simulated)")


def _tiny_entry(monkeypatch):
    """A zoo entry that trains in no time, declared for this test only."""
    rec = {"arch": "mlp", "seed": 0}
    entry = zoo.model_artifact("tiny-mlp", {"quick": rec, "full": rec}, lambda r: models.build("mlp"),
                               lambda m, r, progress: {"test_acc": 0.0}, description="test only")
    monkeypatch.setitem(zoo.ARTIFACTS, "tiny-mlp", entry)
    return entry


def test_interrupted_atomic_save_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "ckpt" / "a.pt"
    monkeypatch.setattr(torch, "save", _half_then_fail)
    with pytest.raises(OSError, match="simulated"):
        io.atomic_save({"w": torch.zeros(3)}, target)
    assert list(target.parent.iterdir()) == []
    with pytest.raises(FileNotFoundError):
        io.load_verified(target)


def test_interrupted_zoo_checkpoint_leaves_nothing_that_loads(tmp_cache, monkeypatch):
    _tiny_entry(monkeypatch)
    monkeypatch.setattr(torch, "save", _half_then_fail)
    with pytest.raises(OSError, match="simulated"):
        store.build(zoo.ARTIFACTS["tiny-mlp"], "quick", progress=False)
    assert [p.name for p in tmp_cache.rglob("*") if p.is_file()] == []
    monkeypatch.undo()
    _tiny_entry(monkeypatch)
    monkeypatch.setenv("ROBUSTCORE_CACHE", str(tmp_cache))
    with pytest.raises(FileNotFoundError, match="no 'tiny-mlp'"):
        zoo.load("tiny-mlp", "quick", train_if_missing=False)


def test_interrupted_digest_write_leaves_a_file_that_does_not_load(tmp_path, monkeypatch):
    """Killed between the checkpoint and its .sha256: the checkpoint is refused as unverified."""
    calls = {"n": 0}
    real = io._atomic_write

    def second_fails(path, write):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(path, write)

    monkeypatch.setattr(io, "_atomic_write", second_fails)
    target = tmp_path / "a.pt"
    with pytest.raises(KeyboardInterrupt):
        io.atomic_save({"w": torch.zeros(3)}, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pt"]
    with pytest.raises(io.ChecksumError, match="unverified"):
        io.load_verified(target)


def test_interrupted_dataset_save_leaves_nothing(tmp_path, monkeypatch):
    ds = features.Constructed(X, Y, {"kind": "D_R"})
    target = tmp_path / "constructed" / "d.pt"
    monkeypatch.setattr(torch, "save", _half_then_fail)
    with pytest.raises(OSError, match="simulated"):
        features.save(ds, target)
    assert list(target.parent.iterdir()) == []
    with pytest.raises(FileNotFoundError):
        features.load(target)


def test_interrupted_results_write_keeps_the_previous_record(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBUSTCORE_RESULTS", str(tmp_path))
    results.record("04", "accuracy", 31.0, profile="quick")
    real = io._atomic_write

    def interrupted(path, write):
        def half(f):
            f.write(b'{"accuracy": {"val')
            raise KeyboardInterrupt
        return real(path, half)

    monkeypatch.setattr(io, "_atomic_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        results.record("04", "accuracy", 99.0, profile="quick")
    assert results.load("04", "quick")["accuracy"]["value"] == 31.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chapter04-quick.json"]


def _corrupt(path: Path, how: str) -> None:
    b = bytearray(path.read_bytes())
    if how == "truncated":
        path.write_bytes(bytes(b[: len(b) // 2]))
    elif how == "flipped":
        b[len(b) // 2] ^= 0xFF
        path.write_bytes(bytes(b))
    elif how == "appended":
        path.write_bytes(bytes(b) + b"\x00extra")
    elif how == "empty":
        path.write_bytes(b"")
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["truncated", "flipped", "appended", "empty"])
def test_corrupted_cached_checkpoint_is_refused_not_retrained(how, tmp_cache, monkeypatch):
    _tiny_entry(monkeypatch)
    store.build(zoo.ARTIFACTS["tiny-mlp"], "quick", progress=False)
    ckpt = tmp_cache / zoo.ARTIFACTS["tiny-mlp"].filename("quick")
    _corrupt(ckpt, how)
    before = ckpt.read_bytes()
    with pytest.raises(io.ChecksumError):
        zoo.load("tiny-mlp", "quick", progress=False)
    assert ckpt.read_bytes() == before, "a refused checkpoint must not be replaced silently"


def test_tampered_checkpoint_with_a_forged_digest_is_refused(tmp_cache, monkeypatch):
    """Someone edits the file and its .sha256: the content still has to be a robustcore checkpoint
    of the current recipe, loaded with weights_only=True."""
    _tiny_entry(monkeypatch)
    store.build(zoo.ARTIFACTS["tiny-mlp"], "quick", progress=False)
    ckpt = tmp_cache / zoo.ARTIFACTS["tiny-mlp"].filename("quick")
    torch.save({"weights": torch.zeros(2)}, ckpt)  # not a checkpoint
    ckpt.with_name(ckpt.name + ".sha256").write_text(io.sha256(ckpt))
    with pytest.raises(io.ChecksumError, match="not a robustcore artifact"):
        zoo.load("tiny-mlp", "quick", progress=False)


def test_tampered_shipped_checkpoint_is_refused(tmp_path, tmp_cache, monkeypatch):
    weights = tmp_path / "shipped"
    weights.mkdir()
    name = store.shipped_name(zoo.ARTIFACTS["mnist-mlp-std"], "quick")
    (weights / name).write_bytes((store.CHECKOUT_ARTIFACTS / name).read_bytes())
    monkeypatch.setenv(store.SHIPPED_ENV, str(weights))
    assert zoo.load("mnist-mlp-std", "quick", train_if_missing=False, device="cpu") is not None
    (tmp_cache / zoo.ARTIFACTS["mnist-mlp-std"].filename("quick")).unlink()
    (tmp_cache / zoo.ARTIFACTS["mnist-mlp-std"].filename("quick")).with_suffix(".pt.sha256").unlink()
    _corrupt(weights / name, "flipped")
    with pytest.raises(io.ChecksumError, match="corrupted or was modified"):
        zoo.load("mnist-mlp-std", "quick", train_if_missing=False)
    assert _written(tmp_cache) == []


@pytest.mark.parametrize("how", ["truncated", "flipped", "empty"])
def test_corrupted_constructed_dataset_is_refused(how, tmp_path):
    target = tmp_path / "d.pt"
    features.save(features.Constructed(X, Y, {"kind": "D_R"}), target)
    _corrupt(target, how)
    with pytest.raises(io.ChecksumError):
        features.load(target)


def test_constructed_dataset_of_another_kind_is_refused(tmp_path):
    target = tmp_path / "d.pt"
    io.atomic_save({"x": X, "y": Y, "meta": {}}, target)  # float images: not what save writes
    with pytest.raises(io.ChecksumError, match="not a robustcore constructed dataset"):
        features.load(target)


def _novelty_checkpoint(folder: Path) -> Path:
    """A novelty checkpoint as ``python -m robustcore.novelty train`` writes it (untrained weights)."""
    rec = novelty.recipe("mnist", "p2", 1, "dae", epochs=1, max_train=8, max_test=8)
    state = {k: v.detach().clone() for k, v in novelty.make(rec).state_dict().items()}
    target = folder / "model.pt"
    io.atomic_save({"state_dict": state, "meta": {"recipe": rec, "metrics": {}, "root": None}}, target)
    return target


def _cli_refuses(argv, match, capsys):
    with pytest.raises(SystemExit) as e:
        novelty.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert __import__("re").search(match, err), err


@pytest.mark.parametrize("how", ["truncated", "flipped", "appended", "empty"])
def test_corrupted_novelty_checkpoint_is_refused(how, tmp_path, capsys):
    ckpt = _novelty_checkpoint(tmp_path)
    _corrupt(ckpt, how)
    before = ckpt.read_bytes()
    _cli_refuses(["--dir", str(tmp_path), "test", str(ckpt)], "corrupted or was modified", capsys)
    assert ckpt.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["model.pt",
                                                                                       "model.pt.sha256"]


@pytest.mark.parametrize("content, match", [
    ({"weights": torch.zeros(2)}, "not a novelty checkpoint"),
    ({"state_dict": {"w": torch.zeros(2)}, "meta": {}}, "not a novelty checkpoint"),
    ("state_dict", "not a novelty checkpoint"),
    ("wrong-shapes", "not a novelty checkpoint of its recipe"),
    ("wrong-dataset", "not a novelty checkpoint of its recipe"),
])
def test_tampered_novelty_checkpoint_with_a_forged_digest_is_refused(content, match, tmp_path, capsys):
    """Someone edits the file and its .sha256: the content must still be a novelty checkpoint."""
    ckpt = _novelty_checkpoint(tmp_path)
    if content in ("wrong-shapes", "wrong-dataset"):
        obj = torch.load(ckpt, weights_only=True)
        if content == "wrong-shapes":
            obj["state_dict"] = novelty.AutoEncoder(latent=16).state_dict()
        else:
            obj["meta"]["recipe"]["dataset"] = "svhn"
        content = obj
    torch.save(content, ckpt)
    ckpt.with_name(ckpt.name + ".sha256").write_text(io.sha256(ckpt))
    _cli_refuses(["--dir", str(tmp_path), "test", str(ckpt)], match, capsys)


def test_novelty_checkpoint_without_digest_or_file_is_refused(tmp_path, capsys):
    ckpt = _novelty_checkpoint(tmp_path)
    ckpt.with_name(ckpt.name + ".sha256").unlink()
    _cli_refuses(["--dir", str(tmp_path), "test", str(ckpt)], "unverified", capsys)
    _cli_refuses(["--dir", str(tmp_path), "test", str(tmp_path / "other.pt")], "no file at", capsys)


@pytest.mark.parametrize("argv, match", [
    (["prepare", "mnist", "p3", "1"], "protocol must be one of"),
    (["prepare", "mnist", "p1", "nan", "1"], r"anomaly_fraction must be in \(0, 1\)"),
    (["prepare", "mnist", "p1", "0", "1"], r"anomaly_fraction must be in \(0, 1\)"),
    (["prepare", "mnist", "p2", "-1"], "normal class must be >= 0"),
    (["prepare", "coil100", "p1", "0.5", "100"], r"normal class must be <= 99"),
    (["prepare", "mnist", "p2", "1", "--max-train", "0"], "max_train must be >= 2"),
    (["prepare", "mnist", "p2", "1", "--seed", "-3"], "seed must be >= 0"),
])
def test_cli_misuse_writes_nothing(argv, match, sandbox, capsys):
    _cli_refuses(["--dir", str(sandbox / "run"), *argv], match, capsys)
    assert _written(sandbox) == []


@pytest.mark.parametrize("argv, match", [
    (["train", "--epochs", "0"], "epochs must be >= 1"),
    (["train", "--steps", "-1"], "steps must be >= 1"),
    (["train", "--batch-size", "0"], "batch_size must be >= 1"),
    (["train", "--eps", "3"], "eps must be in"),
    (["train", "--lr", "nan"], "lr must be in"),
])
def test_cli_train_misuse_writes_no_model(argv, match, sandbox, capsys):
    run = sandbox / "run"
    run.mkdir()
    io.atomic_write_json({"dataset": "mnist", "protocol": "p2", "normal": [1], "anomaly_fraction": None, "seed": 0,
                          "root": None, "max_train": 8, "max_test": 8}, run / "split.json")
    before = _written(sandbox)
    _cli_refuses(["--dir", str(run), *argv], match, capsys)
    assert _written(sandbox) == before


def test_corrupted_results_file_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBUSTCORE_RESULTS", str(tmp_path))
    (tmp_path / "chapter04-quick.json").write_text('{"accuracy": {"val')
    with pytest.raises(ValueError, match="not a results file"):
        results.load("04", "quick")
    with pytest.raises(ValueError, match="not a results file"):
        results.record("04", "accuracy", 1.0, profile="quick")
    assert (tmp_path / "chapter04-quick.json").read_text() == '{"accuracy": {"val'


def test_no_temp_files_after_successful_writes(tmp_path):
    io.atomic_save({"w": torch.zeros(1)}, tmp_path / "a.pt")
    io.atomic_write_json({"a": 1}, tmp_path / "b.json")
    features.save(features.Constructed(X, Y), tmp_path / "c.pt")
    assert sorted(os.listdir(tmp_path)) == ["a.pt", "a.pt.sha256", "b.json", "c.pt", "c.pt.sha256"]
