import matplotlib.pyplot as plt
import pytest
import torch

from robustcore import plotting, widgets


def test_image_grid_and_predictions():
    x = torch.rand(12, 1, 28, 28)
    fig = plotting.image_grid(x, nrow=6, title="t")
    assert fig.axes[0].get_title() == "t"
    pred, y = torch.arange(12) % 10, torch.zeros(12, dtype=torch.long)
    fig = plotting.show_predictions(x, pred, y, ncols=6, row_titles=["a", "b"], prob=torch.rand(12))
    titles = [ax.get_title() for ax in fig.axes[:12]]
    assert titles[0].startswith("0 (") and len(fig.axes) == 12
    assert fig.axes[0].title.get_color() == "tab:green" and fig.axes[1].title.get_color() == "tab:red"
    plt.close("all")
    with pytest.raises(ValueError, match=r"x must have values in \[0, 1\]"):
        plotting.image_grid(x + 1)


def test_eps_curves_and_bars():
    fig = plotting.eps_curves([0, 0.1], {"a": [1.0, 0.5]}, reference={"paper": (0.1, 0.6)})
    assert len(fig.axes[0].lines) == 2
    fig = plotting.grouped_bars(["g1", "g2"], {"s1": [0.5, 0.6], "s2": [0.1, 0.2]})
    assert len(fig.axes[0].patches) == 4
    plt.close("all")
    with pytest.raises(ValueError, match="curve 'a' has 1 values for 2"):
        plotting.eps_curves([0, 0.1], {"a": [1.0]})
    with pytest.raises(ValueError, match="series 's' has 1 values for 2 groups"):
        plotting.grouped_bars(["g1", "g2"], {"s": [1.0]})


def test_attack_one(trained_mlp, mnist_test):
    x, y = mnist_test
    r = widgets.attack_one(trained_mlp, x[0], int(y[0]), 0.25, steps=10)
    assert r["clean_pred"] == int(y[0]) and r["pred"] != int(y[0])
    assert r["norm"] <= 0.25 + 1e-6 and r["x_adv"].shape == x[0].shape
    r2 = widgets.attack_one(trained_mlp, x[0], int(y[0]), 0.25, steps=10)
    assert torch.equal(r["x_adv"], r2["x_adv"])  # seeded
    assert widgets.attack_one(trained_mlp, x[0], int(y[0]), 1.5, norm="l2")["norm"] <= 1.5 + 1e-5
    fig = widgets.plot_attack_one(x[0], int(y[0]), r, "t")
    assert len(fig.axes) == 3
    plt.close("all")
    with pytest.raises(ValueError, match=r"x must be one image tensor of shape \(C, H, W\)"):
        widgets.attack_one(trained_mlp, x[:2], 0, 0.1)
    with pytest.raises(ValueError, match="norm must be 'linf' for FGSM"):
        widgets.attack_one(trained_mlp, x[0], 0, 0.1, attack="fgsm", norm="l2")


def test_eps_slider_builds(trained_mlp, mnist_test):
    x, y = mnist_test
    w = widgets.eps_slider({"mlp": trained_mlp}, x[:5], y[:5], steps=2)
    assert len(w.children) == 3
    norm, eps = w.children[0].children[1], w.children[1].children[1]
    assert (eps.max, eps.value) == (0.5, 0.3)
    norm.value = "l2"
    assert (eps.max, eps.value) == (5.0, 2.0)
    norm.value = "linf"
    assert (eps.max, eps.value) == (0.5, 0.3)
    plt.close("all")
    with pytest.raises(ValueError, match="models must map at least one"):
        widgets.eps_slider({}, x[:5], y[:5])
