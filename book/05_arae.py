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
# # Robust autoencoders for novelty detection (ARAE)
#
# So far robustness was something to *test*. {cite:t}`salehi2021arae` use it as a *tool*. Their task is
# novelty detection: an autoencoder is trained on images of one **normal** class only — say, the
# digit 8 — and at test time its reconstruction error says how novel an image is. The hope is that
# it reconstructs 8s well and everything else badly. The trouble, they show, is that an autoencoder
# often generalises too well: it reconstructs a 1 as a perfectly good 1, and the 1 goes unnoticed.
#
# Their fix, **ARAE**, asks the encoder $E$ to be *robust*: small input changes must not move the
# latent code. With the decoder $D$, the loss is
#
# $$\mathcal{L} = \mathrm{MSE}\big(D(E(x^*)),\, x\big) + \gamma\, \mathrm{MSE}\big(E(x),\, E(x^*)\big),
# \qquad x^* = \arg\max_{\|x'-x\|_\infty \le \varepsilon} \mathrm{MSE}\big(E(x), E(x')\big),$$
#
# with $\gamma = 0.1$ and $x^*$ found by PGD in the $L_\infty$ ball of radius $\varepsilon = 0.2$ — an
# attack on the *latent code*, not on a label. The idea: an encoder that must ignore everything an
# attacker can do within $\varepsilon$ keeps only coarse, semantic features, and its decoder then
# draws what it knows — an 8 — whatever comes in. The baseline is the same network trained as a
# **denoising autoencoder** (DAE): reconstruct $x$ from $x$ plus Gaussian noise.
#
# This chapter trains both with `robustcore.novelty`, measures the protocol-2 AUROC table on
# MNIST beside the numbers logged in the authors' repository (an analogue: theirs is another
# ARAE), reports protocol 1 with F1, and measures the mechanism the method relies on.

# %% tags=["hide-input"]
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from IPython.display import Markdown, display

from robustcore import (
    glue,
    novelty,
    plotting,
    profiles,
    references,
    results,
    stats,
    tables,
)
from robustcore.claims import Claims, checks

plotting.use_style()  # the book's one look for every figure
P = profiles.current()
torch.manual_seed(0)
# normal classes under protocol 2
P2_CLASSES = P.pick(quick=(1, 3, 8), full=tuple(range(10)))
P1_CLASSES = P.pick(quick=(8,), full=tuple(range(10)))  # ... and under protocol 1
METHODS = ("dae", "arae")
NAMES = {"dae": "DAE", "arae": "ARAE"}

p2 = {c: novelty.prepare("mnist", "p2", c) for c in P2_CLASSES}
p1 = {c: novelty.prepare("mnist", "p1", c, novelty.P1_FRACTION) for c in P1_CLASSES}
ae2 = {
    (c, m): novelty.load(novelty.zoo_name("p2", c, m), device="cpu")
    for c in P2_CLASSES
    for m in METHODS
}
ae1 = {
    (c, m): novelty.load(novelty.zoo_name("p1", c, m), device="cpu")
    for c in P1_CLASSES
    for m in METHODS
}
rec = ae2[P2_CLASSES[-1], "arae"].meta["recipe"]
print(
    f"profile: {P.name} — normal classes {list(P2_CLASSES)} (p2) and "
    f"{list(P1_CLASSES)} (p1); {rec['epochs']} passes, batches of {rec['batch_size']}, "
    f"attack ε={rec['eps']} with {rec['steps']} PGD steps (ramped up over "
    f"{rec['eps_warmup_epochs']:g} passes), γ={rec['gamma']}, "
    f"DAE noise σ={rec['noise_std']}"
)
print(p2[P2_CLASSES[-1]].summary())
print(p1[P1_CLASSES[0]].summary())

# %% [markdown]
# **What the quick profile changes.** The paper's recipe — 784→512→256→128 and back with sigmoid
# units, Adam at its default rate, $\gamma = 0.1$, a 40-step attack of step $2.5\varepsilon/40$ with a
# random start — is what the full profile runs, for 200 passes over the normal images (all ten
# classes; the public script makes 1,600). A CPU cannot afford that: every training batch costs
# a 40-step attack first. The quick profile trains three normal classes under protocol 2 (1 and 8,
# the pair of the paper's figure, and 3, chosen before any result was seen) and class 8 under
# protocol 1, for 40 passes in batches of 64 with a **5-step** attack (step $2.5\varepsilon/5$), the
# attack's ε ramped up from 0 over the first 10 passes (in the recipe trials described below, with
# the full ε from the first batch a sigmoid network on a short schedule did not get past drawing
# the mean image — which *is* perfectly robust). Its eight checkpoints ship with the package;
# the full profile trains its forty on first use (a GPU makes that practical).
#
# ## The library
#
# The attack maximises the latent distance, exactly as the formula says: it is Chapter 1's PGD loop
# with the latent distance as its loss (here from the clean image; training adds a random start).
# The training loss is two mean squared errors:

# %%
def latent_attack(model, x, eps, alpha, steps):
    with torch.no_grad():
        z = model.encode(x)
    x_star = x.clone()
    for _ in range(steps):
        x_star.requires_grad_(True)
        dist = (model.encode(x_star) - z).pow(2).mean(1).sum()  # MSE(E(x), E(x*))
        (grad,) = torch.autograd.grad(dist, x_star)
        x_star = x_star.detach() + alpha * grad.sign()
        x_star = torch.min(torch.max(x_star, x - eps), x + eps).clamp(0, 1)
    return x_star


def arae_loss(model, x, x_star, gamma=0.1):
    z, z_star = model.encode(x), model.encode(x_star)
    return F.mse_loss(model.decode(z_star), x) + gamma * F.mse_loss(z, z_star)


# %% [markdown]
# The library's `novelty.latent_attack` and `novelty.arae_loss` are the same (a hidden cell checks
# that they agree), with random starts, restarts and argument checks.

# %% tags=["remove-cell"]
_ae, _x = ae2[P2_CLASSES[-1], "arae"], p2[P2_CLASSES[-1]].x_test[:32]
_star = latent_attack(_ae, _x, 0.2, 0.05, 10)
assert torch.allclose(
    _star,
    novelty.latent_attack(_ae, _x, 0.2, steps=10, alpha=0.05, random_start=False),
    atol=1e-6,
)
assert torch.allclose(
    arae_loss(_ae, _x, _star), novelty.arae_loss(_ae, _x, _star)[0], atol=1e-6
)

# %% [markdown]
# The anomaly score is the reconstruction error of the *clean* input, `novelty.scores`; AUROC and F1
# come from scikit-learn.
#
# ## Protocol 2: the AUROC table
#
# Protocol 2 trains on one class of the standard MNIST training split and tests on the whole test
# split, the other nine classes being anomalies (about 90% of it).

# %%
s2 = {(c, m): novelty.scores(ae, p2[c].x_test) for (c, m), ae in ae2.items()}
auc2 = {(c, m): novelty.auroc(s, p2[c].y_test) for (c, m), s in s2.items()}

