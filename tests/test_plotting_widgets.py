import base64
import re

import matplotlib.pyplot as plt
import pytest
import torch

from misuse import M, X, Y, bad_images, cases, misuse_test, not_a_model
from robustcore import frames, plotting, widgets


def test_image_grid_and_predictions():
    x = torch.rand(12, 1, 28, 28)
    fig = plotting.image_grid(x, nrow=6, title="t")
    assert fig.axes[0].get_title() == "t"
    pred, y = torch.arange(12) % 10, torch.zeros(12, dtype=torch.long)
    fig = plotting.show_predictions(
        x, pred, y, ncols=6, row_titles=["a", "b"], prob=torch.rand(12)
    )
    titles = [ax.get_title() for ax in fig.axes[:12]]
    assert titles[0].startswith("0 (") and len(fig.axes) == 12
    assert (
        fig.axes[0].title.get_color() == "tab:green"
        and fig.axes[1].title.get_color() == "tab:red"
    )
    plt.close("all")
    with pytest.raises(ValueError, match=r"x must have values in \[0, 1\]"):
        plotting.image_grid(x + 1)


def test_eps_curves_and_bars():
    fig = plotting.eps_curves(
        [0, 0.1], {"a": [1.0, 0.5]}, reference={"paper": (0.1, 0.6)}
    )
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
    assert (
        widgets.attack_one(trained_mlp, x[0], int(y[0]), 1.5, norm="l2")["norm"]
        <= 1.5 + 1e-5
    )
    fig = widgets.plot_attack_one(x[0], int(y[0]), r, "t")
    assert len(fig.axes) == 3
    plt.close("all")
    with pytest.raises(
        ValueError, match=r"x must be one image tensor of shape \(C, H, W\)"
    ):
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


def _png(frame) -> bytes:
    """The PNG bytes of a frame (an HTML <img> with a data URI)."""
    return base64.b64decode(re.search(r"base64,([^\"]+)\"", frame.value)[1])


def test_eps_frames_link_the_controls_to_the_pictures_in_the_browser(
    trained_mlp, mnist_test
):
    """The frames are computed now, one PNG per model and ε, and the controls drive
    the pictures through browser-side links (jslink), so a page without a kernel
    still changes the picture; the first picture shown is the one at ``start``."""
    import ipywidgets as W

    x, y = mnist_test
    view = frames.eps_frames(
        {"a": trained_mlp, "b": trained_mlp}, x[0], int(y[0]), [0.0, 0.1, 0.3],
        start=0.1,
    )  # fmt: skip
    pick, slider, outer = view.children
    assert isinstance(outer, W.Stack) and len(outer.children) == 2
    assert slider.options == ("0", "0.1", "0.3") and slider.index == 1
    for inner in outer.children:
        assert inner.selected_index == 1 and len(inner.children) == 3
        assert all(_png(i)[:4] == b"\x89PNG" for i in inner.children)
    clean, attacked = (outer.children[0].children[k] for k in (0, 2))
    assert _png(clean) != _png(attacked)  # ε = 0 and ε = 0.3 differ
    alt = re.search(r'alt="([^"]+)"', attacked.value)[1]  # the picture in words
    assert alt.startswith(f"a, PGD at ε = 0.3: the digit {int(y[0])} is read as")
    links = [
        w
        for w in list(W.Widget.widgets.values())
        if isinstance(w, W.widgets.widget_link.Link)
    ]
    pairs = {(ln.source[0].model_id, ln.target[0].model_id) for ln in links}
    assert (pick.model_id, outer.model_id) in pairs
    assert all((slider.model_id, s.model_id) in pairs for s in outer.children)
    with pytest.raises(ValueError, match="start"):
        frames.eps_frames({"a": trained_mlp}, x[0], int(y[0]), [0.0], start=0.2)
    with pytest.raises(ValueError, match="one PNG per label"):
        frames.frame_viewer({"a": [b"x"]}, ["0", "1"])


