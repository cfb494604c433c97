"""A chapter's claims, checked as it runs and shown as a list a reader can scan.

A claim is a sentence fixed before measuring (a paper's direction, ordering or stated
margin) and the evidence that decides it, preferably an interval
(:mod:`robustcore.stats`)::

    claims = Claims("Chapter 1")
    claims.check("PGD breaks the standard CNN (accuracy below 5%)", acc.high < 0.05,
                 f"{acc:.1%}")
    claims.report("D_R beats D_NR on group 2", b_r > b_nr, f"{b_r:.3f} vs {b_nr:.3f}",
                  key="02-dr-beats-dnr-group-2")
    claims          # in a notebook: ✔ / ✘ one line per claim

:meth:`Claims.check` raises ``AssertionError`` when its claim fails, so a wrong result
fails the build. :meth:`Claims.report` only records whether a published claim was
reproduced here: a result that does not reproduce is reported, never asserted, so a
better recipe never breaks the build.

**Citing a claim.** A claim with a ``key`` (``"NN-words"``, NN its chapter) is stored
with the chapter's records (:func:`stored`) and glued for the prose: a sentence that
states a measured conclusion ends with ``{glue:md}`claim-KEY``` (this run's verdict
and evidence,
e.g. "✔ 89.5% [88.1, 90.8]") and, where it speaks of the paper-scale run,
``{glue:md}`claim-full-KEY``` (the committed full profile's verdict, or that it has not
recorded this claim). A claim that does not hold shows ✘ in the sentence itself. The
book's tests fail on a cited key that no claim declares and on a declared key that no
sentence cites.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import io, profiles, results

KEY = re.compile(r"^(\d\d)-[a-z0-9]+(-[a-z0-9]+)*$")
FULL = Path(__file__).resolve().parent / "full_runs"  # the committed full records


@dataclass(frozen=True)
class Claim:
    """One claim: its sentence, whether it held, the evidence, and whether it is
    asserted."""

    text: str
    held: bool
    evidence: str
    asserted: bool
    key: str | None = None


def _claim(
    text: str, held: object, evidence: str, asserted: bool, key: str | None
) -> Claim:
    if key is not None and (not isinstance(key, str) or not KEY.match(key)):
        raise ValueError(
            f"key must be None or 'NN-words' (NN the chapter, words in lower case "
            f"joined by '-'), got {key!r}"
        )
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
    return Claim(text, bool(held), evidence, asserted, key)


def verdict(claim: dict | Claim | None, profile: str = "") -> str:
    """A claim's verdict as inline Markdown for the sentence that cites it:
    ``"✔: 89.5% [88.1, 90.8]"``, ``"✘ not reproduced: …"``, ``"✘ fails: …"``;
    None (a profile that has not recorded the claim) says so."""
    if not isinstance(profile, str):
        raise TypeError(f"profile must be a string, got {type(profile).__name__}")
    ok = isinstance(claim, Claim) or (
        isinstance(claim, dict) and {"held", "asserted", "evidence"} <= set(claim)
    )
    if claim is not None and not ok:
        raise TypeError(
            "claim must be a Claim, a stored claim (a dict with held, asserted and "
            f"evidence) or None, got {claim!r}"
        )
    where = f"{profile} profile " if profile else ""
    if claim is None:
        return f"{where}not recorded yet"
    c = claim if isinstance(claim, dict) else claim.__dict__
    mark = "✔" if c["held"] else "✘"
    note = "" if c["held"] else (" fails" if c["asserted"] else " not reproduced")
    evidence = f": {c['evidence']}" if c["evidence"] else ""
    return f"{where}{mark}{note}{evidence}"


def _path(chapter: str, profile: str, folder: Path | None = None) -> Path:
    return (folder or results.results_dir()) / f"chapter{chapter}-{profile}.claims.json"


def stored(
    chapter: str, profile: str | None = None, folder: Path | None = None
) -> dict[str, dict]:
    """The keyed claims a chapter recorded in ``profile`` (default: the current one):
    key → ``{text, held, evidence, asserted}``; ``folder``: where (default: the
    results folder; :data:`FULL` for the committed full profile)."""
    if not isinstance(chapter, str) or not re.fullmatch(r"\d\d", chapter):
        raise ValueError(f"chapter must be two digits such as '04', got {chapter!r}")
    path = _path(chapter, profiles.resolve(profile), folder)
    return io.read_json(path) if path.is_file() else {}


def _cite(c: Claim) -> None:
    """Store a keyed claim with its chapter's records and glue its verdicts."""
    chapter, profile = c.key[:2], profiles.current().name
    path = _path(chapter, profile)
    found = stored(chapter, profile)
    found[c.key] = {
        "text": c.text,
        "held": c.held,
        "evidence": c.evidence,
        "asserted": c.asserted,
    }
    io.atomic_write_json(found, path)
    _glue(c.key, verdict(c), stored(chapter, "full", FULL).get(c.key))
    _DECIDED[c.key] = c


