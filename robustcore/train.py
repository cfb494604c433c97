"""Standard and adversarial training, and evaluation (clean or under an attack).

Training data are in-memory tensors: x (N, C, H, W) float in [0, 1], y (N,) int64.
Adversarial training (Madry et al., 2018) replaces each batch by its adversarial
version before the gradient step; the attack is given as a spec such as
``{"name": "pgd", "eps": 0.3, "steps": 7}`` so that it can be stored in a recipe
and its ε ramped up over the first epochs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from . import attacks, certify, checks
from .utils import batches, eval_mode, model_device, progress as progress_bar, set_seed

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "cosine")


def _check_attack_spec(spec: dict | None) -> dict | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or "name" not in spec or "eps" not in spec:
        raise TypeError(
            "attack must be None or a dict like {'name': 'pgd', 'eps': 0.3, ...}, "
            f"got {spec!r}"
        )
    checks.choice(spec["name"], "attack['name']", tuple(attacks.ATTACKS))
    checks.number(spec["eps"], "attack['eps']", 0.0)
    return dict(spec)


def _check_attack(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, spec: dict | None
) -> tuple[torch.Tensor, dict | None]:
    """Check the data ``(model, x, y)`` and an attack spec once, before a loop over
    batches: returns ``y`` as int64 and the spec with every setting checked, defaults
    filled in (None: no attack)."""
    spec = _check_attack_spec(spec)
    if spec is None:
        checks.module(model)
        checks.images(x)
        return checks.model_labels(model, x, y), None
    name = spec.pop("name")
    y, settings = attacks.check(name, model, x, y, **spec)
    return y, {"name": name, **settings}


def _ramped(spec: dict, frac: float) -> dict:
    """The attack spec with ε (and an explicit step size) scaled by ``frac`` in
    [0, 1]."""
    out = dict(spec)
    out["eps"] = spec["eps"] * frac
    if spec.get("alpha") is not None:
        out["alpha"] = spec["alpha"] * frac
    return out


def _check_ibp(spec: dict | None, attack: dict | None) -> dict | None:
    if spec is None:
        return None
    if attack is not None:
        raise ValueError(
            "pass an attack or ibp, not both: they are two kinds of training"
        )
    if not isinstance(spec, dict) or set(spec) - {"eps", "kappa"} or "eps" not in spec:
        raise TypeError(
            "ibp must be None or a dict like {'eps': 0.4, 'kappa': 0.5}, "
            f"got {spec!r}"
        )
    return {
        "eps": checks.number(spec["eps"], "ibp['eps']", 0.0, 1.0),
        "kappa": checks.number(spec.get("kappa", 0.5), "ibp['kappa']", 0.0, 1.0),
    }


def attack_batch(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    spec: dict,
    eps_scale: float = 1.0,
) -> torch.Tensor:
    """:func:`run_attack` without checks: callers validate (with :func:`_check_attack`).
    x, y on the model's device; ``spec`` as :func:`_check_attack` returns it."""
    settings = _ramped(spec, eps_scale)
    return attacks.ATTACKS[settings.pop("name")].unchecked(model, x, y, **settings)


def run_attack(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    spec: dict,
    eps_scale: float = 1.0,
) -> torch.Tensor:
    """Adversarial version of the batch (x, y) under an attack spec, with ε scaled by
    ``eps_scale``."""
    eps_scale = checks.number(eps_scale, "eps_scale", 0.0, 1.0)
    if spec is None:
        raise TypeError(
            "attack spec must be a dict like {'name': 'pgd', 'eps': 0.3, ...}, got None"
        )
    y, spec = _check_attack(model, x, y, spec)
    device = model_device(model)
    return attack_batch(model, x.to(device), y.to(device), spec, eps_scale).to(x.device)


