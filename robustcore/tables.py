"""Markdown tables for the chapters' results: a header and rows in, one string out, so
that a chapter states *what* goes in a table and not how Markdown spells it."""

from __future__ import annotations

import csv as _csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from . import references

__all__ = ["beside", "markdown", "records"]


def markdown(
    header: Sequence[str], rows: Iterable[Sequence[object]], caption: str = ""
) -> str:
    """A Markdown table: ``header`` (column titles), ``rows`` (one sequence of cells per
    row, each as long as the header, written with ``str``), under an optional
    ``caption``."""
    if isinstance(header, str) or not all(isinstance(h, str) for h in header):
        raise TypeError("header must be a sequence of column titles (str)")
    if not header:
        raise ValueError("header must name at least one column")
    if not isinstance(caption, str):
        raise TypeError(f"caption must be a str, got {type(caption).__name__}")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i, row in enumerate(rows):
        cells = list(row)
        if len(cells) != len(header):
            raise ValueError(
                f"rows[{i}] must have {len(header)} cells (one per column), "
                f"got {len(cells)}"
            )
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return (f"{caption}\n\n" if caption else "") + "\n".join(lines)


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "—"
    return f"{v:.1f}%" if unit == "%" else f"{v:.3g}{' ' + unit if unit else ''}"


def _ours(row: dict[str, Any]) -> str:
    """A row's value as text: ``"93.2% [90.6, 95.1], n=500"`` (interval and n where
    recorded)."""
    if row["value"] is None:
        return "not run here"
    text = _fmt(row["value"], row["unit"])
    if row.get("low") is not None:
        lo, hi = (_fmt(row[k], row["unit"]).rstrip("%") for k in ("low", "high"))
        text += f" [{lo}, {hi}]"
    return text + (f", n={row['n']:,}" if row.get("n") else "")


def records(rows: list[dict[str, Any]], kind: str | None) -> str:
    """The rows of one ``kind`` (from :func:`robustcore.results.table`) as a Markdown
    table: ``"reproduction"`` (with the gap, ours minus the published number),
    ``"analogue"`` (the published number is context: no gap) or None (ours only: no
    published counterpart)."""
    if kind not in (*references.KINDS, None):
        raise ValueError(
            f"kind must be one of {references.KINDS} or None, got {kind!r}"
        )
    rows = [r for r in rows if r.get("kind") == kind]
    if kind is None:
        return markdown(
            ["ch.", "result", "ours", "note"],
            [(r["chapter"], r["name"], _ours(r), r["what"] or "") for r in rows],
        )
    gap = kind == "reproduction"
    header = ["ch.", "result", "ours", "published", *(["gap"] if gap else [])]
    body = []
    for r in rows:
        cells = [r["chapter"], r["name"], _ours(r), _fmt(r["reference"], r["unit"])]
        if gap:
            cells.append(_gap(r))
        else:  # what ours shares with the published number and what not
            cells.append(r.get("difference") or "")
        body.append((*cells, r["measured"], r["source"]))
    extra = [] if gap else ["how they differ"]
    return markdown([*header, *extra, "what was published", "source"], body)


def _gap(row: dict[str, Any]) -> str:
    if row["gap"] is None:
        return "—"
    return f"{row['gap']:+.1f} pp" if row["unit"] == "%" else f"{row['gap']:+.3f}"


def beside(
    live: list[dict[str, Any]], full: list[dict[str, Any]], run: dict[str, Any] | None
) -> str:
    """One chapter's numbers from this run (``live``, rows of
    :func:`robustcore.results.table`) beside its committed full-profile records
    (``full``, the same kind of rows) and the published numbers, as Markdown, with where
    and when the full profile ran (``run``, from
    :func:`robustcore.full_records.runs`; None: not run yet). With no full-profile
    records, only the sentence that says so."""
    for arg, rows in (("live", live), ("full", full)):
        if not isinstance(rows, list) or not all(
            isinstance(r, dict) and {"name", "value"} <= set(r) for r in rows
        ):
            raise TypeError(f"{arg} must be a list of results.table rows")
    if run is not None and not (
        isinstance(run, dict) and {"device", "seconds"} <= set(run)
    ):
        raise TypeError("run must be None or a run of full_records.runs()")
    live = [r for r in live if r["value"] is not None]
    mine = {r["name"]: r for r in live}
    theirs = {r["name"]: r for r in full if r["value"] is not None}
    profile = live[0]["profile"] if live else "quick"
    names = list(mine) + [n for n in theirs if n not in mine]
    body = []
    for name in names:
        r = mine.get(name) or theirs[name]
        ref = "—" if r["reference"] is None else _fmt(r["reference"], r["unit"])
        kinds = {
            k: x[name]["kind"]
            for k, x in (("this run", mine), ("full", theirs))
            if name in x and x[name]["kind"]
        }
        if len(set(kinds.values())) == 1:
            ref += f" ({next(iter(kinds.values()))})"
        elif kinds:  # e.g. a reproduction at full scale, an analogue in a smaller run
            ref += " (" + "; ".join(f"{k}: {v}" for k, v in kinds.items()) + ")"
        body.append(
            (
                name,
                _ours(mine[name]) if name in mine else "not run here",
                _ours(theirs[name]) if name in theirs else "—",
                ref,
            )
        )
    head = ["result", f"this run ({profile})", "full profile, recorded", "published"]
    # under the table, once per difference, the analogues it applies to
    differs: dict[str, list[str]] = {}
    for r in [*mine.values(), *theirs.values()]:
        if r.get("kind") == "analogue" and r.get("difference"):
            names = differs.setdefault(r["difference"], [])
            if r["name"] not in names:
                names.append(r["name"])
    if run is None:
        note = (
            "No full-profile run of this chapter is committed yet "
            "(`make full` runs it; see the README)."
        )
        if not theirs:  # nothing to set beside this run's numbers: one sentence
            return note
    else:
        changed = "; ".join(f"{k} = {v}" for k, v in (run.get("set") or {}).items())
        note = (
            f"Full profile measured on {run['device']} ({run['machine']}), "
            f"finished {str(run['finished'])[:10]}, commit {str(run['commit'])[:7]}, "
            f"torch {run['torch']}, {run['seconds'] / 60:.0f} min"
            + (f"; run with {changed}" if changed else "")
            + "."
        )
    notes = "".join(
        "\n- " + "; ".join(f"*{n}*" for n in names) + f": {d}."
        for d, names in differs.items()
    )
    if notes:
        note += "\n\nHow each analogue differs from the published number:" + notes
    return markdown(head, body) + "\n\n" + note


CSV_FIELDS = (
    "chapter", "name", "kind", "value", "low", "high", "n", "unit", "reference",
    "difference", "measured", "source",
)  # fmt: skip


def csv(rows: list[dict[str, Any]], kinds: tuple[str | None, ...]) -> str:
    """The rows (from :func:`robustcore.results.table`) of the given ``kinds``
    (``"reproduction"``, ``"analogue"``, None: ours only) as CSV text, one line per
    result: ours with its interval and n, and the published number with how the two
    differ and where it was published."""
    if not isinstance(kinds, tuple) or any(
        k not in (*references.KINDS, None) for k in kinds
    ):
        raise ValueError(
            f"kinds must be a tuple of {references.KINDS} or None, got {kinds!r}"
        )
    out = io.StringIO()
    w = _csv.DictWriter(out, CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        if r.get("kind") in kinds and r.get("value") is not None:
            w.writerow({k: r.get(k) for k in CSV_FIELDS})
    return out.getvalue()
