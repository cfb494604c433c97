"""Strong, independent evaluation of a robust model (Carlini et al. 2019).

A model trained against PGD and tested only with PGD can look robust because of the
attack, not the model. :func:`outcomes` attacks it, on the same images, with

* PGD-40 and PGD-100 with restarts (robustcore's own attacks),
* AutoAttack, standard version (APGD-CE, APGD-T, FAB-T, Square; Croce & Hein 2020),
  built from torchattacks' attacks — an implementation independent of ours,
* Square alone, a gradient-free attack: if it beats the white-box attacks (the PGDs and
  AutoAttack's gradient-based parts, which :func:`outcomes` also reports without
  Square), gradients are masked,
* and a sanity check: at ε = 1 every image can be turned into any other, so accuracy
  must be 0;

:func:`audit` gives each accuracy with its 95% interval, :func:`table` several models'
side by side.

torchattacks is a declared dependency, at 3.3.0: its APGD, APGD-T, FAB, Square, PGD
and OnePixel are the same code as 3.5.1's (compared statement by statement: only unused
variables and one method's name differ), and it declares no dependencies, where 3.4 and
3.5 pin ``requests~=2.25.1``, which no current Jupyter installs beside. The Adversarial
Robustness Toolbox, maintained and installable, ships an AutoAttack too; it is not used
because it is another implementation of the attacks (NumPy in its loop, its own
defaults), so the committed full-profile records, measured with these attacks, would no
longer be comparable.
"""

from __future__ import annotations

from typing import Any

import torch

from . import checks, chunks, stats, tables, train
from .utils import batches, eval_mode, model_device

INSTALL = "pip install torchattacks==3.3.0"


def _torchattacks() -> Any:
    try:
        import torchattacks
    except ImportError:  # an optional dependency of the book, not of the library
        raise ImportError(
            f"the independent attacks come from torchattacks: {INSTALL}"
        ) from None
    return torchattacks


def _check(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, norm: str
) -> tuple[torch.Tensor, float]:
    """The checks shared by the attacks below; returns the labels as int64 and eps."""
    checks.module(model)
    checks.images(x)
    checks.choice(norm, "norm", ("Linf", "L2"))
    return checks.model_labels(model, x, y), checks.number(
        eps, "eps", 0.0, 1e3, lo_open=True
    )


def _still_right(
    model: torch.nn.Module,
    attack: Any,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
) -> torch.Tensor:
    device = model_device(model)
    out = []
    with eval_mode(model):
        for idx in batches(len(y), batch_size):
            xb, yb = x[idx].to(device), y[idx].to(device)
            x_adv = attack(xb, yb)
            with torch.no_grad():
                out.append((model(x_adv).argmax(1) == yb).cpu())
    return torch.cat(out)


# AutoAttack's standard version (Croce & Hein 2020): four attacks, each run on the
# images the previous ones left standing. torchattacks.AutoAttack builds it with 10
# steps per gradient attack; the paper and its reference code use 100, so we assemble it
# from torchattacks' parts.
STANDARD = ("apgd-ce", "apgd-t", "fab-t", "square")
STEPS = 100


def _check_parts(parts: Any) -> None:
    if not isinstance(parts, tuple) or not parts or not set(parts) <= set(STANDARD):
        raise ValueError(
            f"parts must be a non-empty tuple of {STANDARD}, got {parts!r}"
        )