def train(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 1,
    batch_size: int = 128,
    lr: float = 1e-3,
    optimizer: str = "adam",
    schedule: str = "cosine",
    weight_decay: float = 0.0,
    attack: dict | None = None,
    ibp: dict | None = None,
    eps_warmup_epochs: float = 0.0,
    seed: int = 0,
    progress: bool = True,
    desc: str = "train",
) -> list[dict]:
    """Train ``model`` in place on (x, y); return one ``{"epoch", "loss", "acc"}``
    record per epoch.

    ``attack=None`` is standard training; an attack spec makes it adversarial training,
    with ε ramped linearly from 0 over the first ``eps_warmup_epochs`` epochs.
    ``ibp={"eps": 0.4, "kappa": 0.5}`` makes it certified training instead
    (:func:`robustcore.certify.ibp_loss`), ε ramped from 0 and κ from 1 over the same
    epochs. ``acc`` is the training accuracy on the (possibly adversarial) batches seen.
    """
    y, attack = _check_attack(model, x, y, attack)
    ibp = _check_ibp(ibp, attack)
    epochs = checks.integer(epochs, "epochs", 1, 10_000)
    batch_size = checks.integer(batch_size, "batch_size", 1)
    checks.seed(seed)
    lr = checks.number(lr, "lr", 0.0, 10.0, lo_open=True)
    checks.choice(optimizer, "optimizer", OPTIMIZERS)
    checks.choice(schedule, "schedule", SCHEDULES)
    checks.number(weight_decay, "weight_decay", 0.0, 1.0)
    checks.number(eps_warmup_epochs, "eps_warmup_epochs", 0.0, float(epochs))

    gen = set_seed(seed)
    device = model_device(model)
    opt = (
        torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        if optimizer == "adam"
        else torch.optim.SGD(
            model.parameters(),
            lr=lr,
            momentum=0.9,
            weight_decay=weight_decay,
            nesterov=True,
        )
    )
    steps_per_epoch = math.ceil(len(y) / batch_size)
    total = epochs * steps_per_epoch
    sched = (
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
        if schedule == "cosine"
        else torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    )
    history, step = [], 0
    bar = progress_bar(total=total, desc=desc, enabled=progress)
    for epoch in range(epochs):
        model.train()
        loss_sum, correct, seen = 0.0, 0, 0
        for idx in batches(len(y), batch_size, gen, shuffle=True):
            xb, yb = x[idx].to(device), y[idx].to(device)
            # the share of the final ε this step trains at: linear over the warm-up
            ramp = (
                min(1.0, (step + 1) / (eps_warmup_epochs * steps_per_epoch))
                if eps_warmup_epochs
                else 1.0
            )
            if attack is not None:
                # adversarial training: train on the attacked batch instead
                xb = attack_batch(model, xb, yb, attack, eps_scale=ramp)
            if ibp is not None:
                kappa = 1.0 - ramp * (1.0 - ibp["kappa"])
                loss = certify.ibp_loss(model, xb, yb, ibp["eps"] * ramp, kappa)
                with torch.no_grad():
                    logits = model(xb)
            else:
                logits = model(xb)
                loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            loss_sum += float(loss.detach()) * len(yb)
            correct += int((logits.argmax(1) == yb).sum())
            seen += len(yb)
            bar.update()
            bar.set_postfix(
                epoch=epoch + 1,
                loss=f"{loss_sum / seen:.3f}",
                acc=f"{correct / seen:.3f}",
                refresh=False,
            )
        history.append(
            {"epoch": epoch + 1, "loss": loss_sum / seen, "acc": correct / seen}
        )
    bar.close()
    model.eval()
    return history


@torch.no_grad()
def predict(
    model: torch.nn.Module, x: torch.Tensor, batch_size: int = 1000
) -> torch.Tensor:
    """Logits (N, classes) of ``model`` in eval mode, computed in batches, on the
    CPU."""
    checks.module(model)
    checks.images(x)
    batch_size = checks.integer(batch_size, "batch_size", 1)
    device = model_device(model)
    with eval_mode(model):
        return torch.cat(
            [model(x[idx].to(device)).cpu() for idx in batches(len(x), batch_size)]
        )


def correct(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    attack: dict | None = None,
    batch_size: int = 500,
    seed: int = 0,
    progress: bool = False,
) -> torch.Tensor:
    """Per example (N,) bool: classified right, clean (``attack=None``) or on the
    adversarial example made by the attack spec, e.g.
    ``{"name": "pgd", "eps": 0.3, "steps": 40}``.

    Untargeted PGD runs as :func:`robustcore.attacks.pgd_correct`: an example counts as
    fooled once any iterate fools it and drops out there, as AutoAttack counts, so the
    attack is at least as strong as keeping the last iterate and costs a fraction of it
    on a model that PGD fools."""
    y, attack = _check_attack(model, x, y, attack)
    batch_size = checks.integer(batch_size, "batch_size", 1)
    checks.seed(seed)
    if attack is None:
        return predict(model, x, batch_size).argmax(1) == y.cpu()
    set_seed(seed)
    device = model_device(model)
    out = []
    for idx in progress_bar(
        list(batches(len(y), batch_size)), desc=attack["name"], enabled=progress
    ):
        xb, yb = x[idx].to(device), y[idx].to(device)
        if attack["name"] == "pgd" and not attack.get("targeted"):
            settings = {
                k: v for k, v in attack.items() if k not in ("name", "targeted")
            }
            out.append(attacks.pgd_correct.unchecked(model, xb, yb, **settings).cpu())
            continue
        x_adv = attack_batch(model, xb, yb, attack)
        with torch.no_grad():
            out.append((model(x_adv).argmax(1) == yb).cpu())
    return torch.cat(out)


def evaluate(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    attack: dict | None = None,
    batch_size: int = 500,
    seed: int = 0,
    progress: bool = False,
) -> float:
    """Accuracy in [0, 1] on (x, y), clean (``attack=None``) or on adversarial examples
    made by the attack spec, e.g. ``{"name": "pgd", "eps": 0.3, "steps": 40}``."""
    hits = correct(model, x, y, attack, batch_size, seed, progress)
    return int(hits.sum()) / len(hits)


def accuracy_vs_eps(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps_values: Sequence[float],
    attack: dict,
    batch_size: int = 500,
    seed: int = 0,
    progress: bool = True,
) -> list[float]:
    """Accuracy under ``attack`` (a spec without ``eps``, or whose ``eps`` is replaced)
    for each ε."""
    if not isinstance(attack, dict):
        raise TypeError(
            f"attack must be a dict like {{'name': 'pgd', 'steps': 20}}, got {attack!r}"
        )
    if (
        not isinstance(eps_values, Sequence)
        or isinstance(eps_values, str)
        or len(eps_values) == 0
    ):
        raise ValueError(
            f"eps_values must be a non-empty sequence of numbers, got {eps_values!r}"
        )
    out = []
    for eps in progress_bar(
        eps_values, desc=f"{attack.get('name', '?')} ε sweep", enabled=progress
    ):
        out.append(
            evaluate(
                model, x, y, {**attack, "eps": eps}, batch_size=batch_size, seed=seed
            )
        )
    return out