# %% tags=["hide-input"]
# The authors' repository logs its union-of-attacks ARAE's test AUROC after every epoch;
# we take the last epoch's (robustcore.references has the file and commit, and the
# released epoch 451).
PUBLISHED = {c: references.get(f"arae-repo/p2/{c}/last").value for c in range(10)}
mean2 = {m: float(np.mean([auc2[c, m] for c in P2_CLASSES])) for m in METHODS}
pub_mean = float(np.mean([PUBLISHED[c] for c in P2_CLASSES]))
loss2 = {
    (c, m): float(s2[c, m][p2[c].y_test == 0].mean())
    for c in P2_CLASSES
    for m in METHODS
}
header = [
    "normal class",
    "DAE",
    "ARAE",
    "union ARAE, repository (last epoch)",
    "MSE on normal test digits, DAE",
    "MSE on normal test digits, ARAE",
]
rows = [
    (
        c,
        f"{auc2[c, 'dae']:.3f}",
        f"{auc2[c, 'arae']:.3f}",
        f"{PUBLISHED[c]:.3f}",
        f"{loss2[c, 'dae']:.4f}",
        f"{loss2[c, 'arae']:.4f}",
    )
    for c in P2_CLASSES
]
all_ten = np.mean(list(PUBLISHED.values()))
rows.append(
    (
        "**mean**",
        f"**{mean2['dae']:.3f}**",
        f"**{mean2['arae']:.3f}**",
        f"**{pub_mean:.3f}** (all ten: {all_ten:.3f})",
        "",
        "",
    )
)
caption = (
    f"**MNIST, protocol 2, AUROC** ({P.name} profile, classes {list(P2_CLASSES)})."
)
display(Markdown(tables.markdown(header, rows, caption)))
# %% mystnb={"figure": {"caption": "Protocol 2, AUROC per normal class: our DAE and ARAE beside the union-of-attacks ARAE logged in the authors' repository; the axis starts at chance, 0.5."}} tags=["hide-input"]
fig, ax = plt.subplots(
    figsize=(min(plotting.COLUMN_IN, 0.9 * len(P2_CLASSES) + 2.5), 3.4),
    layout="constrained",
)
w, pos = 0.27, np.arange(len(P2_CLASSES))
for k, (label, vals) in enumerate(
    {
        "DAE": [auc2[c, "dae"] for c in P2_CLASSES],
        "ARAE": [auc2[c, "arae"] for c in P2_CLASSES],
        "union ARAE, repository": [PUBLISHED[c] for c in P2_CLASSES],
    }.items()
):
    ax.bar(
        pos + (k - 1) * w,
        vals,
        w,
        label=label,
        color=("tab:gray", "tab:blue", "lightsteelblue")[k],
        hatch=plotting.HATCHES[k],
        edgecolor="white",
    )
ax.set_xticks(pos, [str(c) for c in P2_CLASSES])
ax.set_xlabel("normal class")
ax.set_ylabel("AUROC")
ax.set_ylim(0.5, 1.0)
ax.set_title("Protocol 2: AUROC per normal class")
plotting.shared_legend(fig, [ax])
plt.show()

# %% tags=["remove-cell"]
# Same data and protocol as the repository, another model (ours: the paper's L∞ ARAE
# on a CPU schedule; theirs: the union of three attacks, 500 epochs): analogues, with
# bootstrap intervals.
for c in P2_CLASSES:
    for m in METHODS:
        results.record(
            "05",
            f"p2 AUROC, normal class {c}, {NAMES[m]}",
            stats.auroc(s2[c, m], p2[c].y_test),
            unit="AUROC",
            reference=f"arae-repo/p2/{c}/last" if m == "arae" else None,
            dataset="MNIST",
            same_protocol=False,
            model=f"the paper's L∞ ARAE, {ae2[c, m].meta['recipe']['epochs']} passes",
        )
for m in METHODS:
    results.record(
        "05", f"p2 mean AUROC, {NAMES[m]}, classes {list(P2_CLASSES)}", mean2[m]
    )

# %% tags=["remove-cell"]
gap2 = mean2["arae"] - mean2["dae"]
claims = Claims()
claims.check(
    "both autoencoders detect novel digits far better than chance (AUROC above 0.8)",
    all(auc2[c, m] >= 0.8 for c in P2_CLASSES for m in METHODS),
    ", ".join(f"{c}: {auc2[c, 'dae']:.3f} / {auc2[c, 'arae']:.3f}" for c in P2_CLASSES),
    key="05-autoencoders-beat-chance",
)
claims.report(
    "ARAE's mean AUROC is at least the DAE's (the paper's claim)",
    gap2 >= 0.0,
    f"ARAE {mean2['arae']:.3f}, DAE {mean2['dae']:.3f}, classes {list(P2_CLASSES)}",
    key="05-arae-at-least-dae-p2",
)
claims.report(
    "ARAE reconstructs the normal test digits less well than the DAE (a higher mean "
    "squared error) for every normal class",
    all(loss2[c, "arae"] > loss2[c, "dae"] for c in P2_CLASSES),
    ", ".join(
        f"{c}: {loss2[c, 'arae']:.4f} vs {loss2[c, 'dae']:.4f}" for c in P2_CLASSES
    ),
    key="05-arae-reconstructs-normals-worse",
)

# %% tags=["remove-cell"]
behind = [100 * (auc2[c, "dae"] - auc2[c, "arae"]) for c in P2_CLASSES]
glue.numbers(
    behind_min=min(behind),
    behind_max=max(behind),
    arae_p2_mean=mean2["arae"],
    pub_mean=pub_mean,
)

# %% [markdown]
# **Does ARAE beat the DAE?** The paper's claim, ARAE's mean AUROC at least the DAE's over these
# classes: {glue:md}`claim-05-arae-at-least-dae-p2`. Per class, the DAE's AUROC minus ARAE's is
# {glue:text}`behind_min:+.1f` to {glue:text}`behind_max:+.1f` points. The last column is where
# to look when ARAE is behind; ARAE reconstructing the *normal* test digits less well than the
# DAE, class by class: {glue:md}`claim-05-arae-reconstructs-normals-worse`. Each of its batches
# is reconstructed from a worst-case perturbation rather than from random noise, which may slow
# its learning (untested here), and 40 passes is a small fraction of the public script's 1,600.
# These are one model per method: how much of a difference of a few points a new seed can undo,
# the seed study below measures. Both models detect novel digits far better than chance on
# every class: {glue:md}`claim-05-autoencoders-beat-chance`.
#
# **Would a recipe nearer the paper's close the gap?** The quick recipe was
# chosen without the test split: a validation set was cut from MNIST's
# *training* split (15% of the normal class's training images, held out from
# training, plus nine times as many training images of the other classes as
# anomalies), and candidate recipes were compared there by AUROC — more passes,
# larger batches, no ε ramp, and the paper's 40-step attack from the first
# batch. In those trials (one seed each, not rerun by the chapter), none of them
# put ARAE ahead of the DAE within a CPU budget: more passes helped both models
# about equally, and the full attack from the first batch made ARAE's encoder
# settle on a nearly constant code whose decoder draws the mean 8. Exercise 2
# below repeats that comparison. Whether ARAE overtakes the DAE is left to the
# full profile's 200 passes with the paper's settings.
#
# **Beside the repository.** Its column is an analogue, not a reproduction: the
# logged results come from a *union* model — trained against three attacks at
# once (L∞ with ε = 0.2, L2 with ε = 5, and rotations/translations), with
# γ = 0.2, ReLU units, 500 passes — and its script evaluates on the test split
# after every pass; the numbers here are its last pass's. Ours is the paper's
# L∞-only ARAE with sigmoid units on a CPU schedule, evaluated once, after the
# last pass. The longer schedule should favour theirs; what the union of
# attacks does is not measured here. Over these classes our ARAE's mean AUROC
# is {glue:text}`arae_p2_mean:.3f`, the repository's {glue:text}`pub_mean:.3f`.
#
# ## Protocol 1: AUROC and F1
#
# Protocol 1 merges MNIST's train and test splits, splits the normal class 60/20/20 into train,
# validation and test, and adds anomalies until they are half of the test split. F1 needs a
# threshold on the score, and the test split must not choose it: `novelty.protocol1` also adds
# anomalies — disjoint from the test's — to the validation split at the same fraction, and
# `novelty.best_threshold` takes the threshold that maximises F1 *there*.

