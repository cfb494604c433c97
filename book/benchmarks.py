# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% tags=["remove-cell"]
# In Colab, install robustcore from the repository; elsewhere it is already installed.
import sys

REPO = "git+https://github.com/robustcore/adversarial-robustness-hands-on@main"
if "google.colab" in sys.modules:
    # %pip install -q {REPO}

# %% [markdown]
# # Benchmarks
#
# How fast is `robustcore`, and against what? `make bench` (that is, `python benchmarks/run_all.py`)
# times each hot path against a reference run **in the same process, interleaved**, so that machine
# load affects both alike, and writes `benchmarks/results.json`, which this page reads:
#
# - **PGD**: `robustcore.attacks.pgd` against `torchattacks.PGD` and against the bare cost of its
#   k forward+backward passes;
# - **PGD, early drop**: robust accuracy with `robustcore.attacks.pgd.pgd_correct`, which attacks
#   only the examples still classified right and drops each as soon as an iterate fools it, against
#   `torchattacks.PGD`'s full run, on a standard and an adversarially trained model;
# - **one-pixel attack**: `robustcore.attacks.one_pixel` against `torchattacks.OnePixel` at the
#   paper's budget, and its throughput (images evaluated per second) against plain batched forward
#   passes, on a zoo CNN and on a small CNN (conv 16 → conv 32 → fc 64, trained for one epoch),
#   where the work around each forward pass weighs most;
# - **D_R construction**: `features.robust_dataset` against the bare cost of its forward+backward passes;
# - **ARAE training**: an epoch of `novelty.fit(method="arae")` (the 40-step latent attack crafted
#   for every batch, then the training step) against the bare cost of the same passes;
# - **AutoAttack**: `audit.autoattack`'s APGD-CE (torchattacks, 100 steps) on a robust CNN against
#   the bare cost of its forward+backward passes;
# - **memory layout**: an epoch of `train.train` and a PGD-20 run with the convolutional models
#   in the channels-last layout `robustcore.models` builds them in, against the same weights in
#   PyTorch's default NCHW layout;
# - **allocator**: a slice of the chapters' work (CROWN bounds, PGD, clean accuracy) in a fresh
#   process under the glibc allocator settings `make test` and `make book` export, against
#   glibc's defaults;
# - **the whole book**: every chapter executed under `pytest --nbval`, its wall time and peak memory.
#
# Ratios are what travels between machines; the seconds are those of the machine named below.

# %% tags=["hide-input"]
# %matplotlib inline
import json
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from robustcore import plotting

plotting.use_style()  # the book's one look for every figure

here = Path.cwd()
root = here.parent if (here / "intro.md").is_file() else here
RESULTS = root / "benchmarks" / "results.json"
bench = json.loads(RESULTS.read_text()) if RESULTS.is_file() else None
if bench is None:
    display(
        Markdown(
            "No benchmark results recorded yet: "
            "run `make bench` to create `benchmarks/results.json`."
        )
    )
else:
    display(
        Markdown(
            f"Measured on **{bench['machine']}** on {bench['date']} "
            f"(`{bench.get('command', 'make bench')}`, "
            f"torch {bench.get('torch', '?')})."
        )
    )

