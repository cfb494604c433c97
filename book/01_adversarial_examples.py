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
# # Adversarial examples and robust training
#
# A classifier that reads handwritten digits almost without error can be made to misread almost
# every one of them by changes that leave each digit obvious to a person.
# {cite:t}`szegedy2014intriguing` found such *adversarial examples*;
# {cite:t}`goodfellow2015explaining` showed that one gradient step finds them;
# {cite:t}`madry2018towards` framed both the attack and the defence as one optimisation problem.
#
# This chapter
#
# 1. attacks real MNIST digits with the fast gradient sign method (FGSM) and projected gradient
#    descent (PGD), under the L∞ and the L2 norm;
# 2. measures accuracy as the attacker's budget ε grows, for a standard and an adversarially
#    trained network;
# 3. explains adversarial training and runs it;
# 4. puts our numbers beside Madry et al.'s MNIST table, as analogues: same data and attacks, a
#    smaller CNN trained against a weaker attack.
#
# The models come from `robustcore.zoo`, which later chapters reuse.

# %% tags=["hide-input", "parameters"]
# %matplotlib inline
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from IPython.display import Markdown, display

from robustcore import (
    attacks,
    audit,
    data,
    frames,
    glue,
    models,
    plotting,
    profiles,
    references,
    results,
    stats,
    tables,
    train,
    utils,
    zoo,
)
from robustcore.claims import Claims, checks

plotting.use_style()  # the book's one look for every figure
P = profiles.current()
# models run on the GPU when there is one; data stay on the CPU
device = utils.default_device()
torch.manual_seed(0)
N_EVAL = P.pick(quick=500, full=10_000)  # test images for the tables
N_SWEEP = P.pick(quick=300, full=10_000)  # test images for the ε curves
SWEEP_STEPS = P.pick(quick=20, full=40)  # PGD steps in the ε curves
# the strongest PGD (100 steps, restarts) on the robust model's first N_STRONG digits
N_STRONG, RESTARTS = P.pick(quick=200, full=10_000), P.pick(quick=5, full=20)
# AutoAttack: the quick profile runs its first attack and Square with fewer queries
N_AA = P.pick(quick=100, full=10_000)
AA_PARTS = P.pick(quick=("apgd-ce",), full=audit.STANDARD)
QUERIES = P.pick(quick=1_000, full=5_000)
AA_RESTARTS = P.pick(quick=2, full=RESTARTS)
# seeds of the adversarially trained CNN's recipe (the full profile trains three)
SEEDS = P.pick(quick=(0,), full=(0, 1, 2))

# %% tags=["hide-input"]
x_all, y_all = data.mnist(train=False)
x_test, y_test = data.subset(x_all, y_all, N_EVAL, seed=0)
x_sweep, y_sweep = x_test[:N_SWEEP], y_test[:N_SWEEP]
print(
    f"profile: {P.name} on {device.type} — {N_EVAL} test images for tables, "
    f"{N_SWEEP} for ε curves"
)

# %% [markdown]
# ## The models
#
# Three architectures of different families, trained normally, and the small CNN trained
# adversarially (L∞, ε = 0.3). `zoo.load` returns a trained model: from the local cache, from
# the checkpoints published with `robustcore` (in a checkout, or downloaded; sha256-verified and
# loaded with `weights_only=True`), or, if neither exists, by training it with its recipe.

# %%
nets = {
    "MLP": zoo.load("mnist-mlp-std"),
    "CNN": zoo.load("mnist-cnn-std"),
    "ResNet": zoo.load("mnist-resnet-std"),
    "CNN (adv. trained)": zoo.load("mnist-cnn-pgd-linf"),
}
std_cnn, robust_cnn = nets["CNN"], nets["CNN (adv. trained)"]

# %% tags=["remove-input"]
rows = []
for label, m in nets.items():
    r = m.meta["recipe"]
    how = f"{r['epochs']} epochs"
    if r.get("attack"):
        how += f", PGD-{r['attack']['steps']} ε={r['attack']['eps']}"
    acc = m.meta["metrics"]["test_acc"]
    rows.append((label, f"{models.num_parameters(m):,}", how, f"{acc:.2%}"))
header = ["model", "parameters", "recipe", "test accuracy (10,000)"]
display(Markdown(tables.markdown(header, rows)))

# %% [markdown]
# ## FGSM: one step along the sign of the gradient
#
# For an input $x$ with label $y$ and loss $L$, the fast gradient sign method moves every pixel by
# $\varepsilon$ in the direction that increases the loss:
#
# $$x_{\text{adv}} = \operatorname{clip}_{[0,1]}\big(x + \varepsilon\,\operatorname{sign}(\nabla_x L(f(x), y))\big).$$
#
# It is the steepest ascent step for a linear model inside the L∞ ball
# $\|x_{\text{adv}} - x\|_\infty \le \varepsilon$. In code, four lines:

# %%
def fgsm(model, x, y, eps):
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(F.cross_entropy(model(x), y, reduction="sum"), x)
    return (x + eps * grad.sign()).clamp(0, 1).detach()


# %% [markdown]
# The library's `attacks.fgsm` is the same step (a hidden cell checks that the two agree), with
# argument checks, a targeted variant and the optional random start of fast adversarial training.

# %% tags=["remove-cell"]
assert torch.allclose(
    fgsm(std_cnn, x_test[:64], y_test[:64], 0.3),
    attacks.fgsm(std_cnn, x_test[:64], y_test[:64], 0.3),
    atol=1e-6,
)

# %% mystnb={"figure": {"caption": "The standard CNN on the first eight test digits, clean and after FGSM at three budgets. Each digit is titled with the predicted class and its probability; red marks a wrong answer."}} tags=["hide-input"]
x8, y8 = x_test[:8], y_test[:8]
rows, titles = [x8], ["clean"]
for eps in (0.1, 0.2, 0.3):
    rows.append(attacks.fgsm(std_cnn, x8, y8, eps))
    titles.append(f"FGSM ε={eps}")
