"""Quick and full profiles from one code path.

The quick profile (CPU, CI) uses subsets and short schedules; the full profile
(GPU, or a patient CPU) runs the paper-scale settings. The default follows the
hardware — ``full`` when a GPU is visible, else ``quick`` — and the environment
variable ``ROBUSTCORE_PROFILE=quick|full`` overrides it.

Chapters write ``P = profiles.current()`` once and then
``P.pick(quick=500, full=10_000)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypeVar

import torch

from . import checks

ENV_VAR = "ROBUSTCORE_PROFILE"
NAMES = ("quick", "full")
T = TypeVar("T")


@dataclass(frozen=True)
class Profile:
    """A named profile; :meth:`pick` chooses the setting that belongs to it."""

    name: str

    def __post_init__(self) -> None:
        checks.choice(self.name, "profile", NAMES)

    @property
    def quick(self) -> bool:
        return self.name == "quick"

    def pick(self, *, quick: T, full: T) -> T:
        """``quick`` in the quick profile, ``full`` in the full one."""
        return quick if self.name == "quick" else full


def default_name() -> str:
    """``$ROBUSTCORE_PROFILE`` if set, else ``full`` with a GPU and ``quick``
    without."""
    env = os.environ.get(ENV_VAR, "").strip().lower()
    if env:
        return checks.choice(env, ENV_VAR, NAMES)
    return "full" if torch.cuda.is_available() else "quick"


def current() -> Profile:
    """The profile in force now (see :func:`default_name`)."""
    return Profile(default_name())


def resolve(profile: str | None) -> str:
    """``profile`` checked against :data:`NAMES`, or the default (:func:`default_name`)
    for None."""
    return (
        default_name() if profile is None else checks.choice(profile, "profile", NAMES)
    )
