"""tools/full.py (``make full``) on a throwaway book of tiny notebooks: the full
profile and the output folder reach the kernel, executed notebooks are written whole,
a second run skips what is up to date, CHAPTERS picks, a failure writes nothing."""

import importlib.util
import json
import os
from pathlib import Path

import nbformat
import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "full.py"


def _load():
    spec = importlib.util.spec_from_file_location("full_tool", TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


full = _load()

# a chapter that records what it saw of its environment beside its results
SEEN = """import json, os, pathlib
keys = ("ROBUSTCORE_PROFILE", "ROBUSTCORE_RESULTS", "ROBUSTCORE_CACHE",
        "ROBUSTCORE_PROGRESS")
out = pathlib.Path(os.environ["ROBUSTCORE_RESULTS"])
out.mkdir(parents=True, exist_ok=True)
name = "{name}"
(out / f"{{name}}.json").write_text(json.dumps({{k: os.environ[k] for k in keys}}))
print("ran", name, "in", pathlib.Path.cwd().name)"""


def _notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def book(tmp_path):
    b = tmp_path / "book"
    b.mkdir()
    for name in ("01_first", "02_second"):
        _notebook(b / f"{name}.ipynb", SEEN.format(name=name))
    _notebook(b / "notes.ipynb", "raise SystemExit('not a chapter')")
    return b


def _run(book, out, *extra):
    return full.main(["--book", str(book), "--out", str(out), *extra])


def test_runs_each_chapter_in_the_full_profile_into_the_output_folder(
    book, tmp_path, monkeypatch
):
    monkeypatch.delenv("ROBUSTCORE_CACHE", raising=False)
    out = tmp_path / "out"
    assert _run(book, out) == 0
    done = sorted(p.name for p in (out / "notebooks").iterdir())
    assert done == ["01_first.ipynb", "02_second.ipynb"]  # notes.ipynb: not a chapter
    seen = json.loads((out / "results" / "01_first.json").read_text())
    assert seen == {
        "ROBUSTCORE_PROFILE": "full",
        "ROBUSTCORE_RESULTS": str(out / "results"),
        "ROBUSTCORE_CACHE": str(out / "checkpoints"),
        "ROBUSTCORE_PROGRESS": str(out / "progress" / "01_first"),
    }
    nb = nbformat.read(out / "notebooks" / "01_first.ipynb", as_version=4)
    assert "ran 01_first in book" in nb.cells[0].outputs[0]["text"]
    timing = json.loads((out / "timing.json").read_text())
    for key in ("machine", "device", "date", "commit", "torch"):
        assert timing[key], key
    assert timing["profile"] == "full"
    assert set(timing["chapters"]) == {"01_first", "02_second"}
    assert all(
        r["status"] == "ok" and r["seconds"] >= 0 for r in timing["chapters"].values()
    )
    assert "[2/2] 02_second: ok" in (out / "full.log").read_text()


def test_progress_names_where_the_chunks_are_kept(book, tmp_path):
    out, kept = tmp_path / "out", tmp_path / "repo" / "progress"
    assert _run(book, out, "--chapters", "02", "--progress", str(kept)) == 0
    seen = json.loads((out / "results" / "02_second.json").read_text())
    assert seen["ROBUSTCORE_PROGRESS"] == str(kept / "02_second")


def test_a_second_run_skips_what_is_up_to_date_and_reruns_a_changed_chapter(
    book, tmp_path, capsys
):
    out = tmp_path / "out"
    assert _run(book, out) == 0
    first = {p.name: p.stat().st_mtime_ns for p in (out / "notebooks").iterdir()}
    capsys.readouterr()
    assert _run(book, out) == 0
    assert capsys.readouterr().out.count("up to date, skipped") == 2
    # the paired .py of a chapter changes: that chapter alone runs again
    later = (out / "notebooks" / "02_second.ipynb").stat().st_mtime + 5
    (book / "02_second.py").write_text("# edited\n")
    os.utime(book / "02_second.py", (later, later))
    assert _run(book, out) == 0
    now = {p.name: p.stat().st_mtime_ns for p in (out / "notebooks").iterdir()}
    assert now["01_first.ipynb"] == first["01_first.ipynb"]
    assert now["02_second.ipynb"] != first["02_second.ipynb"]


def test_chapters_picks_by_prefix_and_refuses_unknown_ones(book, tmp_path):
    out = tmp_path / "out"
    assert _run(book, out, "--chapters", "02") == 0
    assert [p.name for p in (out / "notebooks").iterdir()] == ["02_second.ipynb"]
    assert set(json.loads((out / "timing.json").read_text())["chapters"]) == {
        "02_second"
    }
    with pytest.raises(SystemExit, match="no notebook .* starts with 07"):
        _run(book, out, "--chapters", "07")


def test_a_failing_chapter_writes_no_executed_copy_and_exits_non_zero(book, tmp_path):
    _notebook(book / "01_first.ipynb", "print('half')", "1 / 0")
    out = tmp_path / "out"
    assert _run(book, out) == 1
    # neither the executed notebook nor a temporary part of it
    assert not [p for p in out.rglob("*") if "01_first" in p.name]
    timing = json.loads((out / "timing.json").read_text())
    assert timing["chapters"]["01_first"]["status"] == "failed"
    assert "02_second" not in timing["chapters"]  # stopped at the first failure
    assert "ZeroDivisionError" in (out / "full.log").read_text()
    # --keep-going runs the rest and still fails
    assert _run(book, out, "--keep-going") == 1
    assert [p.name for p in (out / "notebooks").iterdir()] == ["02_second.ipynb"]


def test_the_summary_page_runs_last_and_again_after_any_chapter(book, tmp_path):
    _notebook(book / "reproductions.ipynb", "pass")
    names = [p.name for p in full.chapters(book, full.PATTERN, None)]
    assert names == ["01_first.ipynb", "02_second.ipynb", "reproductions.ipynb"]
    assert [p.name for p in full.chapters(book, full.PATTERN, "02, 01")] == [
        "01_first.ipynb",
        "02_second.ipynb",
    ]
    out = tmp_path / "out"
    assert _run(book, out, "--chapters", "01,repro") == 0
    summary = (out / "notebooks" / "reproductions.ipynb").stat().st_mtime_ns
    assert _run(book, out, "--chapters", "repro") == 0  # nothing new: skipped
    assert (out / "notebooks" / "reproductions.ipynb").stat().st_mtime_ns == summary
    assert _run(book, out) == 0  # 02 runs: the summary with it
    assert (out / "notebooks" / "reproductions.ipynb").stat().st_mtime_ns != summary
    assert json.loads((out / "timing.json").read_text())["chapters"]["reproductions"][
        "commit"
    ]


def test_set_changes_a_setting_after_the_parameters_cell_and_is_kept(book, tmp_path):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("N = 500")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print('N is', N)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, book / "01_first.ipynb")
    out = tmp_path / "out"
    assert _run(book, out, "--chapters", "01", "--set", "01:N=100") == 0
    ran = nbformat.read(out / "notebooks" / "01_first.ipynb", as_version=4)
    assert "N is 100" in ran.cells[2].outputs[0]["text"]
    assert ran.cells[1].metadata["tags"] == ["injected-parameters"]
    assert ran.metadata["papermill"]["parameters"] == {"N": 100}  # papermill's
    timing = json.loads((out / "timing.json").read_text())
    assert timing["chapters"]["01_first"]["set"] == {"N": "100"}
    # the same run again is up to date; another value is not
    assert _run(book, out, "--chapters", "01", "--set", "01:N=100") == 0
    assert "skipped" in (out / "full.log").read_text().splitlines()[-2]
    assert _run(book, out, "--chapters", "01") == 0
    ran = nbformat.read(out / "notebooks" / "01_first.ipynb", as_version=4)
    assert "N is 500" in ran.cells[1].outputs[0]["text"]


