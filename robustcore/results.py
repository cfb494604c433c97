"""Headline results that chapters record as they run, for the reproduction summary.

A chapter calls :func:`record` for each number it puts beside a published one; the
book's reproduction summary reads them back with :func:`load_all` — nothing in the
summary is typed. Records live in ``$ROBUSTCORE_RESULTS`` (default
``~/.cache/robustcore/results``), one JSON file per chapter and profile, written
atomically::

    results.record("01", "Adv. trained CNN, PGD-40", stats.proportion(correct),
                   unit="%", reference="madry/pgd40", dataset="MNIST")

:func:`table` gives them as rows, :func:`robustcore.tables.records` as Markdown
tables. Command line: ``python -m robustcore.results show [--profile quick|full]``
prints them; ``python -m robustcore.results compare DIR_A DIR_B`` exits 1 unless two
runs recorded identical numbers.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import time
from pathlib import Path
from typing import Any

import torch

from . import checks, io, profiles, references, stats
from .utils import env_dir

ENV_VAR = "ROBUSTCORE_RESULTS"


def results_dir() -> Path:
    """``$ROBUSTCORE_RESULTS`` or ``~/.cache/robustcore/results``."""
    return env_dir(ENV_VAR, "results")


def _path(chapter: str, profile: str, folder: Path | None = None) -> Path:
    return (folder or results_dir()) / f"chapter{chapter}-{profile}.json"


def machine() -> str:
    """A one-line description of where this runs (GPU name, or CPU and core count)."""
    if torch.cuda.is_available():
        return f"GPU {torch.cuda.get_device_name(0)}"
    return (
        f"CPU {platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__.split('+')[0]}"
    )


def _plain(v: Any, name: str) -> Any:
    """A one-element tensor or NumPy scalar as a Python number (chapters often hold
    those)."""
    if isinstance(v, torch.Tensor):
        if v.numel() != 1:
            raise ValueError(
                f"{name} must be a single number, "
                f"got a tensor of shape {tuple(v.shape)}"
            )
        return v.item()
    if (
        type(v).__module__ == "numpy"
        and hasattr(v, "item")
        and getattr(v, "ndim", 1) == 0
    ):
        return v.item()
    return v


def record(
    chapter: str,
    name: str,
    value: float | stats.Estimate,
    *,
    reference: str | None = None,
    dataset: str = "",
    same_protocol: bool = True,
    model: str = "",
    same_model: bool = False,
    unit: str = "",
    what: str = "",
    profile: str | None = None,
) -> dict[str, Any]:
    """Record one headline number of ``chapter`` (e.g. ``"04"``) under ``name``.

    ``value``: a number, or a :class:`robustcore.stats.Estimate` (its n and interval
    are kept; a proportion is stored in percent when ``unit`` is ``"%"``).
    ``reference``: the key of the published number it stands beside
    (:data:`robustcore.references.REFERENCES`); ``dataset``, ``same_protocol`` and
    ``same_model`` say whether ours is a *reproduction* of it (same data, protocol and
    model: a gap is shown) or an *analogue* (:func:`robustcore.references.comparison`);
    ``model`` says what ours is (architecture and recipe), and the record keeps the
    difference in words (:func:`robustcore.references.difference`). ``what``: a note on
    what we measured. Recording the same name again replaces it. Returns the stored
    record.
    """
    _check_chapter(chapter)
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}")
    for arg, v in (
        ("unit", unit),
        ("what", what),
        ("dataset", dataset),
        ("model", model),
    ):
        if not isinstance(v, str):
            raise TypeError(f"{arg} must be a string, got {type(v).__name__}")
    n = low = high = None
    if isinstance(value, stats.Estimate):
        k = 100.0 if unit == "%" else 1.0
        value, n, low, high = k * value.value, value.n, k * value.low, k * value.high
    value = checks.number(_plain(value, "value"), "value", lo=-math.inf)
    ref: dict[str, Any] = {"reference": None, "kind": None}
    if reference is not None:
        if not dataset:
            raise ValueError(
                "dataset must name what ours was measured on (e.g. 'MNIST') when a "
                "reference is given"
            )
        entry = references.get(reference)
        like = (reference, dataset, same_protocol, same_model)
        kind = references.comparison(*like)
        if not same_model and not model:
            raise ValueError(
                "model must say what ours is (e.g. 'a small CNN trained with PGD-10') "
                "when a reference is given and same_model is False"
            )
        ref = {
            "reference": entry.value,
            "reference_key": reference,
            "kind": kind,
            "difference": references.difference(*like, model=model, protocol=what),
            "model": model,
            "source": entry.source,
            "measured": entry.measured,
            "cite": entry.cite,
            "dataset": dataset,
        }
    profile = profiles.resolve(profile)
    path = _path(chapter, profile)
    stored = read(path)
    rec = {
        "value": value,
        "n": n,
        "low": low,
        "high": high,
        **ref,
        "unit": unit,
        "what": what,
        "profile": profile,
        "machine": machine(),
        "recorded": time.strftime("%Y-%m-%d %H:%M:%S"),
        "order": stored.get(name, {}).get("order", len(stored)),
    }
    stored[name] = rec
    io.atomic_write_json(stored, path)
    return rec


def read(path: Path) -> dict[str, dict[str, Any]]:
    """A chapter's records file, or ``{}`` if absent; ``ValueError`` naming the file if
    it is unreadable."""
    path = checks.path(path, "path")
    if not path.is_file():
        return {}
    try:
        stored = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(
            f"{path} is not a results file (invalid JSON: {e}); "
            "delete it and rerun the chapter"
        ) from None
    if not isinstance(stored, dict) or not all(
        isinstance(v, dict) and "value" in v for v in stored.values()
    ):
        raise ValueError(
            f"{path} is not a results file ({{name: {{'value': ...}}}}); "
            "delete it and rerun the chapter"
        )
    return stored


def _check_chapter(chapter: Any) -> str:
    if not isinstance(chapter, str) or not chapter:
        raise TypeError(
            f"chapter must be a non-empty string such as '04', got {chapter!r}"
        )
    if not chapter.replace("_", "").replace("-", "").isalnum():
        raise ValueError(
            "chapter must be letters, digits, '-' or '_' (it names a file), "
            f"got {chapter!r}"
        )
    return chapter


def load(
    chapter: str, profile: str | None = None, folder: Path | None = None
) -> dict[str, dict[str, Any]]:
    """The records of one chapter in one profile (empty if it has not run), in recording
    order; ``folder``: where to look (default :func:`results_dir`)."""
    _check_chapter(chapter)
    profile = profiles.resolve(profile)
    stored = read(_path(chapter, profile, folder))
    return dict(sorted(stored.items(), key=lambda kv: kv[1].get("order", 0)))


def load_all(
    profile: str | None = None, folder: Path | None = None
) -> dict[str, dict[str, dict[str, Any]]]:
    """Every chapter's records in ``profile``: ``{chapter: {name: record}}``, chapters
    sorted; ``folder`` as in :func:`load`."""
    profile = profiles.resolve(profile)
    found = sorted((folder or results_dir()).glob(f"chapter*-{profile}.json"))
    ids = [p.name[len("chapter") : -len(f"-{profile}.json")] for p in found]
    return {c: load(c, profile, folder) for c in ids}


def like_for_like(rec: dict[str, Any]) -> dict[str, Any]:
    """A stored record with its comparison as the registry rules today: a record made
    before the models were compared (no ``"difference"``) never counts as a
    reproduction — it becomes an analogue, its model unknown."""
    if not isinstance(rec, dict) or "value" not in rec:
        raise TypeError(
            f"rec must be a stored record (a dict with a value), got {rec!r}"
        )
    if rec.get("reference_key") is None or "difference" in rec:
        return rec
    key, dataset = rec["reference_key"], rec.get("dataset") or "?"
    same_protocol = rec.get("kind") == "reproduction"
    return {
        **rec,
        "kind": "analogue",
        "difference": references.difference(
            key, dataset, same_protocol, False, "not recorded", rec.get("what", "")
        ),
    }


def gap(rec: dict[str, Any]) -> float | None:
    """``value − reference`` of a reproduction; None for an analogue (other data,
    protocol or model: no gap) or a record without a reference."""
    ref = rec.get("reference")
    if ref is None or isinstance(ref, str) or rec.get("kind") != "reproduction":
        return None
    return rec["value"] - ref


_ROW_FIELDS = (
    "value",
    "n",
    "low",
    "high",
    "reference",
    "reference_key",
    "kind",
    "difference",
    "source",
    "measured",
    "cite",
    "gap",
)


def table(
    profile: str | None = None,
    chapters: tuple[str, ...] = (),
    folder: Path | None = None,
) -> list[dict[str, Any]]:
    """Every record of ``profile`` as rows ``{chapter, name, value, n, low, high,
    reference, reference_key, kind, difference, source, measured, cite, gap, unit,
    what, profile, machine, recorded}``. A chapter of ``chapters`` without records gets
    one row whose ``value`` is None ("not run here"), so a summary shows what is
    missing instead of hiding it. ``folder`` as in :func:`load`."""
    profile = profiles.resolve(profile)
    for c in chapters:
        _check_chapter(c)
    found = load_all(profile, folder)
    rows: list[dict[str, Any]] = []
    for chapter in sorted(set(found) | set(chapters)):
        recs = found.get(chapter, {})
        if not recs:
            rows.append(
                {
                    **dict.fromkeys(_ROW_FIELDS),
                    "chapter": chapter,
                    "name": "(no results recorded)",
                    "unit": "",
                    "what": "not run here",
                    "profile": profile,
                    "machine": "",
                    "recorded": "",
                }
            )
        for name, rec in recs.items():
            rec = like_for_like(rec)
            rows.append(
                {
                    **{f: rec.get(f) for f in _ROW_FIELDS},
                    "chapter": chapter,
                    "name": name,
                    "gap": gap(rec),
                    "unit": rec.get("unit", ""),
                    "what": rec.get("what", ""),
                    "profile": rec.get("profile", profile),
                    "machine": rec.get("machine", ""),
                    "recorded": rec.get("recorded", ""),
                }
            )
    return rows


def book_chapters(toc: str | os.PathLike) -> dict[str, str]:
    """Chapter id → title for every chapter listed in a Jupyter Book ``_toc.yml``.

    A chapter is an entry ``file: book/NN_name`` (NN: its two-digit id); its title is
    the first ``# # Heading`` line of the paired ``book/NN_name.py``. Adding a chapter
    to the table of contents is all it takes for the summary page and the CI check to
    know it.
    """
    toc = checks.path(toc, "toc")
    if not toc.is_file():
        raise FileNotFoundError(f"no table of contents at {toc}")
    out = {}
    for m in re.finditer(
        r"^\s*-?\s*file:\s*(\S*?(\d\d)_[\w-]+)\s*$", toc.read_text(), re.M
    ):
        src = toc.parent / f"{m[1]}.py"
        heads = (
            re.findall(r"^# # (.+)$", src.read_text(), re.M) if src.is_file() else []
        )
        out[m[2]] = heads[0].strip() if heads else m[1]
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(
        prog="python -m robustcore.results", description=__doc__.split("\n\n")[0]
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("show", help="print the recorded headline numbers of a profile")
    s.add_argument("--profile", choices=profiles.NAMES, default=None)
    c = sub.add_parser(
        "compare", help="exit 1 unless two results folders hold identical numbers"
    )
    c.add_argument("dir_a")
    c.add_argument("dir_b")
    c.add_argument(
        "--min-records",
        type=int,
        default=1,
        help="fail if fewer records than this were compared",
    )
    c.add_argument(
        "--toc",
        default=None,
        help="a _toc.yml: fail unless every chapter in it recorded numbers",
    )
    args = p.parse_args(argv)
    if args.cmd == "show":
        for r in table(args.profile):
            ref = (
                "" if r["reference"] is None else f"  ({r['kind']} of {r['reference']})"
            )
            val = "not run" if r["value"] is None else f"{r['value']:.4g}{r['unit']}"
            print(f"{r['chapter']}  {r['name']}: {val}{ref}")
        return 0
    from . import determinism  # the check of two runs, in its own module

    try:
        return determinism.check(args.dir_a, args.dir_b, args.min_records, args.toc)
    except ValueError as e:
        p.error(str(e))


if __name__ == "__main__":
    import sys

    sys.exit(main())