# %%
res1 = {(c, m): novelty.evaluate(ae, p1[c]) for (c, m), ae in ae1.items()}

# %% tags=["hide-input"]
COLUMNS = [(m, k) for k in ("auroc", "f1") for m in METHODS]
header = ["normal class", *(f"{NAMES[m]} {k.upper()}" for m, k in COLUMNS)]
rows = [(c, *(f"{res1[c, m][k]:.3f}" for m, k in COLUMNS)) for c in P1_CLASSES]
mean1 = {
    (m, k): float(np.mean([res1[c, m][k] for c in P1_CLASSES]))
    for m in METHODS
    for k in ("auroc", "f1")
}
if len(P1_CLASSES) > 1:
    rows.append(("**mean**", *(f"{mean1[m, k]:.3f}" for m, k in COLUMNS)))
caption = (
    f"**MNIST, protocol 1, anomaly fraction {novelty.P1_FRACTION}** "
    "(F1 at the threshold chosen on the validation split)."
)
display(Markdown(tables.markdown(header, rows, caption)))
# %% mystnb={"figure": {"caption": "Protocol 1: AUROC (left) and F1 (right) per normal class, DAE and ARAE; the axis starts at 0.5."}} tags=["hide-input"]
fig, axes = plt.subplots(
    1, 2, figsize=(plotting.COLUMN_IN, 3.2), sharey=True, layout="constrained"
)
for ax, k in zip(axes, ("auroc", "f1")):
    for j, m in enumerate(METHODS):
        ax.bar(
            np.arange(len(P1_CLASSES)) + (j - 0.5) * 0.38,
            [res1[c, m][k] for c in P1_CLASSES],
            0.38,
            label=NAMES[m],
            color=("tab:gray", "tab:blue")[j],
            hatch=plotting.HATCHES[j],
            edgecolor="white",
        )
    ax.set_xticks(range(len(P1_CLASSES)), [str(c) for c in P1_CLASSES])
    ax.set_xlabel("normal class")
    ax.set_title(f"Protocol 1: {k.upper()}")
    ax.set_ylim(0.5, 1.0)
plotting.shared_legend(fig, axes)
plt.show()

# %% tags=["remove-cell"]
for m in METHODS:
    for k in ("auroc", "f1"):
        results.record(
            "05",
            f"p1 (fraction 0.5) mean {k.upper()}, {NAMES[m]}, "
            f"classes {list(P1_CLASSES)}",
            mean1[m, k],
        )

# %% tags=["remove-cell"]
gap1 = mean1["arae", "auroc"] - mean1["dae", "auroc"]
claims = Claims()
# Flagging every test digit as novel already scores F1 = 2a / (1 + a), a the share of
# anomalies (2/3 at half): the threshold must beat that, not a fixed 0.5.
share = [float(p1[c].y_test.float().mean()) for c in P1_CLASSES]
flag_all = float(np.mean([2 * a / (1 + a) for a in share]))
claims.check(
    "a threshold chosen on validation data carries over to the test split "
    "(F1 above that of flagging every test digit as novel)",
    min(mean1[m, "f1"] for m in METHODS) > flag_all,
    ", ".join(f"{NAMES[m]} {mean1[m, 'f1']:.3f}" for m in METHODS)
    + f"; flagging all {flag_all:.3f}",
    key="05-threshold-carries-over",
)
claims.report(
    "ARAE's mean AUROC is at least the DAE's under protocol 1",
    gap1 >= 0.0,
    f"ARAE {mean1['arae', 'auroc']:.3f}, DAE {mean1['dae', 'auroc']:.3f}",
    key="05-arae-at-least-dae-p1",
)

# %% [markdown]
# A threshold chosen on the validation split carries over to the test split: both models'
# F1 beats that of flagging every test digit as novel (2/3 when half of them are):
# {glue:md}`claim-05-threshold-carries-over`. The
# paper's claim under protocol 1, ARAE's mean AUROC at least the DAE's:
# {glue:md}`claim-05-arae-at-least-dae-p1` — again one model per method.

# %% [markdown]
# ## Is the gap more than luck? Seeds, a plain autoencoder and classical baselines
#
# The tables above compare one trained model per method, and the differences are a few
# AUROC points. Three questions decide what they mean. Is a classical detector on raw
# pixels already as good — are the autoencoders any good at all? Does training noise
# (the seed: initial weights, batch order, noise, attack starts) move AUROC by as much
# as the method does? And what do noise and the latent attack each add over a **plain
# autoencoder** (`method="ae"`: no noise, no attack)?
#
# **Classical baselines, on the same splits.** `novelty.baselines` fits two detectors on
# the flattened pixels of the normal training images: **PCA reconstruction error** and a
# **one-class SVM** (RBF kernel). Neither may look at anomalies, and the test split must
# not choose their settings, so each has one setting chosen by a criterion that needs no
# labels, on 20% of the normal training images held out for it: PCA keeps the fewest
# components that explain 90% of the held-out images' pixel variance; the SVM's kernel
# width is scikit-learn's `gamma="scale"`, and its ν is the candidate whose false-alarm
# rate on the held-out normal images is nearest 5%. Both are then refitted on all
# training images (the SVM, whose cost grows with the square of their number, on a
# seeded subset in the quick profile). Beside them, a deep one-class reference: **Deep SVDD**
# {cite:p}`ruff2018deep`, as PyOD ships it, a network trained to map the normal images close
# to one centre and scoring a digit by its distance from it. Nothing is tuned: PyOD's
# defaults, with {glue:text}`dsvdd_epochs:.0f` epochs in this profile (PyOD's default is
# 100, the full profile's) on the SVM's training images, keeping the weights of the epoch
# with the lowest training loss.

# %% tags=["remove-cell"]
OCSVM_MAX = P.pick(quick=2000, full=None)  # the SVM's and Deep SVDD's training images
DSVDD_EPOCHS = P.pick(quick=10, full=100)  # Deep SVDD's passes (100: PyOD's default)
glue.numbers(dsvdd_epochs=DSVDD_EPOCHS)
BASELINES = novelty.baselines.BASELINES
CLASSICAL = ("ocsvm", "pca")  # the two shallow ones; Deep SVDD is the deep reference
BNAMES = novelty.baselines.NAMES
main_split = {
    **{("p2", c): p2[c] for c in P2_CLASSES},
    **{("p1", c): p1[c] for c in P1_CLASSES},
}

