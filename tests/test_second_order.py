"""Every test that rebuilds a shipped artifact (marker ``rebuild``) once more, under a
second float reduction order: another instruction set and thread count
(tools/second_order.py), each in a process of its own, since the libraries read their
instruction-set switches when torch is imported.

An artifact whose recipe amplifies last-bit differences is a function of the machine
that built it; this makes it fail on the developer's machine, before it lands. The
rebuild tests are found by reading the test files (marker ``rebuild`` on a ``test_``
function), so a new one runs here without being listed; a check against pytest's own
collection keeps that reading honest. They run inside `make test`'s session, beside
the other tests on the two workers, instead of in a session of their own after it: all
in one process (one start of torch and one collection instead of one per test), whose
JUnit report gives each test here its own verdict.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
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


def _nodeid(case: ET.Element) -> str:
    """``tests/test_x.py::test_y`` of a JUnit ``testcase`` (classname ``tests.test_x``)."""
    return f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"


@pytest.fixture(scope="module")
def second_order_run(tmp_path_factory) -> tuple[dict[str, ET.Element], str]:
    """Every rebuild test in one child process under the second order: each node id's
    JUnit ``testcase``, and the child's output."""
    report = tmp_path_factory.mktemp("second_order") / "report.xml"
    # the child is a plain pytest run, not a worker of this session's pytest-xdist
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [
            sys.executable,
            "tools/second_order.py",
            *REBUILDS,
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    out = done.stdout + done.stderr
    assert "== second reduction order:" in out, out[-2000:]
    # 0: all passed; 1: some failed (each test below shows its own failure)
    assert done.returncode in (0, 1) and report.exists(), out[-4000:]
    cases = {_nodeid(c): c for c in ET.parse(report).iter("testcase")}
    return cases, out


@pytest.mark.slow
@pytest.mark.parametrize("nodeid", REBUILDS)
def test_rebuilds_under_a_second_reduction_order(nodeid, second_order_run):
    cases, out = second_order_run
    assert nodeid in cases, (
        f"{nodeid} did not run under the second order:\n{out[-2000:]}"
    )
    case = cases[nodeid]
    failed = case.find("failure")
    if failed is None:
        failed = case.find("error")
    assert failed is None, (
        f"{nodeid} under the second order:\n{(failed.text or '')[-4000:]}"
    )
    skipped = case.find("skipped")
    if skipped is not None:
        pytest.skip(f"under the second order: {skipped.get('message')}")