def test_changed_pixels_circles_each_changed_pixel_and_pixel_map():
    x = torch.zeros(3, 1, 10, 10)
    xa = x.clone()
    xa[0, 0, 2, 3] = 1.0
    xa[1, 0, 5, 5], xa[1, 0, 7, 1] = 1.0, 0.5
    fig = plotting.changed_pixels(
        x, xa, torch.tensor([1, 0, 0]), torch.zeros(3, dtype=torch.long), ncols=3
    )
    assert [len(ax.patches) for ax in fig.axes[:3]] == [1, 2, 0]
    assert fig.axes[0].title.get_color() == "tab:red"
    fig = plotting.pixel_map(
        torch.rand(10, 10), background=torch.rand(10, 10), title="m", label="count"
    )
    assert (
        fig.axes[0].get_title() == "m" and len(fig.axes) == 2
    )  # the map and its colour bar
    plt.close("all")


def test_one_pixel_one_and_its_plot():
    from torch import nn

    class Switch(nn.Module):  # class 1 exactly when pixel (3, 4) is bright
        def forward(self, x):
            v = x[:, 0, 3, 4]
            return torch.stack([torch.full_like(v, 0.5), 10 * v], 1)

    r = widgets.one_pixel_one(
        Switch(), torch.zeros(1, 8, 8), 0, popsize=20, generations=30
    )
    assert (
        r["success"]
        and r["pred"] == 1
        and r["clean_pred"] == 0
        and r["queries"] <= 20 * 31
    )
    assert r["candidates"][0, :2].tolist() == [3.0, 4.0]
    fig = widgets.plot_one_pixel(torch.zeros(1, 8, 8), 0, r)
    assert len(fig.axes[1].patches) == 1
    plt.close("all")
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        widgets.one_pixel_one(Switch(), torch.zeros(1, 1, 8, 8), 0)


def test_one_pixel_explorer_builds_and_reruns(trained_mlp, mnist_test):
    x, y = mnist_test
    w = widgets.one_pixel_explorer(
        {"mlp": trained_mlp}, x[:4], y[:4], popsize=8, generations=1
    )
    assert len(w.children) == 4
    idx, go = w.children[1].children
    status = w.children[2]
    assert status.value == "image 0, mlp, 1 pixel(s): shown below"
    idx.value = 2  # the first digit's attack no longer applies, and says so
    assert status.value == "image 2, mlp, 1 pixel(s): press attack"
    go.click()  # runs the attack on the third digit
    assert status.value == "image 2, mlp, 1 pixel(s): shown below"
    plt.close("all")
    with pytest.raises(ValueError, match="models must map at least one"):
        widgets.one_pixel_explorer({}, x[:4], y[:4])


# ---- misuse: bad arguments are refused and nothing is written

