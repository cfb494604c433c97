"""Claims fixed before measuring, and every later change to them, in one declared place.

``book/preregistration.json`` holds, for every keyed claim of every chapter
(``claims.check`` / ``claims.report`` with ``key=``, see :mod:`robustcore.claims`), its
wording, the date it was first committed and why it could fail (``could_fail``: the
outcome that would make it false and a realistic way a run gets there, written by hand
when the claim is registered), and the list of amendments: a claim whose
wording or condition changed after a measurement, with the date, the old and the new
wording, and the measurement that prompted it. The appendix page "Pre-registered
claims" shows it; ``tests/test_citations.py`` fails when a chapter's claim differs from
its registered wording without an amendment.

    python tools/preregistration.py check             # differences, exit 1 if any
                                                      # (a claim without could_fail too)
    python tools/preregistration.py register          # new keys, dated today
    python tools/preregistration.py amend KEY --reason "what was measured" \
        [--condition "old → new"]
    python tools/preregistration.py withdraw KEY --reason "why"   # a claim taken out
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = ROOT / "book" / "preregistration.json"
CHAPTERS = "book/0[0-9]_*.py"
KEY = re.compile(r"^(\d\d)-[a-z0-9]+(-[a-z0-9]+)*$")


def _cells(source: str) -> list[str]:
    """The code cells of a percent-format chapter (its Markdown cells are comments)."""
    return re.split(r"^# %%.*$", source, flags=re.M)


def claims_in(
    source: str, name: str = "chapter", require_key: bool = True
) -> list[tuple[list[str], str, str]]:
    """Every ``claims.check`` / ``report`` / ``skip`` call of a chapter's source, as (its
    keys, its wording, the method): a literal key, or the literals of a dict /
    conditional of keys in a loop; the wording is the first argument as written (an
    f-string unparsed). ``ValueError`` for a call without a literal key."""
    found = []
    trees = []
    for cell in _cells(source):
        try:
            trees.append(ast.parse(cell))
        except SyntaxError:  # the Colab install cell (a %pip line)
            continue
    # a key may name a dict of literal keys assigned elsewhere in the chapter
    named = {
        n.targets[0].id: n.value
        for tree in trees
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign)
        and len(n.targets) == 1
        and isinstance(n.targets[0], ast.Name)
    }
    for tree in trees:
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("check", "report", "skip")
                and getattr(node.func.value, "id", "") == "claims"
                and node.args
            ):
                continue
            key = next((k.value for k in node.keywords if k.arg == "key"), None)
            where = f"{name}: the claim {ast.unparse(node.args[0])[:60]}"
            text = node.args[0]
            wording = (
                text.value if isinstance(text, ast.Constant) else ast.unparse(text)
            )
            if key is None and not require_key:  # a chapter of before the keys
                found.append(([], wording, node.func.attr))
                continue
            if key is None:
                raise ValueError(f"{where} has no key")
            if any(isinstance(c, ast.JoinedStr) for c in ast.walk(key)):
                raise ValueError(f"{where}: its key must be a literal, not an f-string")
            parts = [key] + [
                named[n.id]
                for n in ast.walk(key)
                if isinstance(n, ast.Name) and n.id in named
            ]
            keys = [
                c.value
                for part in parts
                for c in ast.walk(part)
                if isinstance(c, ast.Constant)
                and isinstance(c.value, str)
                and KEY.match(c.value)
            ]
            if not keys:
                raise ValueError(f"{where}: its key must be a literal 'NN-words'")
            found.append((keys, wording, node.func.attr))
    return found


def current(root: Path = ROOT) -> dict[str, dict[str, str]]:
    """Key → ``{"chapter", "text"}`` for every keyed claim of the book's chapters."""
    out: dict[str, dict[str, str]] = {}
    for path in sorted(root.glob(CHAPTERS)):
        for keys, text, _ in claims_in(path.read_text(), path.name):
            for k in keys:
                out[k] = {"chapter": path.name[:2], "text": text}
    return out


def problems(source: str, name: str = "chapter") -> list[str]:
    """A key that two decided claims share, or a skipped claim (``claims.skip``, the
    branch a run without the data takes) whose wording differs from the decided claim
    of the same key."""
    decided: dict[str, str] = {}
    out = []
    calls = claims_in(source, name)
    for keys, text, method in calls:
        for k in keys if method != "skip" else []:
            if k in decided:
                out.append(f"{name}: the key {k} is used twice")
            decided[k] = text
    for keys, text, method in calls:
        for k in keys if method == "skip" else []:
            if k in decided and decided[k] != text:
                out.append(f"{name}: {k} is skipped with another wording")
    return out


def load(path: Path = REGISTRY) -> dict:
    return (
        json.loads(path.read_text())
        if path.is_file()
        else {"claims": {}, "amendments": []}
    )


def save(reg: dict, path: Path = REGISTRY) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps(reg, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
    )
    tmp.replace(path)