grid = torch.cat(rows)
prob = train.predict(std_cnn, grid).softmax(1)
fig = plotting.show_predictions(
    grid,
    prob.argmax(1),
    y8.repeat(len(rows)),
    ncols=8,
    row_titles=titles,
    prob=prob.max(1).values,
)
fig.suptitle("Standard CNN on FGSM digits (red = wrong)", y=1.02)
plt.show()

# %% [markdown]
# At ε = 0.3 every pixel may move by up to 30% of the grey range. The digits stay obvious to a
# person; the network's answers do not.
#
# ## PGD: many small steps, projected back
#
# FGSM trusts the gradient at one point. Projected gradient descent takes `steps` steps of size
# $\alpha$ from a random start inside the ball and, after each, projects back onto the ball and the
# pixel range: the "first-order adversary" of Madry et al. Under the L2 norm the step follows the
# normalised gradient and the projection rescales $\delta$ onto the sphere of radius ε. For L∞,
# from the clean digit (the random start adds `x + uniform(-ε, ε)` before the loop):

# %%
def pgd(model, x, y, eps, alpha, steps):
    x_adv = x.clone()
    for _ in range(steps):
        x_adv.requires_grad_(True)
        loss = F.cross_entropy(model(x_adv), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, x_adv)
        x_adv = x_adv.detach() + alpha * grad.sign()  # ascend ...
        x_adv = torch.min(torch.max(x_adv, x - eps), x + eps).clamp(0, 1)  # ... project
    return x_adv


# %% [markdown]
# The library's `attacks.pgd` runs that loop (`attacks.projected_ascent`, which Chapter 5 runs on
# another loss), with random starts, restarts, the L2 ball and targeted attacks; a hidden cell
# checks that it agrees with the ten lines above.

# %% tags=["remove-cell"]
assert torch.allclose(
    pgd(std_cnn, x_test[:64], y_test[:64], 0.3, 0.01, 10),
    attacks.pgd(
        std_cnn, x_test[:64], y_test[:64], 0.3, steps=10, alpha=0.01, random_start=False
    ),
    atol=1e-6,
)

# %%
eps_linf, eps_l2 = 0.3, 3.0
pgd_linf = {"name": "pgd", "eps": eps_linf, "steps": 40}
pgd_l2 = {"name": "pgd", "eps": eps_l2, "norm": "l2", "steps": 40}
acc_clean = train.evaluate(std_cnn, x_test, y_test)
acc_fgsm = train.evaluate(std_cnn, x_test, y_test, {"name": "fgsm", "eps": eps_linf})
acc_pgd = train.evaluate(std_cnn, x_test, y_test, pgd_linf)
acc_pgd_l2 = train.evaluate(std_cnn, x_test, y_test, pgd_l2)

# %% tags=["remove-input"]
print(
    f"standard CNN on {N_EVAL} test digits: clean {acc_clean:.1%}, "
    f"FGSM ε=0.3 {acc_fgsm:.1%}, PGD-40 ε=0.3 {acc_pgd:.1%}, "
    f"PGD-40 L2 ε=3 {acc_pgd_l2:.1%}"
)

# %% [markdown]
# The standard CNN reads the clean digits well ({glue:md}`claim-01-std-cnn-clean-accuracy`). PGD
# at L∞ ε = 0.3 drives it below 5% ({glue:md}`claim-01-pgd-linf-breaks-std-cnn`)
# and is at least as strong as FGSM ({glue:md}`claim-01-pgd-stronger-than-fgsm`). Does PGD at L2
# ε = 3 push it below 5% too? This run:
# {glue:md}`claim-01-pgd-l2-breaks-std-cnn`; {glue:md}`claim-full-01-pgd-l2-breaks-std-cnn` (our
# expectation, not a published claim, so only reported). The claims of this section were fixed
# before measuring and are decided on every build, the first three asserted, rates with their 95%
# interval and n (the collapsed block of checks at the end of the chapter lists their evidence).

# %% tags=["remove-cell"]
rate = {
    k: stats.from_rate(v, N_EVAL)
    for k, v in {
        "clean": acc_clean,
        "FGSM": acc_fgsm,
        "PGD": acc_pgd,
        "PGD L2": acc_pgd_l2,
    }.items()
}

# %% tags=["remove-cell"]
claims = Claims()
claims.check(
    "a standard CNN classifies clean MNIST digits well (above 97%)",
    rate["clean"].low > 0.97,
    f"{rate['clean']:.1%}",
    key="01-std-cnn-clean-accuracy",
)
claims.check(
    "PGD at L∞ ε = 0.3 breaks it (below 5%)",
    rate["PGD"].high < 0.05,
    f"{rate['PGD']:.1%}",
    key="01-pgd-linf-breaks-std-cnn",
)
# our own expectation, not a published claim: reported (the full profile's longer
# trained CNN keeps 6% of the digits at L2 ε = 3)
claims.report(
    "so does PGD at L2 ε = 3 (below 5%)",
    rate["PGD L2"].high < 0.05,
    f"{rate['PGD L2']:.1%}",
    key="01-pgd-l2-breaks-std-cnn",
)
claims.check(
    "PGD is at least as strong as FGSM",
    acc_pgd <= acc_fgsm,
    f"{acc_pgd:.1%} vs {acc_fgsm:.1%}",
    key="01-pgd-stronger-than-fgsm",
)

# %% mystnb={"figure": {"caption": "The same digits after 40 steps of PGD against the standard CNN, at L\u221e \u03b5 = 0.3 and at L2 \u03b5 = 3.0."}} tags=["hide-input"]
torch.manual_seed(1)
x_adv_linf = attacks.pgd(std_cnn, x8, y8, eps_linf, steps=40)
x_adv_l2 = attacks.pgd(std_cnn, x8, y8, eps_l2, norm="l2", steps=40)
grid = torch.cat([x8, x_adv_linf, x_adv_l2])
prob = train.predict(std_cnn, grid).softmax(1)
fig = plotting.show_predictions(
    grid,
    prob.argmax(1),
    y8.repeat(3),
    ncols=8,
    prob=prob.max(1).values,
    row_titles=["clean", "PGD L∞ 0.3", "PGD L2 3.0"],
)
plt.show()
print(
    "measured L∞ norms:",
    attacks.flat_norm(x_adv_linf - x8, "linf").max().item(),
    "| measured L2 norms:",
    attacks.flat_norm(x_adv_l2 - x8, "l2").max().item(),
)

