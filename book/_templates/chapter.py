# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
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
# # The chapter's title (the reproductions page and CI read it from here)
#
# What the paper claims, and what this chapter measures to check it.

# %% tags=["parameters"]
# %matplotlib inline
from IPython.display import Markdown, display

from robustcore import full_records, profiles, results, stats
from robustcore.claims import Claims

P = profiles.current()
N_EVAL = P.pick(quick=500, full=10_000)  # one code path, two sizes

# %% [markdown]
# ## An experiment
#
# State the paper's claim before measuring it (a direction, an ordering, or a margin the paper
# states); then measure, check the claim on the interval, and record the number that stands beside
# the published one. Published numbers come from `robustcore.references` (add an entry with its
# source); replace NN with the chapter's two digits.

# %%
hits = [True] * N_EVAL  # per test image: e.g. still classified right under attack
acc = stats.proportion(hits)  # the rate, with n and its 95% Wilson interval
claims = Claims()
claims.check("the paper's claim, fixed before measuring", acc.low > 0.5, f"{acc:.1%}")
results.record("NN", "what was measured", acc, unit="%", reference=None, dataset="MNIST")
claims

# %% [markdown]
# ## This run beside the full profile

# %% tags=["hide-input"]
display(Markdown(full_records.beside("NN")))