# the keyed claims this process decided (a chapter's kernel), in the order first met
_DECIDED: dict[str, Claim] = {}


@dataclass(frozen=True)
class Checks:
    """A chapter's keyed claims in one collapsed block ("Checks (n ✔, m ✘)"): a line
    per claim with its evidence (what :func:`checks` returns; HTML in a notebook and
    on the page)."""

    chapter: str
    items: tuple[Claim, ...]

    def counts(self) -> tuple[int, int, int]:
        """(held, not held, not run here)."""
        skipped = sum(c.evidence.startswith(_SKIPPED) for c in self.items)
        held = sum(c.held for c in self.items)
        return held, len(self.items) - held - skipped, skipped

    def title(self) -> str:
        held, failed, skipped = self.counts()
        rest = f", {skipped} not run here" if skipped else ""
        return f"Checks ({held} ✔, {failed} ✘{rest})"

    def _repr_html_(self) -> str:
        rows = "".join(f"<li>{html.escape(_line(c))}</li>" for c in self.items)
        return (
            f"<details class='claims-checks'><summary>{html.escape(self.title())}"
            f"</summary><ul>{rows}</ul></details>"
        )

    def __repr__(self) -> str:
        return "\n".join([self.title(), *map(_line, self.items)])


_SKIPPED = "not run here: "


def _line(c: Claim) -> str:
    """``"✔ text: evidence"``; ✘ with "— not reproduced here" for a reported claim
    that did not hold; ○ for a claim this run could not decide."""
    skipped = not c.held and c.evidence.startswith(_SKIPPED)
    mark = "○" if skipped else "✔" if c.held else "✘"
    note = " — not reproduced here" if not (c.held or c.asserted or skipped) else ""
    return f"{mark} {c.text}" + (f": {c.evidence}" if c.evidence else "") + note


def checks(chapter: str) -> Checks:
    """Chapter ``chapter``'s ("01") keyed claims decided in this run, for one collapsed
    block at the chapter's end: the sentences cite each claim inline, the block lists
    them all."""
    if not isinstance(chapter, str) or not re.fullmatch(r"\d\d", chapter):
        raise ValueError(f"chapter must be two digits such as '04', got {chapter!r}")
    return Checks(chapter, tuple(c for k, c in _DECIDED.items() if k[:2] == chapter))


def _glue(key: str, live: str, full: dict | None) -> None:
    """Glue this run's verdict and the committed full profile's under the key."""
    try:  # myst-nb: installed with the book's tools, not with the library
        from IPython.display import Markdown
        from myst_nb import glue
    except ImportError:
        return
    glue(f"claim-{key}", Markdown(live), display=False)
    glue(f"claim-full-{key}", Markdown(verdict(full, "full")), display=False)


@dataclass
class Claims:
    """The claims of one chapter (or section), in the order they were checked."""

    title: str = ""
    items: list[Claim] = field(default_factory=list)

    def check(
        self, text: str, held: object, evidence: str = "", *, key: str | None = None
    ) -> None:
        """Assert claim ``text``: record it, and raise ``AssertionError`` if ``held`` is
        false. ``key``: the name the prose cites it by (see the module's doc)."""
        c = _claim(text, held, evidence, True, key)
        self.items.append(c)
        if key is not None:
            _cite(c)
        if not c.held:
            raise AssertionError(f"claim failed: {text} ({evidence})")

    def report(
        self, text: str, held: object, evidence: str = "", *, key: str | None = None
    ) -> bool:
        """Record whether published claim ``text`` was reproduced here, without
        asserting it. ``key`` as in :meth:`check`."""
        c = _claim(text, held, evidence, False, key)
        self.items.append(c)
        if key is not None:
            _cite(c)
        return c.held

    def skip(self, text: str, reason: str, *, key: str) -> None:
        """A claim this run does not decide (its data is absent, or only the full
        profile measures it): nothing is recorded, and the sentence that cites ``key``
        shows ``reason`` ("not run here: needs ImageNet-A") instead of a verdict."""
        _claim(text, False, reason, False, key)  # checks the arguments
        if key is None:
            raise TypeError("key must name the skipped claim, got None")
        if not isinstance(reason, str) or not reason:
            raise TypeError(f"reason must be a non-empty string, got {reason!r}")
        _glue(key, _SKIPPED + reason, stored(key[:2], "full", FULL).get(key))
        _DECIDED[key] = Claim(text, False, _SKIPPED + reason, False, key)

    def lines(self) -> list[str]:
        """One line per claim: ✔ held, ✘ not reproduced (reported claims only)."""
        return [_line(c) for c in self.items]

    def _repr_markdown_(self) -> str:
        head = f"**{self.title}**\n\n" if self.title else ""
        return head + "\n".join(f"- {line}" for line in self.lines())

    def __repr__(self) -> str:
        return "\n".join(([self.title] if self.title else []) + self.lines())
