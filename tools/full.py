"""The paper-scale book (``make full``): every chapter executed in the full profile, one
chapter at a time, into one output folder.

    python tools/full.py [--out _build/full] [--chapters 05,03] [--book book]
                         [--pattern '[0-9][0-9]_*.ipynb'] [--keep-going] [--progress DIR]
                         [--set 03:N_IMAGES=100 ...]

Each chapter runs with ``ROBUSTCORE_PROFILE=full``; its recorded results go to
``OUT/results`` (``ROBUSTCORE_RESULTS``), the artifacts it builds to
``OUT/checkpoints`` (``ROBUSTCORE_CACHE``, unless set already), its executed
notebook to ``OUT/notebooks/``, written only once the whole notebook has run. A
chapter whose executed notebook is there and newer than its source (``.ipynb`` and
paired ``.py``) is skipped, so an interrupted run resumes where it stopped; inside a
chapter, long evaluations keep their finished chunks in ``OUT/progress/<chapter>``
(``ROBUSTCORE_PROGRESS``, :mod:`robustcore.chunks`), so a rerun computes only the
rest; ``--progress DIR`` keeps them in ``DIR/<chapter>`` instead (``progress/`` in the
repository: per-digit outcomes, kilobytes, committed as a long run goes, so that a
session on another machine resumes it: the kernels run in
``robustcore.chunks.PORTABLE_ORDER``, one thread and fixed instruction sets, so that
its training gives the same weights there; ``--native-order`` lifts it). Each
chapter's wall time goes to ``OUT/timing.json`` (with the machine, device, date, git
commit, torch version and order) and a progress line to ``OUT/full.log``.
``--set CHAPTER:NAME=VALUE`` runs a chapter with one of its settings changed by
papermill's parameter injection (a cell assigning it after the chapter's cell tagged
``parameters``; for values papermill cannot pass, tuples and expressions, the same
cell is written here: :func:`inject`), and the change is kept with the chapter's
timing, so that a record made with a smaller test set than the profile's says so. The
reproduction summary (``reproductions.ipynb``) runs last, over the results recorded
so far, and again whenever a chapter has run before it.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from robustcore import chunks, io, profiles, results, store

ROOT = Path(__file__).resolve().parents[1]
PATTERN = "[0-9][0-9]_*.ipynb"
SUMMARY = "reproductions.ipynb"  # reads what the chapters recorded: runs last


def chapters(book: Path, pattern: str, selected: str | None) -> list[Path]:
    """The notebooks of ``book`` matching ``pattern`` (sorted), then the summary page
    if there is one; ``selected``: comma- or space-separated name prefixes
    (``"05"``, ``"02,03"``) keeps only the notebooks they start."""
    found = sorted(book.glob(pattern))
    if (book / SUMMARY).is_file() and book / SUMMARY not in found:
        found.append(book / SUMMARY)
    if selected is None or not selected.strip():
        return found
    prefixes = selected.replace(",", " ").split()
    picked = [p for p in found if any(p.name.startswith(s) for s in prefixes)]
    unknown = [s for s in prefixes if not any(p.name.startswith(s) for p in found)]
    if unknown:
        raise SystemExit(
            f"--chapters: no notebook of {book} starts with {', '.join(unknown)}; "
            f"known: {', '.join(p.stem for p in found)}"
        )
    return picked


def overrides(pairs: list[str]) -> dict[str, dict[str, str]]:
    """``["03:N_IMAGES=100", ...]`` as ``{"03": {"N_IMAGES": "100"}}``; the value is
    Python source (``100``, ``(1, 3)``), checked to parse."""
    out: dict[str, dict[str, str]] = {}
    for pair in pairs:
        m = re.fullmatch(r"\s*(\w+):([A-Za-z_]\w*)=(.+)", pair)
        if m is None:
            raise SystemExit(f"--set must look like 03:N_IMAGES=100, got {pair!r}")
        try:
            ast.parse(m[3], mode="eval")
        except SyntaxError:
            raise SystemExit(
                f"--set {pair!r}: {m[3]!r} is not a Python value"
            ) from None
        out.setdefault(m[1], {})[m[2]] = m[3].strip()
    return out


def faithful(source: str) -> bool:
    """Whether papermill can pass the value written ``source``: a literal that its
    Python translator writes back as the same value. Not so for a tuple (written as
    the string ``"(1, 3)"``; chapters compare tuples such as ``AA_PARTS`` with ``==``),
    nor for an expression that is not a literal (``audit.STANDARD[:2]``)."""
    from papermill.translators import PythonTranslator

    try:
        value = ast.literal_eval(source)
        back = ast.literal_eval(PythonTranslator.translate(value))
    except (ValueError, SyntaxError):
        return False
    return repr(back) == repr(value)


def inject(
    nb: nbformat.NotebookNode, values: dict[str, str], name: str
) -> nbformat.NotebookNode:
    """``nb`` with a cell assigning ``values`` after its cell tagged ``parameters``,
    tagged ``injected-parameters``: papermill's parameter injection when it can pass
    every value (:func:`faithful`), else the same cell written here with the values'
    source; ``SystemExit`` if ``nb`` has no parameters cell (``name``: the notebook,
    for the message)."""
    tagged = [
        i
        for i, c in enumerate(nb.cells)
        if "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    if not tagged:
        raise SystemExit(f"--set: {name} has no cell tagged 'parameters'")
    if all(faithful(v) for v in values.values()):
        from papermill.parameterize import parameterize_notebook

        # what papermill's own loader adds: every cell's tags, its metadata section
        for c in nb.cells:
            c.metadata.setdefault("tags", [])
        nb.metadata.setdefault("papermill", {})
        return parameterize_notebook(
            nb,
            {k: ast.literal_eval(v) for k, v in values.items()},
            comment="set by tools/full.py --set",
            kernel_name="python3",
            language="python",
        )
    src = "\n".join(
        f"{k} = {v}  # set by tools/full.py --set" for k, v in values.items()
    )
    cell = nbformat.v4.new_code_cell(src)
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(tagged[0] + 1, cell)
    return nb


def up_to_date(source: Path, executed: Path) -> bool:
    """Whether ``executed`` exists and is newer than ``source`` and its paired .py."""
    if not executed.is_file():
        return False
    paired = source.with_suffix(".py")
    newest = max(p.stat().st_mtime for p in (source, paired) if p.is_file())
    return executed.stat().st_mtime > newest


def git_commit() -> str:
    """HEAD's commit, with ``+dirty`` when the working tree has changes; ``unknown``
    outside a git checkout."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def device() -> str:
    """``cuda (GPU name)`` when a GPU is visible, else ``cpu``."""
    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    return "cpu"


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    """Write ``nb`` to ``path`` atomically: a temporary file beside it, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def execute(
    source: Path,
    target: Path,
    env: dict[str, str],
    timeout: int | None,
    values: dict[str, str] | None = None,
) -> None:
    """Run every cell of ``source`` in a kernel with environment ``env`` (working
    directory: its folder), with ``values`` set after its parameters cell (see
    :func:`inject`), and write the executed notebook to ``target``; raises, writing
    nothing, if a cell fails."""
    nb = nbformat.read(source, as_version=4)
    if values:
        nb = inject(nb, values, source.name)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(source.parent)}},
    )
    client.execute(env=env)
    write_notebook(nb, target)


def log(out: Path, line: str) -> None:
    """Print ``line`` and append it, time-stamped, to ``OUT/full.log``."""
    print(line, flush=True)
    with open(out / "full.log", "a", encoding="utf-8") as f:
        f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--out",
        default=str(ROOT / "_build" / "full"),
        type=Path,
        help="the output folder (default: _build/full)",
    )
    ap.add_argument(
        "--book", default=str(ROOT / "book"), type=Path, help="the chapters' folder"
    )
    ap.add_argument("--pattern", default=PATTERN, help="which notebooks are chapters")
    ap.add_argument(
        "--chapters", default=None, help="name prefixes, e.g. '05' or '02,03'"
    )
    ap.add_argument(
        "--timeout", type=int, default=None, help="seconds per cell (default: none)"
    )
    ap.add_argument(
        "--keep-going",
        action="store_true",
        help="run the chapters after a failed one too",
    )
    ap.add_argument(
        "--progress",
        default=None,
        type=Path,
        help="where long evaluations keep their chunks (default: OUT/progress); "
        "progress/ in the repository, to commit them so that a later session resumes",
    )
    ap.add_argument(
        "--reverse",
        action="store_true",
        help="make each evaluation's chunks from the last one back: a second run on "
        "the same --progress folder shares the work of a first one",
    )
    ap.add_argument(
        "--native-order",
        action="store_true",
        help="this machine's threads and instruction set instead of the portable "
        "order (robustcore.chunks.PORTABLE_ORDER: faster, but chunks made so resume "
        "only on a machine like this one)",
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="CHAPTER:NAME=VALUE",
        help="change one setting of a chapter, e.g. 03:N_IMAGES=100 (repeatable)",
    )
    args = ap.parse_args(argv)
    out = args.out.resolve()
    kept = (args.progress or out / "progress").resolve()
    todo = chapters(args.book.resolve(), args.pattern, args.chapters)
    changed = overrides(args.set)
    unknown = [c for c in changed if not any(p.name.startswith(c) for p in todo)]
    if unknown:
        raise SystemExit(f"--set: no chapter to run starts with {', '.join(unknown)}")
    out.mkdir(parents=True, exist_ok=True)
    env = {  # the kernels' environment
        **os.environ,
        profiles.ENV_VAR: "full",
        results.ENV_VAR: str(out / "results"),
        store.CACHE_ENV: os.environ.get(store.CACHE_ENV) or str(out / "checkpoints"),
        "TQDM_DISABLE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        # the same weights on any x86 machine, so that another session's chunks load
        **(chunks.PORTABLE_ORDER if not args.native_order else {}),
        chunks.ORDER_ENV: "reverse" if args.reverse else "forward",
    }
    timing_path = out / "timing.json"
    timing = io.read_json(timing_path) if timing_path.is_file() else {}
    where = {  # this run's; each chapter keeps those it ran with (a run may resume)
        "machine": results.machine(),
        "device": device(),
        "commit": git_commit(),
        "torch": torch.__version__,
        "order": "native" if args.native_order else "portable",
    }
    timing.update(
        {
            "profile": "full",
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "python": platform.python_version(),
            **where,
        }
    )
    runs = timing.setdefault("chapters", {})
    failed, ran = [], False
    for i, source in enumerate(todo, 1):
        target = out / "notebooks" / source.name
        head = f"[{i}/{len(todo)}] {source.stem}"
        values = next((v for c, v in changed.items() if source.name.startswith(c)), {})
        same = runs.get(source.stem, {}).get("set", {}) == values  # as run before
        # the summary reads every chapter's results: stale once a chapter has run
        if up_to_date(source, target) and same and not (ran and source.name == SUMMARY):
            log(out, f"{head}: up to date, skipped")
            continue
        log(
            out,
            f"{head}: running (full profile"
            + "".join(f", {k} = {v}" for k, v in values.items())
            + ")",
        )
        ran = True
        t0 = time.perf_counter()
        try:
            # long evaluations keep their chunks here (robustcore.chunks): a rerun
            # after an interruption computes only what is missing
            progress = {chunks.ENV_VAR: str(kept / source.stem)}
            execute(source, target, {**env, **progress}, args.timeout, values)
            status, note = "ok", ""
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
            status, note = "failed", (str(e).strip().splitlines() or [""])[-1]
        seconds = round(time.perf_counter() - t0, 1)
        before = runs.get(source.stem, {})
        # an interrupted chapter resumes from its chunks: count every attempt's time
        earlier = (
            before.get("all_attempts_s", 0.0) if before.get("status") != "ok" else 0
        )
        runs[source.stem] = {
            "seconds": seconds,
            "all_attempts_s": round(earlier + seconds, 1),
            "status": status,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "set": values,
            **where,
        }
        io.atomic_write_json(timing, timing_path)
        log(
            out,
            f"{head}: {status} in {seconds:,.0f} s" + (f" ({note})" if note else ""),
        )
        if status != "ok":
            failed.append(source.stem)
            if not args.keep_going:
                break
    io.atomic_write_json(timing, timing_path)
    if failed:
        log(out, f"failed: {', '.join(failed)}; fix and rerun (done chapters are kept)")
        return 1
    log(
        out,
        f"done: executed notebooks in {out / 'notebooks'}, timings in {timing_path}",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
