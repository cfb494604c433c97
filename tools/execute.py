"""Run every page of the book that has code, two at a time, into the cache the book build reads.

``make book`` calls this before ``jupyter-book build``: the cache is emptied first, so every build
still runs every chapter (the book proves its own claims), and the build then only renders what ran
here. Jupyter Book 1 runs the notebooks of one build one after the other; jupyter-cache's
``local-parallel`` executor runs them over one process per core, in the notebooks' own folder, as the
build would. The longest pages start first (as long as the previous build took, where its cache
holds that; the table of contents' order otherwise).

    python tools/execute.py [--cache _build/.jupyter_cache] [--timeout 900] [--from DIR]

``--from DIR`` takes the chapters another run already executed (``.ci/reader-check`` saves
them there, run from the wheel in an empty folder) instead of running them again: each must
hold exactly the book's code, every cell executed, no error. Pages missing there run here.
Exits non-zero, with the failing cells' tracebacks, when any page fails.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import nbformat
import yaml
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors import load_executor

ROOT = Path(__file__).resolve().parents[1]


def pages() -> list[Path]:
    """The notebooks of the table of contents, in its order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [
        c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])
    ]
    return [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").is_file()]


def executed_copy(page: Path, copy: Path) -> nbformat.NotebookNode:
    """The book's notebook ``page`` with the outputs of its executed copy ``copy``,
    checked: the same code cells, each one executed, none with an error. (The page's own
    cells and metadata are kept, so that the cache the build reads matches them exactly;
    the copy's saved widget state is added.)"""
    mine = nbformat.read(page, as_version=4)
    ran = nbformat.read(copy, as_version=4)
    cells = [c for c in mine.cells if c.cell_type == "code"]
    done = [c for c in ran.cells if c.cell_type == "code"]
    if [c.source for c in cells] != [c.source for c in done]:
        raise SystemExit(f"{copy}: its code differs from {page}'s")
    for cell, other in zip(cells, done):
        if not cell.source.strip():
            continue
        if other.execution_count is None:
            raise SystemExit(f"{copy}: a code cell was not executed")
        if any(o.get("output_type") == "error" for o in other.outputs):
            raise SystemExit(f"{copy}: a cell failed")
        cell.outputs, cell.execution_count = other.outputs, other.execution_count
    for key in (
        "widgets",
        "language_info",
    ):  # the widgets' saved state, as a build keeps
        if key in ran.metadata:
            mine.metadata[key] = ran.metadata[key]
    return mine


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=str(ROOT / "_build" / ".jupyter_cache"))
    ap.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    ap.add_argument("--from", dest="source", type=Path, help="executed copies to take")
    args = ap.parse_args(argv)

    cache = get_cache(args.cache)
    took = {}
    for record in cache.list_cache_records():
        seconds = record.data.get("execution_seconds")
        if seconds is not None:
            took[Path(record.uri).name] = seconds
    cache.clear_cache()
    for record in cache.list_project_records():
        cache.remove_nb_from_project(record.pk)

    todo = sorted(pages(), key=lambda p: -took.get(p.name, 0.0))
    if args.source is not None:
        taken = [p for p in todo if (args.source / p.name).is_file()]
        for page in taken:
            nb = executed_copy(page, args.source / page.name)
            cache.cache_notebook_bundle(CacheBundleIn(nb, str(page)), overwrite=True)
            print(f"== {page.name}: executed by another run, taken from {args.source}")
        todo = [p for p in todo if p not in taken]
    for page in todo:
        cache.add_nb_to_project(str(page))
    logger = logging.getLogger("execute")
    logger.addHandler(logging.StreamHandler(sys.stdout))
    logger.setLevel(logging.INFO)
    result = load_executor("local-parallel", cache, logger=logger).run_and_cache(
        timeout=args.timeout, allow_errors=False
    )
    for record in cache.list_cache_records():
        print(
            f"== {Path(record.uri).name}: {record.data.get('execution_seconds', 0):.0f} s"
        )
    failed = result.excepted + result.errored
    for record in cache.list_project_records():
        if record.traceback:
            print(
                f"\n== {Path(record.uri).name} failed:\n{record.traceback}",
                file=sys.stderr,
            )
    if failed or len(result.succeeded) != len(todo):
        print(f"pages that did not run: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
