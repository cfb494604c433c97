"""The autoencoder of ARAE and its baselines: the model, the latent attack, the losses,
training and anomaly scores (Salehi et al.). Images (N, C, H, W) in [0, 1]."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .. import checks, attacks, metrics
from ..utils import batches, eval_mode, model_device, progress, set_seed
from .protocols import Split

METHODS = ("arae", "dae", "ae")
# Upper bounds on the training budget: beyond them a call would run for days.
MAX_EPOCHS = 100_000
MAX_STEPS = 10_000
# The DAE's input noise: zero-mean Gaussian, this standard deviation, clipped to [0, 1].
DAE_NOISE_STD = 0.2


class AutoEncoder(nn.Module):
    """Fully connected autoencoder with sigmoid activations throughout, as in the paper:
    D → 512 → 256 → 128 (the latent code) → 256 → 512 → D, D = C·H·W.

    ``encode(x)``: (N, C, H, W) → (N, 128) in (0, 1); ``decode(z)`` → (N, C, H, W)
    in (0, 1); ``forward(x) = decode(encode(x))``. Weights: Glorot-normal, biases zero.
    """

    def __init__(
        self,
        shape: Sequence[int] = (1, 28, 28),
        hidden: Sequence[int] = (512, 256),
        latent: int = 128,
    ):
        super().__init__()
        if len(shape) != 3:
            raise ValueError(f"shape must be (C, H, W), got {tuple(shape)}")
        for s in shape:
            checks.integer(s, "shape[i]", 1)
        for h in hidden:
            checks.integer(h, "hidden[i]", 1)
        latent = checks.integer(latent, "latent", 1)
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


def check_autoencoder(model: Any) -> AutoEncoder:
    checks.module(model)
    if not (hasattr(model, "encode") and hasattr(model, "decode")):
        raise TypeError(
            "model must be an autoencoder with encode() and decode(), got "
            f"{type(model).__name__}"
        )
    return model


def _check_x(model: AutoEncoder, x: Any, name: str = "x") -> torch.Tensor:
    """Images in [0, 1] of the shape the autoencoder takes."""
    checks.images(x, name)
    shape = getattr(model, "shape", None)
    if shape is not None and tuple(x.shape[1:]) != tuple(shape):
        raise ValueError(
            f"{name} must hold images of shape {tuple(shape)} (the model's), got "
            f"{tuple(x.shape[1:])}"
        )
    return x


def _check_pair(model: AutoEncoder, x: Any, x_other: Any, other: str) -> None:
    model = check_autoencoder(model)
    _check_x(model, x)
    _check_x(model, x_other, other)
    if x_other.shape != x.shape:
        raise ValueError(
            f"{other} must have the shape of x {tuple(x.shape)}, got "
            f"{tuple(x_other.shape)}"
        )


def _check_generator(generator: Any) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            "generator must be a torch.Generator or None, got "
            f"{type(generator).__name__}"
        )


def latent_distance(
    model: AutoEncoder, x: torch.Tensor, x_other: torch.Tensor
) -> torch.Tensor:
    """Per-image mean squared distance between the latent codes of ``x`` and ``x_other``
    → (N,)."""
    _check_pair(model, x, x_other, "x_other")
    return (model.encode(x) - model.encode(x_other)).pow(2).mean(1)


def _check_latent_attack(model, x, eps, steps, alpha, restarts, generator, **_) -> dict:
    _check_x(check_autoencoder(model), x)
    out = {
        "eps": checks.number(eps, "eps", 0.0, 1.0),
        "steps": checks.integer(steps, "steps", 1, MAX_STEPS),
        "alpha": None if alpha is None else checks.number(alpha, "alpha", 0.0, 1.0),
        "restarts": checks.integer(restarts, "restarts", 1, 1_000),
    }
    _check_generator(generator)
    return out


@checks.checked(_check_latent_attack)
def latent_attack(
    model: AutoEncoder,
    x: torch.Tensor,
    eps: float = 0.2,
    *,
    steps: int = 40,
    alpha: float | None = None,
    random_start: bool = True,
    restarts: int = 1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """L∞ PGD that *maximises* the latent distance MSE(E(x), E(x')) within ``eps`` of
    ``x``.

    x: (N, C, H, W) in [0, 1]. ``alpha`` defaults to ``2.5 * eps / steps``; the random
    start is uniform in the ε-ball (drawn from ``generator`` if given). With
    ``restarts > 1`` each image keeps the run that moved its code furthest. Returns x'
    (N, C, H, W) in [0, 1] with ‖x' − x‖∞ ≤ eps. The model's parameters get no
    gradient.
    """
    if eps == 0:
        return x.clone()
    with torch.no_grad():
        z = model.encode(x)

    def loss(x_adv: torch.Tensor) -> torch.Tensor:
        # the latent distance, summed over the batch
        return (model.encode(x_adv) - z).pow(2).mean(1).sum()

    alpha = 2.5 * eps / steps if alpha is None else alpha
    ball = attacks.Ball(x, eps, "linf")
    best, best_d = None, None
    for _ in range(restarts):
        x_adv = attacks.projected_ascent(
            loss, ball, steps, alpha, random_start=random_start, generator=generator
        )
        with torch.no_grad():
            d = (model.encode(x_adv) - z).pow(2).mean(1)
        if best is None:
            best, best_d = x_adv, d
        else:  # keep, per image, the run that moved the code furthest
            better = d > best_d
            best = torch.where(better.view(-1, 1, 1, 1), x_adv, best)
            best_d = torch.where(better, d, best_d)
    return best


def _check_arae_loss(model, x, x_adv, gamma, **_) -> dict:
    _check_pair(model, x, x_adv, "x_adv")
    return {"gamma": checks.number(gamma, "gamma", 0.0)}


@checks.checked(_check_arae_loss)
def arae_loss(
    model: AutoEncoder, x: torch.Tensor, x_adv: torch.Tensor, gamma: float = 0.1
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """ARAE's objective on a batch: ``(total, reconstruction, latent)`` with total =
    MSE(D(E(x_adv)), x) + γ · MSE(E(x), E(x_adv)) (means over pixels / latent units
    and images)."""
    z, z_adv = model.encode(x), model.encode(x_adv)
    rec = F.mse_loss(model.decode(z_adv), x)
    lat = F.mse_loss(z, z_adv)
    return rec + gamma * lat, rec, lat


def _check_dae_loss(model, x, noise_std, generator, **_) -> dict:
    _check_x(check_autoencoder(model), x)
    noise_std = checks.number(noise_std, "noise_std", 0.0, 10.0)
    _check_generator(generator)
    return {"noise_std": noise_std}


@checks.checked(_check_dae_loss)
def dae_loss(
    model: AutoEncoder,
    x: torch.Tensor,
    noise_std: float = DAE_NOISE_STD,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The denoising objective MSE(D(E(clip(x + σ·N(0, 1)))), x); σ = 0 is a plain
    autoencoder."""
    if noise_std > 0:
        noise = (
            torch.randn(x.shape, generator=generator).to(x.device)
            if generator is not None
            else torch.randn_like(x)
        )
        x_in = (x + noise_std * noise).clamp(0, 1)
    else:
        x_in = x
    return F.mse_loss(model(x_in), x)


def _check_fit(
    model: Any,
    x: Any,
    method: Any,
    epochs: Any,
    batch_size: Any,
    lr: Any,
    gamma: Any,
    eps: Any,
    steps: Any,
    alpha: Any,
    noise_std: Any,
    eps_warmup_epochs: Any,
    seed: Any,
) -> None:
    """The arguments of :func:`fit`, checked once (errors name the argument and its
    range)."""
    _check_x(check_autoencoder(model), x)
    checks.choice(method, "method", METHODS)
    checks.integer(epochs, "epochs", 1, MAX_EPOCHS)
    checks.integer(batch_size, "batch_size", 1)
    checks.number(lr, "lr", 0.0, 10.0, lo_open=True)
    checks.number(gamma, "gamma", 0.0)
    checks.number(eps, "eps", 0.0, 1.0)
    checks.integer(steps, "steps", 1, MAX_STEPS)
    if alpha is not None:
        checks.number(alpha, "alpha", 0.0, 1.0)
    checks.number(noise_std, "noise_std", 0.0, 10.0)
    checks.number(eps_warmup_epochs, "eps_warmup_epochs", 0.0, float(epochs))
    checks.seed(seed)


def fit(
    model: AutoEncoder,
    x: torch.Tensor,
    *,
    method: str = "arae",
    epochs: int = 10,
    batch_size: int = 256,
    lr: float = 1e-3,
    gamma: float = 0.1,
    eps: float = 0.2,
    steps: int = 40,
    alpha: float | None = None,
    noise_std: float = DAE_NOISE_STD,
    eps_warmup_epochs: float = 0.0,
    seed: int = 0,
    progress_bar: bool = True,
    desc: str | None = None,
) -> list[dict[str, float]]:
    """Train ``model`` in place on the normal images ``x`` (N, C, H, W) in [0, 1] with
    Adam.

    ``method``: "arae" (latent-robust training, :func:`arae_loss` on
    :func:`latent_attack`'s examples, crafted for each batch against the current model),
    "dae" (:func:`dae_loss` with ``noise_std``) or "ae" (plain reconstruction). With
    ``eps_warmup_epochs`` > 0 the attack's ε (and its default step) grows linearly from
    0 to ``eps`` over that many epochs (0: the paper's constant ε). Returns one
    ``{"epoch", "loss", ...}`` per epoch.
    Same seed → same model.
    """
    _check_fit(
        model,
        x,
        method,
        epochs,
        batch_size,
        lr,
        gamma,
        eps,
        steps,
        alpha,
        noise_std,
        eps_warmup_epochs,
        seed,
    )
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
                ramp = (
                    min(1.0, (step + 1) / (eps_warmup_epochs * per_epoch))
                    if eps_warmup_epochs
                    else 1.0
                )
                x_adv = latent_attack.unchecked(
                    model, xb, eps * ramp, steps=steps, alpha=alpha, generator=gen
                )
                model.train()
                loss, rec, lat = arae_loss.unchecked(model, xb, x_adv, gamma)
                sums["rec"] += float(rec.detach()) * len(idx)
                sums["latent"] += float(lat.detach()) * len(idx)
            else:
                model.train()
                loss = dae_loss.unchecked(
                    model, xb, noise_std if method == "dae" else 0.0, generator=gen
                )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sums["loss"] += float(loss.detach()) * len(idx)
            seen += len(idx)
            step += 1
            bar.update()
            bar.set_postfix(
                epoch=epoch + 1, loss=f"{sums['loss'] / seen:.4f}", refresh=False
            )
        rec = {"epoch": epoch + 1, "loss": sums["loss"] / seen}
        if method == "arae":
            rec.update(rec_loss=sums["rec"] / seen, latent_loss=sums["latent"] / seen)
        history.append(rec)
    bar.close()
    model.eval()
    return history


@torch.no_grad()
def scores(model: AutoEncoder, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Anomaly scores (N,): each image's mean squared reconstruction error of the
    *clean* input."""
    model = check_autoencoder(model)
    _check_x(model, x)
    batch_size = checks.integer(batch_size, "batch_size", 1)
    device = model_device(model)
    with eval_mode(model):
        return torch.cat(
            [
                (model(x[i].to(device)) - x[i].to(device))
                .pow(2)
                .flatten(1)
                .mean(1)
                .cpu()
                for i in batches(len(x), batch_size)
            ]
        )


def evaluate_scores(
    score: Callable[[torch.Tensor], torch.Tensor], split: Split
) -> dict[str, float]:
    """``{"auroc"}`` of a scoring function ``score`` ((N, C, H, W) → (N,), higher =
    more novel) on the test split, and for p1 also ``{"f1", "threshold"}`` with the
    threshold chosen on the validation split (:func:`best_threshold`)."""
    if not isinstance(split, Split):
        raise TypeError(
            f"split must be a novelty.Split (see prepare), got {type(split).__name__}"
        )
    if not callable(score):
        raise TypeError(f"score must be callable, got {type(score).__name__}")
    test = score(split.x_test)
    out = {"auroc": metrics.auroc(test, split.y_test)}
    if split.x_val is not None:
        t = metrics.best_threshold(score(split.x_val), split.y_val)
        out.update(f1=metrics.f1_at(test, split.y_test, t), threshold=t)
    return out


def evaluate(model: AutoEncoder, split: Split) -> dict[str, float]:
    """``{"auroc"}`` on the test split, and for p1 also ``{"f1", "threshold"}`` with the
    threshold chosen on the validation split (:func:`best_threshold`)."""
    model = check_autoencoder(model)
    return evaluate_scores(lambda x: scores(model, x), split)
