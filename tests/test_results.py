"""Recorded headline numbers, the reproduction summary and the benchmarks page that read them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib
import pytest
import torch

from misuse import NAN, cases, misuse_test
from robustcore import io, determinism, results, stats, tables

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def res_dir(tmp_path, monkeypatch):
    d = tmp_path / "results"
    monkeypatch.setenv("ROBUSTCORE_RESULTS", str(d))
    return d


def test_record_load_roundtrip_in_order(res_dir):
    results.record(
        "02",
        "b",
        2.0,
        reference="ilyas/D_R/clean",
        dataset="MNIST",
        model="a small CNN",
        unit="%",
        what="ours",
        profile="quick",
    )
    results.record("02", "a", 1.0, profile="quick")
    results.record(
        "02",
        "b",
        2.5,
        reference="ilyas/D_R/clean",
        dataset="MNIST",
        model="a small CNN",
        unit="%",
        profile="quick",
    )  # replaces, keeps its place
    recs = results.load("02", "quick")
    assert list(recs) == ["b", "a"]
    b = recs["b"]
    assert b["value"] == 2.5 and b["reference"] == 84 and b["profile"] == "quick"
    assert b["reference_key"] == "ilyas/D_R/clean" and b["kind"] == "analogue"
    assert b["source"].startswith("MadryLab/constructed-datasets") and b["cite"]
    assert results.load("02", "full") == {}
    assert list(results.load_all("quick")) == ["02"]
    assert sorted(p.name for p in res_dir.iterdir()) == ["chapter02-quick.json"]


def test_numpy_and_tensor_values_are_plain_numbers(res_dir):
    import numpy as np
    import torch

    rec = results.record("01", "x", np.float32(0.5), profile="quick")
    assert type(rec["value"]) is float
    rec = results.record("01", "y", torch.tensor(0.75), profile="quick")
    assert type(rec["value"]) is float
    json.loads((res_dir / "chapter01-quick.json").read_text())


def test_an_estimate_keeps_n_and_its_interval_in_percent(res_dir):
    rec = results.record("01", "acc", stats.wilson(466, 500), unit="%", profile="quick")
    assert rec["n"] == 500 and math.isclose(rec["value"], 93.2)
    assert rec["low"] < 93.2 < rec["high"] and rec["high"] <= 100
    raw = results.record(
        "05", "auc", stats.Estimate(0.9, 10, 0.8, 0.95), profile="quick"
    )
    assert (raw["value"], raw["low"], raw["high"]) == (0.9, 0.8, 0.95)


def test_table_gaps_only_for_reproductions_and_missing_chapters(res_dir):
    results.record(
        "01",
        "clean",
        98.0,
        reference="madry/clean",
        dataset="MNIST",
        same_model=True,
        unit="%",
        profile="quick",
    )
    results.record(
        "01",
        "other protocol",
        98.0,
        reference="madry/clean",
        dataset="MNIST",
        same_protocol=False,
        same_model=True,
        unit="%",
        profile="quick",
    )
    results.record(
        "03",
        "1 pixel",
        2.5,
        reference="hyperparticle/ResNet/1px/untargeted",
        dataset="MNIST",
        model="a small CNN",
        unit="%",
        profile="quick",
    )
    rows = results.table("quick", chapters=("01", "03", "05"))
    by = {(r["chapter"], r["name"]): r for r in rows}
    assert (
        math.isclose(by["01", "clean"]["gap"], -0.8)
        and by["01", "clean"]["kind"] == "reproduction"
    )
    assert by["01", "other protocol"]["gap"] is None
    assert by["01", "other protocol"]["kind"] == "analogue"
    assert (
        by["03", "1 pixel"]["gap"] is None and by["03", "1 pixel"]["reference"] == 34.0
    )
    assert (
        by["05", "(no results recorded)"]["value"] is None
        and by["05", "(no results recorded)"]["what"] == "not run here"
    )
    assert results.table("full") == []


def test_compare_identical_and_different(tmp_path, monkeypatch, capsys):
    for sub, v in (("a", 1.0), ("b", 1.0), ("c", 1.5)):
        monkeypatch.setenv("ROBUSTCORE_RESULTS", str(tmp_path / sub))
        results.record("01", "x", v, profile="quick")
    assert determinism.compare(tmp_path / "a", tmp_path / "b") == []
    diffs = determinism.compare(tmp_path / "a", tmp_path / "c")
    assert len(diffs) == 1 and "'x' value 1.0 != 1.5" in diffs[0]
    assert results.main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert results.main(["compare", str(tmp_path / "a"), str(tmp_path / "c")]) == 1
    assert (
        results.main(
            ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--min-records", "5"]
        )
        == 1
    )
    (tmp_path / "d").mkdir()
    monkeypatch.setenv("ROBUSTCORE_RESULTS", str(tmp_path / "d"))
    results.record("03", "y", 0.0, profile="quick")
    assert any(
        "recorded only in" in d
        for d in determinism.compare(tmp_path / "a", tmp_path / "d")
    )
    assert "differ" in capsys.readouterr().out


def test_show_cli(res_dir, capsys):
    results.record(
        "03",
        "1 pixel",
        2.5,
        reference="hyperparticle/ResNet/1px/untargeted",
        dataset="MNIST",
        model="a small CNN",
        unit="%",
        profile="quick",
    )
    assert results.main(["show", "--profile", "quick"]) == 0
    assert "03  1 pixel: 2.5%  (analogue of 34.0)" in capsys.readouterr().out


def _run_page(name: str, cwd: Path, monkeypatch) -> dict:
    """Execute an appendix page's source (book/NAME.py) as a script in ``cwd``; return its namespace."""
    matplotlib.use("Agg")
    monkeypatch.chdir(cwd)
    src = (ROOT / "book" / f"{name}.py").read_text()
    src = src[
        src.index("# %% [markdown]") :
    ]  # without the Colab install cell (a notebook-only cell)
    ns: dict = {"__name__": "__page__"}
    exec(compile(src, f"book/{name}.py", "exec"), ns)
    return ns


