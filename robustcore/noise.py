"""Which digits are noise: a chapter's recorded numbers under two reduction orders.

A training run or a long optimisation carries the last bits of float sums, whose order
depends on the CPU's instruction set and the thread count, into its result. So the same
recipe, on another machine, can give a number a few tenths of a point away. ``python
tools/noise.py NN`` runs chapter NN twice, on this machine's kernels and under a second
reduction order (``tools/second_order.py``), and :func:`publish` commits which of its
recorded numbers moved and by how much (small JSON beside the full-profile records).
:func:`table` shows it in the chapter: a difference between two numbers smaller than
what moves here means nothing.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

from . import checks, io, results, tables
from .full_records import FOLDER

FILE = "noise.json"  # chapter id → its measurement, in full_records.FOLDER


def measure(
    chapter: str,
    dir_a: str | os.PathLike,
    dir_b: str | os.PathLike,
    orders: tuple[str, str],
    profile: str = "quick",
) -> dict[str, Any]:
    """Compare ``chapter``'s records in two results folders (the same chapter run under
    the two reduction ``orders``, described in words): how many are identical, and the
    values of those that moved."""
    _chapter(chapter)
    if not (isinstance(orders, tuple) and len(orders) == 2):
        raise TypeError(f"orders must be a pair of descriptions, got {orders!r}")
    a, b = (
        {
            r["name"]: r
            for r in results.table(profile, (chapter,), checks.path(d, "dir"))
            if r["chapter"] == chapter and r["value"] is not None
        }
        for d in (dir_a, dir_b)
    )
    if not a or set(a) != set(b):
        raise ValueError(
            f"dir_a and dir_b must both hold chapter {chapter}'s records of the same "
            f"results; got {len(a)} and {len(b)} ({len(set(a) ^ set(b))} unmatched)"
        )
    moved = {
        n: [a[n]["value"], b[n]["value"], a[n]["unit"]]
        for n in a
        if a[n]["value"] != b[n]["value"]
    }
    return {
        "orders": list(orders),
        "profile": profile,
        "recorded": len(a),
        "identical": len(a) - len(moved),
        "moved": moved,
        "machine": results.machine(),
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(
            " ", "seconds"
        ),
    }


def _chapter(chapter: Any) -> str:
    if not (isinstance(chapter, str) and len(chapter) == 2 and chapter.isdigit()):
        raise ValueError(
            f"chapter must be a two-digit id such as '02', got {chapter!r}"
        )
    return chapter


def measured(folder: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """Chapter id → its committed measurement."""
    path = (FOLDER if folder is None else checks.path(folder, "folder")) / FILE
    return io.read_json(path) if path.is_file() else {}


def publish(
    chapter: str, measurement: dict[str, Any], folder: str | os.PathLike | None = None
) -> None:
    """Commit ``chapter``'s measurement (from :func:`measure`) beside the full-profile
    records, replacing an earlier one."""
    _chapter(chapter)
    if not (isinstance(measurement, dict) and {"orders", "moved"} <= set(measurement)):
        raise TypeError("measurement must be what noise.measure returns")
    folder = FOLDER if folder is None else checks.path(folder, "folder")
    io.atomic_write_json(
        dict(sorted({**measured(folder), chapter: measurement}.items())), folder / FILE
    )


def _difference(d: float, unit: str) -> str:
    """A difference of two numbers in ``unit``: of two percentages, in points."""
    return f"{d:+.2g} points" if unit == "%" else f"{d:+.2g}{unit}"


def table(chapter: str, folder: str | os.PathLike | None = None) -> str:
    """Markdown: which of ``chapter``'s recorded numbers moved under another reduction
    order, by how much, and where that was measured; or that it was not yet."""
    m = measured(folder).get(_chapter(chapter))
    if m is None:
        return (
            f"*Chapter {chapter} has not been run under a second reduction order yet.*"
        )
    a, b = m["orders"]
    said = (
        f"Run twice on {m['machine']} ({m['profile']} profile, {m['finished'][:10]}): "
        f"{a}, then {b}. {m['identical']} of {m['recorded']} recorded numbers came out "
        "identical"
    )
    if not m["moved"]:
        return said + "; none moved."
    rows = [
        (name, f"{va:.4g}{unit}", f"{vb:.4g}{unit}", _difference(vb - va, unit))
        for name, (va, vb, unit) in sorted(
            m["moved"].items(), key=lambda kv: -abs(kv[1][1] - kv[1][0])
        )
    ]
    return tables.markdown(
        ["result", a, b, "difference"],
        rows,
        said
        + (
            "; this one moved."
            if len(rows) == 1
            else f"; these {len(rows)} moved, largest difference first."
        ),
    )