# %%
det = {
    k: novelty.baselines.fit_baselines(
        s.x_train, max_train=OCSVM_MAX, deep_svdd_epochs=DSVDD_EPOCHS
    )
    for k, s in main_split.items()
}
bauc = {
    (*k, b): novelty.baselines.evaluate(det[k][b], main_split[k])["auroc"]
    for k in det
    for b in BASELINES
}

# %% tags=["hide-input"]
ae_auc = {
    **{("p2", c, m): auc2[c, m] for c in P2_CLASSES for m in METHODS},
    **{("p1", c, m): res1[c, m]["auroc"] for c in P1_CLASSES for m in METHODS},
}
header = [
    "protocol",
    "normal class",
    "DAE",
    "ARAE",
    "one-class SVM (ν; held-out false alarms)",
    "PCA (components)",
    "Deep SVDD",
]
rows = [
    (
        pr,
        c,
        f"{ae_auc[pr, c, 'dae']:.3f}",
        f"{ae_auc[pr, c, 'arae']:.3f}",
        f"{bauc[pr, c, 'ocsvm']:.3f} (ν={det[pr, c]['ocsvm'].setting['nu']:g}; "
        f"{det[pr, c]['ocsvm'].setting['held_out_false_alarm']:.0%})",
        f"{bauc[pr, c, 'pca']:.3f} ({det[pr, c]['pca'].setting['components']:.0f})",
        f"{bauc[pr, c, 'deepsvdd']:.3f}",
    )
    for pr, c in det
]
caption = (
    f"**MNIST, AUROC of the chapter's autoencoders, two classical detectors and Deep "
    "SVDD** "
    f"({P.name} profile; the same splits and test images as the tables above)."
)
display(Markdown(tables.markdown(header, rows, caption)))
base_mean = {b: float(np.mean([bauc[pr, c, b] for pr, c in det])) for b in BASELINES}
ae_mean = {m: float(np.mean([ae_auc[pr, c, m] for pr, c in det])) for m in METHODS}

# %% tags=["remove-cell"]
for pr, c in det:
    for b in BASELINES:
        results.record(
            "05",
            f"{pr} AUROC, normal class {c}, {BNAMES[b]}",
            bauc[pr, c, b],
            unit="AUROC",
            what="setting chosen on held-out normal training images",
        )
glue.numbers(
    ocsvm_mean=base_mean["ocsvm"],
    pca_mean=base_mean["pca"],
    dsvdd_mean=base_mean["deepsvdd"],
    dae_mean_all=ae_mean["dae"],
    arae_mean_all=ae_mean["arae"],
    ocsvm_ahead=100 * (base_mean["ocsvm"] - max(ae_mean.values())),
)

# %% [markdown]
# **Beside classical detectors.** Over these splits the one-class
# SVM's mean AUROC is {glue:text}`ocsvm_mean:.3f` and PCA's
# {glue:text}`pca_mean:.3f`, against {glue:text}`dae_mean_all:.3f` for the DAE
# and {glue:text}`arae_mean_all:.3f` for ARAE: the SVM on raw pixels minus the
# better autoencoder is {glue:text}`ocsvm_ahead:+.1f` points. A deep detector is
# meant to beat shallow ones; ARAE beating both baselines on this mean:
# {glue:md}`claim-05-arae-beats-baselines`. The mean is over different normal
# classes, not replicates, and hides much: in the quick profile the SVM is best
# by a wide margin on the 8s, under both protocols, and worst on the 3s, where
# PCA matches the DAE; on the 1s everything is near perfect. The SVM's one
# setting was chosen without a single labelled anomaly; where it leads,
# undertrained autoencoders are one possible reason (untested here), and the
# lead is the first thing to know before reading anything into a gap between
# two of them. Deep SVDD's mean AUROC is {glue:text}`dsvdd_mean:.3f`; better than chance on
# every split: {glue:md}`claim-05-deep-svdd-beats-chance`; ARAE ahead of it on this mean:
# {glue:md}`claim-05-arae-beats-deep-svdd`.
#
# **Seeds and the ablation.** Retraining the chapter's models with new seeds
# would cost the quick profile far more than it has (each shipped ARAE took
# minutes), so the seed study trains its own, smaller models: every method,
# three seeds, on each split of the study — `novelty.train_seeds`, keeping each
# run's scores of the test images —
# with a shorter schedule in the quick profile (its settings are printed below)
# and the paper's recipe in the full one. A seed's three models start from the
# same initial weights and see the same batches, so the three methods pair up
# seed by seed. The study covers protocol 2 and protocol 1 and, as the public
# scripts allow for COIL-100, **several normal classes at once**: protocol 1
# with four normal digits and anomalies a quarter of the test split (the
# scripts' choice for four normal objects), the four drawn at random with a
# fixed seed. The quick profile runs two splits — protocol 2 with normal class
# 8, and the four-digit split under protocol 1; the full profile all ten digits
# under both protocols and a draw of four and of seven normal digits (anomalies
# 15% of the test split for seven). The baselines are fitted on each study split
# too.

# %% tags=["hide-input"]
ST = novelty.study(P.name)
SEEDS = novelty.SEEDS
ALL_METHODS = ("ae", "dae", "arae")
ALL_NAMES = {"ae": "AE", **NAMES}
MULTI = P.pick(
    quick=novelty.draw_normal_sets(4, seed=0),
    full=[*novelty.draw_normal_sets(4, seed=0), *novelty.draw_normal_sets(7, seed=0)],
)
TASKS = {
    **{f"p2, {c}": ("p2", (c,), None) for c in P.pick(quick=(8,), full=range(10))},
    **{
        f"p1, {c}": ("p1", (c,), novelty.P1_FRACTION)
        for c in P.pick(quick=(), full=range(10))
    },
    **{
        f"p1, {'+'.join(map(str, s))}": ("p1", s, novelty.COIL_FRACTIONS[len(s)])
        for s in MULTI
    },
}
study_split = {
    t: novelty.prepare(
        "mnist", pr, list(cl), fr, max_train=ST["max_train"], max_test=ST["max_test"]
    )
    for t, (pr, cl, fr) in TASKS.items()
}
fit_settings = ", ".join(f"{k}={v}" for k, v in ST["fit"].items())
print(
    f"seed study ({P.name} profile): seeds {list(SEEDS)}, fit settings: {fit_settings}"
)
for t in TASKS:
    print(f"  {t}: {study_split[t].summary()}")

# %%
trained = {
    t: novelty.train_seeds(split, ALL_METHODS, SEEDS, ST["fit"], keep_scores=True)
    for t, split in study_split.items()
}

# %% tags=["hide-input"]
runs = {t: {k: r["scores"] for k, r in trained[t].items()} for t in TASKS}
study_det = {
    t: novelty.baselines.fit_baselines(
        s.x_train, max_train=OCSVM_MAX, deep_svdd_epochs=DSVDD_EPOCHS
    )
    for t, s in study_split.items()
}
study_base = {
    (t, b): novelty.baselines.evaluate(study_det[t][b], study_split[t])["auroc"]
    for t in TASKS
    for b in BASELINES
}
seed_auc = {
    (t, m): [novelty.auroc(runs[t][m, s], study_split[t].y_test) for s in SEEDS]
    for t in TASKS
    for m in ALL_METHODS
}
spread = {k: novelty.mean_std(v) for k, v in seed_auc.items()}
header = [
    "split (protocol, normal digits)",
    *(f"{ALL_NAMES[m]}, mean ± std" for m in ALL_METHODS),
    *(BNAMES[b] for b in BASELINES),
]
rows = [
    (
        t,
        *(f"{spread[t, m][0]:.3f} ± {spread[t, m][1]:.3f}" for m in ALL_METHODS),
        *(f"{study_base[t, b]:.3f}" for b in BASELINES),
    )
    for t in TASKS
]
caption = (
    f"**Seed study, AUROC over {len(SEEDS)} seeds** ({P.name} profile; "
    f"{ST['max_test'] or 'all'} test images per split)."
)
display(Markdown(tables.markdown(header, rows, caption)))