@pytest.mark.parametrize(
    "pair, message",
    [
        ("N=100", "must look like"),
        ("01:N=(", "not a Python value"),
        ("07:N=1", "no chapter to run starts with 07"),
        ("02:N=1", "has no cell tagged 'parameters'"),
    ],
)
def test_set_refuses_what_it_cannot_do(book, tmp_path, pair, message):
    with pytest.raises(SystemExit, match=message):
        _run(book, tmp_path / "out", "--set", pair)


def test_papermill_injects_what_it_can_pass_and_the_rest_is_written_here():
    """papermill writes a tuple back as a string, so a tuple (or an expression) is
    injected as its source instead; either way one tagged cell after the parameters."""
    assert full.faithful("1_000") and full.faithful("[1, 2]") and full.faithful("'a'")
    assert not full.faithful("(1, 3)") and not full.faithful("audit.STANDARD[:2]")
    from papermill.translators import PythonTranslator

    assert PythonTranslator.translate((1, 3)) == '"(1, 3)"'  # what it cannot do
    for values, expected in (
        ({"N": "100"}, "N = 100"),
        ({"N": "100", "PIXELS": "(1, 3)"}, "PIXELS = (1, 3)"),
    ):
        nb = nbformat.v4.new_notebook()
        params = nbformat.v4.new_code_cell("N = 500")
        params.metadata["tags"] = ["parameters"]
        nb.cells = [params, nbformat.v4.new_code_cell("N")]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        nb = full.inject(nb, values, "x.ipynb")
        assert len(nb.cells) == 3 and nb.cells[1].metadata["tags"] == [
            "injected-parameters"
        ]
        assert expected in nb.cells[1].source


ORDER = """import json, os, pathlib
keys = ("OMP_NUM_THREADS", "ATEN_CPU_CAPABILITY", "DNNL_MAX_CPU_ISA", "MKL_CBWR",
        "ROBUSTCORE_CHUNK_ORDER")
out = pathlib.Path(os.environ["ROBUSTCORE_RESULTS"])
out.mkdir(parents=True, exist_ok=True)
(out / "order.json").write_text(json.dumps({k: os.environ.get(k) for k in keys}))"""


@pytest.mark.parametrize(
    "extra, order, chunks",
    [((), "portable", "forward"), (("--native-order", "--reverse"), None, "reverse")],
)
def test_kernels_train_in_the_portable_order_unless_told(
    tmp_path, monkeypatch, extra, order, chunks
):
    for k in ("OMP_NUM_THREADS", "ATEN_CPU_CAPABILITY", "DNNL_MAX_CPU_ISA", "MKL_CBWR"):
        monkeypatch.delenv(k, raising=False)
    book = tmp_path / "book"
    book.mkdir()
    _notebook(book / "01_order.ipynb", ORDER)
    out = tmp_path / "out"
    assert _run(book, out, *extra) == 0
    seen = json.loads((out / "results" / "order.json").read_text())
    assert seen["ROBUSTCORE_CHUNK_ORDER"] == chunks
    portable = full.chunks.PORTABLE_ORDER
    if order == "portable":
        assert {k: seen[k] for k in portable if k in seen} == {
            k: portable[k] for k in seen if k in portable
        }
        assert seen["OMP_NUM_THREADS"] == "1" and seen["MKL_CBWR"] == "COMPATIBLE"
    else:
        assert seen["MKL_CBWR"] is None and seen["ATEN_CPU_CAPABILITY"] is None
    timing = json.loads((out / "timing.json").read_text())
    assert timing["order"] == (order or "native")