def test_reproduction_summary_page(res_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ROBUSTCORE_PROFILE", "quick")
    # run from book/, as the build does: the page reads the chapters from ../_toc.yml
    ns = _run_page(
        "reproductions", ROOT / "book", monkeypatch
    )  # nothing recorded: says so
    assert [r["value"] for r in ns["rows"]] == [None] * 6  # one row per chapter
    results.record(
        "01",
        "Adv. trained CNN, clean",
        stats.wilson(981, 1000),
        unit="%",
        reference="madry/clean",
        dataset="MNIST",
        same_model=True,
        profile="quick",
    )
    results.record(
        "03",
        "CNN, 1 pixel",
        2.5,
        reference="hyperparticle/LeNet/1px/untargeted",
        dataset="MNIST",
        model="a small CNN",
        unit="%",
        profile="quick",
    )
    results.record("03", "CNN, 2 pixels", 5.0, unit="%", profile="quick")
    ns = _run_page("reproductions", ROOT / "book", monkeypatch)
    assert len(ns["recorded"]) == 3 and ns["missing"] == ["02", "04", "05", "06"]
    repro = tables.records(ns["rows"], "reproduction")
    assert (
        "| 01 | Adv. trained CNN, clean | 98.1% [97.1, 98.8], n=1,000 | 98.8% | -0.7 pp |"
        in repro
    )
    assert "CNN, 1 pixel" not in repro
    analogue = tables.records(ns["rows"], "analogue")
    assert (
        "| 03 | CNN, 1 pixel | 2.5% | 63.0% | same protocol; other data: ours MNIST, "
        "theirs CIFAR-10; other model: ours a small CNN, theirs the repository's Keras "
        "LeNet"
        in analogue
        and "pp" not in analogue
    )
    assert "| 03 | CNN, 2 pixels | 5.0% |" in tables.records(ns["rows"], None)
    # the page lists the analogues in a CSV file, not in a table
    assert [r["name"] for r in ns["analogues"]] == ["CNN, 1 pixel"]
    import csv
    import io

    got = list(csv.DictReader(io.StringIO(ns["text"])))
    assert [(r["chapter"], r["name"], r["kind"]) for r in got] == [
        ("03", "CNN, 1 pixel", "analogue"),
        ("03", "CNN, 2 pixels", ""),
    ]
    assert got[0]["reference"] == "63.0" and "other data" in got[0]["difference"]
    assert ns["link"].startswith('<a download="results-quick.csv"')


def test_benchmarks_page_reads_what_run_all_writes(tmp_path, monkeypatch, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_run_all", ROOT / "benchmarks" / "run_all.py"
    )
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)
    ns = _run_page(
        "benchmarks", tmp_path, monkeypatch
    )  # no results.json here: the page says so
    assert ns["bench"] is None and ns["rows"] == []
    out = tmp_path / "benchmarks" / "results.json"
    res = run_all.main(
        ["--only", "pgd,one_pixel,construction", "--smoke", "--out", str(out)]
    )
    assert (
        set(res["benchmarks"]) == {"pgd", "one_pixel", "construction"}
        and res["machine"]
        and res["date"]
    )
    ns = _run_page("benchmarks", tmp_path, monkeypatch)
    assert [r[0] for r in ns["rows"]] == ["PGD", "one-pixel", "D_R construction"]
    assert all(v > 0 for v in ns["ratios"].values())
    # the whole-book row, as run_all writes it
    data = json.loads(out.read_text())
    data["benchmarks"]["book"] = {
        "benchmark": "book",
        "command": "pytest --nbval book/*.ipynb",
        "notebooks": 5,
        "profile": "quick",
        "seconds": 300.0,
        "peak_rss_mib": 1500.0,
        "returncode": 0,
    }
    out.write_text(json.dumps(data))
    ns = _run_page("benchmarks", tmp_path, monkeypatch)
    assert ns["rows"][-1][0] == "whole book" and "1,500 MiB" in ns["rows"][-1][3]


