"""Every test that rebuilds a shipped artifact (marker ``rebuild``) once more, under a
second float reduction order: another instruction set and thread count
(tools/second_order.py), each in a process of its own, since the libraries read their
instruction-set switches when torch is imported.

An artifact whose recipe amplifies last-bit differences is a function of the machine
that built it; this makes it fail on the developer's machine, before it lands. The
rebuild tests are found by reading the test files (marker ``rebuild`` on a ``test_``
function), so a new one runs here without being listed; a check against pytest's own
collection keeps that reading honest. They run inside `make test`'s session, beside
the other tests on the two workers, instead of in a session of their own after it.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"


def _is_rebuild_mark(node: ast.expr) -> bool:
    """``pytest.mark.rebuild`` (or ``mark.rebuild``)."""
    return isinstance(node, ast.Attribute) and node.attr == "rebuild"


def rebuild_tests() -> list[str]:
    """Node ids (``tests/test_x.py::test_y``) of the functions marked ``rebuild``."""
    found = []
    for path in sorted(TESTS.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if (
                isinstance(node, ast.FunctionDef)
                and node.name.startswith("test_")
                and any(_is_rebuild_mark(d) for d in node.decorator_list)
            ):
                found.append(f"tests/{path.name}::{node.name}")
    return found


REBUILDS = rebuild_tests()


def test_every_rebuild_test_is_found(request):
    """The files' reading agrees with pytest's collection, where this session has it."""
    assert len(REBUILDS) >= 3  # a classifier, a constructed dataset, a novelty detector
    collected = {
        item.nodeid.split("[")[0]
        for item in request.session.items
        if item.get_closest_marker("rebuild")
    }
    seen = {n.split("::")[0] for n in collected}
    # only the files this session collected can be compared (pytest tests/test_x.py)
    assert collected == {n for n in REBUILDS if n.split("::")[0] in seen}


@pytest.mark.slow
@pytest.mark.parametrize("nodeid", REBUILDS)
def test_rebuilds_under_a_second_reduction_order(nodeid):
    # the child is a plain pytest run, not a worker of this session's pytest-xdist
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [
            sys.executable,
            "tools/second_order.py",
            nodeid,
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"{nodeid} under the second order:\n{out[-4000:]}"
    assert "== second reduction order:" in out, out[-2000:]