# %% mystnb={"figure": {"caption": "AUROC of every seed (one dot each) of the plain autoencoder, the DAE and the ARAE on each split; the lines are the one-class SVM, PCA and Deep SVDD baselines on the same split; the axis spans the AUROCs shown, not 0 to 1."}} tags=["hide-input"]
fig, ax = plt.subplots(
    figsize=(min(plotting.COLUMN_IN, 1.6 * len(TASKS) + 2.5), 3.4), layout="constrained"
)
colors = {"ae": "tab:olive", "dae": "tab:gray", "arae": "tab:blue"}
for i, t in enumerate(TASKS):
    for j, m in enumerate(ALL_METHODS):
        ax.plot(
            [i + (j - 1) * 0.22] * len(SEEDS),
            seed_auc[t, m],
            linestyle="none",
            marker=plotting.MARKERS[j],
            color=colors[m],
            alpha=0.8,
            label=ALL_NAMES[m] if i == 0 else None,
        )
    for b, style in zip(BASELINES, ("--", ":", "-.")):
        ax.plot(
            [i - 0.4, i + 0.4],
            [study_base[t, b]] * 2,
            style,
            color="black",
            lw=1,
            label=BNAMES[b] if i == 0 else None,
        )
ax.set_xticks(range(len(TASKS)), list(TASKS), fontsize=8)
ax.set_xlabel("split (protocol, normal digits)")
ax.set_ylabel("AUROC")
ax.set_title("One dot per seed; lines: the baselines")
plotting.shared_legend(fig, [ax])
ax.grid(alpha=0.3, axis="y")
plt.show()

# %% [markdown]
# **Effect sizes, not p-values.** Each comparison pairs the two methods' AUROCs
# run by run — same split, same seed. The pairs are not independent replicates:
# a split's seeds share its test images, so a signed-rank test over the pairs
# would count those images once per seed (and with the quick profile's six pairs
# its smallest two-sided p is 1/32 ≈ 0.031, which no correction for three
# comparisons keeps under 0.05). The table reports instead the **mean paired
# difference** over the runs with a bootstrap interval,
# `stats.auroc_difference`, that resamples what was sampled: each split's test
# images, within each class, one draw applied to every seed and both methods,
# and the seeds, drawn with replacement within each split. The splits stay as
# they are — different normal classes, not replicates — so the interval speaks
# for these splits only. It leaves out the draw of the training images, which
# every run of a split shares, and with three seeds it represents the
# seed-to-seed spread only roughly (a bootstrap of three values understates it);
# the images-only column shows how much the seeds widen it. An interval above 0
# says the first method is ahead, below 0 the second, and one that straddles 0
# leaves the comparison undecided at this size. The three comparisons are one
# family: each interval is at 1 − 0.05/3 ≈ 98.3% (Bonferroni, `family=3`), so the
# chance that any of the three misses its true difference is at most 5% — if each
# interval covers as stated, which with three seeds it may not (see above).

# %% tags=["remove-cell"]
PAIRS = (("arae", "dae"), ("arae", "ae"), ("dae", "ae"))
y_study = [study_split[t].y_test for t in TASKS]


def by_split(m):
    """Method m's scores, one (seeds, test images) tensor per split."""
    return [torch.stack([runs[t][m, s] for s in SEEDS]) for t in TASKS]


def interval(e):
    return f"[{100 * e.low:+.1f}, {100 * e.high:+.1f}]"


def points(e):
    """An AUROC difference and its interval, in points."""
    return f"{100 * e.value:+.1f} {interval(e)}"


def side(e):
    """What the interval decides."""
    if e.low > 0 or e.high < 0:
        return "above 0" if e.low > 0 else "below 0"
    return "straddles 0: undecided at this size"


# %%
effect = {  # three comparisons: their intervals hold together at 95%
    (a, b): stats.auroc_difference(by_split(a), by_split(b), y_study, family=len(PAIRS))
    for a, b in PAIRS
}

# %% tags=["hide-input"]
images_only = {
    (a, b): stats.auroc_difference(
        by_split(a), by_split(b), y_study, resample_runs=False, family=len(PAIRS)
    )
    for a, b in PAIRS
}
n_runs = len(TASKS) * len(SEEDS)
ahead = {
    (a, b): sum(u > v for t in TASKS for u, v in zip(seed_auc[t, a], seed_auc[t, b]))
    for a, b in PAIRS
}
header = [
    "comparison",
    "mean AUROC difference, points [interval]",
    "interval, test images only",
    "the interval",
    "runs ahead",
]
rows = [
    (
        f"{ALL_NAMES[a]} − {ALL_NAMES[b]}",
        points(e),
        interval(images_only[a, b]),
        side(e),
        f"{ahead[a, b]} of {n_runs}",
    )
    for (a, b), e in effect.items()
]
caption = (
    f"**Paired comparisons over the seed study** ({P.name} profile; the interval "
    "resamples the test images, within each class, and the seeds; the three "
    "intervals hold together at 95%, each at 98.3%)."
)
display(Markdown(tables.markdown(header, rows, caption)))
seed_sd = float(np.mean([spread[k][1] for k in spread]))
MT = next(t for t in TASKS if "+" in t)  # the first several-digit split

# %% tags=["remove-cell"]
for t in TASKS:
    for m in ALL_METHODS:
        results.record(
            "05",
            f"seed study {t}: mean AUROC over {len(SEEDS)} seeds, {ALL_NAMES[m]}",
            spread[t, m][0],
            unit="AUROC",
            what=f"std {spread[t, m][1]:.4f}",
        )
    for b in BASELINES:
        results.record("05", f"seed study {t}: AUROC, {BNAMES[b]}", study_base[t, b])
for (a, b), e in effect.items():
    results.record(
        "05",
        f"seed study: mean AUROC difference, {ALL_NAMES[a]} − {ALL_NAMES[b]}",
        e,
        unit="AUROC",
        what="98.3% interval (95% jointly over the three comparisons): test images "
        "(within each class) and seeds resampled; "
        f"{ahead[a, b]} of {n_runs} runs ahead",
    )
glue.numbers(
    **{f"w_{a}_{b}": ahead[a, b] for a, b in PAIRS},
    n_pairs=n_runs,
    gap_8=100 * abs(auc2[8, "dae"] - auc2[8, "arae"]),
    seed_sd=100 * seed_sd,
    seed_sd_max=100 * max(s for _, s in spread.values()),
    multi_ae_best=max(spread[MT, m][0] for m in ALL_METHODS),
    multi_arae=spread[MT, "arae"][0],
    **{f"multi_{b}": study_base[MT, b] for b in BASELINES},
)