# %% [markdown]
# The L∞ perturbation spends its whole budget almost everywhere: a visible texture over the entire
# image. The L2 one concentrates on a few strokes — it may move a single pixel a lot, but its total
# energy is bounded — and at ε = 3 it starts to draw strokes of the digit it is pushing toward.
#
# ## Accuracy as the budget grows
#
# One number at one ε says little. The curves below sweep ε for the standard CNN and for the
# adversarially trained one, under L∞ and L2 PGD.

# %%
EPS_LINF = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4]
EPS_L2 = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]
curves = {}
for label, m in (("standard CNN", std_cnn), ("adv. trained CNN", robust_cnn)):
    curves[("linf", label)] = train.accuracy_vs_eps(
        m, x_sweep, y_sweep, EPS_LINF, {"name": "pgd", "steps": SWEEP_STEPS}
    )
    curves[("l2", label)] = train.accuracy_vs_eps(
        m, x_sweep, y_sweep, EPS_L2, {"name": "pgd", "norm": "l2", "steps": SWEEP_STEPS}
    )

# %% mystnb={"figure": {"caption": "Accuracy of the standard and the adversarially trained CNN as the budget grows, under L\u221e PGD (left) and L2 PGD (right). The star is Madry et al.'s adversarially trained CNN under their strongest attack; the dotted line marks the \u03b5 it was trained for."}} tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(plotting.COLUMN_IN, 3.3), layout="constrained")
plotting.eps_curves(
    EPS_LINF,
    {k[1]: v for k, v in curves.items() if k[0] == "linf"},
    ax=axes[0],
    title=f"L∞ PGD-{SWEEP_STEPS}",
    xlabel="ε (L∞)",
    reference={
        "Madry et al., PGD-100 ×20 restarts": (
            0.3,
            references.get("madry/pgd100x20").value / 100,
        )
    },
)
plotting.eps_curves(
    EPS_L2,
    {k[1]: v for k, v in curves.items() if k[0] == "l2"},
    ax=axes[1],
    title=f"L2 PGD-{SWEEP_STEPS}",
    xlabel="ε (L2)",
)
axes[0].axvline(0.3, color="grey", ls=":")
plotting.shared_legend(fig, axes)
plt.show()

# %% tags=["remove-cell"]
std_linf, rob_linf = (
    curves[("linf", "standard CNN")],
    curves[("linf", "adv. trained CNN")],
)
std_l2, rob_l2 = curves[("l2", "standard CNN")], curves[("l2", "adv. trained CNN")]
i03, i2 = EPS_LINF.index(0.3), EPS_L2.index(2.0)
hits = lambda v: round(v * N_SWEEP)  # noqa: E731
gain_linf = (
    stats.from_rate(rob_linf[i03], N_SWEEP).low
    - stats.from_rate(std_linf[i03], N_SWEEP).high
)
gain_l2 = (
    stats.from_rate(rob_l2[i2], N_SWEEP).low - stats.from_rate(std_l2[i2], N_SWEEP).high
)

# %% tags=["remove-cell"]
claims = Claims()
claims.check(
    "a larger ε never helps the defender (up to one digit of noise)",
    all(hits(b) <= hits(a) + 1 for c in curves.values() for a, b in zip(c, c[1:])),
    "every curve falls",
    key="01-curves-fall",
)
claims.check(
    "adversarial training buys robustness at the ε it was trained for (L∞ 0.3)",
    gain_linf > 0,
    f"{rob_linf[i03]:.1%} vs {std_linf[i03]:.1%}, n={N_SWEEP}",
    key="01-robust-gain-linf",
)
trained_for = [
    (r, s) for e, r, s in zip(EPS_LINF, rob_linf, std_linf) if 0.05 <= e <= 0.3
]
claims.check(
    "... and at every L∞ ε from 0.05 up to that one, it is at least as accurate",
    all(r >= s for r, s in trained_for),
    ", ".join(f"{r:.1%} vs {s:.1%}" for r, s in trained_for),
    key="01-robust-gain-below-trained-eps",
)
claims.report(
    "... and beyond it too (where both models fall towards 0%)",
    all(r >= s for e, r, s in zip(EPS_LINF, rob_linf, std_linf) if e > 0.3),
    ", ".join(
        f"ε {e:g}: {r:.2%} vs {s:.2%}"
        for e, r, s in zip(EPS_LINF, rob_linf, std_linf)
        if e > 0.3
    ),
    key="01-robust-gain-beyond-trained-eps",
)
claims.check(
    "under L2 PGD (ε = 2), too, it beats the standard CNN",
    gain_l2 > 0,
    f"{rob_l2[i2]:.1%} vs {std_l2[i2]:.1%}",
    key="01-robust-gain-l2",
)

# %% tags=["remove-cell"]
glue.numbers(collapse_eps=min(e for e, a in zip(EPS_LINF, std_linf) if a < 0.1))

