"""A network as the bounds see it: a chain of affine maps and ReLUs.

Every certificate of this package walks the same chain. :func:`chain` reads it from a
model of :mod:`robustcore.models` (or any ``nn.Sequential`` of the supported layers):
``Linear``, ``Conv2d``, ``Flatten``, ``BatchNorm1d/2d`` (eval mode: a fixed per-channel
affine map), ``AvgPool2d``, ``Identity`` and ``ReLU``. Residual blocks are not a chain;
they raise ``TypeError``. Each affine map ``f(z) = L z + b`` offers what the bounds
need: ``f`` itself, ``|L| r`` (how far an interval's radius spreads) and ``Λ ↦ Λ L``
(how a linear bound on the output reads on the input).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

AFFINE = (
    nn.Linear,
    nn.Conv2d,
    nn.Flatten,
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.AvgPool2d,
)
SKIPPED = (nn.Identity, nn.Dropout)


@dataclass(frozen=True)
class Affine:
    """``f(z) = L z + b``, one layer of the chain; ``in_shape``/``out_shape`` exclude
    the batch."""

    layer: nn.Module
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        return self.layer(z)

    def offset(self) -> torch.Tensor:
        """``b = f(0)``, shape ``out_shape``."""
        zero = torch.zeros(
            (1, *self.in_shape), dtype=_dtype(self.layer), device=_device(self.layer)
        )
        return self.layer(zero)[0]

    def spread(self, r: torch.Tensor) -> torch.Tensor:
        """``|L| r`` for a batch of radii r ≥ 0 (N, *in_shape)."""
        m = self.layer
        if isinstance(m, nn.Linear):
            return F.linear(r, m.weight.abs())
        if isinstance(m, nn.Conv2d):
            w = m.weight.abs()
            return F.conv2d(r, w, None, m.stride, m.padding, m.dilation, m.groups)
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            scale = m.weight / torch.sqrt(m.running_var + m.eps)
            shape = (1, -1) + (1,) * (r.dim() - 2)
            return r * scale.abs().view(shape)
        return m(r)  # Flatten, AvgPool2d: L ≥ 0 already

    def pull_back(self, lam: torch.Tensor) -> torch.Tensor:
        """``Λ L`` for linear forms Λ (N, S, *out_shape) → (N, S, *in_shape)."""
        n, s = lam.shape[:2]
        m = self.layer
        if isinstance(m, nn.Linear):
            return lam @ m.weight
        if isinstance(m, nn.Flatten):
            return lam.reshape(n, s, *self.in_shape)
        if isinstance(m, nn.Conv2d) and not isinstance(m.padding, str):
            # the transposed convolution, without the forward pass autograd would need
            flat = lam.reshape(n * s, *self.out_shape)
            extra = [
                size - ((out - 1) * st - 2 * pad + dil * (k - 1) + 1)
                for size, out, st, pad, dil, k in zip(
                    self.in_shape[1:],
                    self.out_shape[1:],
                    m.stride,
                    m.padding,
                    m.dilation,
                    m.kernel_size,
                )
            ]
            g = F.conv_transpose2d(
                flat, m.weight, None, m.stride, m.padding, extra, m.groups, m.dilation
            )
            return g.reshape(n, s, *self.in_shape)
        # The transpose of any affine layer is its vector-Jacobian product at any point;
        # one backward pass over the N·S forms, with no per-layer transpose formulas.
        z = torch.zeros(
            (n * s, *self.in_shape),
            dtype=lam.dtype,
            device=lam.device,
            requires_grad=True,
        )
        with torch.enable_grad():
            (g,) = torch.autograd.grad(
                self.layer(z), z, lam.reshape(n * s, *self.out_shape)
            )
        return g.reshape(n, s, *self.in_shape)


@dataclass(frozen=True)
class ReLU:
    """``max(z, 0)``, elementwise; ``shape`` excludes the batch."""

    shape: tuple[int, ...]


def _dtype(m: nn.Module) -> torch.dtype:
    p = next(m.parameters(), None)
    return torch.get_default_dtype() if p is None else p.dtype


def _device(m: nn.Module) -> torch.device | None:
    p = next(m.parameters(), None)
    return None if p is None else p.device


def _leaves(model: nn.Module) -> list[nn.Module]:
    """The model's layers in order: a Classifier's body then head, a Sequential's
    children, recursively."""
    if isinstance(model, nn.Sequential):
        return [leaf for child in model for leaf in _leaves(child)]
    if hasattr(model, "body") and hasattr(model, "head"):
        return _leaves(model.body) + _leaves(model.head)
    if isinstance(model, AFFINE + SKIPPED + (nn.ReLU,)):
        return [model]
    raise TypeError(
        "certified bounds need a chain of Linear, Conv2d, Flatten, BatchNorm, "
        f"AvgPool2d and ReLU layers; got {type(model).__name__}"
    )


def chain(model: nn.Module, in_shape: tuple[int, ...]) -> list[Affine | ReLU]:
    """The model as a list of :class:`Affine` maps and :class:`ReLU` s, for inputs of
    shape ``in_shape`` (C, H, W). The last element is an affine map (the logits)."""
    steps: list[Affine | ReLU] = []
    shape = tuple(in_shape)
    with torch.no_grad():
        for layer in _leaves(model):
            if isinstance(layer, SKIPPED):
                continue
            if isinstance(layer, nn.ReLU):
                steps.append(ReLU(shape))
                continue
            if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)) and layer.training:
                raise ValueError("certified bounds need BatchNorm in eval mode")
            zero = torch.zeros((1, *shape), dtype=_dtype(layer), device=_device(layer))
            out = tuple(layer(zero).shape[1:])
            steps.append(Affine(layer, shape, out))
            shape = out
    if not steps or not isinstance(steps[-1], Affine):
        raise TypeError("certified bounds need a network that ends in an affine layer")
    return steps
