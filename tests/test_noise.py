"""Which digits are noise: a chapter's records under two reduction orders, compared,
committed and shown; the committed measurements' schema."""

from __future__ import annotations

import pytest
import torch

from misuse import cases, misuse_test
from robustcore import noise, results, stats


def _run(folder, monkeypatch, clean: float, attacked: float) -> None:
    monkeypatch.setenv("ROBUSTCORE_RESULTS", str(folder))
    results.record("02", "clean", clean, unit="%", profile="quick")
    results.record("02", "attacked", attacked, unit="%", profile="quick")
    results.record(
        "02",
        "share",
        stats.proportion(torch.tensor([1, 1, 0, 1])),
        unit="%",
        profile="quick",
    )


def test_measure_publish_and_show(tmp_path, monkeypatch):
    a, b, committed = tmp_path / "a", tmp_path / "b", tmp_path / "committed"
    _run(a, monkeypatch, 67.17, 50.4)
    _run(b, monkeypatch, 67.07, 50.8)
    m = noise.measure("02", a, b, ("AVX512, 2 threads", "AVX2, 2 threads"))
    assert m["recorded"] == 3 and m["identical"] == 1
    assert m["moved"]["clean"][:2] == pytest.approx([67.17, 67.07])
    noise.publish("02", m, committed)
    assert noise.measured(committed)["02"]["moved"] == m["moved"]
    shown = noise.table("02", committed)
    # largest difference first, both orders named, how many identical
    assert shown.index("attacked") < shown.index("clean")
    assert "AVX2, 2 threads" in shown and "1 of 3 recorded numbers" in shown
    assert "+0.4 points" in shown and "-0.1 points" in shown  # of percentages
    assert "not been run" in noise.table("03", committed)


def test_nothing_moved_is_said(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    _run(a, monkeypatch, 0.5, 0.5)
    _run(b, monkeypatch, 0.5, 0.5)
    noise.publish("02", noise.measure("02", a, b, ("x", "y")), tmp_path)
    assert noise.table("02", tmp_path).endswith("none moved.")


def test_committed_measurements_have_their_schema():
    for chapter, m in noise.measured().items():
        assert len(chapter) == 2 and chapter.isdigit()
        assert len(m["orders"]) == 2 and m["orders"][0] != m["orders"][1]
        assert m["identical"] + len(m["moved"]) == m["recorded"]
        assert all(va != vb for va, vb, _ in m["moved"].values())
        assert m["machine"] and m["finished"]


MISUSE = cases(
    "noise",
    {
        "measure:empty": (
            lambda: noise.measure("02", "/nonexistent-a", "/nonexistent-b", ("x", "y")),
            ValueError,
            "must both hold chapter 02's records",
        ),
        "measure:dir": (
            lambda: noise.measure("02", None, "/b", ("x", "y")),
            TypeError,
            "dir must be a non-empty path",
        ),
        "publish:chapter": (
            lambda: noise.publish("2", {"orders": [], "moved": {}}),
            ValueError,
            "chapter must be a two-digit id",
        ),
        "publish:measurement": (
            lambda: noise.publish("02", {"moved": {}}),
            TypeError,
            "measurement must be what noise.measure returns",
        ),
        "table:chapter": (
            lambda: noise.table(2),
            ValueError,
            "chapter must be a two-digit id",
        ),
        "measured:folder": (
            lambda: noise.measured(3),
            TypeError,
            "folder must be a non-empty path",
        ),
    },
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)