# %% [markdown]
# Every curve falls as ε grows ({glue:md}`claim-01-curves-fall`). The standard
# CNN's accuracy falls below 10% by ε = {glue:text}`collapse_eps:g` (L∞). The
# adversarially trained CNN beats it at the ε it was trained for
# ({glue:md}`claim-01-robust-gain-linf`) and is at least as accurate at every smaller
# ε from 0.05 on ({glue:md}`claim-01-robust-gain-below-trained-eps`). Beyond 0.3
# nothing in its training asks it to hold; how far it falls there, and whether it
# stays at least as accurate as the standard CNN:
# {glue:md}`claim-01-robust-gain-beyond-trained-eps`. Under L2 PGD at ε = 2 it
# also beats the standard CNN ({glue:md}`claim-01-robust-gain-l2`). Take that with care:
# gradient-based L2 attacks overestimate the L2 robustness of L∞-trained MNIST
# models, which learn to threshold their inputs and so flatten the gradients; decision-based
# attacks find much smaller L2 perturbations for them {cite:p}`schott2019towards`.
#
# ## Adversarial training
#
# Madry et al. cast robust learning as a saddle-point problem: choose the weights $\theta$ that
# minimise the loss of the *worst* perturbation in the ball,
#
# $$\min_\theta\; \mathbb{E}_{(x,y)}\Big[\max_{\|\delta\|_\infty \le \varepsilon} L\big(f_\theta(x+\delta), y\big)\Big].$$
#
# The inner maximum is approximated by PGD, the outer minimum by SGD on the resulting batch — the
# whole difference from standard training is one line in `train.train`,
# `xb = attack_batch(model, xb, yb, attack, eps_scale=ramp)`, which replaces each batch by its
# adversarial version before the gradient step. The ramp grows ε from 0 to its full value during the
# first epoch(s), which avoids an early phase in which a fresh network facing the full ε can learn
# nothing.

# %% [markdown]
# Here it is, run on an 8,000-digit subset for three epochs with an ε = 0.2 budget, next to the
# same network trained normally on the same data. (The zoo's adversarially trained CNN used the
# full training set; its recipe is printed below.)

# %%
x_tr, y_tr = data.subset(*data.mnist(train=True), 8_000, seed=0)
pgd3 = {"name": "pgd", "eps": 0.2, "steps": 3, "alpha": 0.1}  # the training attack
pgd20 = {"name": "pgd", "eps": 0.2, "steps": 20}  # the test attack
adversarial = {"attack": pgd3, "eps_warmup_epochs": 1.0}  # ε ramps up over epoch 1
demo = {}
for label, extra in (("standard", {}), ("adversarial", adversarial)):
    torch.manual_seed(0)  # the same initial weights for both
    m = models.build("cnn").to(device)
    train.train(m, x_tr, y_tr, epochs=3, lr=2e-3, desc=label, **extra)
    demo[label] = [train.evaluate(m, x_sweep, y_sweep, a) for a in (None, pgd20)]

# %% tags=["remove-input"]
for label, (clean, adv) in demo.items():
    print(f"{label:12s} training: clean {clean:.1%}, PGD-20 ε=0.2 {adv:.1%}")
print("zoo recipe of the adversarially trained CNN:", robust_cnn.meta["recipe"])

# %% tags=["remove-cell"]
adv_rate, std_rate = (
    stats.from_rate(demo[k][1], N_SWEEP) for k in ("adversarial", "standard")
)
claims = Claims()
claims.check(
    "three epochs of adversarial training already buy robustness at ε = 0.2",
    adv_rate.low > std_rate.high,
    f"{adv_rate:.1%} vs {std_rate:.1%}",
    key="01-short-training-buys-robustness",
)

# %% [markdown]
# Three epochs on a subset already buy robustness at ε = 0.2
# ({glue:md}`claim-01-short-training-buys-robustness`); the clean accuracies printed above show
# what, if anything, that costs. The certain price is compute: each training step runs the
# attack first.
#
# ## The table: clean, FGSM and PGD accuracy at ε = 0.3
#
# Every model above, attacked with FGSM and PGD-40 (step 0.01, random start) at
# L∞ ε = 0.3, beside the MNIST numbers of Madry et al. (2018, Table 1; their
# "PGD-100, 20 restarts" row is the strongest white-box attack they report). Same data and
# attacks (the quick profile: a random sample of the test digits, fewer restarts), another
# model: theirs is a larger CNN (2 conv + fc 1024) trained with PGD-40 for 100k
# iterations, ours the small CNN above, trained with PGD-5 (quick profile) or PGD-10 (full
# profile). The pairs are *analogues*, not a reproduction.

# %%
pgd40 = {"name": "pgd", "eps": 0.3, "steps": 40, "alpha": 0.01}
ATTACKS = {"clean": None, "FGSM": {"name": "fgsm", "eps": 0.3}, "PGD-40": pgd40}
table = {}
for label, m in nets.items():
    table[label] = {a: train.evaluate(m, x_test, y_test, s) for a, s in ATTACKS.items()}
# the strongest attack of the chapter, on the robust model's first N_STRONG digits
STRONG = {"name": "pgd", "eps": 0.3, "steps": 100, "alpha": 0.01, "restarts": RESTARTS}
x_strong, y_strong = x_test[:N_STRONG], y_test[:N_STRONG]
strong_hits = train.correct(robust_cnn, x_strong, y_strong, STRONG)
pgd40_hits = train.correct(robust_cnn, x_strong, y_strong, pgd40)

# %% tags=["remove-input"]
strong, pgd40_same = strong_hits.float().mean().item(), pgd40_hits.float().mean().item()
# Madry et al. 2018, Table 1 (MNIST, white-box), from the book's registry of published
# numbers
MADRY_KEYS = {"clean": "madry/clean", "FGSM": "madry/fgsm", "PGD-40": "madry/pgd40"}
MADRY = {k: references.get(key).value / 100 for k, key in MADRY_KEYS.items()}
MADRY_STRONG = references.get("madry/pgd100x20").value / 100  # PGD-100, 20 restarts
rows = [
    (f"{label} (ours, {N_EVAL} test digits)", *(f"{r[k]:.1%}" for k in r))
    for label, r in table.items()
]
rows.append(
    (
        "Madry et al. adv. trained CNN (paper)",
        f"{MADRY['clean']:.1%}",
        f"{MADRY['FGSM']:.1%}",
        f"{MADRY['PGD-40']:.1%} (PGD-100 ×20 restarts: {MADRY_STRONG:.1%})",
    )
)
rows.append(
    (
        f"CNN (adv. trained), first {N_STRONG} digits",
        "",
        "",
        f"{pgd40_same:.1%}; PGD-100 ×{RESTARTS} restarts: {strong:.1%}",
    )
)
header = ["model", "clean", "FGSM ε=0.3", "PGD-40 ε=0.3"]
display(Markdown(tables.markdown(header, rows)))