def test_appendix_is_in_the_toc():
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    appendix = [p for p in toc["parts"] if p.get("caption") == "Appendix"]
    assert appendix, "no Appendix part in _toc.yml"
    files = [c["file"] for c in appendix[0]["chapters"]]
    assert files == [
        "book/reproductions",
        "book/preregistration",
        "book/benchmarks",
        "book/bibliography",
    ]
    assert (ROOT / "book" / "bibliography.md").is_file()
    files = files[:3]  # the notebooks
    assert toc["parts"].index(appendix[0]) == len(toc["parts"]) - 1, (
        "the appendix comes after the chapters"
    )
    for f in files:
        assert (ROOT / f"{f}.ipynb").is_file() and (ROOT / f"{f}.py").is_file()


def test_book_chapters_come_from_the_table_of_contents(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "07_new.py").write_text(
        "# %% [markdown]\n# # A new chapter\n#\n# # not this one\n"
    )
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - chapters:\n"
        "      - file: book/07_new\n      - file: book/08_no_source\n"
        "      - file: book/reproductions\n"
    )
    assert results.book_chapters(tmp_path / "_toc.yml") == {
        "07": "A new chapter",
        "08": "book/08_no_source",
    }


def test_compare_fails_when_a_chapter_of_the_toc_recorded_nothing(
    tmp_path, monkeypatch, capsys
):
    toc = tmp_path / "_toc.yml"
    toc.write_text(
        "parts:\n  - chapters:\n      - file: book/01_a\n      - file: book/02_b\n"
    )
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


# ---- misuse: bad arguments are refused and nothing is written; an interrupted or
# corrupted results file is not lost silently

MISUSE = cases(
    "results",
    {
        "read:path-int": (lambda: results.read(3), TypeError, "path must be"),
        "book_chapters:toc-int": (
            lambda: results.book_chapters(3),
            TypeError,
            "toc must be",
        ),
        "book_chapters:missing": (
            lambda: results.book_chapters("nowhere/_toc.yml"),
            FileNotFoundError,
            "no table of contents",
        ),
        "record:chapter-int": (
            lambda: results.record(4, "x", 1.0),
            TypeError,
            "chapter must be",
        ),
        "record:chapter-path": (
            lambda: results.record("../04", "x", 1.0),
            ValueError,
            "chapter must be",
        ),
        "record:name-empty": (
            lambda: results.record("04", "", 1.0),
            TypeError,
            "name must be",
        ),
        "record:value-nan": (
            lambda: results.record("04", "x", NAN),
            ValueError,
            "value must be",
        ),
        "record:value-str": (
            lambda: results.record("04", "x", "98%"),
            TypeError,
            "value must be",
        ),
        "record:value-tensor": (
            lambda: results.record("04", "x", torch.ones(3)),
            ValueError,
            "value must be a single",
        ),
        "record:reference-number": (
            lambda: results.record("04", "x", 1.0, reference=2.5, dataset="MNIST"),
            ValueError,
            "key must name an entry",
        ),
        "record:reference-unknown": (
            lambda: results.record(
                "04", "x", 1.0, reference="nobody/1", dataset="MNIST"
            ),
            ValueError,
            "key must name an entry",
        ),
        "record:reference-no-dataset": (
            lambda: results.record("04", "x", 1.0, reference="madry/clean"),
            ValueError,
            "dataset must name",
        ),
        "record:dataset-int": (
            lambda: results.record("04", "x", 1.0, dataset=1),
            TypeError,
            "dataset must be",
        ),
        "record:same-protocol": (
            lambda: results.record(
                "04",
                "x",
                1.0,
                reference="madry/clean",
                dataset="MNIST",
                same_protocol="yes",
            ),
            TypeError,
            "same_protocol must be",
        ),
        "record:model-missing": (
            lambda: results.record(
                "04", "x", 1.0, reference="madry/clean", dataset="MNIST"
            ),
            ValueError,
            "model must say what ours is",
        ),
        "record:same-model": (
            lambda: results.record(
                "04",
                "x",
                1.0,
                reference="madry/clean",
                dataset="MNIST",
                same_model="yes",
            ),
            TypeError,
            "same_model must be",
        ),
        "record:model-int": (
            lambda: results.record("04", "x", 1.0, model=3),
            TypeError,
            "model must be a string",
        ),
        "record:unit-int": (
            lambda: results.record("04", "x", 1.0, unit=1),
            TypeError,
            "unit must be",
        ),
        "record:profile": (
            lambda: results.record("04", "x", 1.0, profile="medium"),
            ValueError,
            "profile must be one of",
        ),
        "load:profile": (
            lambda: results.load("04", "medium"),
            ValueError,
            "profile must be one of",
        ),
        "load:chapter-none": (lambda: results.load(None), TypeError, "chapter must be"),
        "load_all:profile": (
            lambda: results.load_all("paper"),
            ValueError,
            "profile must be one of",
        ),
        "table:chapters": (
            lambda: results.table("quick", chapters=(4,)),
            TypeError,
            "chapter must be",
        ),
        "like_for_like:rec": (
            lambda: results.like_for_like(["madry/clean"]),
            TypeError,
            "rec must be a stored record",
        ),
        "compare:not-a-folder": (
            lambda: determinism.compare("nowhere", "."),
            ValueError,
            "dir_a must be",
        ),
    },
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)