# %% tags=["remove-cell"]
claims = Claims()
base_all = {**bauc, **study_base}  # keyed (..., baseline)
claims.check(
    "both classical baselines detect novel digits better than chance (AUROC above 0.5) "
    "on every split",
    all(v > 0.5 for k, v in base_all.items() if k[-1] in CLASSICAL),
    key="05-baselines-beat-chance",
)
claims.report(
    "Deep SVDD detects novel digits better than chance (AUROC above 0.5) on every "
    "split",
    all(v > 0.5 for k, v in base_all.items() if k[-1] == "deepsvdd"),
    f"lowest {min(v for k, v in base_all.items() if k[-1] == 'deepsvdd'):.3f}",
    key="05-deep-svdd-beats-chance",
)
claims.check(
    "every autoencoder of the seed study does better than chance (AUROC above 0.5)",
    all(v > 0.5 for vals in seed_auc.values() for v in vals),
    key="05-seed-runs-beat-chance",
)
e = effect["arae", "dae"]
claims.report(
    "ARAE beats the DAE over the seed study's splits and seeds (the paper's "
    "claim): the interval of the mean paired AUROC difference ARAE − DAE, 95% "
    "jointly with the other two comparisons, lies above 0",
    e.low > 0,
    f"{points(e)} points, {side(e)}",
    key="05-arae-beats-dae-over-seeds",
)
e = effect["arae", "ae"]
claims.report(
    "the latent attack helps: ARAE beats the plain AE (the interval of "
    "ARAE − AE lies above 0)",
    e.low > 0,
    f"{points(e)} points, {side(e)}",
    key="05-attack-helps-over-ae",
)
e = effect["dae", "ae"]
claims.report(
    "noise helps: the DAE beats the plain AE (interval of DAE − AE above 0)",
    e.low > 0,
    f"{points(e)} points, {side(e)}",
    key="05-noise-helps-over-ae",
)
claims.report(
    "ARAE beats both classical baselines on the chapter's splits (mean AUROC)",
    ae_mean["arae"] > max(base_mean[b] for b in CLASSICAL),
    f"ARAE {ae_mean['arae']:.3f}, "
    + ", ".join(f"{BNAMES[b]} {base_mean[b]:.3f}" for b in CLASSICAL),
    key="05-arae-beats-baselines",
)
claims.report(
    "ARAE beats Deep SVDD on the chapter's splits (mean AUROC)",
    ae_mean["arae"] > base_mean["deepsvdd"],
    f"ARAE {ae_mean['arae']:.3f}, Deep SVDD {base_mean['deepsvdd']:.3f}",
    key="05-arae-beats-deep-svdd",
)

# %% [markdown]
# **What the seeds say.** In the study's smaller models a method's AUROC moves by up to
# {glue:text}`seed_sd_max:.1f` points (standard deviation over three seeds) from one seed to
# the next, against a gap of {glue:text}`gap_8:.1f` points between the shipped DAE and ARAE
# for the 8s: if the shipped models vary as much, one model per method cannot settle it. The
# paper's claim, ARAE ahead of the DAE over the study's splits and seeds, decided by the
# interval: {glue:md}`claim-05-arae-beats-dae-over-seeds` (ARAE ahead in
# {glue:text}`w_arae_dae:.0f` of {glue:text}`n_pairs:.0f` paired runs). An interval
# below 0 would be the opposite of the paper's claim — at this budget, on these
# splits. The plain autoencoder separates the two ingredients. The latent attack
# helping, ARAE ahead of the AE: {glue:md}`claim-05-attack-helps-over-ae`. Noise
# helping, the DAE ahead of the AE: {glue:md}`claim-05-noise-helps-over-ae`. The three
# intervals are set to hold jointly at 95%. Where ARAE is behind, the first table (the
# shipped models, not the study's) offers one candidate reason, ARAE reconstructing
# normal digits less well: {glue:md}`claim-05-arae-reconstructs-normals-worse`; on a
# short schedule the latent attack may cost reconstruction quality before it buys
# anything. Every autoencoder of the study does better than chance on every split
# ({glue:md}`claim-05-seed-runs-beat-chance`), and so do both baselines, on the
# chapter's splits and the study's ({glue:md}`claim-05-baselines-beat-chance`).
#
# **Several normal classes.** With four normal digits at once, the best autoencoder's
# mean AUROC over seeds is {glue:text}`multi_ae_best:.3f` and ARAE's
# {glue:text}`multi_arae:.3f`; the one-class SVM, one kernel width for four shapes of
# digit, reaches {glue:text}`multi_ocsvm:.3f`, and PCA, whose linear subspace has room
# for all four, {glue:text}`multi_pca:.3f`. One split and, for the baselines, one fit:
# these numbers describe rather than decide. A mixed normal class is where a more
# flexible model ought to pay off, and a longer schedule is where to look for it.

# %% [markdown]
# ## What the two autoencoders do with a 1
#
# The paper's figure: both models were trained on 8s only; each is given 1s from the test split.

# %% tags=["remove-cell"]
C8 = 8 if 8 in P2_CLASSES else P2_CLASSES[0]  # the normal class of the figure
ANOM = 1 if C8 != 1 else 7  # ... and the anomalies it is given

# %%
ones = p2[C8].x_test[p2[C8].c_test == ANOM][:8]
with torch.no_grad():
    recon = {m: ae2[C8, m](ones) for m in METHODS}
# %% mystnb={"figure": {"caption": "Anomalies given to autoencoders trained on one digit: the inputs, then the DAE's and the ARAE's reconstructions."}} tags=["hide-input"]
side = min(1.2, (plotting.COLUMN_IN - 0.5) / len(ones))  # one column of digits
fig, axes = plt.subplots(3, len(ones), figsize=(0.5 + side * len(ones), 3 * side + 0.4))
for j in range(len(ones)):
    for i, (img, label) in enumerate(
        (
            (ones[j], f"input ({ANOM}s)"),
            (recon["dae"][j], "DAE"),
            (recon["arae"][j], "ARAE"),
        )
    ):
        axes[i, j].imshow(img[0], cmap="gray", vmin=0, vmax=1)
        axes[i, j].set_xticks([])
        axes[i, j].set_yticks([])
        if j == 0:
            axes[i, j].set_ylabel(label, fontsize=9)
fig.suptitle(f"Trained on {C8}s, given {ANOM}s", y=0.99)
fig.tight_layout()
plt.show()

# %% [markdown]
# In the paper's figure the DAE hands back the 1 it was given, while ARAE draws an 8. After the
# quick profile's short schedule **both** models still draw a thin 8 — neither has yet learned to
# copy strokes it never saw — so the contrast is one of degree, and it has to be measured: how
# close each reconstruction is to the input it came from, and how close to the mean training 8.

# %%
mean_normal = p2[C8].x_train.mean(0, keepdim=True)
all_ones = p2[C8].x_test[p2[C8].c_test == ANOM]
with torch.no_grad():
    rec_all = {m: ae2[C8, m](all_ones) for m in METHODS}
to_input = {m: float((rec_all[m] - all_ones).pow(2).mean()) for m in METHODS}
to_normal = {m: float((rec_all[m] - mean_normal).pow(2).mean()) for m in METHODS}