# %% mystnb={"figure": {"caption": "Accuracy at L\u221e \u03b5 = 0.3: our three CNNs beside the adversarially trained CNN of Madry et al. (their Table 1)."}} tags=["hide-input"]
plotting.grouped_bars(
    ["clean", "FGSM", "PGD-40"],
    {
        **{k: [v["clean"], v["FGSM"], v["PGD-40"]] for k, v in table.items()},
        "Madry et al. (paper)": [MADRY["clean"], MADRY["FGSM"], MADRY["PGD-40"]],
    },
    title="Accuracy at L∞ ε = 0.3",
)
plt.show()

# %% tags=["remove-cell"]
rob = table["CNN (adv. trained)"]
r = {k: stats.from_rate(v, N_EVAL) for k, v in rob.items()}
claims = Claims()
for label in ("MLP", "CNN", "ResNet"):
    e = stats.from_rate(table[label]["PGD-40"], N_EVAL)
    claims.check(
        f"PGD-40 at ε = 0.3 breaks the standard {label} (below 5%)",
        e.high < 0.05,
        f"{e:.1%}",
        key={
            "MLP": "01-pgd40-breaks-std-mlp",
            "CNN": "01-pgd40-breaks-std-cnn",
            "ResNet": "01-pgd40-breaks-std-resnet",
        }[label],
    )
claims.check(
    "the adversarially trained CNN keeps most of its accuracy under PGD-40 (above 50%)",
    r["PGD-40"].low > 0.5,
    f"{r['PGD-40']:.1%}",
    key="01-robust-keeps-accuracy",
)
claims.check(
    "FGSM is weaker than PGD, and no attack helps: PGD-40 ≤ FGSM ≤ clean",
    rob["PGD-40"] <= rob["FGSM"] <= rob["clean"],
    f"{rob['PGD-40']:.1%} ≤ {rob['FGSM']:.1%} ≤ {rob['clean']:.1%}",
    key="01-robust-attack-ordering",
)
claims.check(
    "more steps and restarts find at least as many adversarial digits (up to two: "
    "the random starts differ)",
    strong <= pgd40_same + 2 / N_STRONG,
    f"PGD-100 ×{RESTARTS}: {strong:.1%}, PGD-40: {pgd40_same:.1%}, n={N_STRONG}",
    key="01-restarts-find-more",
)
ours_vs_madry = {  # our estimate, and the attack where it differs from theirs
    "clean": (r["clean"], ""),
    "pgd40": (r["PGD-40"], ""),
    "pgd100x20": (stats.from_rate(strong, N_STRONG), f", PGD-100 ×{RESTARTS}"),
}

# %% tags=["remove-cell"]
# The committed full run's PGD numbers for the robust CNN, quoted by the prose above
from robustcore import full_records

FULL = {rec["name"]: rec for rec in full_records.rows("01")}
FULL_PGD = {"pgd40": "PGD-40 ε=0.3", "pgd100": "PGD-100 with restarts, ε=0.3"}
for tag, attack in FULL_PGD.items():
    rec = FULL[f"Adv. trained CNN, {attack}"]
    glue.numbers(
        **{
            f"full_{tag}": rec["value"],
            f"full_{tag}_low": rec["low"],
            f"full_{tag}_high": rec["high"],
        }
    )
glue.published("madry/pgd40", "madry/pgd100x20", "autoattack/madry-mnist")
claims = Claims()
MADRY_PGD = {"pgd40": "madry/pgd40", "pgd100": "madry/pgd100x20"}
# one-sided exact binomial tests of the full run's counts, Holm across the two
full_rec = {t: FULL[f"Adv. trained CNN, {a}"] for t, a in FULL_PGD.items()}
full_est = {t: stats.from_rate(r["value"] / 100, r["n"]) for t, r in full_rec.items()}
above = stats.against_family(
    full_est,
    {t: references.get(ref).value / 100 for t, ref in MADRY_PGD.items()},
    alternative="greater",
)
claims.report(
    "in the committed full run, our accuracies under PGD-40 and PGD-100 with "
    "restarts are above Madry et al.'s numbers (one-sided exact binomial tests, Holm "
    "over the 2: p < 0.05; the smaller model is the more robust one under them)",
    all(p < 0.05 for p in above.values()),
    ", ".join(f"{t}: {full_est[t]:.1%}, Holm p = {p:.2g}" for t, p in above.items()),
    key="01-full-run-above-madry",
)

# %% [markdown]
# ## Is it really robust? An independent, stronger evaluation
#
# A model trained against PGD and tested only with PGD may look robust because of the attack
# rather than the model — gradient masking {cite:p}`carlini2019evaluating`. So
# we attack the same digits with AutoAttack {cite:p}`croce2020reliable` (torchattacks'
# implementation, independent of ours; the standard version is two gradient-based attacks with
# adaptive steps, FAB, and the gradient-free Square attack, of which the quick profile runs only
# the first, APGD-CE), and with Square on its own, to set against the gradient-based
# attacks together; and we check that at ε = 1, where any digit can be turned
# into any other, nothing survives. `audit.outcomes` runs them all on the same digits and returns,
# per attack, which digits are still right (`audit.audit` adds the intervals):

# %% tags=["remove-cell"]
# Standard AutoAttack on a robust model costs minutes per ten digits on a CPU (APGD-T
# and FAB-T run once per target class, Square 5,000 queries). The quick profile runs its
# first attack, APGD-CE (100 steps), Square with 1,000 queries and PGD-100 with 2
# restarts on 100 digits; the full profile runs the standard version on N_AA digits
# (the committed full run set N_AA to 1,000 of the 10,000; N_AA, AA_PARTS, QUERIES and
# AA_RESTARTS are set at the top).
# the same digits and PGD runs as the strong-attack table (the full profile): not twice
same = (N_AA, AA_RESTARTS) == (N_STRONG, RESTARTS)
known = {f"PGD-100 ×{RESTARTS}": strong_hits, "PGD-40": pgd40_hits} if same else None
AUDIT = dict(
    restarts=AA_RESTARTS,
    parts=AA_PARTS,
    queries=QUERIES,
    known=known,
    name=f"audit-{N_AA}-{'-'.join(AA_PARTS)}",  # resumable: kept 500 digits at a time
)