# %% tags=["hide-input"]
rows, ratios = [], {}
if bench is not None:
    b = bench["benchmarks"]
    if "pgd" in b:
        r = b["pgd"]
        s = r["seconds"]
        rows.append(
            (
                "PGD",
                f"PGD-{r['steps']} L∞, batch {r['batch']}, `{r['model']}`",
                f"{s['robustcore'] * 1000:.0f} ms",
                f"torchattacks {s['torchattacks'] * 1000:.0f} ms; "
                f"bare {s['bare'] * 1000:.0f} ms",
                f"{r['ratio_vs_torchattacks']:.2f}× torchattacks' time; "
                f"{r['ratio_vs_bare']:.2f}× bare cost",
            )
        )
        ratios["PGD: time / torchattacks"] = r["ratio_vs_torchattacks"]
        ratios["PGD: time / bare"] = r["ratio_vs_bare"]
    if "pgd_early" in b:
        r = b["pgd_early"]
        for model, m in r["models"].items():
            s, a = m["seconds"], m["accuracy"]
            rows.append(
                (
                    "PGD, early drop",
                    f"robust accuracy, PGD-{r['steps']} L∞ ε={r['eps']}, "
                    f"batch {r['batch']}, `{model}`",
                    f"{s['robustcore'] * 1000:.0f} ms (accuracy {a['robustcore']:.1%})",
                    f"torchattacks {s['torchattacks'] * 1000:.0f} ms "
                    f"(accuracy {a['torchattacks']:.1%})",
                    f"{m['speedup_vs_torchattacks']:.2f}× faster than torchattacks",
                )
            )
            ratios[f"PGD early drop, {model}: torchattacks time / ours"] = m[
                "speedup_vs_torchattacks"
            ]
    for r in (b[k] for k in ("one_pixel", "one_pixel_small") if k in b):
        s, t = r["seconds"], r["throughput"]
        rows.append(
            (
                "one-pixel",
                f"{r['pixels']} px, population {r['popsize']}, "
                f"{r['generations']} generations, {r['batch']} images, `{r['model']}`",
                f"{s['robustcore']:.1f} s ({t['robustcore']:,.0f} img/s)",
                f"torchattacks {s['torchattacks']:.1f} s "
                f"({t['torchattacks']:,.0f} img/s); "
                f"raw forward {t['raw']:,.0f} img/s",
                f"{r['speedup_vs_torchattacks']:.2f}× faster than torchattacks; "
                f"{r['throughput_vs_raw']:.2f}× raw throughput",
            )
        )
        ratios[f"one-pixel, {r['model']}: torchattacks time / ours"] = r[
            "speedup_vs_torchattacks"
        ]
        ratios[f"one-pixel, {r['model']}: throughput / raw"] = r["throughput_vs_raw"]
    if "certify" in b:
        r = b["certify"]
        s = r["seconds"]
        rows.append(
            (
                "certified bounds",
                f"IBP and CROWN-IBP margins at L∞ ε={r['eps']}, batch {r['batch']}, "
                f"`{r['model']}`",
                f"IBP {s['ibp'] * 1000:.0f} ms; "
                f"CROWN-IBP {s['crown-ibp'] * 1000:.0f} ms",
                f"forward pass {s['forward'] * 1000:.0f} ms",
                f"IBP {r['ratio_vs_bare']:.2f}×, CROWN-IBP "
                f"{r['ratio_crown_ibp_vs_bare']:.2f}× a forward pass",
            )
        )
        ratios["IBP: time / forward pass"] = r["ratio_vs_bare"]
    if "construction" in b:
        r = b["construction"]
        s = r["seconds"]
        rows.append(
            (
                "D_R construction",
                f"{r['steps']} steps, batch {r['batch']}, `{r['model']}`",
                f"{s['robustcore']:.2f} s "
                f"({r['images_per_second']['robustcore']:,.1f} img/s)",
                f"bare {s['bare']:.2f} s",
                f"{r['ratio_vs_bare']:.2f}× bare cost",
            )
        )
        ratios["D_R: time / bare"] = r["ratio_vs_bare"]
    for key, label in (("arae", "ARAE training"), ("autoattack", "AutoAttack APGD-CE")):
        if key in b:
            r = b[key]
            s = r["seconds"]
            n = r.get("images", r["batch"])
            rows.append(
                (
                    label,
                    f"{r['steps']} steps, {n:,} images in batches of {r['batch']}",
                    f"{s['robustcore']:.2f} s "
                    f"({r['images_per_second']['robustcore']:,.1f} img/s)",
                    f"bare {s['bare']:.2f} s",
                    f"{r['ratio_vs_bare']:.2f}× bare cost",
                )
            )
            ratios[f"{label}: time / bare"] = r["ratio_vs_bare"]
    if "layout" in b:
        r = b["layout"]
        for arch in ("cnn", "resnet"):
            s = r[arch]["seconds"]
            rows.append(
                (
                    "memory layout",
                    f"an epoch on {r['images']:,} digits; PGD-{r['steps']} on "
                    f"{r['batch']}; `{arch}`",
                    f"channels-last: training {s['train channels_last']:.2f} s, "
                    f"PGD {s['pgd channels_last']:.2f} s",
                    f"NCHW: training {s['train nchw']:.2f} s, "
                    f"PGD {s['pgd nchw']:.2f} s",
                    f"training {r[arch]['train_ratio']:.2f}×, PGD "
                    f"{r[arch]['pgd_ratio']:.2f}× NCHW's time",
                )
            )
            ratios[f"{arch}, channels-last: training time / NCHW"] = r[arch][
                "train_ratio"
            ]
    if "allocator" in b:
        r = b["allocator"]
        s = r["seconds"]
        rows.append(
            (
                "allocator",
                f"CROWN on {r['batch']} digits, PGD-20 on {25 * r['batch']}, clean "
                f"accuracy on {500 * r['batch']:,}; "
                "`mnist-cnn-std`, a fresh process",
                f"{s['tuned']['wall']:.1f} s "
                f"({s['tuned']['page_faults']:,.0f} page faults)",
                f"glibc's defaults {s['default']['wall']:.1f} s "
                f"({s['default']['page_faults']:,.0f} page faults)",
                f"{r['ratio_wall']:.2f}× the defaults' time",
            )
        )
        ratios["allocator settings: time / glibc's defaults"] = r["ratio_wall"]
    if "book" in b:
        r = b["book"]
        rows.append(
            (
                "whole book",
                f"`{r['command']}` "
                f"({r['notebooks']} notebooks, {r['profile']} profile)",
                f"{r['seconds']:.0f} s",
                f"peak memory {r['peak_rss_mib']:,.0f} MiB (largest process)",
                "passed"
                if r["returncode"] == 0
                else f"FAILED (exit {r['returncode']})",
            )
        )
    table = [
        "| benchmark | setting | robustcore | reference | ratio |",
        "|---|---|---|---|---|",
    ]
    table += [f"| {' | '.join(row)} |" for row in rows]
    display(Markdown("\n".join(table)))

# %% mystnb={"figure": {"caption": "Every benchmark's ratio to the reference measured in the same run; the dotted line is parity."}} tags=["hide-input"]
if ratios:
    fig, ax = plt.subplots(
        figsize=(plotting.COLUMN_IN, 0.5 + 0.45 * len(ratios)), layout="constrained"
    )
    names = list(ratios)
    wrapped = ["\n".join(textwrap.wrap(n, 34)) for n in names]  # labels fit the column
    ax.barh(wrapped, [ratios[n] for n in names], color="tab:blue")
    ax.axvline(1.0, color="grey", ls=":", lw=1)
    for i, n in enumerate(names):
        ax.text(ratios[n], i, f" {ratios[n]:.2f}", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("ratio (1.0: same as the reference)")
    ax.set_title(f"Benchmark ratios on {bench['machine']}", fontsize=9)
    ax.margins(x=0.15)
    plt.show()
    assert all(v > 0 for v in ratios.values()), ratios

# %% [markdown]
# Lower is better for the time ratios, higher for the speed-up and throughput ratios. The bare
# costs are floors no implementation can beat: the attack or inversion's forward and backward
# passes with nothing else. To measure your own machine, run `make bench` and rebuild the book.
