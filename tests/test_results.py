"""Recorded headline numbers, the reproduction summary and the benchmarks page that read them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib
import pytest

from robustcore import results

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def res_dir(tmp_path, monkeypatch):
    d = tmp_path / "results"
    monkeypatch.setenv("ROBUSTCORE_RESULTS", str(d))
    return d


def test_record_load_roundtrip_in_order(res_dir):
    results.record("02", "b", 2.0, reference=3.0, unit="%", what="paper", profile="quick")
    results.record("02", "a", 1.0, profile="quick")
    results.record("02", "b", 2.5, reference=3.0, unit="%", profile="quick")  # replaces, keeps its place
    recs = results.load("02", "quick")
    assert list(recs) == ["b", "a"]
    assert recs["b"]["value"] == 2.5 and recs["b"]["reference"] == 3.0 and recs["b"]["profile"] == "quick"
    assert results.load("02", "full") == {}
    assert list(results.load_all("quick")) == ["02"]
    assert sorted(p.name for p in res_dir.iterdir()) == ["chapter02-quick.json"]


def test_numpy_and_tensor_values_are_plain_numbers(res_dir):
    import numpy as np
    import torch

    rec = results.record("01", "x", np.float32(0.5), reference=torch.tensor(0.75), profile="quick")
    assert type(rec["value"]) is float and type(rec["reference"]) is float
    json.loads((res_dir / "chapter01-quick.json").read_text())


def test_table_gaps_and_missing_chapters(res_dir):
    results.record("01", "clean", 98.0, reference=98.8, unit="%", profile="quick")
    results.record("01", "range", 1.0, reference="0–2", unit="%", profile="quick")
    rows = results.table("quick", chapters=("01", "05"))
    by = {(r["chapter"], r["name"]): r for r in rows}
    assert math.isclose(by["01", "clean"]["gap"], -0.8)
    assert by["01", "range"]["gap"] is None
    assert by["05", "(no results recorded)"]["value"] is None and by["05", "(no results recorded)"]["what"] == "not run here"
    assert results.table("full") == []


def test_compare_identical_and_different(tmp_path, monkeypatch, capsys):
    for sub, v in (("a", 1.0), ("b", 1.0), ("c", 1.5)):
        monkeypatch.setenv("ROBUSTCORE_RESULTS", str(tmp_path / sub))
        results.record("01", "x", v, reference=2.0, profile="quick")
    assert results.compare(tmp_path / "a", tmp_path / "b") == []
    diffs = results.compare(tmp_path / "a", tmp_path / "c")
    assert len(diffs) == 1 and "'x' value 1.0 != 1.5" in diffs[0]
    assert results.main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert results.main(["compare", str(tmp_path / "a"), str(tmp_path / "c")]) == 1
    assert results.main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--min-records", "5"]) == 1
    (tmp_path / "d").mkdir()
    monkeypatch.setenv("ROBUSTCORE_RESULTS", str(tmp_path / "d"))
    results.record("03", "y", 0.0, profile="quick")
    assert any("recorded only in" in d for d in results.compare(tmp_path / "a", tmp_path / "d"))
    assert "differ" in capsys.readouterr().out


def test_show_cli(res_dir, capsys):
    results.record("03", "1 pixel", 2.5, reference=34, unit="%", profile="quick")
    assert results.main(["show", "--profile", "quick"]) == 0
    assert "03  1 pixel: 2.5%  (reference 34.0)" in capsys.readouterr().out


def _run_page(name: str, cwd: Path, monkeypatch) -> dict:
    """Execute an appendix page's source (book/NAME.py) as a script in ``cwd``; return its namespace."""
    matplotlib.use("Agg")
    monkeypatch.chdir(cwd)
    src = (ROOT / "book" / f"{name}.py").read_text()
    src = src[src.index("# %% [markdown]"):]  # without the Colab install cell (a notebook-only cell)
    ns: dict = {"__name__": "__page__"}
    exec(compile(src, f"book/{name}.py", "exec"), ns)
    return ns