MISUSE = (
    cases(
        "plotting",
        {
            "reproductions:unit": (
                lambda: plotting.reproductions([], unit=1),
                TypeError,
                "unit must be a string",
            ),
            "shared_legend:not-a-figure": (
                lambda: plotting.shared_legend(None, []),
                TypeError,
                "fig must be a matplotlib Figure",
            ),
            "shared_legend:no-labels": (
                lambda: plotting.shared_legend(*plt.subplots(1, 2)),
                ValueError,
                "axes have no labelled artists",
            ),
            "overlapping_labels:not-a-figure": (
                lambda: plotting.overlapping_labels(None),
                TypeError,
                "fig must be a matplotlib Figure",
            ),
            "image_grid:nrow": (
                lambda: plotting.image_grid(X, nrow=0),
                ValueError,
                "nrow must be >= 1",
            ),
            "image_grid:padding": (
                lambda: plotting.image_grid(X, padding=-1),
                ValueError,
                "padding must be >= 0",
            ),
            "show_predictions:pred-length": (
                lambda: plotting.show_predictions(X, Y[:2]),
                ValueError,
                "pred must be",
            ),
            "show_predictions:y-length": (
                lambda: plotting.show_predictions(X, Y, Y[:3]),
                ValueError,
                "y must be",
            ),
            "show_predictions:ncols": (
                lambda: plotting.show_predictions(X, Y, ncols=0),
                ValueError,
                "ncols must be",
            ),
            "eps_curves:length": (
                lambda: plotting.eps_curves([0.0, 0.1], {"a": [1.0]}),
                ValueError,
                "curve 'a'",
            ),
            "eps_curves:not-a-mapping": (
                lambda: plotting.eps_curves([0.0], [[1.0]]),
                TypeError,
                "curves must map",
            ),
            "grouped_bars:length": (
                lambda: plotting.grouped_bars(["g1"], {"s": [0.1, 0.2]}),
                ValueError,
                "series 's'",
            ),
            "grouped_bars:not-a-mapping": (
                lambda: plotting.grouped_bars(["g1"], [0.1]),
                TypeError,
                "series must map",
            ),
            "changed_pixels:shape": (
                lambda: plotting.changed_pixels(X, X[:2], Y, Y),
                ValueError,
                "x_adv must have",
            ),
            "pixel_map:3d": (
                lambda: plotting.pixel_map(X[0]),
                ValueError,
                "values must be a",
            ),
            "pixel_map:background": (
                lambda: plotting.pixel_map(X[0, 0], background=X[0]),
                ValueError,
                "background must be",
            ),
        },
    )
    + cases(
        "frames",
        {
            "frame_viewer:empty": (
                lambda: frames.frame_viewer({}, ["0"]),
                ValueError,
                "frames must map",
            ),
            "frame_viewer:index": (
                lambda: frames.frame_viewer({"a": [b"png"]}, ["0"], index=3),
                ValueError,
                "index",
            ),
            "frame_viewer:alt": (
                lambda: frames.frame_viewer({"a": [b"png"]}, ["0"], alt={"a": []}),
                ValueError,
                "alt must hold one text per picture",
            ),
            "eps_frames:eps": (
                lambda: frames.eps_frames({"m": M}, X[0], 0, [-0.1]),
                ValueError,
                "eps must be",
            ),
            "eps_frames:models": (
                lambda: frames.eps_frames({}, X[0], 0, [0.1]),
                ValueError,
                "models must map",
            ),
            "one_pixel_frames:found": (
                lambda: frames.one_pixel_frames({"m": M}, X, Y, {"other": None}),
                ValueError,
                "found must map",
            ),
            "one_pixel_frames:digits": (
                lambda: frames.one_pixel_frames({"m": M}, X, Y, {"m": None}, 9),
                ValueError,
                "digits",
            ),
        },
    )
    + cases(
        "widgets",
        {
            "attack_one:x-batch": (
                lambda: widgets.attack_one(M, X, 0, 0.1),
                ValueError,
                "x must be one image",
            ),
            "attack_one:x-range": (
                lambda: widgets.attack_one(M, X[0] * 2, 0, 0.1),
                ValueError,
                r"\[0, 1\]",
            ),
            "attack_one:y-str": (
                lambda: widgets.attack_one(M, X[0], "seven", 0.1),
                TypeError,
                "y must be",
            ),
            "attack_one:y-negative": (
                lambda: widgets.attack_one(M, X[0], -1, 0.1),
                ValueError,
                "y must be",
            ),
            "attack_one:eps-negative": (
                lambda: widgets.attack_one(M, X[0], 0, -0.1),
                ValueError,
                "eps must be",
            ),
            "attack_one:attack": (
                lambda: widgets.attack_one(M, X[0], 0, 0.1, attack="cw"),
                ValueError,
                "attack must be",
            ),
            "attack_one:fgsm-l2": (
                lambda: widgets.attack_one(M, X[0], 0, 0.1, attack="fgsm", norm="l2"),
                ValueError,
                "norm must be 'linf'",
            ),
            "one_pixel_one:pixels": (
                lambda: widgets.one_pixel_one(M, X[0], 0, pixels=0),
                ValueError,
                "pixels must be",
            ),
            "one_pixel_one:target": (
                lambda: widgets.one_pixel_one(M, X[0], 0, target=0),
                ValueError,
                "target must differ",
            ),
            "one_pixel_one:x-batch": (
                lambda: widgets.one_pixel_one(M, X, 0),
                ValueError,
                "x must be one image",
            ),
            "eps_slider:no-models": (
                lambda: widgets.eps_slider({}, X, Y),
                ValueError,
                "models must map",
            ),
            "one_pixel_explorer:not-a-model": (
                lambda: widgets.one_pixel_explorer({"m": "cnn"}, X, Y),
                TypeError,
                r"models\['m'\]",
            ),
            "one_pixel_explorer:empty": (
                lambda: widgets.one_pixel_explorer({"m": M}, X[:0], Y[:0]),
                ValueError,
                "empty",
            ),
        },
    )
    + bad_images(
        {
            "plotting.image_grid": lambda x: plotting.image_grid(x),
            "plotting.show_predictions": lambda x: plotting.show_predictions(
                x, Y[: len(x)]
            ),
            "plotting.changed_pixels": lambda x: plotting.changed_pixels(
                x, x, Y[: len(x)], Y[: len(x)]
            ),
            "widgets.eps_slider": lambda x: widgets.eps_slider(
                {"m": M}, x, Y[: len(x)]
            ),
            "widgets.one_pixel_explorer": lambda x: widgets.one_pixel_explorer(
                {"m": M}, x, Y[: len(x)]
            ),
        }
    )
    + not_a_model({"widgets.eps_slider": lambda m: widgets.eps_slider({"m": m}, X, Y)})
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)


