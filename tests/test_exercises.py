"""Each chapter ends with exercises, each with its solution in a folded block
(``<details><summary>Solution</summary>``, folded on the page and in Jupyter alike); the
coding ones hold a ``python`` block.
Here every such block runs, from the book folder as a chapter does, so a solution
cannot rot when the library changes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.py"))
SOLUTION = re.compile(  # folded on the page and in Jupyter alike (HTML details)
    r"^<details>\n<summary>Solution</summary>\n(.*?)^</details>$", re.M | re.S
)
CODE = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)


def markdown(py: Path) -> str:
    """The chapter's Markdown cells, without their leading ``# ``."""
    cells, md = [], False
    for line in py.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            md = "[markdown]" in line
        elif md:
            cells.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
    return "\n".join(cells)


def exercises(py: Path) -> str:
    text = markdown(py)
    return text[text.find("\n## Exercises") :] if "\n## Exercises" in text else ""


def solutions() -> list[tuple[str, str]]:
    out = []
    for py in CHAPTERS:
        for i, block in enumerate(SOLUTION.findall(exercises(py))):
            for code in CODE.findall(block):
                out.append((f"{py.stem}-{i + 1}", code))
    return out


@pytest.mark.parametrize("py", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_ends_with_exercises_and_a_coding_solution(py):
    text = exercises(py)
    assert text, f"{py.name} has no '## Exercises' section"
    count = len(re.findall(r"^\*\*Exercise \d+\.", text, re.M))
    assert 3 <= count <= 5, f"{py.name}: {count} exercises (3 to 5 wanted)"
    blocks = SOLUTION.findall(text)
    assert len(blocks) == count, f"{py.name}: each exercise needs one Solution block"
    assert any(CODE.search(b) for b in blocks), f"{py.name}: no coding solution"


# All solutions run in one process (each in a fresh namespace, the random generators
# reset as a new process has them): one import of torch and the data instead of one per
# solution. The runner records each solution's traceback; a test reads its own.
RUNNER = """
import json, random, sys, traceback
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
first_seed = torch.initial_seed()
out = {}
for name, code in json.load(open(sys.argv[1])):
    torch.manual_seed(first_seed)
    random.seed(0)
    try:
        exec(compile(code, name, "exec"), {"__name__": "__main__"})
        out[name] = None
    except BaseException:
        out[name] = traceback.format_exc()[-3000:]
    plt.close("all")
json.dump(out, open(sys.argv[2], "w"))
"""


@pytest.fixture(scope="module")
def solution_errors(tmp_path_factory) -> dict[str, str | None]:
    folder = tmp_path_factory.mktemp("solutions")
    (folder / "in.json").write_text(json.dumps(solutions()))
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, folder / "in.json", folder / "out.json"],
        cwd=ROOT / "book",
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, f"the solutions' runner failed:\n{done.stderr[-3000:]}"
    return json.loads((folder / "out.json").read_text())


@pytest.mark.parametrize("name", [n for n, _ in solutions()])
def test_solution_runs(name, solution_errors):
    assert name in solution_errors, f"{name} did not run"
    assert solution_errors[name] is None, f"{name} failed:\n{solution_errors[name]}"
