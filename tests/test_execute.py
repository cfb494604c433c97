"""tools/execute.py takes another run's executed chapters only when they are the book's code,
every cell run, none failed."""

import importlib.util
from pathlib import Path

import nbformat
import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "execute.py"
spec = importlib.util.spec_from_file_location("execute_tool", TOOL)
execute = importlib.util.module_from_spec(spec)
spec.loader.exec_module(execute)


def _nb(tmp_path, name, sources, ran=True, error=False):
    nb = nbformat.v4.new_notebook()
    for i, src in enumerate(sources):
        cell = nbformat.v4.new_code_cell(src)
        if ran:
            cell.execution_count = i + 1
            cell.outputs = [nbformat.v4.new_output("stream", text="ok\n")]
            if error:
                cell.outputs = [
                    nbformat.v4.new_output("error", ename="E", evalue="", traceback=[])
                ]
        nb.cells.append(cell)
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def test_an_executed_copy_of_the_same_code_is_taken(tmp_path):
    page = _nb(tmp_path, "page.ipynb", ["a = 1", "print(a)"], ran=False)
    copy = _nb(tmp_path, "copy.ipynb", ["a = 1", "print(a)"])
    assert execute.executed_copy(page, copy).cells[1].outputs[0]["text"] == "ok\n"


@pytest.mark.parametrize(
    "sources,ran,error,why",
    [
        (["a = 2", "print(a)"], True, False, "code differs"),
        (["a = 1", "print(a)"], False, False, "not executed"),
        (["a = 1", "print(a)"], True, True, "failed"),
    ],
)
def test_a_copy_that_is_not_the_book_run_cleanly_is_refused(
    tmp_path, sources, ran, error, why
):
    page = _nb(tmp_path, "page.ipynb", ["a = 1", "print(a)"], ran=False)
    copy = _nb(tmp_path, "copy.ipynb", sources, ran, error)
    with pytest.raises(SystemExit, match=why):
        execute.executed_copy(page, copy)


def test_every_page_of_the_table_of_contents_with_code_is_run():
    names = [p.name for p in execute.pages()]
    assert "06_certified_robustness.ipynb" in names and "reproductions.ipynb" in names
    assert not any(n.startswith("intro") or n.startswith("bibliography") for n in names)
