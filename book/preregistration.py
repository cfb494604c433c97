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
        (
            "(withdrawn)"
            if a.get("withdrawn")
            else a["new"]
            if a["new"] != a["old"]
            else "(wording kept)"
        ).replace("|", "\\|")
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

# %% [markdown]
# ## Why each claim could fail
#
# A check is only evidence if it could have come out the other way. Each registered claim says,
# in one sentence written when it was registered, what outcome would make it false and a
# realistic way a run could land there (another seed or machine, the full profile, a bug). A
# claim that holds by construction says so: it is bookkeeping, not evidence. The tests also run
# each chapter on a mutated input (two models swapped, an attack without its budget, a filter
# that guesses, a negated score, an unsound certificate) and require the claims it should break
# to fail (`tests/test_claims_can_fail.py`).

# %% tags=["hide-input"]
import html

from IPython.display import HTML

blocks = []
for ch in sorted(per):
    items = [(k, c) for k, c in reg["claims"].items() if c["chapter"] == ch]
    body = "".join(
        f"<tr><td><code>{html.escape(k)}</code></td><td>{html.escape(c['text'])}</td>"
        f"<td>{html.escape(c.get('could_fail', ''))}</td></tr>"
        for k, c in items
    )
    blocks.append(
        f"<details><summary>Chapter {int(ch)}: {len(items)} claims</summary>"
        "<table class='could-fail'><thead><tr><th>claim</th><th>as registered</th>"
        f"<th>could fail because</th></tr></thead><tbody>{body}</tbody></table>"
        "</details>"
    )
display(HTML("".join(blocks)))
