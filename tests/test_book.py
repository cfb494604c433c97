"""The book's machinery: table of contents, pairing, Colab cells, one repository URL."""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.py"))


def _toc_files():
    for part in TOC.get("parts", []):
        for ch in part["chapters"]:
            yield ch["file"]


def test_every_chapter_is_in_the_toc_and_paired():
    assert CHAPTERS, "no chapters found"
    listed = set(_toc_files())
    for py in CHAPTERS:
        assert f"book/{py.stem}" in listed, f"{py.name} is not in _toc.yml"
        assert py.with_suffix(".ipynb").is_file(), f"{py.name} has no paired .ipynb"
    # every page is a notebook, or a plain Markdown page (the bibliography)
    assert all(
        (ROOT / f).with_suffix(".ipynb").is_file()
        or (ROOT / f).with_suffix(".md").is_file()
        for f in listed
    )


def test_jupyter_book_1_settings():
    assert CONFIG["only_build_toc_files"] is True
    assert CONFIG["execute"]["execute_notebooks"] in ("force", "cache")
    assert CONFIG["sphinx"]["config"]["nb_execution_raise_on_error"] is True
    assert CONFIG["execute"]["timeout"] > 0
    assert "book/*.py" in CONFIG["exclude_patterns"]
    assert CONFIG["launch_buttons"]["colab_url"].startswith(
        "https://colab.research.google.com"
    )


@pytest.mark.parametrize("py", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_notebook_is_clean_and_colab_ready(py):
    nb = json.loads(py.with_suffix(".ipynb").read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(
        not c.get("outputs") and c.get("execution_count") is None for c in code
    ), "commit it stripped"
    first = code[0]
    assert "remove-cell" in first["metadata"].get("tags", [])
    src = "".join(first["source"])
    assert 'if "google.colab" in sys.modules' in src
    urls = re.findall(r"git\+(https://\S+?)(?:@[\w.-]+)?\"", src)
    assert urls == [CONFIG["repository"]["url"]], (
        "the Colab cell must install from _config.yml's repository"
    )
    assert f"@{CONFIG['repository']['branch']}" in src
    assert any(".check(" in "".join(c["source"]) for c in code), (
        "a chapter must check its claims (robustcore.claims.Claims.check)"
    )
    # glue prints its numbers for a notebook reader: never on a page
    shown = [
        "".join(c["source"])[:60]
        for c in code
        if re.search(r"\bglue\.(numbers|published)\(", "".join(c["source"]))
        and "remove-cell" not in c["metadata"].get("tags", [])
    ]
    assert not shown, f"glue calls outside remove-cell cells: {shown}"


HIDDEN = ("remove-input", "remove-cell", "hide-input", "hide-cell")
VISIBLE_CODE_LINES = 60  # a chapter's budget of code on the page


def visible_code_lines(source: str) -> int:
    """Non-blank lines of the code cells a reader of the page sees (no remove-* or
    hide-* tag), in a percent-format chapter."""
    n, kind = 0, None
    for line in source.splitlines():
        if line.startswith("# %%"):
            kind = (
                "markdown"
                if "[markdown]" in line
                else "hidden"
                if any(t in line for t in HIDDEN)
                else "code"
            )
        elif kind == "code" and line.strip():
            n += 1
    return n


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_a_chapter_shows_at_most_60_lines_of_code(chapter):
    """The teaching code and the experiment's calls are on the page; bookkeeping,
    presentation and checks are hidden or in the library, and no library function is
    printed whole."""
    source = chapter.read_text(encoding="utf-8")
    assert visible_code_lines(source) <= VISIBLE_CODE_LINES
    assert "getsource(" not in source


def test_visible_code_lines_counts_only_shown_code():
    source = (
        '# %%\nx = 1\n\ny = 2\n# %% tags=["hide-input"]\nz = 3\n'
        "# %% [markdown]\n# text\n# %%\nprint(x)\n"
    )
    assert visible_code_lines(source) == 3
