"""MNIST's preprocessing of small digit bitmaps: ink box, aspect ratio and centre of mass,
on hand-built bitmaps and on the 1,797 UCI digits."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage

from misuse import cases, misuse_test
from robustcore import data, digits


def bar(h: int, w: int, top: int = 1, left: int = 3) -> torch.Tensor:
    """An 8×8 bitmap holding one solid h×w rectangle of full ink."""
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, top : top + h, left : left + w] = 1.0
    return x


def com(x: torch.Tensor) -> np.ndarray:
    return np.array([ndimage.center_of_mass(img) for img in x[:, 0].numpy()])


def test_a_thin_bar_keeps_its_aspect_ratio_and_is_centred():
    out = digits.mnist_style(bar(6, 2))
    assert out.shape == (1, 1, 28, 28) and float(out.max()) == pytest.approx(1.0)
    h, w = digits.ink_box(out)[0].tolist()
    assert h == 20  # the longer side fills the box
    assert abs(w - 20 * 2 / 6) <= 1.5  # 6.7 px: the aspect ratio is kept (± blur)
    assert np.abs(com(out) - 14).max() <= 0.5
    # stretching the whole frame instead makes it 20 * 6/8 = 15 px tall (plus the
    # bilinear blur's fringe, at most 2 px a side), short of the box
    h_s = digits.ink_box(digits.stretch(bar(6, 2)))[0, 0].item()
    assert 15 <= h_s <= 19


def test_a_wide_bar_fills_the_box_across_and_an_offcentre_digit_is_moved():
    out = digits.mnist_style(bar(2, 8, top=6, left=0))
    h, w = digits.ink_box(out)[0].tolist()
    assert w == 20 and abs(h - 5) <= 1.5
    assert np.abs(com(out) - 14).max() <= 0.5


def test_the_shift_keeps_the_ink_in_the_frame():
    # a mass at one end of an L: the centre of mass is far from the box's centre
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, :, 0] = 1.0
    x[0, 0, 7, :] = 1.0
    x[0, 0, 5:8, 0:3] = 1.0
    out = digits.mnist_style(x)
    # whole and in one piece: a shift that wrapped round would split the box
    assert digits.ink_box(out)[0].tolist() == [20, 20]
    assert float(out.sum()) == pytest.approx(
        float(digits.mnist_style(x, size=64).sum()) * (20 / 46) ** 2, rel=0.1
    )


def test_a_blank_bitmap_stays_blank():
    out = digits.mnist_style(torch.zeros(2, 1, 8, 8))
    assert out.shape == (2, 1, 28, 28) and float(out.abs().sum()) == 0
    assert digits.ink_box(out).tolist() == [[0, 0], [0, 0]]


def test_ink_box_by_hand():
    x = torch.zeros(1, 1, 6, 6)
    x[0, 0, 1, 2] = 0.5
    x[0, 0, 4, 3] = 0.06
    x[0, 0, 5, 5] = 0.04  # below the ink threshold
    assert digits.ink_box(x).tolist() == [[4, 2]]
    assert digits.ink_width(x).tolist() == [2]
    assert digits.ink_box(x, threshold=0.01).tolist() == [[5, 4]]


def test_uci_digits_as_mnist_made_its_digits():
    x, y = data.load_digits()
    assert x.shape == (1797, 1, 28, 28) and x.dtype == torch.float32
    assert float(x.min()) >= 0 and torch.allclose(x.amax((1, 2, 3)), torch.ones(1797))
    box = digits.ink_box(x)
    assert (box.amax(1) == 20).all()  # every digit's longer side fills the 20-px box
    assert np.abs(com(x) - 14).max() <= 0.5  # centre of mass at MNIST's (14, 14)
    # the 8×8 frames' aspect ratio survives: the crop's ratio within the blur
    from sklearn.datasets import load_digits as sk_load_digits

    raw = torch.tensor(sk_load_digits().images[:50], dtype=torch.float32)
    raw_box = digits.ink_box(raw.unsqueeze(1) / 16, threshold=0.0).float()
    ratio = raw_box[:, 1] / raw_box[:, 0]
    out_ratio = box[:50, 1].float() / box[:50, 0].float()
    assert (out_ratio - ratio).abs().max() < 0.2
    # the thin digits are narrower than when the frame is stretched
    xs, _ = data.load_digits(style="stretch")
    w_mnist = digits.ink_width(x[y == 1]).float().median()
    w_stretch = digits.ink_width(xs[y == 1]).float().median()
    assert w_mnist < w_stretch


def test_stretch_is_the_whole_frame_scaled_to_the_box():
    from sklearn.datasets import load_digits as sk_load_digits

    raw = torch.tensor(sk_load_digits().images, dtype=torch.float32).unsqueeze(1) / 16
    want = F.pad(
        F.interpolate(raw, size=(20, 20), mode="bilinear", align_corners=False),
        (4, 4, 4, 4),
    )
    want = want / want.amax(dim=(1, 2, 3), keepdim=True)
    x, _ = data.load_digits(style="stretch")
    assert torch.allclose(x, want.clamp(0, 1))
    assert data.load_digits(16, style="stretch")[0].shape == (1797, 1, 16, 16)


Z = torch.zeros(1, 1, 8, 8)
MISUSE = cases(
    "digits",
    {
        "mnist_style:rgb": (
            lambda: digits.mnist_style(torch.zeros(1, 3, 8, 8)),
            ValueError,
            "1 channel",
        ),
        "mnist_style:size-small": (
            lambda: digits.mnist_style(Z, size=4),
            ValueError,
            "size must be >= 8",
        ),
        "mnist_style:numpy": (
            lambda: digits.mnist_style(np.zeros((1, 1, 8, 8))),
            TypeError,
            "x must be a torch.Tensor",
        ),
        "stretch:range": (
            lambda: digits.stretch(torch.full((1, 1, 8, 8), 2.0)),
            ValueError,
            r"x must have values in \[0, 1\]",
        ),
        "stretch:size-str": (lambda: digits.stretch(Z, size="28"), TypeError, "size"),
        "box_side:size-str": (lambda: digits.box_side("28"), TypeError, "size"),
        "ink_box:threshold": (
            lambda: digits.ink_box(Z, 1.5),
            ValueError,
            "threshold must be in",
        ),
        "ink_width:2d": (
            lambda: digits.ink_width(torch.zeros(4, 4)),
            ValueError,
            "x must be a batch",
        ),
        "load_digits:style-unknown": (
            lambda: data.load_digits(style="nist"),
            ValueError,
            "style must be one of 'mnist', 'stretch'",
        ),
        "load_digits:style-none": (
            lambda: data.load_digits(style=None),
            ValueError,
            "style must be one of",
        ),
    },
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)