# %%
aa = audit.audit(robust_cnn, x_test[:N_AA], y_test[:N_AA], 0.3, **AUDIT)

# %% tags=["remove-input"]
caption = (
    f"**L∞ ε = 0.3, the first {N_AA:,} of the {N_EVAL:,} test digits above** "
    "(the ε = 1 row is the sanity check). "
    f"AutoAttack: {', '.join(AA_PARTS)}; Square: {QUERIES:,} queries. "
    "*White-box*: right under every gradient-based attack (the PGDs and AutoAttack "
    "without Square); *worst case*: right under every attack at ε = 0.3."
)
display(Markdown(audit.table({"adversarially trained CNN": aa}, caption)))

# %% tags=["remove-cell"]
pgd100 = aa[f"PGD-100 ×{AA_RESTARTS}"]
claims = Claims()
claims.check(
    "sanity: at ε = 1 PGD-40 leaves nothing (below 5%)",
    aa["PGD-40, ε = 1"].high < 0.05,
    f"{aa['PGD-40, ε = 1']:.1%}",
    key="01-sanity-eps-one",
)
claims.check(
    "no gradient masking: gradient-free Square is no stronger than the white-box "
    "attacks together (the PGDs and AutoAttack without Square; up to one digit)",
    aa["Square"].value >= aa["white-box"].value - 1 / N_AA,
    f"{aa['Square']:.1%} vs {aa['white-box']:.1%}",
    key="01-no-gradient-masking",
)
claims.check(
    "AutoAttack is at least as strong as PGD-40 (up to one digit: the random starts "
    "differ)",
    aa["AutoAttack"].value <= aa["PGD-40"].value + 1 / N_AA,
    f"{aa['AutoAttack']:.1%} vs {aa['PGD-40']:.1%}",
    key="01-autoattack-beats-pgd40",
)
claims.report(
    "AutoAttack agrees with PGD-100 within 2 points (else the text must say why)",
    abs(aa["AutoAttack"].value - pgd100.value) <= 0.02,
    f"{aa['AutoAttack']:.1%} vs {pgd100:.1%}",
    key="01-autoattack-agrees-with-pgd100",
)
# Four comparisons with Madry et al.'s model, one family: exact binomial tests of our
# counts against their rates, Holm-corrected across the four
ours_vs_madry["autoattack"] = (
    aa["AutoAttack"],
    ", APGD-CE" if len(AA_PARTS) == 1 else "",
)
MADRY = {k: f"madry/{k}" for k in ("clean", "pgd40", "pgd100x20")}
MADRY["autoattack"] = "autoattack/madry-mnist"
madry_p = stats.against_family(
    {k: ours_vs_madry[k][0] for k in MADRY},
    {k: references.get(ref).value / 100 for k, ref in MADRY.items()},
)
for which, ref in MADRY.items():
    ours, how = ours_vs_madry[which]
    pub = references.get(ref).value / 100
    claims.report(
        f"Madry et al.'s {which} accuracy ({pub:.1%}) is consistent with ours "
        "(exact binomial test, Holm over the 4 comparisons with their model: "
        "p ≥ 0.05)",
        madry_p[which] >= 0.05,
        f"{ours:.1%}{how}; Holm p = {madry_p[which]:.2g}",
        key={
            "clean": "01-madry-clean-in-interval",
            "pgd40": "01-madry-pgd40-in-interval",
            "pgd100x20": "01-madry-pgd100-in-interval",
            "autoattack": "01-madry-autoattack-in-interval",
        }[which],
    )

# %% [markdown]
# At ε = 1 PGD-40 leaves almost nothing right
# ({glue:md}`claim-01-sanity-eps-one`): the attacks do find a wrong class where one is within
# reach. AutoAttack breaks at least as many digits as PGD-40, up to one
# ({glue:md}`claim-01-autoattack-beats-pgd40`). The gradient-masking check sets Square, which uses
# no gradient, against the *white-box* row — the digits that survive every
# gradient-based attack — and not against AutoAttack, whose standard version contains Square and
# so can never lose to it. Square breaks no more digits than the white-box attacks together, up
# to one ({glue:md}`claim-01-no-gradient-masking`): a check that can expose gradient masking, not
# rule it out. Does AutoAttack agree with PGD-100 within 2 points?
# {glue:md}`claim-01-autoattack-agrees-with-pgd100`. Where it does not, one attack finds digits
# the other misses (the quick profile's AutoAttack is APGD-CE alone); either way the *worst case*
# row, right under every attack, is the number to quote. Madry et al.'s released
# model keeps {glue:text}`autoattack_madry_mnist:g`% under the standard AutoAttack
# {cite:p}`croce2020reliable`; is that consistent with our count?
# {glue:md}`claim-01-madry-autoattack-in-interval` — an analogue again: another model and, in the
# quick profile, APGD-CE alone on few digits.

# %% tags=["remove-cell"]
# The headline numbers, saved for the book's reproduction summary (appendix). Same data
# (MNIST test digits) and attack as the paper, another model: analogues, the difference
# named.
OURS = zoo.describe("mnist-cnn-pgd-linf")
for label, key in (
    ("clean", "clean"),
    ("FGSM ε=0.3", "FGSM"),
    ("PGD-40 ε=0.3", "PGD-40"),
):
    results.record(
        "01",
        f"Adv. trained CNN, {label}",
        stats.from_rate(rob[key], N_EVAL),
        unit="%",
        reference=MADRY_KEYS[key],
        dataset="MNIST",
        model=OURS,
    )
