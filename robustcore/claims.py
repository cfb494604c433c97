"""A chapter's claims, checked as it runs and shown as a list a reader can scan.

A claim is a sentence fixed before measuring (a paper's direction, ordering or stated
margin) and the evidence that decides it, preferably an interval
(:mod:`robustcore.stats`)::

    claims = Claims("Chapter 1")
    claims.check("PGD breaks the standard CNN (accuracy below 5%)", acc.high < 0.05,
                 f"{acc:.1%}")
    claims.report("D_R beats D_NR on group 2", b_r > b_nr, f"{b_r:.3f} vs {b_nr:.3f}")
    claims          # in a notebook: ✔ / ✘ one line per claim

:meth:`Claims.check` raises ``AssertionError`` when its claim fails, so a wrong result
fails the build. :meth:`Claims.report` only records whether a published claim was
reproduced here: a result that does not reproduce is reported, never asserted, so a
better recipe never breaks the build.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch


@dataclass(frozen=True)
class Claim:
    """One claim: its sentence, whether it held, the evidence, and whether it is
    asserted."""

    text: str
    held: bool
    evidence: str
    asserted: bool


def _claim(text: str, held: object, evidence: str, asserted: bool) -> Claim:
    if not isinstance(text, str) or not text:
        raise TypeError(f"text must be a non-empty string, got {text!r}")
    if not isinstance(evidence, str):
        raise TypeError(f"evidence must be a string, got {type(evidence).__name__}")
    one_bool = (
        isinstance(held, torch.Tensor)
        and held.dtype == torch.bool
        and held.numel() == 1
    )
    if not (isinstance(held, (bool, np.bool_)) or one_bool):
        raise TypeError(
            f"held must be True or False (the result of a comparison), got {held!r}"
        )
    return Claim(text, bool(held), evidence, asserted)


@dataclass
class Claims:
    """The claims of one chapter (or section), in the order they were checked."""

    title: str = ""
    items: list[Claim] = field(default_factory=list)

    def check(self, text: str, held: object, evidence: str = "") -> None:
        """Assert claim ``text``: record it, and raise ``AssertionError`` if ``held`` is
        false."""
        c = _claim(text, held, evidence, True)
        self.items.append(c)
        if not c.held:
            raise AssertionError(f"claim failed: {text} ({evidence})")

    def report(self, text: str, held: object, evidence: str = "") -> bool:
        """Record whether published claim ``text`` was reproduced here, without
        asserting it."""
        c = _claim(text, held, evidence, False)
        self.items.append(c)
        return c.held

    def lines(self) -> list[str]:
        """One line per claim: ✔ held, ✘ not reproduced (reported claims only)."""
        out = []
        for c in self.items:
            mark = "✔" if c.held else "✘"
            note = "" if c.asserted or c.held else " — not reproduced here"
            out.append(
                f"{mark} {c.text}" + (f": {c.evidence}" if c.evidence else "") + note
            )
        return out

    def _repr_markdown_(self) -> str:
        head = f"**{self.title}**\n\n" if self.title else ""
        return head + "\n".join(f"- {line}" for line in self.lines())

    def __repr__(self) -> str:
        return "\n".join(([self.title] if self.title else []) + self.lines())