def test_reproductions_plots_only_reproductions_with_their_intervals():
    rows = [
        {
            "kind": "reproduction",
            "value": 90.0,
            "low": 85.0,
            "high": 94.0,
            "reference": 93.2,
            "unit": "%",
        },
        {
            "kind": "analogue",
            "value": 5.0,
            "low": None,
            "high": None,
            "reference": 63.0,
            "unit": "%",
        },
    ]
    fig = plotting.reproductions(rows)
    (bars,) = [c for c in fig.axes[0].containers]
    ((x, y),) = bars.lines[0].get_xydata()
    assert (x, y) == (93.2, 90.0)
    segs = bars.lines[2][0].get_segments()
    assert [tuple(p) for p in segs[0]] == [(93.2, 85.0), (93.2, 94.0)]
    plt.close(fig)
    fig = plotting.reproductions(rows, kind="analogue")  # the other kind alone
    (bars,) = [c for c in fig.axes[0].containers]
    assert [tuple(p) for p in bars.lines[0].get_xydata()] == [(63.0, 5.0)]
    plt.close(fig)
    with pytest.raises(ValueError, match="kind"):
        plotting.reproductions(rows, kind="other")


def test_the_book_style_is_one_call():
    import matplotlib as mpl

    with mpl.rc_context():
        plotting.use_style()
        assert mpl.rcParams["axes.spines.top"] is False
        assert mpl.rcParams["font.size"] == plotting.STYLE["font.size"]
        colors = [c["color"] for c in mpl.rcParams["axes.prop_cycle"]]
        assert colors[0].lower() == "#0072b2"


def test_overlapping_labels_finds_crammed_tick_labels():
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.set_xticks(range(8), [f"a long tick label {i}" for i in range(8)])
    assert plotting.overlapping_labels(fig)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 2))
    ax.set_xticks(range(3), ["a", "b", "c"])
    assert plotting.overlapping_labels(fig) == []
    plt.close(fig)
    with pytest.raises(TypeError, match="fig"):
        plotting.overlapping_labels(ax)


def test_grouped_bars_wraps_long_group_names_so_none_overlap():
    groups = [
        "CNN, seed 0",
        "ResNet, seed 1",
        "L∞-robust CNN",
        "MLP trained on perturbation groups",
        "standard ResNet",
    ]
    fig = plotting.grouped_bars(
        groups, {"a": [0.5] * 5, "b": [0.7] * 5}, title="AURRA of each model"
    )
    assert plotting.overlapping_labels(fig) == []
    plt.close(fig)


def test_shared_legend_is_one_legend_below_the_axes():
    """The axes' own legends go; one figure legend holds each label once, below the
    data (outside every axes), and the figure keeps its width."""
    fig, axes = plt.subplots(1, 2, figsize=(plotting.COLUMN_IN, 3))
    for ax in axes:
        ax.plot([0, 1], [0, 1], label="a")
        ax.plot([0, 1], [1, 0], label="b")
        ax.legend()
    plotting.shared_legend(fig, axes)
    assert all(ax.get_legend() is None for ax in axes)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["a", "b"]
    fig.canvas.draw()
    box = legend.get_window_extent()
    assert all(box.y1 <= ax.get_window_extent().y0 for ax in axes)
    assert fig.get_figwidth() == plotting.COLUMN_IN
    plt.close(fig)
