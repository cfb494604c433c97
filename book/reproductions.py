# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
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
# # Reproductions at a glance
#
# Every chapter saves the numbers it puts beside a published one, as it computes them, with
# `robustcore.results.record`; the published numbers come from one registry,
# `robustcore.references`, each with what was measured and its source (a paper's table or figure,
# or a repository file at a commit). This page reads the records back; nothing here is typed by
# hand, and a chapter that has not run in this build shows up as "not run here".
#
# Results come in three kinds, and only the first has a gap:
#
# * a **reproduction** measures the same thing on the same data with the same protocol *and* the
#   same model (architecture and training recipe, or the released checkpoint) as the published
#   number, so ours minus theirs means something;
# * an **analogue** differs in at least one of these — MNIST digits where the paper used CIFAR-10
#   or ImageNet, a smaller model, a shorter recipe — and says which: the published number is
#   context, never a target;
# * the rest are our own measurements, with no published counterpart.
#
# Rates carry their n and a 95% interval (Wilson for proportions, a bootstrap over test images for
# AUROC).

# %% tags=["hide-input"]
# %matplotlib inline
import base64

import matplotlib.pyplot as plt
from IPython.display import HTML, Markdown, display

from robustcore import full_records, plotting, profiles, results, tables

P = profiles.current()
TITLES = results.book_chapters("../_toc.yml")  # chapter id → title, for every chapter
rows = results.table(P.name, chapters=tuple(TITLES))
recorded = [r for r in rows if r["value"] is not None]
missing = sorted({r["chapter"] for r in rows if r["value"] is None})
where = sorted({r["machine"] for r in recorded if r["machine"]})
display(
    Markdown(
        f"**Profile {P.name}**, measured on {'; '.join(where) or '—'}. Chapters: "
        + ", ".join(f"{c} {t}" for c, t in TITLES.items())
        + (f". Not run here: {', '.join(missing)}." if missing else ".")
    )
)

# %% [markdown]
# ## Reproductions: same data, protocol and model

# %% tags=["hide-input"]
reproduced = [r for r in recorded if r["kind"] == "reproduction"]
if reproduced:
    display(Markdown(tables.records(rows, "reproduction")))
else:
    display(
        Markdown(
            "None in this build: every published number below was measured on other "
            "data, with another protocol or on another model than ours."
        )
    )

# %% mystnb={"figure": {"caption": "Each reproduction's number beside the published one, with its 95% interval; a point on the diagonal reproduces the paper exactly."}} tags=["hide-input"]
for unit in sorted({r["unit"] for r in reproduced}):
    fig, ax = plt.subplots(figsize=(4.4, 4.0))
    plotting.reproductions(rows, unit, ax=ax, title=f"Reproductions ({unit})")
    fig.tight_layout()
    plt.show()

# %% [markdown]
# ## Analogues: the same method, another setting
#
# The published number was measured on other data, with another protocol or on another model. It
# tells you what the method does there, not what our run should reach, so the analogues are not
# listed here one by one: the figure shows them all, and the CSV file holds each with how it
# differs from the published setting and where that number was published (our own measurements,
# with no published counterpart, are in the file too).

# %% tags=["remove-input"]
analogues = [r for r in recorded if r["kind"] == "analogue"]
by_chapter = {c: sum(r["chapter"] == c for r in analogues) for c in TITLES}
text = tables.csv(rows, ("analogue", None))
link = (
    f'<a download="results-{P.name}.csv" '
    f'href="data:text/csv;base64,{base64.b64encode(text.encode()).decode()}">'
    f"Download every analogue and our own measurements (CSV, "
    f"{text.count(chr(10)) - 1} rows)</a>"
)
display(
    Markdown(
        f"**{len(analogues)} analogues**: "
        + ", ".join(f"chapter {c}: {n}" for c, n in by_chapter.items() if n)
        + "."
    ),
    HTML(link),
)

# %% mystnb={"figure": {"caption": "Every analogue in percent: our number (with its 95% interval) against the published one measured in another setting. Distance from the diagonal is no error here: the settings differ."}} tags=["remove-input"]
if any(r["unit"] == "%" for r in analogues):
    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    plotting.reproductions(
        rows, "%", ax=ax, kind="analogue", title="Analogues (%): ours vs published"
    )
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    fig.tight_layout()
    plt.show()

# %% [markdown]
# ## The full profile
#
# The full profile runs the paper-sized settings (`make full`, see the README); its records come
# from real runs and are committed with `robustcore`. Each chapter shows them beside its own
# numbers; here is where and when each chapter ran at full scale.

# %% tags=["remove-input"]
runs = full_records.runs()
display(
    Markdown(
        tables.markdown(
            ["chapter", "finished", "machine", "hours", "settings changed"],
            [
                (
                    f"{c} {TITLES.get(c, '')}",
                    run.get("finished", "")[:10],
                    run.get("machine", ""),
                    f"{run.get('all_attempts_s', run.get('seconds', 0)) / 3600:.1f}",
                    ", ".join(f"{k} = {v}" for k, v in run.get("set", {}).items())
                    or "none",
                )
                for c, run in sorted(runs.items())
            ],
        )
        if runs
        else "No chapter has run at full scale yet."
    )
)