# %% tags=["remove-cell"]
claims = Claims()
claims.report(
    f"ARAE copies the anomaly less: its reconstructions of {ANOM}s are further "
    "from them",
    to_input["arae"] > to_input["dae"],
    f"MSE to the input: ARAE {to_input['arae']:.4f}, DAE {to_input['dae']:.4f}",
    key="05-arae-copies-anomaly-less",
)
claims.report(
    f"... and nearer the normal class (the mean {C8})",
    to_normal["arae"] < to_normal["dae"],
    f"MSE to the mean {C8}: ARAE {to_normal['arae']:.4f}, DAE {to_normal['dae']:.4f}",
    key="05-arae-nearer-normal",
)

# %% [markdown]
# The paper's direction, ARAE's reconstructions of the 1s further from the 1s
# than the DAE's: {glue:md}`claim-05-arae-copies-anomaly-less`; and nearer the
# mean 8: {glue:md}`claim-05-arae-nearer-normal`. Either would still not make
# the 1s easy to catch: a 1 has so little ink that even a poor reconstruction of
# it leaves a small squared error — the per-class AUROCs after the ROC curves
# show what that costs.

# %% [markdown]
# ## ROC curves
#
# The same two models (normal class 8, protocol 2) over the whole test split.

# %% mystnb={"figure": {"caption": "ROC curves of the DAE and the ARAE under protocol 2 for the normal class of the figure above."}} tags=["hide-input"]
fig, ax = plt.subplots(figsize=(4.6, 4.6), layout="constrained")
for m, color, ls in zip(METHODS, ("tab:gray", "tab:blue"), ("--", "-")):
    fpr, tpr = novelty.roc(s2[C8, m], p2[C8].y_test)
    ax.plot(fpr, tpr, ls, color=color, label=f"{NAMES[m]} (AUROC {auc2[C8, m]:.3f})")
ax.plot([0, 1], [0, 1], ls=":", color="black", lw=0.8)
ax.set_xlabel("false-positive rate (normal flagged)")
ax.set_ylabel("true-positive rate (anomaly flagged)")
ax.set_title(f"Protocol 2, normal class {C8}")
plotting.shared_legend(fig, [ax])
ax.grid(alpha=0.3)
plt.show()

# %% tags=["hide-input"]
per_class = {
    (m, k): novelty.auroc(
        torch.cat([s2[C8, m][p2[C8].c_test == C8], s2[C8, m][p2[C8].c_test == k]]),
        torch.cat(
            [
                torch.zeros(int((p2[C8].c_test == C8).sum())),
                torch.ones(int((p2[C8].c_test == k).sum())),
            ]
        ),
    )
    for m in METHODS
    for k in range(10)
    if k != C8
}
print(f"AUROC of {C8} against each other class:")
for m in METHODS:
    print(
        f"  {NAMES[m]:5s}",
        "  ".join(f"{k}: {per_class[m, k]:.3f}" for k in range(10) if k != C8),
    )

# %% tags=["remove-cell"]
claims = Claims()
claims.report(
    f"the {ANOM}s are the one class both models rank backwards against the {C8}s "
    "(AUROC below 0.5)",
    all(
        (per_class[m, k] < 0.5) == (k == ANOM)
        for m in METHODS
        for k in range(10)
        if k != C8
    ),
    ", ".join(f"{NAMES[m]} {per_class[m, ANOM]:.3f}" for m in METHODS),
    key="05-ones-ranked-backwards",
)

# %% [markdown]
# Reconstruction error can have a blind spot of its own. The 1s being the one class that both
# models score as *more* normal than the 8s: {glue:md}`claim-05-ones-ranked-backwards`.

# %% [markdown]
# ## Latent-space stability under attack
#
# The mechanism, measured: attack the latent code of test 8s at increasing ε and see how far it
# moves. Latent units of different models live on different scales, so the shift is divided by
# each model's `scale`, the typical distance between the codes of two *different* 8s (a hidden
# cell computes it, beside the attack settings). Two attacks: the paper's training attack (40 PGD
# steps; the quick profile's ARAE trained against 5), and a stronger one with more steps and
# restarts, each image keeping its furthest run — a model trained against one attack can resist
# that attack alone.

# %% tags=["remove-cell"]
EPS = (0.05, 0.1, 0.2, 0.3)
STRONG = P.pick(quick=dict(steps=100, restarts=2), full=dict(steps=200, restarts=5))
ATTACKS = {
    "paper's training attack (40 steps)": dict(steps=40),
    f"{STRONG['steps']} steps × {STRONG['restarts']} restarts": STRONG,
}
x8 = p2[C8].x_test[p2[C8].c_test == C8][: P.pick(quick=200, full=974)]
# each model's scale: the mean squared distance, per latent unit, between the codes
# of two different 8s
scale = {}
for m in METHODS:
    with torch.no_grad():
        z = ae2[C8, m].encode(x8)
        scale[m] = float(
            torch.cdist(z, z).pow(2).sum() / (len(z) * (len(z) - 1)) / z.shape[1]
        )

# %%
shift = {}
for m in METHODS:
    ae = ae2[C8, m]
    for a, kw in ATTACKS.items():
        for e in EPS:
            gen = torch.Generator().manual_seed(0)
            adv = novelty.latent_attack(ae, x8, e, generator=gen, **kw)
            with torch.no_grad():
                moved = float(novelty.latent_distance(ae, x8, adv).mean())
            shift[m, a, e] = moved / scale[m]
# %% mystnb={"figure": {"caption": "How far an L\u221e attack of growing \u03b5 moves the latent code of a normal digit, relative to the distance between two normal digits, for the DAE and the ARAE under two attacks; the dotted line is the training \u03b5."}} tags=["hide-input"]
fig, ax = plt.subplots(figsize=(5.4, 4.0), layout="constrained")
for j, (m, color) in enumerate(zip(METHODS, ("tab:gray", "tab:blue"))):
    for a, ls in zip(ATTACKS, ("-", "--")):  # the method: colour and marker
        ax.plot(
            EPS,
            [shift[m, a, e] for e in EPS],
            ls,
            marker=plotting.MARKERS[j],
            color=color,
            label=f"{NAMES[m]}, {a}",
        )
ax.axvline(0.2, ls=":", color="black", lw=0.8)
ax.set_xlabel("attack ε (L∞)")
ax.set_ylabel("latent shift / distance between two 8s")
ax.set_title("How far an attack moves the latent code")
plotting.shared_legend(fig, [ax])
ax.grid(alpha=0.3)
plt.show()

# %% tags=["remove-cell"]
claims = Claims()
for i, a in enumerate(ATTACKS):
    pairs = {e: (shift["arae", a, e], shift["dae", a, e]) for e in EPS}
    claims.check(
        f"adversarial training makes the latent code stable: at every ε the {a} moves "
        "ARAE's code less than the DAE's",
        all(r < d for r, d in pairs.values()),
        ", ".join(f"ε={e}: {r:.3f} vs {d:.3f}" for e, (r, d) in pairs.items()),
        key={0: "05-code-stable-training-attack", 1: "05-code-stable-strong-attack"}[i],
    )
weak, strong = ATTACKS
glue.numbers(
    shift_dae=shift["dae", weak, 0.2],
    shift_arae=shift["arae", weak, 0.2],
    shift_ratio=shift["dae", weak, 0.2] / shift["arae", weak, 0.2],
)
claims.check(
    "the stronger attack is stronger: it moves every model's code at least as far "
    "(to within 5%) at every ε",
    all(shift[m, strong, e] >= 0.95 * shift[m, weak, e] for m in METHODS for e in EPS),
    key="05-strong-attack-stronger",
)

