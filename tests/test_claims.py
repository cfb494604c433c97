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


MISUSE = cases(
    "claims",
    {
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
