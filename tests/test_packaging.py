"""The package as it travels: the tracked tree fits the GPU machine's budget, the wheel is small
and builds without warnings, and every third-party import is a declared dependency."""

import ast
import importlib.metadata
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MiB = 1 << 20
# What travels to a lent GPU machine is at most 64 MiB: the tracked tree plus MNIST gzipped (11 MB).
TREE_BUDGET = 40 * MiB
WHEEL_BUDGET = 1 * MiB


def _tracked() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    return [ROOT / p for p in out.decode().split("\0") if p and (ROOT / p).is_file()]


def test_tracked_tree_fits_the_size_budget():
    files = _tracked()
    total = sum(p.stat().st_size for p in files)
    biggest = sorted(files, key=lambda p: p.stat().st_size)[-3:]
    assert total <= TREE_BUDGET, (
        f"the tracked tree is {total / MiB:.1f} MiB > {TREE_BUDGET / MiB:.0f} MiB; "
        f"largest: {[(str(p.relative_to(ROOT)), p.stat().st_size) for p in biggest]}"
    )


def test_no_paper_scale_artifact_is_committed():
    # artifacts are torch files (checkpoints, datasets); records are JSON (full_runs/)
    full = [
        p
        for p in _tracked()
        if p.name.endswith((".pt", ".pt.xz")) and "-full." in p.name
    ]
    assert not full, (
        f"paper-scale artifacts are built or downloaded, never committed: {full}"
    )


def _declared() -> set[str]:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    return {
        re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower().replace("_", "-")
        for r in reqs
    }


def _imported_modules() -> set[str]:
    """Top-level names the library imports (absolute imports, and ``resources.files("pkg...")``)."""
    names = set()
    for py in (ROOT / "robustcore").rglob("*.py"):
        tree = ast.parse(py.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", "") == "files"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                names.add(node.args[0].value.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"robustcore", "__future__"}


# Every import is declared: torchattacks too (robustcore.audit; 3.3.0, which pins nothing).
OPTIONAL: set[str] = set()


def test_every_import_is_a_declared_dependency():
    """`pip install robustcore` must bring everything the library imports (timm once was missing)."""
    dists = importlib.metadata.packages_distributions()
    declared = _declared()
    missing = {}
    for mod in sorted(_imported_modules() - OPTIONAL):
        owners = {d.lower().replace("_", "-") for d in dists.get(mod, [mod])}
        if not owners & declared:
            missing[mod] = sorted(owners)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_the_checker_sees_the_imports_it_must():
    mods = _imported_modules()
    assert {
        "torch",
        "torchvision",
        "numpy",
        "sklearn",
        "timm",
        "PIL",
        "torchattacks",
    } <= mods


@pytest.mark.slow
def test_wheel_is_small_complete_and_builds_without_warnings(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-v",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    log = out.stdout + out.stderr
    # setuptools' own notices ("byte-compiling is disabled") are not warnings about the package
    warnings = [
        line
        for line in log.splitlines()
        if re.search(r"warning", line, re.I)
        and "pip" not in line.lower()
        and "byte-compiling is disabled" not in line
    ]
    assert not warnings, "\n".join(warnings[:10])
    (wheel,) = tmp_path.glob("robustcore-*.whl")
    assert wheel.stat().st_size <= WHEEL_BUDGET, (
        f"{wheel.name} is {wheel.stat().st_size / MiB:.1f} MiB"
    )
    names = zipfile.ZipFile(wheel).namelist()
    packages = {
        str(p.parent.relative_to(ROOT))
        for p in (ROOT / "robustcore").rglob("__init__.py")
    }
    assert {f"{p}/__init__.py" for p in packages} <= set(names), (
        "a subpackage is missing from the wheel"
    )
    assert "robustcore/artifacts.json" in names and not any(
        n.endswith((".pt", ".xz")) for n in names
    )


def test_license_and_citation_match_the_package():
    """LICENSE is the licence pyproject.toml declares; CITATION.cff names its version."""
    tomllib = pytest.importorskip("tomllib")
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    cff = (ROOT / "CITATION.cff").read_text()
    assert f"version: {meta['version']}\n" in cff and "license: MIT\n" in cff
    assert "cff-version: 1.2.0" in cff
