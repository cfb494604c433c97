"""Small digit bitmaps brought to MNIST's format the way MNIST itself was made.

LeCun et al. fitted each NIST digit into a 20×20 box keeping its aspect ratio
(anti-aliased), then placed it in a 28×28 frame with its centre of mass at the centre.
:func:`mnist_style` does the same to any stack of grey-level bitmaps, e.g. the 8×8 UCI
digits of :func:`robustcore.data.load_digits`; :func:`stretch` is the naive
alternative that scales the whole frame to the box. :func:`ink_box` and
:func:`ink_width` measure the result.

Images are float tensors (N, 1, H, W) in [0, 1], ink bright on a dark background.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from . import checks

INK = 0.05  # a pixel above this is ink (MNIST's background is exactly 0)
BOX, FRAME = 20, 28  # MNIST's box and frame


def _check(x: torch.Tensor, size: int) -> tuple[torch.Tensor, int]:
    checks.images(x, channels=1)
    return x, checks.integer(size, "size", 8, 512)


def box_side(size: int) -> int:
    """The side of the box a digit is fitted into in a ``size`` frame (20 for 28)."""
    return max(1, round(checks.integer(size, "size", 1) * BOX / FRAME))


def stretch(x: torch.Tensor, size: int = FRAME) -> torch.Tensor:
    """Scale each whole frame (N, 1, h, w) to the central box of a ``size`` frame
    (bilinear), whatever the digit's shape; each image's maximum becomes 1."""
    x, size = _check(x, size)
    inner = box_side(size)
    out = F.interpolate(x, size=(inner, inner), mode="bilinear", align_corners=False)
    pad = size - inner
    out = F.pad(out, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2))
    return (out / out.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-8)).clamp_(0, 1)


def _fit(img: np.ndarray, size: int) -> np.ndarray:
    """One bitmap (h, w) → a (size, size) frame: crop to the ink, fit into the box
    keeping the aspect ratio, centre of mass at (size/2, size/2)."""
    rows, cols = np.nonzero(img > 0)
    if rows.size == 0:
        return np.zeros((size, size), np.float32)
    crop = img[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    inner = box_side(size)
    scale = inner / max(crop.shape)
    h, w = (max(1, round(s * scale)) for s in crop.shape)
    small = F.interpolate(
        torch.from_numpy(np.ascontiguousarray(crop, np.float32))[None, None],
        size=(h, w),
        mode="bilinear",
        align_corners=False,
        antialias=True,
    )[0, 0].numpy()
    small = small / max(float(small.max()), 1e-8)
    out = np.zeros((size, size), np.float32)
    top, left = (size - h) // 2, (size - w) // 2
    out[top : top + h, left : left + w] = small
    # a whole-pixel shift (as MNIST's), kept inside the frame
    cy, cx = ndimage.center_of_mass(out)
    dy = int(np.clip(round(size / 2 - cy), -top, size - h - top))
    dx = int(np.clip(round(size / 2 - cx), -left, size - w - left))
    return np.roll(out, (dy, dx), axis=(0, 1))


def mnist_style(x: torch.Tensor, size: int = FRAME) -> torch.Tensor:
    """MNIST's preprocessing of bitmaps (N, 1, h, w) in [0, 1]: crop each to its ink
    (pixels > 0), fit it into the central box (20 px for ``size=28``) keeping its
    aspect ratio (bilinear, anti-aliased), scale its maximum to 1, and shift it by
    whole pixels so that its centre of mass is at (size/2, size/2), as MNIST's is.
    Returns (N, 1, size, size) in [0, 1]."""
    x, size = _check(x, size)
    imgs = x[:, 0].detach().cpu().numpy()
    out = np.stack([_fit(img, size) for img in imgs])
    return torch.from_numpy(out).unsqueeze(1).clamp_(0, 1)


def ink_box(x: torch.Tensor, threshold: float = INK) -> torch.Tensor:
    """Height and width (N, 2) int64 of each image's ink (pixels > ``threshold``);
    0 for a blank image."""
    checks.images(x)
    checks.number(threshold, "threshold", 0.0, 1.0)
    ink = (x > threshold).any(dim=1)  # (N, H, W)

    def extent(mask: torch.Tensor) -> torch.Tensor:  # (N, L) → (N,)
        idx = torch.arange(mask.shape[1])
        first = torch.where(mask, idx, mask.shape[1]).amin(1)
        last = torch.where(mask, idx, -1).amax(1)
        return (last - first + 1).clamp_min(0)

    return torch.stack([extent(ink.any(2)), extent(ink.any(1))], dim=1)


def ink_width(x: torch.Tensor, threshold: float = INK) -> torch.Tensor:
    """Width (N,) int64 in pixels of each image's ink (pixels > ``threshold``)."""
    return ink_box(x, threshold)[:, 1]
