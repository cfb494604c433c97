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

if "google.colab" in sys.modules:
    # %pip install -q "robustcore @ git+https://github.com/robustcore/adversarial-robustness-hands-on@main"

# %% [markdown]
# # The chapter's title (the reproductions page and CI read it from here)
#
# What the paper claims, and what this chapter measures to check it.

# %%
# %matplotlib inline
from robustcore import profiles, results

P = profiles.current()
N_EVAL = P.pick(quick=500, full=10_000)  # one code path, two sizes

# %% [markdown]
# ## An experiment
#
# State the paper's claim before measuring it; then measure, compare, and record the number that
# stands beside the published one (replace NN with the chapter's two digits).

# %%
value = 0.0  # the measurement
results.record("NN", "what was measured", value, reference=None, unit="%", what="the published setting")