# %% [markdown]
# At the training ε = 0.2, the training attack moves the DAE's code by
# {glue:text}`shift_dae:.2f` times the distance between two different 8s, ARAE's
# by {glue:text}`shift_arae:.2f` (the DAE's moves {glue:text}`shift_ratio:.1f`
# times as far). At every ε ARAE's code moves less than the DAE's, under the
# training attack ({glue:md}`claim-05-code-stable-training-attack`) and under
# the stronger one ({glue:md}`claim-05-code-stable-strong-attack`), which is
# indeed the stronger ({glue:md}`claim-05-strong-attack-stronger`). One reading,
# not measured here: its encoder has given up fine, pixel-level detail that an
# ε-perturbation can reach, which is also the detail a decoder would need to copy
# a 1.
#
# ## Fashion-MNIST and COIL-100
#
# The same code runs the paper's other two datasets, from the command line as in the public
# scripts (each is downloaded on first use; the paper's ε is 0.05 for both, with batches of 16 and
# a 20-step attack on COIL-100, whose 128×128 colour images are resized to 32×32):
#
# ```bash
# python -m robustcore.novelty prepare fashion_mnist p2 2      # train on class 2 (pullovers)
# python -m robustcore.novelty train --method arae
# python -m robustcore.novelty test
#
# # COIL-100, protocol 1 with 1, 4 or 7 normal objects (anomaly fractions 0.5, 0.25, 0.15)
# python -m robustcore.novelty prepare coil100 p1 0.25 3 17 42 64
# python -m robustcore.novelty train && python -m robustcore.novelty test
#
# # the chapter's own models, by zoo name
# python -m robustcore.novelty test novelty-mnist-p2-8-arae
# ```

# %% [markdown]
# ## This run beside the full profile
#
# The full profile runs this chapter at paper scale (`make full`, see the README). Its numbers,
# from a real run and committed with `robustcore`, stand beside this run's, with where and when
# they were measured; a chapter that has not run at full scale yet says so.

# %% tags=["hide-input"]
from robustcore import full_records

display(Markdown(full_records.beside("05")))

# %% [markdown]
# ### Which digits are noise
#
# A training run or a long optimisation carries the last bits of its float sums into its
# result, and the order of those sums depends on the CPU's instruction set and thread count. This
# chapter was run twice on one machine with only that order changed (`python tools/noise.py
# 05`): a number that moved there can move on another machine too, and a difference no larger
# than that says nothing.

# %% tags=["remove-input", "hide-output"]
from robustcore import noise

display(Markdown(noise.table("05")))

# %% [markdown]
# ## Summary
#
# * An autoencoder trained on one class may reconstruct more than that class, and then misses
#   anomalies; in the paper's figure the DAE copies an anomalous 1. Reconstruction error can
#   have a blind spot of its own: digits with little ink, such as 1s, can score low whatever is
#   drawn for them (the 1s against the 8s here: {glue:md}`claim-05-ones-ranked-backwards`).
# * ARAE's code moves less under attack than the DAE's, measurably after a short schedule (one
#   model of each, trained on 8s: {glue:md}`claim-05-code-stable-strong-attack`);
#   whether its reconstructions of anomalies drift toward the normal class:
#   {glue:md}`claim-05-arae-nearer-normal`.
# * A more stable code need not be a better detector yet. ARAE beating the DAE over the seed study,
#   decided by an interval over the test images and seeds:
#   {glue:md}`claim-05-arae-beats-dae-over-seeds`. The repository's union model is an analogue
#   (three attacks, a longer schedule), not a target this chapter reproduces.
# * One model per method cannot tell a method from a lucky seed, and runs that share their test
#   images are not independent replicates: compare methods by the paired difference with an
#   interval that resamples the images and the seeds. A one-class SVM on raw pixels, tuned without
#   a labelled anomaly, is the baseline any novelty detector should be shown beside (ARAE beating
#   it and PCA here: {glue:md}`claim-05-arae-beats-baselines`).
# * Robustness here is not a defence but a prior: *what an attacker cannot change, the model
#   should not care about*.

# %% tags=["remove-input"]
checks("05")  # every claim of the chapter with its evidence, in one collapsed block

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** *What does each ingredient buy?* Train a plain autoencoder (`method="ae"`: no
# noise, no attack), a DAE and an ARAE with the same short schedule on 1,000 normal 8s, and
# compare their AUROC on 1,000 test digits. The ablation tells you whether noise or the latent
# attack is doing the work.
#
# <details>
# <summary>Solution</summary>
#
# ```python
# import torch
# from robustcore import novelty
#
# split = novelty.prepare("mnist", "p2", 8, max_train=1000, max_test=1000)
# for method in ("ae", "dae", "arae"):
#     torch.manual_seed(0)
#     ae = novelty.AutoEncoder()
#     novelty.fit(ae, split.x_train, method=method, epochs=2, batch_size=64, steps=5,
#                 eps_warmup_epochs=1, progress_bar=False)
#     print(f"{method}: AUROC {novelty.evaluate(ae.eval(), split)['auroc']:.3f}")
# ```
# One seed and a short schedule give a noisy answer: run several seeds, keep each run's
# scores, and compare the methods by `stats.auroc_difference`, whose interval resamples the
# test images the runs share and the seeds, as the seed study above does, before concluding.
#
# </details>
#
# **Exercise 2.** *Choosing a recipe without the test set.* Cut a validation set from MNIST's
# training split — 15% of the normal class's training images, plus nine times as many training
# images of the other classes as anomalies — train on the remaining normal images, and compare
# two ARAE recipes (with and without the ε ramp) by validation AUROC.
#
# <details>
# <summary>Solution</summary>
#
# ```python
# import torch
# from robustcore import data, metrics, novelty
#
# x, y = data.mnist(train=True)
# normal = x[y == 8][:1000]
# n_val = int(0.15 * len(normal))
# fit_x, val_normal = normal[n_val:], normal[:n_val]
# val_anomalies = x[y != 8][: 9 * n_val]
# val_x = torch.cat([val_normal, val_anomalies])
# val_y = torch.cat([torch.zeros(n_val), torch.ones(len(val_anomalies))])
# for ramp in (1.0, 0.0):
#     torch.manual_seed(0)
#     ae = novelty.AutoEncoder()
#     novelty.fit(ae, fit_x, method="arae", epochs=2, batch_size=64, steps=5,
#                 eps_warmup_epochs=ramp, progress_bar=False)
#     auroc = metrics.auroc(novelty.scores(ae.eval(), val_x), val_y)
#     print(f"ε ramp over {ramp:g} passes: validation AUROC {auroc:.3f}")
# ```
# The recipe with the higher validation AUROC is the one to test, once, on the test split.
#
# </details>
#
# **Exercise 3.** ARAE's code moves less under attack than the DAE's, yet after a short schedule
# its AUROC need not be higher. How can a more stable code fail to give a better detector?
#
# <details>
# <summary>Solution</summary>
#
# Stability is necessary, not sufficient: an encoder can be stable by throwing information
# away (in the limit, a constant code is perfectly stable), and then it also reconstructs
# normal digits poorly, which raises their anomaly scores and blurs the separation. Where
# ARAE's reconstruction error on normal digits is still higher than the DAE's (the first
# table's last column), the detector may improve once the decoder catches up.
#
# </details>