def test_interrupted_results_write_keeps_the_previous_record(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBUSTCORE_RESULTS", str(tmp_path))
    results.record("04", "accuracy", 31.0, profile="quick")
    real = io._atomic_write

    def interrupted(path, write):
        def half(f):
            f.write(b'{"accuracy": {"val')
            raise KeyboardInterrupt

        return real(path, half)

    monkeypatch.setattr(io, "_atomic_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        results.record("04", "accuracy", 99.0, profile="quick")
    assert results.load("04", "quick")["accuracy"]["value"] == 31.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chapter04-quick.json"]


def test_corrupted_results_file_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBUSTCORE_RESULTS", str(tmp_path))
    (tmp_path / "chapter04-quick.json").write_text('{"accuracy": {"val')
    with pytest.raises(ValueError, match="not a results file"):
        results.load("04", "quick")
    with pytest.raises(ValueError, match="not a results file"):
        results.record("04", "accuracy", 1.0, profile="quick")
    assert (tmp_path / "chapter04-quick.json").read_text() == '{"accuracy": {"val'


def test_like_for_like_needs_the_model_and_names_the_difference(res_dir):
    """Same data and protocol on another model is an analogue, its difference in
    words; a record stored before models were compared never counts as a
    reproduction."""
    other = results.record(
        "01",
        "small model",
        97.0,
        reference="madry/clean",
        dataset="MNIST",
        model="a small CNN trained with PGD-10",
        unit="%",
        profile="quick",
    )
    assert other["kind"] == "analogue" and results.gap(other) is None
    assert other["difference"].startswith("same data and protocol; other model: ours")
    assert "PGD-10" in other["difference"] and "fc 1024" in other["difference"]
    same = results.record(
        "01",
        "their model",
        97.0,
        reference="madry/clean",
        dataset="MNIST",
        same_model=True,
        unit="%",
        profile="quick",
    )
    assert same["kind"] == "reproduction"
    assert same["difference"] == "same data, protocol and model"
    legacy = {k: v for k, v in same.items() if k != "difference"}
    old = results.like_for_like(legacy)
    assert old["kind"] == "analogue" and "other model" in old["difference"]
    assert results.like_for_like(same) is same


DETERMINISM = cases(
    "determinism",
    {
        "compare:dir_a": (
            lambda: determinism.compare("/nonexistent/a", "/nonexistent/b"),
            ValueError,
            "dir_a must be a results folder",
        ),
        "check:dir_b": (
            lambda: determinism.check(ROOT, "/nonexistent/b"),
            ValueError,
            "dir_b must be a results folder",
        ),
    },
)
test_determinism_bad_input_is_refused = misuse_test(DETERMINISM)
MISUSE = MISUSE + DETERMINISM  # the misuse census reads one table per module