results.record(
    "01",
    "Adv. trained CNN, PGD-100 with restarts, ε=0.3",
    stats.from_rate(strong, N_STRONG),
    unit="%",
    reference="madry/pgd100x20",
    dataset="MNIST",
    model=OURS,
    same_protocol=RESTARTS == 20,
    what=f"{RESTARTS} restarts on {N_STRONG} digits",
)
results.record(
    "01",
    "Adv. trained CNN, AutoAttack ε=0.3",
    aa["AutoAttack"],
    unit="%",
    reference="autoattack/madry-mnist",
    dataset="MNIST",
    model=OURS,
    same_protocol=AA_PARTS == audit.STANDARD and QUERIES == 5_000,
    what=f"AutoAttack ({', '.join(AA_PARTS)}) on {N_AA} digits",
)
results.record(
    "01",
    "Adv. trained CNN, Square ε=0.3",
    aa["Square"],
    unit="%",
    what=f"{QUERIES:,} queries on {N_AA} digits",
)
for label in ("MLP", "CNN", "ResNet"):
    for a in ("clean", "PGD-40"):
        results.record(
            "01",
            f"Standard {label}, {a}" + (" ε=0.3" if a != "clean" else ""),
            stats.from_rate(table[label][a], N_EVAL),
            unit="%",
        )

# %% [markdown]
# PGD-40 at ε = 0.3 leaves all three standard networks, of three architecture
# families, below 5%: the MLP ({glue:md}`claim-01-pgd40-breaks-std-mlp`), the CNN
# ({glue:md}`claim-01-pgd40-breaks-std-cnn`) and the ResNet
# ({glue:md}`claim-01-pgd40-breaks-std-resnet`). The adversarially trained CNN keeps most of its
# accuracy ({glue:md}`claim-01-robust-keeps-accuracy`); its accuracy under PGD-40 is no higher
# than under FGSM, and neither is above its clean accuracy
# ({glue:md}`claim-01-robust-attack-ordering`); PGD-100 with restarts breaks at least as many as
# PGD-40 ({glue:md}`claim-01-restarts-find-more`). (A robust model that resisted PGD *better* than
# FGSM would be a warning sign of gradient masking, as {cite:t}`carlini2019evaluating` warn.)
#
# Beside Madry et al.'s model ours is an analogue — a smaller CNN, trained
# against a weaker attack — so its numbers are not expected to match theirs.
# Is their accuracy consistent with our counts? Each of the four comparisons with their model
# (these three and AutoAttack's, above) is an exact binomial test, and since a chapter that asks
# four questions gets more chances to find a difference by luck, the four p-values are
# Holm-corrected together. Clean: {glue:md}`claim-01-madry-clean-in-interval`;
# PGD-40: {glue:md}`claim-01-madry-pgd40-in-interval`; PGD-100 with restarts (theirs 20, ours as
# stated): {glue:md}`claim-01-madry-pgd100-in-interval`. The full profile's verdicts on the same
# questions, where it has stored them — clean: {glue:md}`claim-full-01-madry-clean-in-interval`;
# PGD-40: {glue:md}`claim-full-01-madry-pgd40-in-interval`; PGD-100:
# {glue:md}`claim-full-01-madry-pgd100-in-interval`. The committed full run (all 10,000 digits, 20
# restarts; its records close this chapter) measured our CNN at {glue:text}`full_pgd40:.1f`%
# [{glue:text}`full_pgd40_low:.1f`, {glue:text}`full_pgd40_high:.1f`] under PGD-40 and
# {glue:text}`full_pgd100:.1f`% [{glue:text}`full_pgd100_low:.1f`,
# {glue:text}`full_pgd100_high:.1f`] under PGD-100 ×20, against their
# {glue:text}`madry_pgd40:g`% and {glue:text}`madry_pgd100x20:g`%. Are both *above* the paper's
# numbers (one-sided tests, Holm over the two)? {glue:md}`claim-01-full-run-above-madry`. If so, PGD breaks fewer of our
# digits than of theirs, which does not make ours the more robust model: the intervals cover the
# draw of test digits, not of training runs; the full records below set AutoAttack beside theirs
# too; and every one of these robust accuracies is an *upper* bound, the share of digits the
# attacks we ran could not break. Chapter 6 asks what certificates can prove from below.
#
# ## Try it: an ε slider
#
# One digit under PGD (L∞, 20 steps) against each CNN, at every ε from 0 to 0.5: pick a model and
# move the slider. The pictures come from `widgets.attack_one`, a plain function, computed when the
# chapter ran; with a running kernel, `widgets.eps_slider(nets, x_test, y_test)` reruns the attack
# on any digit, norm and ε you pick.

# %% mystnb={"figure": {"caption": "PGD L\u221e on one digit against each CNN: the clean digit, the perturbation (rescaled to be visible) and the adversarial digit, with the model's answers. Pick a model and move \u03b5."}} tags=["remove-input"]
frames.eps_frames(
    {"standard CNN": std_cnn, "adv. trained CNN": robust_cnn},
    x_test[0],
    int(y_test[0]),
    [round(0.05 * i, 2) for i in range(11)],
    start=0.2,
)

# %% [markdown]
# ## This run beside the full profile
#
# The full profile runs this chapter at paper scale (`make full`, see the README). Its numbers,
# from a real run and committed with `robustcore`, stand beside this run's, with where and when
# they were measured; a chapter that has not run at full scale yet says so.

# %% tags=["hide-input"]
from robustcore import full_records

display(Markdown(full_records.beside("01")))

# %% [markdown]
# ### Which digits are noise
#
# A training run or a long optimisation carries the last bits of its float sums into its
# result, and the order of those sums depends on the CPU's instruction set and thread count. This
# chapter was run twice on one machine with only that order changed (`python tools/noise.py
# 01`): a number that moved there can move on another machine too, and a difference no larger
# than that says nothing.

# %% tags=["remove-input", "hide-output"]
from robustcore import noise

display(Markdown(noise.table("01")))

# %% [markdown]
# ### Training seeds
#
# The reduction order is the smallest source of noise; the largest is the training run itself.
# The same recipe started from another seed gives another network, and a difference between two
# models smaller than the spread between seeds of one says nothing about the recipes. The table
# gives the adversarially trained CNN's accuracy under PGD-40 (L∞ ε = 0.3, the
# {glue:text}`n_seed_digits:,.0f` digits of the table above) for each seed this profile trains:
# the quick profile trains one, the full profile three
# (mean {glue:text}`seed_mean:.1f`%, standard deviation {glue:text}`seed_sd:.1f` points across
# seeds; 0 with one seed).