def test_reproduction_summary_page(res_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ROBUSTCORE_PROFILE", "quick")
    # run from book/, as the build does: the page reads the chapters from ../_toc.yml
    ns = _run_page("reproductions", ROOT / "book", monkeypatch)  # nothing recorded: says so, does not fail
    assert [r["value"] for r in ns["rows"]] == [None] * 5
    results.record("01", "Adv. trained CNN, clean", 98.1, reference=98.8, unit="%", profile="quick")
    results.record("03", "CNN, 1 pixel", 2.5, reference="0–2", unit="%", profile="quick")
    ns = _run_page("reproductions", ROOT / "book", monkeypatch)
    assert len(ns["recorded"]) == 2 and ns["missing"] == ["02", "04", "05"]
    table = ns["summary_table"](ns["rows"])
    assert "| 01 | Adv. trained CNN, clean | 98.1% | 98.8% | -0.7 pp | quick |" in table
    assert "not run here" in table


def test_benchmarks_page_reads_what_run_all_writes(tmp_path, monkeypatch, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_run_all", ROOT / "benchmarks" / "run_all.py")
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)
    ns = _run_page("benchmarks", tmp_path, monkeypatch)  # no results.json here: the page says so
    assert ns["bench"] is None and ns["rows"] == []
    out = tmp_path / "benchmarks" / "results.json"
    res = run_all.main(["--only", "pgd,one_pixel,construction", "--smoke", "--out", str(out)])
    assert set(res["benchmarks"]) == {"pgd", "one_pixel", "construction"} and res["machine"] and res["date"]
    ns = _run_page("benchmarks", tmp_path, monkeypatch)
    assert [r[0] for r in ns["rows"]] == ["PGD", "one-pixel", "D_R construction"]
    assert all(v > 0 for v in ns["ratios"].values())
    # the whole-book row, as run_all writes it
    data = json.loads(out.read_text())
    data["benchmarks"]["book"] = {"benchmark": "book", "command": "pytest --nbval book/*.ipynb", "notebooks": 5,
                                  "profile": "quick", "seconds": 300.0, "peak_rss_mib": 1500.0, "returncode": 0}
    out.write_text(json.dumps(data))
    ns = _run_page("benchmarks", tmp_path, monkeypatch)
    assert ns["rows"][-1][0] == "whole book" and "1,500 MiB" in ns["rows"][-1][3]


def test_appendix_is_in_the_toc():
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    appendix = [p for p in toc["parts"] if p.get("caption") == "Appendix"]
    assert appendix, "no Appendix part in _toc.yml"
    files = [c["file"] for c in appendix[0]["chapters"]]
    assert files == ["book/reproductions", "book/benchmarks"]
    assert toc["parts"].index(appendix[0]) == len(toc["parts"]) - 1, "the appendix comes after the chapters"
    for f in files:
        assert (ROOT / f"{f}.ipynb").is_file() and (ROOT / f"{f}.py").is_file()


def test_book_chapters_come_from_the_table_of_contents(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "07_new.py").write_text("# %% [markdown]\n# # A new chapter\n#\n# # not this one\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nparts:\n  - chapters:\n"
                                       "      - file: book/07_new\n      - file: book/08_no_source\n"
                                       "      - file: book/reproductions\n")
    assert results.book_chapters(tmp_path / "_toc.yml") == {"07": "A new chapter", "08": "book/08_no_source"}


def test_compare_fails_when_a_chapter_of_the_toc_recorded_nothing(tmp_path, monkeypatch, capsys):
    toc = tmp_path / "_toc.yml"
    toc.write_text("parts:\n  - chapters:\n      - file: book/01_a\n      - file: book/02_b\n")
    for d in ("a", "b"):
        monkeypatch.setenv("ROBUSTCORE_RESULTS", str(tmp_path / d))
        results.record("01", "x", 1.0, profile="quick")
    argv = ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--toc", str(toc)]
    assert results.main(argv) == 1 and "chapter(s) 02" in capsys.readouterr().out
    monkeypatch.setenv("ROBUSTCORE_RESULTS", str(tmp_path / "a"))
    results.record("02", "y", 2.0, profile="quick")
    monkeypatch.setenv("ROBUSTCORE_RESULTS", str(tmp_path / "b"))
    results.record("02", "y", 2.0, profile="quick")
    assert results.main(argv) == 0