def differences(reg: dict, now: dict[str, dict[str, str]]) -> list[str]:
    """What the chapters claim that the registry does not hold, and the reverse."""
    claims = reg["claims"]
    out = [f"{k}: not registered" for k in now if k not in claims]
    out += [
        f"{k}: registered, but no chapter claims it" for k in claims if k not in now
    ]
    out += [
        f"{k}: its wording changed without an amendment\n  registered: "
        f"{claims[k]['text']}\n  now:        {now[k]['text']}"
        for k in now
        if k in claims and claims[k]["text"] != now[k]["text"]
    ]
    return out


def unexplained(reg: dict) -> list[str]:
    """The registered claims that do not say why they could fail."""
    return [
        f"{k}: says not why it could fail (write its could_fail)"
        for k, c in reg["claims"].items()
        if not str(c.get("could_fail", "")).strip()
    ]


def _first_commit_dates(texts: set[str]) -> dict[str, str]:
    """For each wording, the date of the first commit whose chapters contain it (git
    history; wordings not found are left out)."""

    def git(*a: str) -> str:
        return subprocess.run(
            ["git", *a], capture_output=True, text=True, cwd=ROOT, check=True
        ).stdout

    dates: dict[str, str] = {}
    log = git("log", "--reverse", "--format=%H %ad", "--date=short", "--", "book/")
    for line in log.splitlines():
        commit, date = line.split()
        names = git("ls-tree", "--name-only", commit, "book/").split()
        for f in (n for n in names if re.match(r"book/0\d_.*\.py$", n)):
            source = git("show", f"{commit}:{f}")
            held = {w for _, w, _ in claims_in(source, f, require_key=False)}
            for t in (texts & held) - set(dates):
                dates[t] = date
    return dates


def register(
    reg: dict, now: dict[str, dict[str, str]], history: bool = False
) -> list[str]:
    """Add the chapters' new keys, dated today (or, with ``history``, by the first
    commit whose chapter held their wording); returns the keys added."""
    today = datetime.date.today().isoformat()
    new = [k for k in now if k not in reg["claims"]]
    dates = _first_commit_dates({now[k]["text"] for k in new}) if history else {}
    for k in new:
        since = dates.get(now[k]["text"], today)
        reg["claims"][k] = {**now[k], "since": since, "could_fail": ""}
    reg["claims"] = dict(sorted(reg["claims"].items()))
    return new


def amend(
    reg: dict,
    now: dict[str, dict[str, str]],
    key: str,
    reason: str,
    condition: str = "",
) -> dict:
    """Record that claim ``key`` now reads as the chapter has it, and why; a changed
    condition (what decides the claim) is said in ``condition`` ("old → new")."""
    if key not in now or key not in reg["claims"]:
        raise ValueError(f"key must be a registered claim of a chapter, got {key!r}")
    if not reason.strip():
        raise ValueError("reason must say which measurement prompted the amendment")
    old = reg["claims"][key]["text"]
    if old == now[key]["text"] and not condition:
        raise ValueError(f"{key} reads as registered: say what changed in condition")
    entry = {
        "date": datetime.date.today().isoformat(),
        "chapter": now[key]["chapter"],
        "key": key,
        "old": old,
        "new": now[key]["text"],
        "reason": reason,
        **({"condition": condition} if condition else {}),
    }
    reg["amendments"].append(entry)
    reg["claims"][key] = {**reg["claims"][key], "text": now[key]["text"]}
    return entry


def withdraw(reg: dict, now: dict[str, dict[str, str]], key: str, reason: str) -> dict:
    """Take claim ``key``, which no chapter declares any more, out of the registry, and
    list it among the amendments with the reason (e.g. it repeated another claim on
    the same numbers)."""
    if key not in reg["claims"] or key in now:
        raise ValueError(
            f"key must be a registered claim that no chapter declares, got {key!r}"
        )
    if not reason.strip():
        raise ValueError("reason must say why the claim was withdrawn")
    old = reg["claims"].pop(key)
    entry = {
        "date": datetime.date.today().isoformat(),
        "chapter": old["chapter"],
        "key": key,
        "old": old["text"],
        "new": "",
        "reason": reason,
        "withdrawn": True,
    }
    reg["amendments"].append(entry)
    return entry


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check")
    r = sub.add_parser("register")
    r.add_argument("--history", action="store_true", help="date new keys from git")
    a = sub.add_parser("amend")
    a.add_argument("key")
    a.add_argument("--reason", required=True)
    a.add_argument("--condition", default="", help="old → new condition, if changed")
    w = sub.add_parser("withdraw")
    w.add_argument("key")
    w.add_argument("--reason", required=True)
    args = p.parse_args(argv)
    reg, now = load(), current()
    if args.cmd == "check":
        diffs = differences(reg, now) + unexplained(reg)
        print("\n".join(diffs) or f"{len(now)} claims, all as registered")
        return 1 if diffs else 0
    if args.cmd == "register":
        print(
            "registered:", ", ".join(register(reg, now, args.history)) or "nothing new"
        )
    elif args.cmd == "withdraw":
        print(withdraw(reg, now, args.key, args.reason))
    else:
        print(amend(reg, now, args.key, args.reason, args.condition))
    save(reg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
