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
# # Pre-registered claims and amendments
#
# Every chapter states its claims before it measures: a paper's direction, ordering or margin,
# written as the sentence a cell then decides (`claims.check` when a wrong answer must fail the
# build, `claims.report` when a published claim may or may not hold here). Each claim has a key,
# the prose cites it by that key, and its wording is fixed in one declared place,
# `book/preregistration.json`, with the date it was first committed. A claim whose wording or
# condition changed after a measurement is an **amendment**: it is listed below with the date,
# the old and the new wording, and the measurement that prompted it. The book's tests fail when
# a chapter's claim reads otherwise than registered and no amendment says why.

# %% tags=["hide-input"]
import json
from pathlib import Path

from IPython.display import Markdown, display

from robustcore import tables

path = Path("preregistration.json")
reg = (
    json.loads(path.read_text()) if path.is_file() else {"claims": {}, "amendments": []}
)
per = {}
for key, c in reg["claims"].items():
    per.setdefault(c["chapter"], []).append(c["since"])
rows = [
    (
        ch,
        len(dates),
        min(dates),
        max(dates),
        sum(a["chapter"] == ch for a in reg["amendments"]),
    )
    for ch, dates in sorted(per.items())
]
display(
    Markdown(
        tables.markdown(
            ["chapter", "claims", "first registered", "last registered", "amendments"],
            rows,
            "**Claims per chapter.** Registered: the date of the first commit that "
            "held the wording.",
        )
        if rows
        else "The registry `book/preregistration.json` is not in this copy of the book."
    )
)

# %% [markdown]
# ## Amendments

# %% tags=["hide-input"]
amended = [
    (
        a["date"],
        f"`{a['key']}`",
        a["old"].replace("|", "\\|"),
        (a["new"] if a["new"] != a["old"] else "(wording kept)").replace("|", "\\|")
        + (f" — condition: {a['condition']}" if a.get("condition") else ""),
        a["reason"] + (f" (commit {a['commit']})" if a.get("commit") else ""),
    )
    for a in reg["amendments"]
]
display(
    Markdown(
        tables.markdown(["date", "claim", "was", "now", "prompted by"], amended)
        if amended
        else "No claim has been amended."
    )
)