# %% tags=["remove-input"]
seed_hits = {
    s: train.correct(
        robust_cnn if s == 0 else zoo.load(f"mnist-cnn-pgd-linf-seed{s}"),
        x_test, y_test, pgd40,
    )
    for s in SEEDS
}  # fmt: skip
seed_rate = {s: stats.proportion(h) for s, h in seed_hits.items()}
seed_values = torch.tensor([100 * e.value for e in seed_rate.values()])
for s, e in seed_rate.items():
    results.record("01", f"Adv. trained CNN, seed {s}, PGD-40 ε=0.3", e, unit="%")
display(
    Markdown(
        tables.markdown(
            ["seed", f"PGD-40 accuracy (n = {len(y_test):,})"],
            [(s, f"{e:.1%c}") for s, e in seed_rate.items()],
            "± half the 95% interval over test digits; the spread between seeds "
            "is a separate source of variance.",
        )
    )
)


# %% tags=["remove-cell"]
glue.numbers(
    n_seed_digits=len(y_test),
    seed_mean=float(seed_values.mean()),
    seed_sd=float(seed_values.std()) if len(SEEDS) > 1 else 0.0,
)

# %% [markdown]
# ## What to remember
#
# - Changes that leave the digit obvious to a person fool a standard network: PGD, many
#   projected steps, on almost every digit ({glue:md}`claim-01-pgd-linf-breaks-std-cnn`); one
#   FGSM step, no stronger, already on many (PGD vs FGSM accuracy:
#   {glue:md}`claim-01-pgd-stronger-than-fgsm`).
# - Robustness is measured as a curve over ε and under a stated norm and attack, never as a single
#   number without them.
# - Adversarial training — training on PGD examples — keeps most digits right under PGD in the
#   threat model it was trained for ({glue:md}`claim-01-robust-keeps-accuracy`), for several
#   times the compute: an attack runs before every training step. What it costs in clean
#   accuracy, the table's clean column shows.
#
# The next chapter asks *why* standard networks are so fragile, and looks for an answer in the
# data.

# %% tags=["remove-input"]
checks("01")  # every claim of the chapter with its evidence, in one collapsed block

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** *Where does the standard CNN break?* The ε curve above was drawn on a coarse
# grid. Find, by bisection, the L∞ ε at which PGD-20 halves the standard CNN's accuracy on 100
# test digits.
#
# <details>
# <summary>Solution</summary>
#
# Accuracy falls as ε grows, so bisection works: keep the half of the interval where the
# accuracy crosses 50%.
# ```python
# from robustcore import data, train, zoo
#
# x, y = data.mnist(train=False)
# x, y = x[:100], y[:100]
# net = zoo.load("mnist-cnn-std", progress=False)
# lo, hi = 0.0, 0.3  # at 0.3 PGD leaves almost nothing, at 0 nearly all is right
# for _ in range(6):
#     mid = (lo + hi) / 2
#     acc = train.evaluate(net, x, y, {"name": "pgd", "eps": mid, "steps": 20})
#     lo, hi = (mid, hi) if acc > 0.5 else (lo, mid)
# print(f"PGD-20 halves the accuracy between ε = {lo:.3f} and {hi:.3f}")
# ```
#
# </details>
#
# **Exercise 2.** *Is it the direction or the size?* Perturb the same digits with random signs,
# $x + 0.3\cdot\mathrm{sign}(n)$ with Gaussian $n$, clipped to [0, 1], and compare the standard
# CNN's accuracy with FGSM's at the same ε. Why is one so much worse than the other, though
# both move every pixel by 0.3?
#
# <details>
# <summary>Solution</summary>
#
# A random sign vector is nearly orthogonal to the loss gradient in 784 dimensions, so it
# changes the loss very little; FGSM's sign vector is aligned with the gradient by
# construction, and the change in loss adds up over all pixels.
# ```python
# import torch
# from robustcore import data, train, zoo
#
# x, y = data.mnist(train=False)
# x, y = x[:500], y[:500]
# net = zoo.load("mnist-cnn-std", progress=False)
# g = torch.Generator().manual_seed(0)
# noisy = (x + 0.3 * torch.randn(x.shape, generator=g).sign()).clamp(0, 1)
# print(f"random signs: {train.evaluate(net, noisy, y):.1%}")
# print(f"FGSM:         {train.evaluate(net, x, y, {'name': 'fgsm', 'eps': 0.3}):.1%}")
# ```
#
# </details>
#
# **Exercise 3.** The adversarially trained CNN was trained against a 5-step (quick profile) or
# 10-step (full profile) attack and is evaluated with PGD-40, PGD-100 with restarts, AutoAttack
# and Square. Why must the evaluation be stronger than the training attack, and which result in
# the audit table would make you suspect that the model only hides its gradients?
#
# <details>
# <summary>Solution</summary>
#
# A model can learn to defeat the particular attack it was trained with (for instance by making
# its loss surface flat or noisy where that attack looks) without being robust; only attacks it
# never saw measure robustness. Gradient masking shows as a gradient-free attack (Square) or a
# transfer attack beating the white-box ones, as accuracy that does not fall to 0 when ε grows
# to 1, or as FGSM doing better than PGD.
#
# </details>
#
# **Exercise 4.** An L∞ ball of radius 0.3 around an MNIST digit contains points up to
# $0.3\cdot\sqrt{784} = 8.4$ away in L2, yet this chapter's L2 attacks use ε = 3. Are the two
# threat models nested? Which one contains the other, and what does that say about comparing
# robust accuracies across norms?
#
# <details>
# <summary>Solution</summary>
#
# Neither contains the other: the L2 ball of radius 3 reaches a change of 1, the whole grey
# range, in a single pixel (outside the L∞ ball of 0.3), and the L∞ ball reaches L2 distances up
# to 8.4 (outside the L2 ball). A model robust in one norm can be fragile in the other, so robust
# accuracy is only meaningful with its norm, radius and attack stated.
#
# </details>