def autoattack(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    parts: tuple[str, ...] = STANDARD,
    queries: int = 5000,
    norm: str = "Linf",
    seed: int = 0,
    batch_size: int = 250,
    name: str | None = None,
    chunk: int = 500,
) -> torch.Tensor:
    """Per image (N,) bool: still classified right after AutoAttack's ``parts``
    (default: the standard four, with 100 steps each and Square with ``queries`` model
    calls per image).

    x: (N, C, H, W) in [0, 1]; y: (N,) labels; ``eps`` in the norm's units
    (L∞: [0, 1]). ``name``: resumable, ``chunk`` images at a time kept under that
    name in the progress folder, as :func:`outcomes` (with N ≤ ``chunk``, one call:
    the same outcomes as without a name).
    """
    y, eps = _check(model, x, y, eps, norm)
    _check_parts(parts)
    queries = checks.integer(queries, "queries", 1)
    seed, batch_size = checks.seed(seed), checks.integer(batch_size, "batch_size", 1)
    if name is not None:
        kw = {"eps": eps, "parts": parts, "queries": queries, "norm": norm}
        kw |= {"seed": seed, "batch_size": batch_size}
        return chunks.evaluate(
            lambda x, y: {"right": autoattack(model, x, y, **kw)},
            x, y, name=name, model=model, chunk=chunk,
            settings={**kw, "parts": list(parts)},
        )["right"]  # fmt: skip
    ta = _torchattacks()
    k = int(train.predict(model, x[:1]).shape[1])  # the number of classes
    common = {"norm": norm, "eps": eps, "seed": seed}
    make = {
        "apgd-ce": lambda: ta.APGD(model, steps=STEPS, loss="ce", **common),
        "apgd-t": lambda: ta.APGDT(model, steps=STEPS, n_classes=k, **common),
        "fab-t": lambda: ta.FAB(
            model, steps=STEPS, multi_targeted=True, n_classes=k, **common
        ),
        "square": lambda: ta.Square(model, n_queries=queries, **common),
    }
    chosen = [make[p]() for p in STANDARD if p in parts]
    # (it wants two or more)
    attack = chosen[0] if len(chosen) == 1 else ta.MultiAttack(chosen)
    return _still_right(model, attack, x, y, batch_size)


def square(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    queries: int = 5000,
    norm: str = "Linf",
    seed: int = 0,
    batch_size: int = 250,
) -> torch.Tensor:
    """Per image (N,) bool: still right after the gradient-free Square attack
    (``queries`` model calls per image; torchattacks)."""
    y, eps = _check(model, x, y, eps, norm)
    queries = checks.integer(queries, "queries", 1)
    seed, batch_size = checks.seed(seed), checks.integer(batch_size, "batch_size", 1)
    attack = _torchattacks().Square(
        model, norm=norm, eps=eps, n_queries=queries, seed=seed
    )
    return _still_right(model, attack, x, y, batch_size)


