"""Interactive explorers for the book, around pure functions (:func:`attack_one`,
:func:`one_pixel_one`).

The live explorers (:func:`eps_slider`, :func:`one_pixel_explorer`) rerun the attack
on every change and need a running kernel; on the rendered page, where none runs, the
book shows the frame viewers of :mod:`robustcore.frames`, built on the same
functions."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import torch

from . import checks, attacks, train


def attack_one(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: int,
    eps: float,
    *,
    norm: str = "linf",
    attack: str = "pgd",
    steps: int = 20,
    seed: int = 0,
) -> dict:
    """Attack one image ``x`` (C, H, W) in [0, 1] with true label ``y``.

    Returns ``{"x_adv": (C, H, W), "pred": int, "prob": float, "clean_pred": int,
    "clean_prob": float, "norm": float}`` — the measured perturbation norm.
    """
    if not isinstance(x, torch.Tensor) or x.dim() != 3:
        raise ValueError(
            "x must be one image tensor of shape (C, H, W), got "
            f"{getattr(x, 'shape', type(x))}"
        )
    checks.images(x.unsqueeze(0), "x")
    y = checks.label(y)
    checks.choice(attack, "attack", ("fgsm", "pgd"))
    torch.manual_seed(seed)
    xb, yb = x.unsqueeze(0), torch.tensor([int(y)])
    settings = {"steps": steps, "norm": norm} if attack == "pgd" else {}
    if attack == "fgsm" and norm != "linf":
        raise ValueError(f"norm must be 'linf' for FGSM, got {norm!r}")
    x_adv = attacks.make(attack, eps=eps, **settings)(model, xb, yb)
    p_clean, p_adv = train.predict(model, torch.cat([xb, x_adv])).softmax(1)
    return {
        "x_adv": x_adv[0],
        "pred": int(p_adv.argmax()),
        "prob": float(p_adv.max()),
        "clean_pred": int(p_clean.argmax()),
        "clean_prob": float(p_clean.max()),
        "norm": float(attacks.flat_norm(x_adv - xb, norm)[0]),
    }


def plot_attack_one(x: torch.Tensor, y: int, result: dict, title: str = ""):
    """Clean image | perturbation (rescaled) | adversarial image, with predictions."""
    fig, axes = plt.subplots(1, 3, figsize=(6.6, 2.4))
    delta = (result["x_adv"] - x)[0].detach().cpu().numpy()
    scale = float(abs(delta).max()) or 1.0
    axes[0].imshow(x[0].detach().cpu().numpy(), cmap="gray", vmin=0, vmax=1)
    axes[0].set_title(
        f"clean: {result['clean_pred']} ({result['clean_prob']:.0%})", fontsize=9
    )
    axes[1].imshow(delta, cmap="seismic", vmin=-scale, vmax=scale)
    axes[1].set_title(f"perturbation (‖δ‖={result['norm']:.2f})", fontsize=9)
    ok = result["pred"] == int(y)
    axes[2].imshow(
        result["x_adv"][0].detach().cpu().numpy(), cmap="gray", vmin=0, vmax=1
    )
    axes[2].set_title(  # the word says it, the colour repeats it
        f"adversarial: {result['pred']} ({result['prob']:.0%}), "
        f"{'right' if ok else 'wrong'}",
        fontsize=9,
        color="tab:green" if ok else "tab:red",
    )
    for ax in axes:
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _explorer_parts(
    models: Mapping[str, torch.nn.Module], x: torch.Tensor, y: torch.Tensor
):
    """What every explorer starts from, after checking its inputs: an output area, an
    image slider over ``x`` and a model picker."""
    import ipywidgets as W

    checks.models(models, x, y)
    return (
        W.Output(),
        W.IntSlider(value=0, min=0, max=len(x) - 1, description="image"),
        W.Dropdown(options=list(models), description="model"),
    )


# Slider range and default per norm: on MNIST, useful L2 radii are roughly ten times the
# L∞ ones.
EPS_RANGES = {"linf": (0.5, 0.02, 0.3), "l2": (5.0, 0.1, 2.0)}  # (max, step, default)


def eps_slider(
    models: Mapping[str, torch.nn.Module],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int = 20,
):
    """An ipywidgets explorer: pick a model, the norm, an image and ε; see the PGD
    attack.

    ``x``: (N, C, H, W) in [0, 1], ``y``: (N,). Each redraw calls :func:`attack_one`.
    """
    import ipywidgets as W
    from IPython.display import display

    out, idx, which = _explorer_parts(models, x, y)
    top, step, default = EPS_RANGES["linf"]
    eps = W.FloatSlider(value=default, min=0.0, max=top, step=step, description="ε")
    norm = W.ToggleButtons(options=list(EPS_RANGES), description="norm")

    def redraw(*_):
        i = idx.value
        r = attack_one(
            models[which.value],
            x[i],
            int(y[i]),
            eps.value,
            norm=norm.value,
            steps=steps,
        )
        with out:
            out.clear_output(wait=True)
            title = f"{which.value}, {norm.value} ε={eps.value:.2f}"
            display(plot_attack_one(x[i], int(y[i]), r, title))
            plt.close("all")

    def new_norm(change):  # new range and default for ε, then exactly one redraw
        top, step, default = EPS_RANGES[change["new"]]
        eps.unobserve(redraw, names="value")
        # max first: it clamps the old value
        eps.max, eps.step, eps.value = (top, step, default)
        eps.observe(redraw, names="value")
        redraw()

    norm.observe(new_norm, names="value")
    for w in (idx, eps, which):
        w.observe(redraw, names="value")
    redraw()
    return W.VBox([W.HBox([which, norm]), W.HBox([idx, eps]), out])


def one_pixel_one(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: int,
    *,
    pixels: int = 1,
    popsize: int = 400,
    generations: int = 100,
    target: int | None = None,
    seed: int = 0,
) -> dict:
    """The one-pixel attack on one image ``x`` (C, H, W) in [0, 1] with true label
    ``y``.

    Returns ``{"x_adv": (C, H, W), "success": bool, "pred": int, "prob": float,
    "clean_pred": int, "clean_prob": float, "queries": int,
    "candidates": (pixels, 2 + C)}``.
    """
    if not isinstance(x, torch.Tensor) or x.dim() != 3:
        raise ValueError(
            "x must be one image tensor of shape (C, H, W), got "
            f"{getattr(x, 'shape', type(x))}"
        )
    xb = x.unsqueeze(0)
    y = checks.label(y)
    tb = None if target is None else torch.tensor([checks.label(target)])
    r = attacks.one_pixel(
        model,
        xb,
        torch.tensor([int(y)]),
        pixels=pixels,
        popsize=popsize,
        generations=generations,
        target=tb,
        seed=seed,
        progress=False,
    )
    return one_pixel_row(r, 0, train.predict(model, xb).softmax(1)[0])


def one_pixel_row(r: attacks.OnePixelResult, i: int, p_clean: torch.Tensor) -> dict:
    """Image ``i`` of a one-pixel result (``p_clean``: the model's probabilities on
    the clean image) as :func:`one_pixel_one` returns it."""
    return {
        "x_adv": r.x_adv[i],
        "success": bool(r.success[i]),
        "pred": int(r.probs[i].argmax()),
        "prob": float(r.probs[i].max()),
        "clean_pred": int(p_clean.argmax()),
        "clean_prob": float(p_clean.max()),
        "queries": int(r.queries[i]),
        "candidates": r.candidates[i],
    }


def plot_one_pixel(x: torch.Tensor, y: int, result: dict, title: str = ""):
    """Clean image | attacked image with the changed pixels circled, with
    predictions."""
    fig, axes = plt.subplots(1, 2, figsize=(4.6, 2.5))
    for ax, img, pred, prob, name in (
        (axes[0], x, result["clean_pred"], result["clean_prob"], "clean"),
        (axes[1], result["x_adv"], result["pred"], result["prob"], "attacked"),
    ):
        ax.imshow(
            img.detach().cpu().permute(1, 2, 0).squeeze(-1).numpy(),
            cmap="gray",
            vmin=0,
            vmax=1,
        )
        ax.set_title(  # the word says it, the colour repeats it
            f"{name}: {pred} ({prob:.0%}), {'wrong' if pred != int(y) else 'right'}",
            fontsize=9,
            color="tab:red" if pred != int(y) else "black",
        )
        ax.set_axis_off()
    for r, c in result["candidates"][:, :2].long().tolist():
        axes[1].add_patch(
            plt.Circle((c, r), 1.6, fill=False, color="tab:red", linewidth=1.2)
        )
    fig.suptitle(title or f"{result['queries']:,} queries", fontsize=9)
    fig.tight_layout()
    return fig


def one_pixel_explorer(
    models: Mapping[str, torch.nn.Module],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    popsize: int = 100,
    generations: int = 30,
):
    """An ipywidgets explorer: pick a model, an image and the number of pixels; run the
    attack.

    ``x``: (N, C, H, W) in [0, 1], ``y``: (N,). Each run calls :func:`one_pixel_one`.
    """
    import ipywidgets as W
    from IPython.display import display

    out, idx, which = _explorer_parts(models, x, y)
    k = W.Dropdown(options=[1, 3, 5], value=1, description="pixels")
    go = W.Button(description="attack", button_style="danger")
    status = W.Label()  # what the figure below shows, or that it awaits a new attack

    def pending(*_):  # new controls: the last attack's figure no longer applies
        out.clear_output()
        status.value = (
            f"image {idx.value}, {which.value}, {k.value} pixel(s): press attack"
        )

    def run(*_):
        i = idx.value
        r = one_pixel_one(
            models[which.value],
            x[i],
            int(y[i]),
            pixels=k.value,
            popsize=popsize,
            generations=generations,
        )
        with out:
            out.clear_output(wait=True)
            display(
                plot_one_pixel(
                    x[i],
                    int(y[i]),
                    r,
                    f"{which.value}, {k.value} pixel(s): "
                    f"{'fooled' if r['success'] else 'not fooled'} after "
                    f"{r['queries']:,} queries",
                )
            )
            plt.close("all")
        status.value = f"image {i}, {which.value}, {k.value} pixel(s): shown below"

    go.on_click(run)
    for w in (idx, which, k):
        w.observe(pending, names="value")
    run()
    return W.VBox([W.HBox([which, k]), W.HBox([idx, go]), status, out])
