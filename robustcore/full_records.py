"""The full profile's records from real runs, committed with the library.

``make full`` (``tools/full.py``) executes the chapters in the full profile into one
folder; ``python -m robustcore.full_records publish _build/full`` then copies the
records of every chapter that ran to the end into ``robustcore/full_runs/`` (small
JSON, never the artifacts), with where and when it ran: machine, device, date, git
commit, torch and Python versions, wall time, and any setting changed for the run
(``tools/full.py --set``), and the per-digit outcomes its long evaluations kept
(``chapterNN-full.outcomes.json.xz``, xz-compressed JSON, from
:func:`robustcore.chunks.outcomes`).
Chapters and the reproduction summary show them beside the numbers of the live run
with :func:`beside`, so a reader on a CPU sees the paper-scale numbers without waiting
for them, and a reader who runs the full profile can compare.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from . import checks, chunks, io, results, tables

FOLDER = Path(__file__).resolve().parent / "full_runs"
RUNS = "runs.json"  # chapter id → where and when it ran
RUN_FIELDS = ("finished", "seconds", "machine", "device", "commit", "torch", "python")
# wall time summed over a chapter's attempts when it resumed from its chunks
ATTEMPTS = "all_attempts_s"


def runs(folder: Path | None = None) -> dict[str, dict[str, Any]]:
    """Chapter id → its run (``RUN_FIELDS`` and ``set``: the settings changed), for
    every chapter with committed full-profile records."""
    path = (folder or FOLDER) / RUNS
    return io.read_json(path) if path.is_file() else {}


def rows(chapter: str | None = None, folder: Path | None = None) -> list[dict]:
    """The committed full-profile records as :func:`robustcore.results.table` rows, of
    one ``chapter`` (e.g. ``"03"``) or of all."""
    picked = () if chapter is None else (chapter,)  # checks the id
    found = results.table("full", chapters=picked, folder=folder or FOLDER)
    return [r for r in found if chapter is None or r["chapter"] == chapter]


def publish(
    out: str | os.PathLike,
    chapters: tuple[str, ...] = (),
    folder: Path | None = None,
    progress: str | os.PathLike | None = None,
) -> list[str]:
    """Copy the full-profile records of a ``make full`` output folder ``out`` into
    ``folder`` (default :data:`FOLDER`), with each chapter's run from
    ``out/timing.json``; only chapters whose run finished ("ok") and recorded numbers,
    and of those only ``chapters`` if given. ``progress``: where the run kept its
    chunks (``tools/full.py --progress``; default ``out/progress``), whose per-digit
    outcomes are kept with the records. Returns the chapter ids published."""
    out = checks.path(out, "out")
    kept_root = (
        out / "progress" if progress is None else checks.path(progress, "progress")
    )
    if isinstance(chapters, str) or not all(isinstance(c, str) for c in chapters):
        raise TypeError(
            f"chapters must be a tuple of ids such as ('03',), got {chapters!r}"
        )
    timing_path = out / "timing.json"
    if not timing_path.is_file():
        raise ValueError(f"out must be a `make full` output folder; no {timing_path}")
    timing = io.read_json(timing_path)
    folder = folder or FOLDER
    known = runs(folder)
    done = []
    for stem, run in sorted(timing.get("chapters", {}).items()):
        chapter = stem[:2]
        if not chapter.isdigit() or (chapters and chapter not in chapters):
            continue
        recs = results.load(chapter, "full", folder=out / "results")
        if run.get("status") != "ok" or not recs:
            continue
        meta = {k: run.get(k, timing.get(k)) for k in RUN_FIELDS}
        if ATTEMPTS in run:
            meta[ATTEMPTS] = run[ATTEMPTS]
        known[chapter] = {**meta, "set": run.get("set", {})}
        io.atomic_write_json(recs, folder / f"chapter{chapter}-full.json")
        verdicts = out / "results" / f"chapter{chapter}-full.claims.json"
        if verdicts.is_file():  # the chapter's keyed claims (robustcore.claims)
            io.atomic_write_json(
                io.read_json(verdicts), folder / f"chapter{chapter}-full.claims.json"
            )
        where = kept_root / stem  # per-digit outcomes (robustcore.chunks)
        if where.is_dir() and (found := chunks.outcomes(where)):
            kept = folder / f"chapter{chapter}-full.outcomes.json.xz"
            io.atomic_write_json(found, kept, compress=True)
        done.append(chapter)
    if chapters and (missing := sorted(set(chapters) - set(done))):
        raise ValueError(
            f"chapters {', '.join(missing)} did not run to the end in {out}; "
            "nothing of theirs was published"
        )
    io.atomic_write_json(dict(sorted(known.items())), folder / RUNS)
    return done


def beside(chapter: str, folder: Path | None = None, *, fold: bool = True) -> str:
    """Markdown: ``chapter``'s numbers from this run beside its committed full-profile
    records and the published ones, with where and when the full profile ran. With
    ``fold``, a table comes folded (an HTML ``<details>`` block: closed on the page and
    in Jupyter alike, as the chapters' evidence is); a sentence never is."""
    if not isinstance(fold, bool):
        raise TypeError(f"fold must be True or False, got {fold!r}")
    live = [r for r in results.table(chapters=(chapter,)) if r["chapter"] == chapter]
    run = runs(folder).get(chapter)
    text = tables.beside(live, rows(chapter, folder), run)
    n = sum(1 for line in text.splitlines() if line.startswith("| ")) - 1
    if not fold or n < 1:
        return text
    return (
        f"<details>\n<summary>This run beside the full profile: {n} numbers</summary>"
        f"\n\n{text}\n\n</details>"
    )


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(
        prog="python -m robustcore.full_records", description=__doc__.split("\n\n")[0]
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    pub = sub.add_parser("publish", help="commit the records of a `make full` folder")
    pub.add_argument("out", help="the folder `make full` wrote (e.g. _build/full)")
    pub.add_argument("--chapters", default="", help="e.g. '03,04' (default: all)")
    pub.add_argument("--progress", default=None, help="the run's --progress folder")
    sub.add_parser("show", help="print the committed full-profile records")
    args = p.parse_args(argv)
    if args.cmd == "show":
        for r in rows():
            print(f"{r['chapter']}  {r['name']}: {r['value']:.4g}{r['unit']}")
        return 0
    picked = tuple(args.chapters.replace(",", " ").split())
    try:
        done = publish(args.out, picked, progress=args.progress)
    except ValueError as e:
        p.error(str(e))
    print(f"published chapters {', '.join(done) or '(none)'} into {FOLDER}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