def outcomes(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    restarts: int = 5,
    parts: tuple[str, ...] = STANDARD,
    queries: int = 5000,
    seed: int = 0,
    known: dict[str, torch.Tensor] | None = None,
    name: str | None = None,
    chunk: int = 500,
) -> dict[str, torch.Tensor]:
    """Per image (N,) bool, right or not, of ``model`` on (x, y) at L∞ ``eps`` under
    each attack of this module's list, all on the same images; keys: ``"clean"``,
    ``"PGD-40"``, ``f"PGD-100 ×{restarts}"``, ``"AutoAttack"`` (its ``parts``),
    ``"Square"``, ``"PGD-40, ε = 1"``, ``"white-box"`` (right under every
    gradient-based attack at ``eps``: the PGDs and AutoAttack's parts other than
    Square, the reference for a gradient-masking check with Square) and
    ``"worst case"`` (right under every attack at ``eps``). Per-image outcomes let
    two models be compared pairwise on the same images
    (:func:`robustcore.stats.difference`).

    ``known``: outcomes of some of these attacks already computed on the same images
    (e.g. ``{"PGD-100 ×20": hits}`` from an earlier cell), used instead of running them
    again; keys among ``"clean"``, ``"PGD-40"`` and ``f"PGD-100 ×{restarts}"``.

    ``name``: make the evaluation resumable, ``chunk`` images at a time, kept under
    that name in the progress folder (:func:`robustcore.chunks.evaluate`; each chunk
    attacked on its own, so with fewer than ``chunk`` images nothing changes)."""
    restarts = checks.integer(restarts, "restarts", 1)
    _check_parts(parts)
    pgd = {"name": "pgd", "eps": eps, "alpha": 0.01}
    runs = {
        "clean": None,
        "PGD-40": {**pgd, "steps": 40},
        f"PGD-100 ×{restarts}": {**pgd, "steps": 100, "restarts": restarts},
    }
    known = dict(known or {})
    for k, v in known.items():
        if k not in runs:
            raise ValueError(f"known may hold {sorted(runs)}, got {k!r}")
        if (
            not isinstance(v, torch.Tensor)
            or v.dtype != torch.bool
            or v.shape != (len(x),)
        ):
            raise ValueError(
                f"known[{k!r}] must be a bool tensor of shape ({len(x)},) (one outcome "
                "per image of x)"
            )
    if name is not None:
        keys = sorted(known)
        return chunks.evaluate(
            lambda x, y, *done: outcomes(
                model, x, y, eps, restarts=restarts, parts=parts, queries=queries,
                seed=seed, known=dict(zip(keys, done)),
            ),
            x, y, *(known[k] for k in keys), name=name, model=model, chunk=chunk,
            settings={"eps": eps, "restarts": restarts, "parts": list(parts),
                      "queries": queries, "seed": seed, "known": keys},
        )  # fmt: skip
    hits = {
        k: known[k].cpu() if k in known else train.correct(model, x, y, s, seed=seed)
        for k, s in runs.items()
    }
    # AutoAttack's gradient-based parts and its Square run apart, each on every image,
    # so that the white-box verdict below contains no Square; AutoAttack's verdict is
    # the same rule as its reference code's (right under each of its parts)
    gradient = tuple(p for p in parts if p != "square")
    sq = square(model, x, y, eps, queries=queries, seed=seed)
    aa_gradient = (
        autoattack(model, x, y, eps, parts=gradient, seed=seed)
        if gradient
        else hits["clean"]
    )
    hits |= {
        "AutoAttack": aa_gradient & sq if "square" in parts else aa_gradient,
        "Square": sq,
        "PGD-40, ε = 1": train.correct(
            model,
            x,
            y,
            {"name": "pgd", "eps": 1.0, "steps": 40, "alpha": 0.1},
            seed=seed,
        ),
    }
    white_box = [hits[k] for k in runs if k != "clean"] + [aa_gradient]
    at_eps = [v for k, v in hits.items() if k not in ("clean", "PGD-40, ε = 1")]
    return {
        **hits,
        "white-box": torch.stack(white_box).all(0),
        "worst case": torch.stack(at_eps).all(0),
    }


def audit(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    restarts: int = 5,
    parts: tuple[str, ...] = STANDARD,
    queries: int = 5000,
    seed: int = 0,
    known: dict[str, torch.Tensor] | None = None,
    name: str | None = None,
    chunk: int = 500,
) -> dict[str, stats.Estimate]:
    """Accuracy, with its 95% interval, under each attack of :func:`outcomes` (same
    keys and arguments)."""
    hits = outcomes(
        model,
        x,
        y,
        eps,
        restarts=restarts,
        parts=parts,
        queries=queries,
        seed=seed,
        known=known,
        name=name,
        chunk=chunk,
    )
    return {k: stats.proportion(v) for k, v in hits.items()}


def table(audits: dict[str, dict[str, stats.Estimate]], caption: str = "") -> str:
    """Audits side by side as a Markdown table: ``audits`` maps a model's name to what
    :func:`audit` returned for it (on the same images); one row per attack, one column
    per model, each cell the accuracy with its 95% interval (± half its width, or both
    ends where it is lopsided), n in the header."""
    ok = (
        isinstance(audits, dict)
        and audits
        and all(
            isinstance(a, dict)
            and all(isinstance(e, stats.Estimate) for e in a.values())
            for a in audits.values()
        )
    )
    if not ok:
        raise TypeError("audits must map a model's name to what audit returned for it")
    attacks = list(next(iter(audits.values())))
    if any(list(a) != attacks for a in audits.values()):
        raise ValueError("audits must all hold the same attacks (one audit call each)")
    rows = [(k, *(f"{a[k]:.1%c}" for a in audits.values())) for k in attacks]
    n = {e.n for a in audits.values() for e in a.values()}
    head = [f"{m} (n = {', '.join(f'{k:,}' for k in sorted(n))})" for m in audits]
    return tables.markdown(["attack", *head], rows, caption)
