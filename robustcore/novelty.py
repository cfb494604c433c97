"""Novelty detection with autoencoders: the denoising baseline (DAE) and ARAE (Salehi et al.).

An autoencoder is trained on one *normal* class only; at test time its reconstruction error
of the clean input is the anomaly score, and images of the other classes should score high.
ARAE trains the autoencoder to be robust in its latent space:

.. math::

    \\min_\\theta\\; \\mathrm{MSE}(D(E(x^*)), x) + \\gamma\\, \\mathrm{MSE}(E(x), E(x^*)), \\qquad
    x^* = \\arg\\max_{\\|x' - x\\|_\\infty \\le \\varepsilon,\\; x' \\in [0, 1]} \\mathrm{MSE}(E(x), E(x'))

with :math:`x^*` found by L∞ PGD (:func:`latent_attack`). The DAE minimises
:math:`\\mathrm{MSE}(D(E(\\tilde x)), x)` with :math:`\\tilde x` the input plus clipped Gaussian noise.

Protocols (:func:`prepare`):

- **p1** — train and test splits merged; the normal class(es) shuffled and split 60/20/20 into
  train / validation / test; anomalies from the other classes are added to the test split so that
  they make up ``anomaly_fraction`` of it, and — disjoint from those — to the validation split at
  the same fraction. The F1 threshold is chosen on the validation split (:func:`best_threshold`).
- **p2** — train on the normal class of the standard train split; test on the whole standard test
  split, every other class anomalous. AUROC only.

Datasets: MNIST, Fashion-MNIST (read by torchvision from ``<root>/FashionMNIST/raw/``) and
COIL-100 (the official zip's ``<root>/coil-100/obj{1..100}__{angle}.png``, 128×128 colour,
resized to 32×32; label = object number − 1; p1 only). Labels are 0-based everywhere.

Command line, the workflow of the public scripts::

    python -m robustcore.novelty prepare mnist p1 0.5 8      # protocol, anomaly fraction, normal class
    python -m robustcore.novelty prepare fashion_mnist p2 2  # protocol p2, normal class 2
    python -m robustcore.novelty prepare coil100 p1 0.25 3 17 42 64
    python -m robustcore.novelty train [--method arae|dae] [--epochs N]
    python -m robustcore.novelty test [checkpoint file or zoo name]
"""

from __future__ import annotations

import argparse
import contextlib
import io as _io
import json
import math
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import _checks, data, io, profiles, zoo
from .utils import batches, model_device, progress, set_seed

