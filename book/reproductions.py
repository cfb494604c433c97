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

if "google.colab" in sys.modules:
    # %pip install -q "robustcore @ git+https://github.com/robustcore/adversarial-robustness-hands-on@main"

# %% [markdown]
# # Reproductions at a glance
#
# Every chapter saves the numbers it puts beside a published one, as it computes them, with
# `robustcore.results.record`. This page reads those records back (`results.table`) and lists
# them in one table: our number, the published reference, the gap, the profile it was measured in
# and the machine. Nothing here is typed by hand; a chapter that has not run in this build shows
# up as "not run here".
#
# Read the gaps with the chapters' caveats: most references were measured on other data
# (CIFAR-10, ImageNet) or with larger models and budgets, and the quick profile runs on subsets
# with short schedules. The chapters explain each comparison; the column "the reference measured"
# says what the published number is.

# %% tags=["hide-input"]
# %matplotlib inline
import math

import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from robustcore import profiles, results

P = profiles.current()
TITLES = results.book_chapters("../_toc.yml")  # chapter id → title, for every chapter in the book
CHAPTERS = tuple(TITLES)


def fmt(v, unit=""):
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    return f"{v:.1f}{unit}" if unit == "%" else f"{v:.4g}{(' ' + unit) if unit else ''}"


def gap_fmt(g, unit):
    if g is None:
        return "—"
    return f"{g:+.1f} pp" if unit == "%" else f"{g:+.4g}"


def summary_table(rows):
    lines = ["| ch. | result | ours | reference | gap | profile | the reference measured |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        ours = "not run here" if r["value"] is None else fmt(r["value"], r["unit"])
        lines.append(f"| {r['chapter']} | {r['name']} | {ours} | {fmt(r['reference'], r['unit'])} | "
                     f"{gap_fmt(r['gap'], r['unit'])} | {r['profile']} | {r['what'] or ''} |")
    return "\n".join(lines)


def machines(rows):
    found = sorted({r["machine"] for r in rows if r["machine"]})
    return "; ".join(found) if found else "—"


rows = results.table(P.name, chapters=CHAPTERS)
recorded = [r for r in rows if r["value"] is not None]
missing = sorted({r["chapter"] for r in rows if r["value"] is None})
print(f"profile {P.name}: {len(recorded)} headline numbers from chapter(s) "
      f"{', '.join(sorted({r['chapter'] for r in recorded})) or 'none'}; results folder {results.results_dir()}")
chapters = ", ".join(f"{c} {t}" for c, t in TITLES.items())
display(Markdown(f"**Profile {P.name}**, measured on {machines(rows)}. Gaps are ours minus the reference "
                 f"(pp: percentage points). Chapters: {chapters}.\n\n" + summary_table(rows)))

# %% [markdown]
# ## Ours against the published numbers
#
# Each point is one headline number with a numeric reference; on the diagonal, ours equals the
# published value.

# %% tags=["hide-input"]
with_ref = [r for r in recorded if isinstance(r["reference"], (int, float))]
fig, ax = plt.subplots(figsize=(5.2, 4.6))
if with_ref:
    for ch in sorted({r["chapter"] for r in with_ref}):
        pts = [r for r in with_ref if r["chapter"] == ch]
        ax.scatter([r["reference"] for r in pts], [r["value"] for r in pts], label=f"Ch. {ch}", alpha=0.8)
    lo = min(min(r["reference"], r["value"]) for r in with_ref)
    hi = max(max(r["reference"], r["value"]) for r in with_ref)
    pad = 0.05 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="grey", ls=":", lw=1)
    ax.legend(fontsize=8)
else:
    ax.text(0.5, 0.5, "no numeric reference recorded yet", ha="center", va="center", transform=ax.transAxes)
ax.set_xlabel("published reference")
ax.set_ylabel(f"ours ({P.name} profile)")
ax.set_title("Headline numbers: ours vs published")
ax.grid(alpha=0.3)
plt.show()

# %%
# Every recorded number is a finite number, and every gap is ours minus the reference.
for r in recorded:
    assert math.isfinite(r["value"]), r
    if r["gap"] is not None:
        assert math.isclose(r["gap"], r["value"] - r["reference"]), r
if missing:
    print("no results recorded here for chapter(s):", ", ".join(missing))

# %% [markdown]
# ## The other profile
#
# Records of the other profile, if this machine has run the chapters in it too (the quick profile
# runs on a CPU in minutes; the full profile runs the paper-sized settings, usually on a GPU).

# %%
other = "full" if P.name == "quick" else "quick"
other_rows = [r for r in results.table(other) if r["value"] is not None]
if other_rows:
    display(Markdown(f"**Profile {other}**, measured on {machines(other_rows)}.\n\n" + summary_table(other_rows)))
else:
    print(f"no {other}-profile results recorded on this machine")
