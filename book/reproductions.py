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
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

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
# The published number was measured on other data, with another protocol or on another model;
# the column "how they differ" says which. It tells you what the method does there, not what our
# run should reach.

# %% tags=["hide-input"]
display(Markdown(tables.records(rows, "analogue")))

# %% [markdown]
# ## Our own measurements

# %% tags=["hide-input"]
display(Markdown(tables.records(rows, None)))

# %% [markdown]
# ## Beside the full profile
#
# The full profile runs the paper-sized settings (`make full`, see the README). Its records come
# from real runs, committed with `robustcore`; here they stand beside this run's numbers, chapter
# by chapter, with where and when each chapter ran at full scale.

# %% tags=["hide-input"]
for c, title in TITLES.items():
    display(Markdown(f"**{c}. {title}**\n\n" + full_records.beside(c)))
