"""MNIST-sized classifiers of three families, and a registry by name.

Every model maps a float batch (N, C, 28, 28) in [0, 1] to logits (N, num_classes)
and exposes ``features(x)``, the penultimate representation (N, D) that
Chapter 2 inverts. They are small on purpose: a CPU trains each in under a minute.

The convolutional ones keep their weights in the channels-last layout (NHWC): for
convolutions this small, oneDNN's channels-last kernels train and attack faster on a
CPU than its NCHW ones (an epoch in 0.76 to 0.88 of the time, PGD in 0.55 to 0.89, on
two cores over three runs of ``benchmarks/layout.py``). Inputs may come in either
layout; the outputs are the same up to float rounding.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from . import checks


class Classifier(nn.Module):
    """``body`` → ``head``: ``features(x)`` is the body's output, the penultimate
    representation."""

    body: nn.Module
    head: nn.Module

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class MLP(Classifier):
    """Fully connected: flatten → 256 → 256 → classes (ReLU)."""

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        image_size: int = 28,
        width: int = 256,
    ):
        super().__init__()
        self.body = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_channels * image_size**2, width),
            nn.ReLU(),
            nn.Linear(width, width),
            nn.ReLU(),
        )
        self.head = nn.Linear(width, num_classes)


class SmallCNN(Classifier):
    """Two strided 4×4 convolutions (32, 64 channels) → 128 → classes.

    Strided convolutions instead of conv + max-pool: the same accuracy on MNIST at
    about three times the CPU throughput, which adversarial training multiplies.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        image_size: int = 28,
        width: int = 128,
    ):
        super().__init__()
        side = image_size // 4
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 32, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(64 * side * side, width),
            nn.ReLU(),
        )
        self.head = nn.Linear(width, num_classes)
        self.to(memory_format=torch.channels_last)


class BasicBlock(nn.Module):
    """The two-convolution residual block of He et al. (2016)."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class SmallResNet(Classifier):
    """A stem and three residual stages (w, 2w, 4w channels), global average pool,
    linear head."""

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        image_size: int = 28,
        width: int = 16,
    ):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, 2, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            BasicBlock(width, width, 1),
            BasicBlock(width, 2 * width, 2),
            BasicBlock(2 * width, 4 * width, 2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(4 * width, num_classes)
        self.to(memory_format=torch.channels_last)


class SmallMLP(MLP):
    """Fully connected: flatten → 50 → 50 → classes (ReLU): 100 ReLUs, few enough
    for exact verification by MILP (Chapter 6)."""

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        image_size: int = 28,
        width: int = 50,
    ):
        super().__init__(in_channels, num_classes, image_size, width)


ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "mlp": MLP,
    "mlp-small": SmallMLP,
    "cnn": SmallCNN,
    "resnet": SmallResNet,
}


def build(
    arch: str, in_channels: int = 1, num_classes: int = 10, image_size: int = 28
) -> nn.Module:
    """A freshly initialised model of architecture ``arch``
    (one of :data:`ARCHITECTURES`)."""
    checks.choice(arch, "arch", tuple(ARCHITECTURES))
    checks.integer(in_channels, "in_channels", 1)
    checks.integer(num_classes, "num_classes", 2)
    checks.integer(image_size, "image_size", 8)
    return ARCHITECTURES[arch](
        in_channels=in_channels, num_classes=num_classes, image_size=image_size
    )


def num_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    checks.module(model)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
