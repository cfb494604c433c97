"""Same seeds, same numbers: two runs of the book compared record by record.

CI runs every chapter twice with the same seeds (under nbval, and from the built wheel
in a fresh environment); :func:`compare` lists every headline number and claim verdict
that differs between the two results folders, and :func:`check` (``python -m
robustcore.results compare DIR_A DIR_B``) prints them and gives the exit status.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import io
from .results import book_chapters, read


def compare(dir_a: str | os.PathLike, dir_b: str | os.PathLike) -> list[str]:
    """Differences between the headline numbers recorded in two results folders (empty:
    identical).

    Compares every ``value`` and ``reference`` of every chapter and profile found in
    either folder; the time and machine of a record are not compared. Used to check that
    two runs of the book with the same seeds give the same numbers.
    """
    a, b = Path(dir_a), Path(dir_b)
    for arg, d in (("dir_a", a), ("dir_b", b)):
        if not d.is_dir():
            raise ValueError(
                f"{arg} must be a results folder, got {str(d)!r} (not a directory)"
            )
    names = sorted(
        {p.name for p in a.glob("chapter*-*.json")}
        | {p.name for p in b.glob("chapter*-*.json")}
    )
    diffs = []
    for fname in names:
        if fname.endswith(".claims.json"):  # the claims' verdicts (robustcore.claims)
            ra, rb = (
                io.read_json(d / fname) if (d / fname).is_file() else {} for d in (a, b)
            )
            fields: tuple[str, ...] = ("held", "evidence")
        else:
            ra, rb = read(a / fname), read(b / fname)
            fields = ("value", "low", "high", "reference")
        for key in sorted(set(ra) | set(rb)):
            if key not in ra or key not in rb:
                diffs.append(
                    f"{fname}: {key!r} recorded only in {a if key in ra else b}"
                )
                continue
            for field in fields:
                if ra[key].get(field) != rb[key].get(field):
                    diffs.append(
                        f"{fname}: {key!r} {field} "
                        f"{ra[key].get(field)!r} != {rb[key].get(field)!r}"
                    )
    return diffs


def check(
    dir_a: str | os.PathLike,
    dir_b: str | os.PathLike,
    min_records: int = 1,
    toc: str | os.PathLike | None = None,
) -> int:
    """Print the differences between two results folders and how many numbers were
    compared; 0 when identical, 1 on a difference, on fewer than ``min_records``
    records in ``dir_a``, or (with a ``toc``) when a chapter of the book recorded
    nothing. ``ValueError`` if a folder is missing."""
    diffs = compare(dir_a, dir_b)
    n = sum(
        len(read(f))
        for f in Path(dir_a).glob("chapter*-*.json")
        if not f.name.endswith(".claims.json")
    )
    for d in diffs:
        print("DIFFERENT:", d)
    print(f"compared {n} headline numbers in {dir_a} and {dir_b}: {len(diffs)} differ")
    if n < min_records:
        print(f"expected at least {min_records} records in {dir_a}")
        return 1
    if toc is not None:
        silent = [
            c
            for c in book_chapters(toc)
            if not list(Path(dir_a).glob(f"chapter{c}-*.json"))
        ]
        if silent:
            print(
                f"chapter(s) {', '.join(silent)} of {toc} recorded nothing in {dir_a}"
            )
            return 1
    return 1 if diffs else 0
