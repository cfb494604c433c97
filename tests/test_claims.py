"""Claims: checked ones fail the build when false; reported ones never do."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from misuse import cases, misuse_test
from robustcore import claims


def test_check_passes_and_fails_loudly():
    c = claims.Claims("Chapter 0")
    c.check("PGD beats FGSM", 0.1 < 0.3, "10% vs 30%")
    with pytest.raises(AssertionError, match="claim failed: more restarts find less"):
        c.check("more restarts find less", np.float64(2) < 1, "2 vs 1")
    assert [i.held for i in c.items] == [True, False]


def test_report_records_a_failed_reproduction_without_raising():
    c = claims.Claims()
    assert (
        c.report("D_R beats D_NR on group 2", torch.tensor(0.5) > 0.6, "0.500 vs 0.600")
        is False
    )
    c.check("clean accuracy is high", True)
    assert c.lines() == [
        "✘ D_R beats D_NR on group 2: 0.500 vs 0.600 — not reproduced here",
        "✔ clean accuracy is high",
    ]
    assert c._repr_markdown_().startswith("- ✘ D_R beats D_NR on group 2")


def test_a_keyed_claim_is_stored_and_renders_its_verdict(tmp_path, monkeypatch):
    """A cited claim's verdict is what the sentence shows: ✔ with the evidence, or ✘
    with why; it is stored per chapter and profile (the full profile's are committed)."""
    monkeypatch.setenv("ROBUSTCORE_RESULTS", str(tmp_path))
    monkeypatch.setenv("ROBUSTCORE_PROFILE", "quick")
    c = claims.Claims()
    c.check("PGD breaks it", True, "0.0% [0.0, 3.7]", key="01-pgd-breaks-it")
    c.report("as in the paper", False, "89% vs 93%", key="01-as-in-the-paper")
    with pytest.raises(AssertionError):
        c.check("a failed check", False, "x", key="01-a-failed-check")
    got = claims.stored("01", "quick")
    assert sorted(got) == [
        "01-a-failed-check",
        "01-as-in-the-paper",
        "01-pgd-breaks-it",
    ]
    assert got["01-as-in-the-paper"] == {
        "text": "as in the paper",
        "held": False,
        "evidence": "89% vs 93%",
        "asserted": False,
    }
    assert claims.verdict(got["01-pgd-breaks-it"]) == "✔: 0.0% [0.0, 3.7]"
    assert claims.verdict(got["01-as-in-the-paper"]) == "✘ not reproduced: 89% vs 93%"
    assert claims.verdict(got["01-a-failed-check"]) == "✘ fails: x"
    assert claims.verdict(None, "full") == "full profile not recorded yet"
    assert claims.stored("01", "full") == {} and claims.stored("02", "quick") == {}
    c.skip("ImageNet-A reproduces timm", "needs ImageNet-A", key="01-imagenet-a")
    assert "01-imagenet-a" not in claims.stored("01", "quick")  # nothing decided
    with pytest.raises(TypeError, match="reason must be"):
        c.skip("x", "", key="01-x")


MISUSE = cases(
    "claims",
    {
        "checks:chapter": (
            lambda: claims.checks("7"),
            ValueError,
            "chapter must be two digits",
        ),
        "verdict:claim": (
            lambda: claims.verdict("held"),
            TypeError,
            "claim must be a Claim",
        ),
        "verdict:profile": (
            lambda: claims.verdict(None, 1),
            TypeError,
            "profile must be a string",
        ),
        "stored:chapter": (
            lambda: claims.stored("../01"),
            ValueError,
            "chapter must be two digits",
        ),
        "stored:profile": (
            lambda: claims.stored("01", "paper"),
            ValueError,
            "profile must be one of",
        ),
        "check:key": (
            lambda: claims.Claims().check("x", True, key="pgd breaks it"),
            ValueError,
            "key must be None or 'NN-words'",
        ),
        "report:key": (
            lambda: claims.Claims().report("x", True, key="1-x"),
            ValueError,
            "key must be None or 'NN-words'",
        ),
        "check:text": (
            lambda: claims.Claims().check("", True),
            TypeError,
            "text must be",
        ),
        "check:held-float": (
            lambda: claims.Claims().check("x", 0.5),
            TypeError,
            "held must be",
        ),
        "check:held-tensor": (
            lambda: claims.Claims().check("x", torch.ones(2) > 0),
            TypeError,
            "held must be",
        ),
        "report:evidence": (
            lambda: claims.Claims().report("x", True, 3),
            TypeError,
            "evidence must be",
        ),
    },
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)


def test_the_chapter_checks_block_lists_every_keyed_claim_once(tmp_path, monkeypatch):
    """One collapsed block per chapter: its title counts the verdicts, one line per
    claim of that chapter (a claim decided again replaces its line), none of another
    chapter's."""
    monkeypatch.setenv("ROBUSTCORE_RESULTS", str(tmp_path))
    monkeypatch.setattr(claims, "_DECIDED", {})
    c = claims.Claims()
    c.check("PGD breaks it", True, "0.0% [0.0, 3.7]", key="07-pgd-breaks-it")
    c.report("as in <the> paper", False, "89% vs 93%", key="07-as-in-the-paper")
    c.skip("needs ImageNet-A", "no ImageNet-A here", key="07-needs-data")
    c.check("PGD breaks it", True, "0.5% [0.1, 3.9]", key="07-pgd-breaks-it")
    c.check("another chapter", True, "1", key="08-other")
    block = claims.checks("07")
    assert block.title() == "Checks (1 ✔, 1 ✘, 1 not run here)"
    page = block._repr_html_()
    assert page.startswith("<details") and "Checks (1 ✔, 1 ✘, 1 not run here)" in page
    assert page.count("<li>") == 3 and "another chapter" not in page
    assert "0.5% [0.1, 3.9]" in page and "0.0% [0.0, 3.7]" not in page
    assert "as in &lt;the&gt; paper: 89% vs 93% — not reproduced here" in page
    assert "○ needs ImageNet-A: not run here: no ImageNet-A here" in page
    with pytest.raises(ValueError, match="chapter"):
        claims.checks("7")