DATASETS = ("mnist", "fashion_mnist", "coil100")
PROTOCOLS = ("p1", "p2")
METHODS = ("arae", "dae", "ae")
NUM_CLASSES = {"mnist": 10, "fashion_mnist": 10, "coil100": 100}
SHAPES = {"mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28), "coil100": (3, 32, 32)}
# Per-dataset settings of the public training script: the attack's ε, its PGD steps, the batch size.
EPS = {"mnist": 0.2, "fashion_mnist": 0.05, "coil100": 0.05}
STEPS = {"mnist": 40, "fashion_mnist": 40, "coil100": 20}
BATCH_SIZE = {"mnist": 256, "fashion_mnist": 256, "coil100": 16}
# Upper bounds on the training budget: beyond them a call would run for days.
MAX_EPOCHS = 100_000
MAX_STEPS = 10_000
# COIL-100 under p1: anomaly fraction of the test split for 1, 4 and 7 normal objects.
COIL_FRACTIONS = {1: 0.5, 4: 0.25, 7: 0.15}
# The DAE's input noise: zero-mean Gaussian, this standard deviation, clipped to [0, 1].
DAE_NOISE_STD = 0.2
# Published ARAE AUROCs on MNIST, protocol p2, normal class 0..9 (the public union model).
PUBLISHED_P2_AUROC = (0.991, 0.988, 0.953, 0.971, 0.978, 0.982, 0.992, 0.972, 0.959, 0.972)


# --------------------------------------------------------------------------------------------
# Datasets

FASHION_FILES = data.MNIST_FILES  # same IDX file names, in <root>/FashionMNIST/raw/
COIL_FOLDER = "coil-100"
COIL_URL = "http://www.cs.columbia.edu/CAVE/databases/SLAM_coil-20_coil-100/coil-100/coil-100.zip"
_COIL_NAME = re.compile(r"^obj(\d+)__(\d+)\.png$")
_COIL_CACHE: dict[tuple[str, int], tuple[torch.Tensor, torch.Tensor]] = {}


def fashion_mnist(train: bool = True, root: str | Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST as tensors: images (N, 1, 28, 28) float32 in [0, 1], labels (N,) int64.

    Read with ``torchvision.datasets.FashionMNIST(root, download=True)`` from
    ``<root>/FashionMNIST/raw/`` (downloaded there when online). N is 60,000 / 10,000.
    """
    raw, y = data._torchvision("fashion_mnist", "FashionMNIST", train, root, "FashionMNIST/raw", FASHION_FILES)
    return raw.unsqueeze(1).float().div_(255.0), y.clone()


def coil100(root: str | Path | None = None, size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """COIL-100 as tensors: images (N, 3, size, size) float32 in [0, 1], labels (N,) = object − 1.

    Reads every ``obj{k}__{angle}.png`` in ``<root>/coil-100/`` (the official zip's layout: 100
    objects × 72 angles of 128×128 colour images), sorted by object then angle, and resizes them
    with area averaging (PIL's box filter). Online, a missing folder is downloaded and unpacked.
    """
    from PIL import Image

    size = _checks.integer(size, "size", 8, 128)
    root = _checks.path(root, "root").resolve() if root is not None else data.data_root()
    key = (str(root), size)
    if key in _COIL_CACHE:
        return tuple(t.clone() for t in _COIL_CACHE[key])  # type: ignore[return-value]
    folder = root / COIL_FOLDER
    if not folder.is_dir():
        made = [d for d in (root, *root.parents) if not d.exists()]  # removed again if the download fails
        try:
            from torchvision.datasets.utils import download_and_extract_archive

            with contextlib.redirect_stdout(_io.StringIO()):
                download_and_extract_archive(COIL_URL, download_root=str(root), filename="coil-100.zip")
        except Exception as e:  # offline
            for d in sorted(set(made), key=lambda q: len(q.parts), reverse=True):
                with contextlib.suppress(OSError):
                    d.rmdir()  # only if still empty
            raise data.DataNotFoundError(
                f"COIL-100 is not in {folder} and could not be downloaded ({type(e).__name__}). Unpack the "
                f"official coil-100.zip into {root} (files {COIL_FOLDER}/obj1__0.png … obj100__355.png), "
                f"or set {data.ENV_VAR} to a folder that holds {COIL_FOLDER}/.") from None
    found = sorted((int(m[1]), int(m[2]), p) for p in folder.iterdir() if (m := _COIL_NAME.match(p.name)))
    if not found:
        raise data.DataNotFoundError(f"{folder} holds no obj{{k}}__{{angle}}.png images")
    images, labels = [], []
    for obj, _angle, path in found:
        if not 1 <= obj <= NUM_CLASSES["coil100"]:
            raise ValueError(f"{path.name}: object numbers run from 1 to 100")
        try:
            with Image.open(path) as im:
                im = im.convert("RGB").resize((size, size), Image.BOX)
                images.append(np.asarray(im, dtype=np.uint8))
        except OSError as e:  # truncated or not an image
            raise ValueError(f"{path}: not a readable PNG image ({type(e).__name__}); the COIL-100 folder "
                             "is corrupted, unpack the official coil-100.zip again") from None
        labels.append(obj - 1)
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div_(255.0).contiguous()
    y = torch.tensor(labels, dtype=torch.long)
    _COIL_CACHE[key] = (x, y)
    return x.clone(), y.clone()


def load_dataset(name: str, root: str | Path | None = None) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{"train": (x, y), "test": (x, y)}`` of ``name`` (a key of :data:`DATASETS`); COIL-100,
    which has no standard split, gives ``{"all": (x, y)}``. Images in [0, 1], labels 0-based."""
    _checks.choice(name, "dataset", DATASETS)
    if name == "coil100":
        return {"all": coil100(root)}
    read = data.mnist if name == "mnist" else fashion_mnist
    return {"train": read(train=True, root=root), "test": read(train=False, root=root)}


# --------------------------------------------------------------------------------------------
# Protocols


@dataclass(frozen=True)
class Split:
    """One novelty-detection task. Images (N, C, H, W) in [0, 1]; ``y_*`` are 1 for an anomaly,
    0 for a normal image; ``c_*`` are the original class labels. p2 has no validation split."""

    dataset: str
    protocol: str
    normal: tuple[int, ...]
    anomaly_fraction: float | None
    seed: int
    x_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    c_test: torch.Tensor
    x_val: torch.Tensor | None = None
    y_val: torch.Tensor | None = None
    c_val: torch.Tensor | None = None

    def summary(self) -> str:
        """One line: sizes and anomaly shares."""
        val = (f", val {len(self.x_val)} ({float(self.y_val.float().mean()):.0%} anomalies)"
               if self.x_val is not None else "")
        return (f"{self.dataset} {self.protocol}, normal {list(self.normal)}: train {len(self.x_train)}{val}, "
                f"test {len(self.x_test)} ({float(self.y_test.float().mean()):.0%} anomalies)")


def _normal_classes(normal: Any, dataset: str) -> tuple[int, ...]:
    k = NUM_CLASSES[dataset]
    classes = [normal] if isinstance(normal, int) and not isinstance(normal, bool) else normal
    if not isinstance(classes, (list, tuple)) or not classes:
        raise TypeError(f"normal must be a class index or a non-empty list of them, got {normal!r}")
    for c in classes:
        _checks.integer(c, "normal class", 0, k - 1)
    if len(set(classes)) != len(classes):
        raise ValueError(f"normal must not repeat a class, got {list(classes)}")
    if len(classes) >= k:
        raise ValueError(f"normal must leave at least one of the {k} classes of {dataset} as anomalies")
    return tuple(int(c) for c in classes)


def _fraction(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"anomaly_fraction must be a real number in (0, 1), got {type(v).__name__}")
    if not 0.0 < float(v) < 1.0:
        raise ValueError(f"anomaly_fraction must be in (0, 1), got {v!r}")
    return float(v)


def _is_normal(y: torch.Tensor, normal: tuple[int, ...]) -> torch.Tensor:
    return torch.isin(y, torch.tensor(normal, dtype=y.dtype))


def protocol1(x: torch.Tensor, y: torch.Tensor, normal: int | Sequence[int], anomaly_fraction: float = 0.5,
              seed: int = 0, dataset: str = "mnist") -> Split:
    """Protocol p1 on a pool of images ``x`` (N, C, H, W) with labels ``y`` (N,) (train and test
    merged by the caller).

    The normal images are shuffled and split 60/20/20 into train / validation / test. Anomalies
    (all other classes, shuffled) are added to the test split so that they are ``anomaly_fraction``
    of it, and a *disjoint* set to the validation split at the same fraction, which is what the
    F1 threshold is chosen on (:func:`best_threshold`) — the test split never is. If the anomaly
    pool is too small for both, each side takes half of it and its normal images are trimmed to keep
    the fraction. Same seed → same split.
    """
    _checks.choice(dataset, "dataset", DATASETS)
    _checks.images(x)
    y = _checks.labels(y, x.shape[0], num_classes=NUM_CLASSES[dataset])
    normal = _normal_classes(normal, dataset)
    f = _fraction(anomaly_fraction)
    seed = _checks.integer(seed, "seed", 0)
    g = torch.Generator().manual_seed(seed)
    is_norm = _is_normal(y, normal)
    norm_idx = is_norm.nonzero().squeeze(1)
    anom_idx = (~is_norm).nonzero().squeeze(1)
    if len(norm_idx) < 5:
        raise ValueError(f"protocol p1 needs at least 5 images of the normal class(es) {list(normal)}, "
                         f"got {len(norm_idx)}")
    if len(anom_idx) < 2:
        raise ValueError("protocol p1 needs at least 2 images of the other classes")
    norm_idx = norm_idx[torch.randperm(len(norm_idx), generator=g)]
    anom_idx = anom_idx[torch.randperm(len(anom_idx), generator=g)]
    n = len(norm_idx)
    n_tr, n_va = int(0.6 * n), int(0.2 * n)
    tr, va, te = norm_idx[:n_tr], norm_idx[n_tr:n_tr + n_va], norm_idx[n_tr + n_va:]

    def n_anomalies(n_norm: int) -> int:
        return max(1, round(n_norm * f / (1 - f)))

    half = len(anom_idx) // 2
    a_te, a_va = n_anomalies(len(te)), n_anomalies(len(va))
    if a_te > half:  # too few anomalies: take half the pool and trim the normals to keep the fraction
        a_te, te = half, te[:max(1, round(half * (1 - f) / f))]
    if a_va > half:
        a_va, va = half, va[:max(1, round(half * (1 - f) / f))]
    test = torch.cat([te, anom_idx[:a_te]])
    val = torch.cat([va, anom_idx[a_te:a_te + a_va]])
    lab = (~is_norm).long()
    return Split(dataset, "p1", normal, f, seed, x_train=x[tr], x_test=x[test], y_test=lab[test], c_test=y[test],
                 x_val=x[val], y_val=lab[val], c_val=y[val])


def protocol2(x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor, y_test: torch.Tensor,
              normal: int | Sequence[int], dataset: str = "mnist") -> Split:
    """Protocol p2: train on the normal class(es) of the standard train split (x_train, y_train);
    test on the whole test split (x_test, y_test), every other class anomalous. No validation split."""
    _checks.choice(dataset, "dataset", DATASETS)
    _checks.images(x_train, "x_train")
    y_train = _checks.labels(y_train, x_train.shape[0], "y_train", NUM_CLASSES[dataset])
    _checks.images(x_test, "x_test")
    y_test = _checks.labels(y_test, x_test.shape[0], "y_test", NUM_CLASSES[dataset])
    if x_test.shape[1:] != x_train.shape[1:]:
        raise ValueError(f"x_test must hold images of the shape of x_train's {tuple(x_train.shape[1:])}, "
                         f"got {tuple(x_test.shape[1:])}")
    normal = _normal_classes(normal, dataset)
    keep = _is_normal(y_train, normal)
    if not keep.any():
        raise ValueError(f"the train split holds no image of the normal class(es) {list(normal)}")
    lab = (~_is_normal(y_test, normal)).long()
    if lab.min() == lab.max():
        raise ValueError("the test split must hold both normal and anomalous images")
    return Split(dataset, "p2", normal, None, 0, x_train=x_train[keep], x_test=x_test, y_test=lab, c_test=y_test)


def prepare(dataset: str, protocol: str, normal: int | Sequence[int], anomaly_fraction: float | None = None,
            seed: int = 0, root: str | Path | None = None, max_train: int | None = None,
            max_test: int | None = None) -> Split:
    """The :class:`Split` of ``dataset`` under ``protocol`` ("p1" or "p2") for the ``normal`` class(es).

    p1 needs ``anomaly_fraction`` in (0, 1) (default 0.5; for COIL-100 the public choice for 1/4/7
    normal objects, :data:`COIL_FRACTIONS`). COIL-100 supports p1 only. ``max_train`` / ``max_test``
    keep a deterministic subset (stratified over normal/anomalous for the test and validation splits),
    for quick runs and tests.
    """
    _checks.choice(dataset, "dataset", DATASETS)
    _checks.choice(protocol, "protocol", PROTOCOLS)
    normal = _normal_classes(normal, dataset)
    seed = _checks.integer(seed, "seed", 0)
    for v, name in ((max_train, "max_train"), (max_test, "max_test")):
        if v is not None:
            _checks.integer(v, name, 2)
    if protocol == "p1":
        if anomaly_fraction is None:
            anomaly_fraction = COIL_FRACTIONS.get(len(normal), 0.5) if dataset == "coil100" else 0.5
        anomaly_fraction = _fraction(anomaly_fraction)
    elif anomaly_fraction is not None:
        raise ValueError("anomaly_fraction applies to protocol p1 only; p2 tests on the whole test split")
    if dataset == "coil100" and protocol == "p2":
        raise ValueError("coil100 has no standard train/test split: use protocol p1")
    sets = load_dataset(dataset, root)
    if protocol == "p1":
        x, y = sets["all"] if "all" in sets else (torch.cat([sets["train"][0], sets["test"][0]]),
                                                   torch.cat([sets["train"][1], sets["test"][1]]))
        split = protocol1(x, y, normal, anomaly_fraction, seed, dataset)
    else:
        split = protocol2(*sets["train"], *sets["test"], normal, dataset)
    return _limit(split, max_train, max_test)


def _limit(s: Split, max_train: int | None, max_test: int | None) -> Split:
    def cut(x, y, c, n):
        if x is None or n is None or n >= len(x):
            return x, y, c
        g = torch.Generator().manual_seed(1000 + s.seed)
        perm = torch.randperm(len(y), generator=g)
        # the same share of anomalies as before, at least one of each kind
        n_anom = min(max(1, round(n * float(y.float().mean()))), n - 1)
        take = torch.cat([perm[y[perm] == 1][:n_anom], perm[y[perm] == 0][:n - n_anom]]).sort().values
        return x[take], y[take], c[take]

    x_train = s.x_train if max_train is None else s.x_train[:max_train]
    x_test, y_test, c_test = cut(s.x_test, s.y_test, s.c_test, max_test)
    x_val, y_val, c_val = cut(s.x_val, s.y_val, s.c_val, max_test)
    return Split(s.dataset, s.protocol, s.normal, s.anomaly_fraction, s.seed, x_train, x_test, y_test, c_test,
                 x_val, y_val, c_val)


# --------------------------------------------------------------------------------------------
# The autoencoder, the latent attack, training


class AutoEncoder(nn.Module):
    """Fully connected autoencoder with sigmoid activations throughout, as in the paper:
    D → 512 → 256 → 128 (the latent code) → 256 → 512 → D, D = C·H·W.

    ``encode(x)``: (N, C, H, W) → (N, 128) in (0, 1); ``decode(z)`` → (N, C, H, W) in (0, 1);
    ``forward(x) = decode(encode(x))``. Weights: Glorot-normal, biases zero.
    """

    def __init__(self, shape: Sequence[int] = (1, 28, 28), hidden: Sequence[int] = (512, 256), latent: int = 128):
        super().__init__()
        if len(shape) != 3:
            raise ValueError(f"shape must be (C, H, W), got {tuple(shape)}")
        for s in shape:
            _checks.integer(s, "shape[i]", 1)
        for h in hidden:
            _checks.integer(h, "hidden[i]", 1)
        latent = _checks.integer(latent, "latent", 1)
        self.shape = tuple(int(s) for s in shape)
        d = math.prod(self.shape)
        widths = [d, *hidden, latent]
        enc: list[nn.Module] = [nn.Flatten()]
        for a, b in zip(widths[:-1], widths[1:]):
            enc += [nn.Linear(a, b), nn.Sigmoid()]
        dec: list[nn.Module] = []
        back = widths[::-1]
        for a, b in zip(back[:-1], back[1:]):
            dec += [nn.Linear(a, b), nn.Sigmoid()]
        dec.append(nn.Unflatten(1, self.shape))
        self.encoder, self.decoder = nn.Sequential(*enc), nn.Sequential(*dec)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def _check_ae(model: Any) -> AutoEncoder:
    _checks.module(model)
    if not (hasattr(model, "encode") and hasattr(model, "decode")):
        raise TypeError(f"model must be an autoencoder with encode() and decode(), got {type(model).__name__}")
    return model


def _check_x(model: AutoEncoder, x: Any, name: str = "x") -> torch.Tensor:
    """Images in [0, 1] of the shape the autoencoder takes."""
    _checks.images(x, name)
    shape = getattr(model, "shape", None)
    if shape is not None and tuple(x.shape[1:]) != tuple(shape):
        raise ValueError(f"{name} must hold images of shape {tuple(shape)} (the model's), got {tuple(x.shape[1:])}")
    return x


def _check_pair(model: AutoEncoder, x: Any, x_other: Any, other: str) -> None:
    model = _check_ae(model)
    _check_x(model, x)
    _check_x(model, x_other, other)
    if x_other.shape != x.shape:
        raise ValueError(f"{other} must have the shape of x {tuple(x.shape)}, got {tuple(x_other.shape)}")


def _check_generator(generator: Any) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")


def latent_distance(model: AutoEncoder, x: torch.Tensor, x_other: torch.Tensor) -> torch.Tensor:
    """Per-image mean squared distance between the latent codes of ``x`` and ``x_other`` → (N,)."""
    _check_pair(model, x, x_other, "x_other")
    return (model.encode(x) - model.encode(x_other)).pow(2).mean(1)


def latent_attack(model: AutoEncoder, x: torch.Tensor, eps: float = 0.2, *, steps: int = 40,
                  alpha: float | None = None, random_start: bool = True,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """L∞ PGD that *maximises* the latent distance MSE(E(x), E(x')) within ``eps`` of ``x``.

    x: (N, C, H, W) in [0, 1]. ``alpha`` defaults to ``2.5 * eps / steps``; the random start is
    uniform in the ε-ball (drawn from ``generator`` if given). Returns x' (N, C, H, W) in [0, 1]
    with ‖x' − x‖∞ ≤ eps. The model's parameters get no gradient.
    """
    model = _check_ae(model)
    _check_x(model, x)
    eps = _checks.number(eps, "eps", 0.0, 1.0)
    steps = _checks.integer(steps, "steps", 1, MAX_STEPS)
    alpha = 2.5 * eps / steps if alpha is None else _checks.number(alpha, "alpha", 0.0, 1.0)
    _check_generator(generator)
    if eps == 0:
        return x.clone()
    with torch.no_grad():
        z = model.encode(x)
        if random_start:
            noise = torch.rand(x.shape, generator=generator).to(x.device) if generator is not None \
                else torch.rand_like(x)
            x_adv = (x + (2 * noise - 1) * eps).clamp_(0, 1)
        else:
            x_adv = x.clone()
    for _ in range(steps):
        x_adv.requires_grad_(True)
        loss = (model.encode(x_adv) - z).pow(2).mean(1).sum()
        (grad,) = torch.autograd.grad(loss, x_adv)
        with torch.no_grad():
            x_adv = x_adv.detach() + alpha * grad.sign()
            x_adv = torch.min(torch.max(x_adv, x - eps), x + eps).clamp_(0, 1)
    return x_adv.detach()


def arae_loss(model: AutoEncoder, x: torch.Tensor, x_adv: torch.Tensor,
              gamma: float = 0.1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """ARAE's objective on a batch: ``(total, reconstruction, latent)`` with
    total = MSE(D(E(x_adv)), x) + γ · MSE(E(x), E(x_adv)) (means over pixels / latent units and images)."""
    _check_pair(model, x, x_adv, "x_adv")
    gamma = _checks.number(gamma, "gamma", 0.0)
    z, z_adv = model.encode(x), model.encode(x_adv)
    rec = F.mse_loss(model.decode(z_adv), x)
    lat = F.mse_loss(z, z_adv)
    return rec + gamma * lat, rec, lat


def dae_loss(model: AutoEncoder, x: torch.Tensor, noise_std: float = DAE_NOISE_STD,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """The denoising objective MSE(D(E(clip(x + σ·N(0, 1)))), x); σ = 0 is a plain autoencoder."""
    _check_x(_check_ae(model), x)
    noise_std = _checks.number(noise_std, "noise_std", 0.0, 10.0)
    _check_generator(generator)
    if noise_std > 0:
        noise = torch.randn(x.shape, generator=generator).to(x.device) if generator is not None \
            else torch.randn_like(x)
        x_in = (x + noise_std * noise).clamp(0, 1)
    else:
        x_in = x
    return F.mse_loss(model(x_in), x)


def fit(model: AutoEncoder, x: torch.Tensor, *, method: str = "arae", epochs: int = 10, batch_size: int = 256,
        lr: float = 1e-3, gamma: float = 0.1, eps: float = 0.2, steps: int = 40, alpha: float | None = None,
        noise_std: float = DAE_NOISE_STD, eps_warmup_epochs: float = 0.0, seed: int = 0,
        progress_bar: bool = True, desc: str | None = None) -> list[dict[str, float]]:
    """Train ``model`` in place on the normal images ``x`` (N, C, H, W) in [0, 1] with Adam.

    ``method``: "arae" (latent-robust training, :func:`arae_loss` on :func:`latent_attack`'s
    examples, crafted for each batch against the current model), "dae" (:func:`dae_loss` with
    ``noise_std``) or "ae" (plain reconstruction). With ``eps_warmup_epochs`` > 0 the attack's ε
    (and its default step) grows linearly from 0 to ``eps`` over that many epochs (0: the paper's
    constant ε). Returns one ``{"epoch", "loss", ...}`` per epoch.
    Same seed → same model.
    """
    model = _check_ae(model)
    _check_x(model, x)
    _checks.choice(method, "method", METHODS)
    epochs = _checks.integer(epochs, "epochs", 1, MAX_EPOCHS)
    batch_size = _checks.integer(batch_size, "batch_size", 1)
    lr = _checks.number(lr, "lr", 0.0, 10.0, lo_open=True)
    gamma = _checks.number(gamma, "gamma", 0.0)
    eps = _checks.number(eps, "eps", 0.0, 1.0)
    steps = _checks.integer(steps, "steps", 1, MAX_STEPS)
    if alpha is not None:
        _checks.number(alpha, "alpha", 0.0, 1.0)
    noise_std = _checks.number(noise_std, "noise_std", 0.0, 10.0)
    eps_warmup_epochs = _checks.number(eps_warmup_epochs, "eps_warmup_epochs", 0.0, float(epochs))
    _checks.seed(seed)
    gen = set_seed(seed)
    device = model_device(model)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history, step, per_epoch = [], 0, math.ceil(len(x) / batch_size)
    bar = progress(total=epochs * per_epoch, desc=desc or method, enabled=progress_bar)
    for epoch in range(epochs):
        sums, seen = {"loss": 0.0, "rec": 0.0, "latent": 0.0}, 0
        for idx in batches(len(x), batch_size, gen, shuffle=True):
            xb = x[idx].to(device)
            if method == "arae":
                model.eval()
                ramp = min(1.0, (step + 1) / (eps_warmup_epochs * per_epoch)) if eps_warmup_epochs else 1.0
                x_adv = latent_attack(model, xb, eps * ramp, steps=steps, alpha=alpha, generator=gen)
                model.train()
                loss, rec, lat = arae_loss(model, xb, x_adv, gamma)
                sums["rec"] += float(rec.detach()) * len(idx)
                sums["latent"] += float(lat.detach()) * len(idx)
            else:
                model.train()
                loss = dae_loss(model, xb, noise_std if method == "dae" else 0.0, generator=gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sums["loss"] += float(loss.detach()) * len(idx)
            seen += len(idx)
            step += 1
            bar.update()
            bar.set_postfix(epoch=epoch + 1, loss=f"{sums['loss'] / seen:.4f}", refresh=False)
        rec = {"epoch": epoch + 1, "loss": sums["loss"] / seen}
        if method == "arae":
            rec.update(rec_loss=sums["rec"] / seen, latent_loss=sums["latent"] / seen)
        history.append(rec)
    bar.close()
    model.eval()
    return history


# --------------------------------------------------------------------------------------------
# Scores and metrics


@torch.no_grad()
def scores(model: AutoEncoder, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Anomaly scores (N,): each image's mean squared reconstruction error of the *clean* input."""
    model = _check_ae(model)
    _check_x(model, x)
    batch_size = _checks.integer(batch_size, "batch_size", 1)
    was = model.training
    model.eval()
    device = model_device(model)
    out = torch.cat([(model(x[i].to(device)) - x[i].to(device)).pow(2).flatten(1).mean(1).cpu()
                     for i in batches(len(x), batch_size)])
    model.train(was)
    return out


def _check_scored(s: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(s, (str, bytes)) or isinstance(labels, (str, bytes)):
        raise TypeError("scores and labels must be sequences of numbers, not strings")
    try:
        s = np.asarray(s.detach().cpu() if isinstance(s, torch.Tensor) else s, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"scores must be a 1-D sequence of numbers, got {type(s).__name__}") from None
    lab = np.asarray(labels.detach().cpu() if isinstance(labels, torch.Tensor) else labels)
    if s.ndim != 1 or lab.shape != s.shape:
        raise ValueError(f"scores and labels must be 1-D of equal length, got shapes {s.shape} and {lab.shape}")
    if s.size == 0:
        raise ValueError("scores and labels are empty; pass at least one normal and one anomalous example")
    if not np.isfinite(s).all():
        raise ValueError("scores contain NaN or infinite values")
    if not np.isin(lab, (0, 1)).all():
        raise ValueError("labels must be 0 (normal) or 1 (anomaly)")
    if len(np.unique(lab)) != 2:
        raise ValueError("labels must contain both normal (0) and anomalous (1) examples")
    return s, lab.astype(np.int64)


def auroc(s: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray) -> float:
    """Area under the ROC curve of scores ``s`` (N,) for ``labels`` (N,), 1 = anomaly (sklearn)."""
    from sklearn.metrics import roc_auc_score

    s, lab = _check_scored(s, labels)
    return float(roc_auc_score(lab, s))


def roc(s: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(false-positive rates, true-positive rates) of the ROC curve, 1 = anomaly (sklearn's roc_curve)."""
    from sklearn.metrics import roc_curve

    s, lab = _check_scored(s, labels)
    fpr, tpr, _ = roc_curve(lab, s)
    return fpr, tpr


def f1_at(s: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray, threshold: float) -> float:
    """F1 of "anomaly if score > threshold", the anomalies being the positive class (sklearn)."""
    from sklearn.metrics import f1_score

    s, lab = _check_scored(s, labels)
    threshold = _checks.number(threshold, "threshold", -math.inf)
    return float(f1_score(lab, (s > threshold).astype(np.int64), zero_division=0))


def best_threshold(s: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray) -> float:
    """The threshold that maximises F1 on a *validation* set (scores ``s``, labels 1 = anomaly).

    Candidates are the midpoints between consecutive distinct scores (and below the lowest);
    ties go to the lowest threshold. Under p1 the validation split holds normal images and
    anomalies disjoint from the test split's, at the test split's anomaly fraction.
    """
    s, lab = _check_scored(s, labels)
    u = np.unique(s)
    cands = np.concatenate([[u[0] - 1e-12], (u[:-1] + u[1:]) / 2]) if len(u) > 1 else u - 1e-12
    tp_cum = np.cumsum(lab[np.argsort(-s, kind="stable")])  # positives among the k highest scores
    n_pos = lab.sum()
    # for each candidate t, predicted positives = #{s > t}
    k = len(s) - np.searchsorted(np.sort(s), cands, side="right")
    tp = np.where(k > 0, tp_cum[np.maximum(k - 1, 0)], 0)
    f1 = np.where(k > 0, 2 * tp / (k + n_pos), 0.0)
    return float(cands[int(np.argmax(f1))])


def evaluate(model: AutoEncoder, split: Split) -> dict[str, float]:
    """``{"auroc"}`` on the test split, and for p1 also ``{"f1", "threshold"}`` with the threshold
    chosen on the validation split (:func:`best_threshold`)."""
    if not isinstance(split, Split):
        raise TypeError(f"split must be a novelty.Split (see prepare), got {type(split).__name__}")
    out = {"auroc": auroc(scores(model, split.x_test), split.y_test)}
    if split.x_val is not None:
        t = best_threshold(scores(model, split.x_val), split.y_val)
        out.update(f1=f1_at(scores(model, split.x_test), split.y_test, t), threshold=t)
    return out


# --------------------------------------------------------------------------------------------
# Recipes, the zoo entries


def recipe(dataset: str, protocol: str, normal: int | Sequence[int], method: str, *, epochs: int,
           anomaly_fraction: float | None = None, seed: int = 0, **overrides: Any) -> dict[str, Any]:
    """A JSON-able training recipe with the paper's settings for ``dataset`` (overridable)."""
    _checks.choice(dataset, "dataset", DATASETS)
    _checks.choice(protocol, "protocol", PROTOCOLS)
    _checks.choice(method, "method", METHODS)
    _checks.integer(epochs, "epochs", 1, MAX_EPOCHS)
    _checks.seed(seed)
    if protocol == "p1" and anomaly_fraction is not None:
        _fraction(anomaly_fraction)
    rec = {"dataset": dataset, "protocol": protocol, "normal": list(_normal_classes(normal, dataset)),
           "anomaly_fraction": anomaly_fraction if protocol == "p1" else None, "method": method,
           "epochs": epochs, "batch_size": BATCH_SIZE[dataset], "lr": 1e-3, "gamma": 0.1, "eps": EPS[dataset],
           "steps": STEPS[dataset], "noise_std": DAE_NOISE_STD, "eps_warmup_epochs": 0.0, "seed": seed,
           "max_train": None, "max_test": None}
    unknown = set(overrides) - set(rec)
    if unknown:
        raise ValueError(f"unknown recipe setting(s) {sorted(unknown)}; known: {sorted(rec)}")
    rec.update(overrides)
    _check_settings(rec)
    return rec


def _check_settings(rec: dict[str, Any]) -> None:
    """The training settings of a recipe, checked as :func:`fit` and :func:`prepare` check them."""
    checks = {"batch_size": lambda v: _checks.integer(v, "batch_size", 1),
              "lr": lambda v: _checks.number(v, "lr", 0.0, 10.0, lo_open=True),
              "gamma": lambda v: _checks.number(v, "gamma", 0.0),
              "eps": lambda v: _checks.number(v, "eps", 0.0, 1.0),
              "steps": lambda v: _checks.integer(v, "steps", 1, MAX_STEPS),
              "noise_std": lambda v: _checks.number(v, "noise_std", 0.0, 10.0),
              "eps_warmup_epochs": lambda v: _checks.number(v, "eps_warmup_epochs", 0.0, float(rec["epochs"])),
              "max_train": lambda v: v is None or _checks.integer(v, "max_train", 2),
              "max_test": lambda v: v is None or _checks.integer(v, "max_test", 2)}
    for key, check in checks.items():
        if key in rec:
            check(rec[key])


_RECIPE_KEYS = ("dataset", "protocol", "normal", "method", "epochs")


def _check_recipe(rec: Any) -> dict[str, Any]:
    if not isinstance(rec, dict) or any(k not in rec for k in _RECIPE_KEYS):
        raise TypeError(f"rec must be a recipe dict (see novelty.recipe) with keys {list(_RECIPE_KEYS)}, "
                        f"got {type(rec).__name__}")
    _checks.choice(rec["dataset"], "rec['dataset']", DATASETS)
    _checks.choice(rec["protocol"], "rec['protocol']", PROTOCOLS)
    _checks.choice(rec["method"], "rec['method']", METHODS)
    _checks.integer(rec["epochs"], "rec['epochs']", 1, MAX_EPOCHS)
    return rec


def split_of(rec: dict[str, Any], root: str | Path | None = None) -> Split:
    """The :class:`Split` a recipe trains and tests on."""
    _check_recipe(rec)
    return prepare(rec["dataset"], rec["protocol"], rec["normal"], rec.get("anomaly_fraction"),
                   seed=rec.get("seed", 0), root=root, max_train=rec.get("max_train"),
                   max_test=rec.get("max_test"))


def make(rec: dict[str, Any]) -> AutoEncoder:
    """The untrained autoencoder for a recipe's dataset."""
    _check_recipe(rec)
    return AutoEncoder(SHAPES[rec["dataset"]])


def train_recipe(model: AutoEncoder, rec: dict[str, Any], progress_bar: bool = True,
                 root: str | Path | None = None) -> dict[str, Any]:
    """Fit ``model`` with a recipe on its split's training images; return its test metrics."""
    model = _check_ae(model)
    _check_recipe(rec)
    if tuple(getattr(model, "shape", SHAPES[rec["dataset"]])) != SHAPES[rec["dataset"]]:
        raise ValueError(f"model takes images of shape {tuple(model.shape)} but rec['dataset'] "
                         f"{rec['dataset']!r} has {SHAPES[rec['dataset']]}")
    _check_settings(rec)
    split = split_of(rec, root)
    hist = fit(model, split.x_train, method=rec["method"], epochs=rec["epochs"], batch_size=rec["batch_size"],
               lr=rec["lr"], gamma=rec["gamma"], eps=rec["eps"], steps=rec["steps"], noise_std=rec["noise_std"],
               eps_warmup_epochs=rec.get("eps_warmup_epochs", 0.0), seed=rec.get("train_seed", rec["seed"]),
               progress_bar=progress_bar,
               desc=f"{rec['method']} {rec['dataset']} {rec['protocol']} {rec['normal']}")
    return {**evaluate(model, split), "train_loss": hist[-1]["loss"]}


def zoo_name(protocol: str, normal: int, method: str, dataset: str = "mnist") -> str:
    """The zoo name of a chapter model, e.g. ``novelty-mnist-p2-8-arae``."""
    _checks.choice(protocol, "protocol", PROTOCOLS)
    _checks.choice(method, "method", METHODS)
    _checks.choice(dataset, "dataset", DATASETS)
    _checks.integer(normal, "normal", 0, NUM_CLASSES[dataset] - 1)
    return f"novelty-{dataset}-{protocol}-{normal}-{method}"


# Training passes over the normal images. The public Keras script makes 1,600 passes on MNIST and
# the union model 500; the full profile makes 200 with the paper's settings. The quick profile is a
# CPU budget: 40 passes in batches of 64 (more Adam steps for the same work) with a 5-step attack
# (step 2.5ε/5) instead of 40 steps, and ε ramped up over the first 10 passes — a sigmoid network
# facing the full ε from the start spends a short schedule outputting the mean image.
EPOCHS = {"quick": 40, "full": 200}
QUICK = {"batch_size": 64, "steps": 5, "eps_warmup_epochs": 10.0}
P1_FRACTION = 0.5


def _register() -> None:
    for protocol in PROTOCOLS:
        for c in range(10):
            for method in ("dae", "arae"):
                frac = P1_FRACTION if protocol == "p1" else None
                recs = {p: recipe("mnist", protocol, c, method, epochs=EPOCHS[p], anomaly_fraction=frac,
                                  **(QUICK if p == "quick" else {}))
                        for p in profiles.NAMES}
                zoo.register(zoo.Entry(
                    zoo_name(protocol, c, method), recs, make, lambda m, r, pb: train_recipe(m, r, pb),
                    f"{method.upper()} novelty detector, MNIST normal class {c}, protocol {protocol}"))


_register()


# --------------------------------------------------------------------------------------------
# Command line

SPEC_FILE, MODEL_FILE = "split.json", "model.pt"


def _parse_prepare(dataset: str, protocol: str, rest: list[str]) -> tuple[float | None, list[int]]:
    def num(s: str, kind: type, what: str):
        try:
            return kind(s)
        except ValueError:
            raise ValueError(f"{what} must be a {kind.__name__}, got {s!r}") from None

    if protocol == "p1":
        if len(rest) < 2:
            raise ValueError("p1 takes an anomaly fraction and at least one normal class: "
                             "prepare DATASET p1 FRACTION CLASS [CLASS ...]")
        return num(rest[0], float, "anomaly fraction"), [num(c, int, "class") for c in rest[1:]]
    if not rest:
        raise ValueError("p2 takes the normal class(es): prepare DATASET p2 CLASS [CLASS ...]")
    return None, [num(c, int, "class") for c in rest]


def _load_checkpoint(where: str) -> tuple[AutoEncoder, dict[str, Any], str | None]:
    """(model, recipe, data root) from a checkpoint file (sha256-verified) or a zoo name."""
    path = Path(where)
    if not path.is_file() and where.startswith("novelty-"):
        model = zoo.load(where, device="cpu")
        return model, model.meta["recipe"], None  # type: ignore[attr-defined]
    ckpt = io.load_verified(path)
    if (not isinstance(ckpt, dict) or not isinstance(ckpt.get("state_dict"), dict)
            or not isinstance(ckpt.get("meta"), dict) or not isinstance(ckpt["meta"].get("recipe"), dict)):
        raise io.ChecksumError(f"{path} is not a novelty checkpoint (no state_dict/meta)")
    rec = ckpt["meta"]["recipe"]
    try:
        model = make(rec)
        model.load_state_dict(ckpt["state_dict"])
    except (TypeError, ValueError, RuntimeError) as e:
        raise io.ChecksumError(f"{path} is not a novelty checkpoint of its recipe ({type(e).__name__}: {e})") \
            from None
    return model.eval(), rec, ckpt["meta"].get("root")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m robustcore.novelty", description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", default="novelty-run", help="working folder for the split and the model")
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("prepare", help="choose the task: DATASET p1 FRACTION CLASS... | DATASET p2 CLASS...")
    pp.add_argument("dataset")
    pp.add_argument("protocol")
    pp.add_argument("rest", nargs="*", metavar="ARG")
    pp.add_argument("--seed", type=int, default=0)
    pp.add_argument("--root", default=None, help=f"data root (default ${data.ENV_VAR})")
    pp.add_argument("--max-train", type=int, default=None)
    pp.add_argument("--max-test", type=int, default=None)
    pt = sub.add_parser("train", help="train an autoencoder on the prepared split")
    pt.add_argument("--method", choices=METHODS, default="arae")
    pt.add_argument("--epochs", type=int, default=None,
                    help="default: the profile's (quick 40, full 200); the other settings default to the paper's")
    for flag, kind in (("--batch-size", int), ("--lr", float), ("--gamma", float), ("--eps", float),
                       ("--steps", int), ("--noise-std", float), ("--seed", int)):
        pt.add_argument(flag, type=kind, default=None)
    pe = sub.add_parser("test", help="AUROC (and F1 for p1) of a checkpoint on its split")
    pe.add_argument("checkpoint", nargs="?", default=None, help="a checkpoint file or a zoo name "
                    f"(default: <dir>/{MODEL_FILE})")
    args = p.parse_args(argv)
    run = Path(args.dir)
    try:
        if args.cmd == "prepare":
            _checks.choice(args.dataset, "dataset", DATASETS)
            _checks.choice(args.protocol, "protocol", PROTOCOLS)
            frac, classes = _parse_prepare(args.dataset, args.protocol, args.rest)
            split = prepare(args.dataset, args.protocol, classes, frac, seed=args.seed, root=args.root,
                            max_train=args.max_train, max_test=args.max_test)
            spec = {"dataset": args.dataset, "protocol": args.protocol, "normal": list(split.normal),
                    "anomaly_fraction": split.anomaly_fraction, "seed": args.seed, "root": args.root,
                    "max_train": args.max_train, "max_test": args.max_test}
            run.mkdir(parents=True, exist_ok=True)
            io.atomic_write_json(spec, run / SPEC_FILE)
            print(split.summary())
            print(f"wrote {run / SPEC_FILE}")
            return 0
        if args.cmd == "train":
            spec_path = run / SPEC_FILE
            if not spec_path.is_file():
                raise FileNotFoundError(f"no {SPEC_FILE} in {run}; run `prepare` first")
            spec = json.loads(spec_path.read_text())
            root = spec.pop("root", None)
            epochs = args.epochs if args.epochs is not None else EPOCHS[profiles.default_name()]
            over = {k: v for k, v in (("batch_size", args.batch_size), ("lr", args.lr), ("gamma", args.gamma),
                                      ("eps", args.eps), ("steps", args.steps), ("noise_std", args.noise_std))
                    if v is not None}
            rec = recipe(spec["dataset"], spec["protocol"], spec["normal"], args.method, epochs=epochs,
                         anomaly_fraction=spec["anomaly_fraction"], seed=spec["seed"],
                         max_train=spec["max_train"], max_test=spec["max_test"], **over)
            if args.seed is not None:  # the training seed; the split keeps the one it was prepared with
                rec["train_seed"] = args.seed
            model = make(rec)
            t0 = time.perf_counter()
            metrics = train_recipe(model, rec, root=root)
            meta = {"recipe": rec, "metrics": metrics, "root": root,
                    "train_seconds": round(time.perf_counter() - t0, 1), "torch": str(torch.__version__)}
            state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
            digest = io.atomic_save({"state_dict": state, "meta": meta}, run / MODEL_FILE)
            print(f"trained {args.method} in {meta['train_seconds']} s: "
                  + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
            print(f"wrote {run / MODEL_FILE} (sha256 {digest[:12]}…)")
            return 0
        where = args.checkpoint or str(run / MODEL_FILE)
        model, rec, root = _load_checkpoint(where)
        res = evaluate(model, split_of(rec, root))
        print(f"{rec['method']} on {rec['dataset']} {rec['protocol']} normal {rec['normal']}: "
              + ", ".join(f"{k} {v:.4f}" for k, v in res.items()))
        return 0
    except (ValueError, TypeError, FileNotFoundError) as e:
        p.error(str(e))
    return 2


if __name__ == "__main__":
    sys.exit(main())
