"""Mutation testing of robustcore's algorithm modules: ``make mutation`` (slow; not run in CI).

Each mutant changes one site of one module — a comparison (``<`` ↔ ``<=``, ``==`` ↔ ``!=``, ...),
an arithmetic or bitwise operator (``+`` ↔ ``-``, ``*`` ↔ ``/``, ``&`` ↔ ``|``, ...), ``and`` ↔ ``or``,
a dropped ``not`` / unary minus / ``~``, a number (0 ↔ 1, else n + 1), ``True`` ↔ ``False``,
min ↔ max (also minimum/maximum, amin/amax, argmin/argmax, any/all, floor/ceil) or a returned
expression replaced by ``None`` — in a private copy of the package, and runs only that module's
test files (``-x -q -m "not slow"``; tests/test_mutants.py first). A mutant is *killed* when the
tests fail (or time out: 5× the unmutated run + 2 min). Mutated: the bodies of functions and methods,
less docstrings, f-strings, ``raise`` statements (messages) and the input checks (``_check*``,
``check_*``: the subject of test_misuse.py); not signatures' defaults or module constants.

Writes ``_build/mutation/report.md`` (per module: killed / total / score; every survivor with
file:line and its diff) and ``results.json`` (kept across runs, so one module can be rerun alone).
Mutants that cannot change behaviour are allow-listed with a reason in
``tools/mutation_equivalent.json``; the score is killed / (mutants − equivalent).

Usage: ``python tools/mutation.py [--jobs 2] [--resume | --list | --report] [MODULE ...]``
(modules: see MODULES). Results are saved after every mutant; ``--resume`` keeps the previous
verdicts and runs only the survivors (e.g. after adding a test) and the mutants not run yet (after
an interruption). ``--report`` rewrites the report from results.json (after editing the allow-list).

Why not mutmut (the first choice; 3.x has per-function mutants, ``results`` and ``show``): mutmut 3
skips every decorated function, because its trampolines copy the function body and a decorator
could run twice; here the very functions this run is for — ``pgd``, ``fgsm``, ``one_pixel``,
``latent_attack``, ``arae_loss``, ``dae_loss`` — are all wrapped in ``@checks.checked``. It would
also copy the whole project (36 MB of artifacts) into ``mutants/``. This file needs nothing beyond
the standard library.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import copy
import datetime
import difflib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "mutation"
EQUIVALENT = Path(__file__).with_name("mutation_equivalent.json")
EXTRA_TESTS = (
    "tests/test_mutants.py"  # tests written to kill survivors; run with every module
)

# name: (file, its test files or test ids, top-level functions to mutate (None: all))
MODULES = {
    "pgd": ("robustcore/attacks/pgd.py", ["tests/test_attacks.py"], None),
    "fgsm": ("robustcore/attacks/fgsm.py", ["tests/test_attacks.py"], None),
    "base": ("robustcore/attacks/base.py", ["tests/test_attacks.py"], None),
    "onepixel": ("robustcore/attacks/onepixel.py", ["tests/test_onepixel.py"], None),
    "differential_evolution": (
        "robustcore/attacks/differential_evolution.py",
        ["tests/test_onepixel.py"],
        None,
    ),
    "metrics": ("robustcore/metrics.py", ["tests/test_metrics.py"], None),
    "novelty": (
        "robustcore/novelty/model.py",  # the losses, the latent attack and the scores, not fit()
        [
            "tests/test_novelty_algorithms.py",
            "tests/test_attacks.py::test_latent_attack_ends_at_a_farthest_corner_of_the_box",
            "tests/test_attacks.py::test_latent_attack_is_linf_pgd_on_the_latent_distance",
            "tests/test_novelty.py::test_bad_input_is_refused_clearly_and_writes_nothing",
        ],
        {"latent_distance", "latent_attack", "arae_loss", "dae_loss", "scores"},
    ),
    "store": (
        "robustcore/store.py",
        ["tests/test_store.py", "tests/test_store_algorithms.py"],
        None,
    ),
}
SKIP = ("_check", "check_")
A = ast
BINOPS = {
    A.Add: A.Sub,
    A.Sub: A.Add,
    A.Mult: A.Div,
    A.Div: A.Mult,
    A.FloorDiv: A.Div,
    A.Mod: A.FloorDiv,
    A.Pow: A.Mult,
    A.BitAnd: A.BitOr,
    A.BitOr: A.BitAnd,
    A.BitXor: A.BitOr,
}
CMPOPS = {
    A.Lt: A.LtE,
    A.LtE: A.Lt,
    A.Gt: A.GtE,
    A.GtE: A.Gt,
    A.Eq: A.NotEq,
    A.NotEq: A.Eq,
    A.Is: A.IsNot,
    A.IsNot: A.Is,
    A.In: A.NotIn,
    A.NotIn: A.In,
}
SYMBOL = {
    A.Add: "+",
    A.Sub: "-",
    A.Mult: "*",
    A.Div: "/",
    A.FloorDiv: "//",
    A.Mod: "%",
    A.Pow: "**",
    A.BitAnd: "&",
    A.BitOr: "|",
    A.BitXor: "^",
}
NAMES = {
    "min": "max",
    "minimum": "maximum",
    "amin": "amax",
    "argmin": "argmax",
    "any": "all",
    "floor": "ceil",
}
NAMES.update({v: k for k, v in NAMES.items()})


def mutants(path: str, only: set[str] | None) -> list[dict]:
    """Every mutant of the file: byte range, replacement text, line, function, before → after."""
    src = (ROOT / path).read_bytes()
    text = src.decode()
    lines = text.splitlines()
    starts = [0]
    for line in src.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    found: list[dict] = []

    def at(line: int, col: int) -> int:
        return starts[line - 1] + col

    def add(
        node: ast.AST, new: ast.AST | str, scope: str, start=None, end=None
    ) -> None:
        """Replace ``node`` by ``new`` (an expression), or bytes start:end by ``new`` (a token)."""
        ns, ne = (
            at(node.lineno, node.col_offset),
            at(node.end_lineno, node.end_col_offset),
        )
        s, e = (ns, ne) if start is None else (start, end)
        if isinstance(new, str):
            repl = new
            after = (src[ns:s] + new.encode() + src[e:ne]).decode()
        else:  # parenthesised, padded with newlines: the lines after it keep their numbers
            after = ast.unparse(new)
            repl = "(" + after + "\n" * (node.end_lineno - node.lineno) + ")"
        found.append(
            {
                "start": s,
                "end": e,
                "repl": repl,
                "line": node.lineno,
                "function": scope,
                "context": lines[node.lineno - 1].strip(),
                "before": " ".join(src[ns:ne].decode().split()),
                "after": " ".join(after.split()),
            }
        )

    def node_end(node: ast.AST) -> int:
        return at(node.end_lineno, node.end_col_offset)

    def collect(node: ast.AST, scope: str) -> None:
        if isinstance(node, ast.BinOp) and type(node.op) in BINOPS:
            add(node, _with(node, op=BINOPS[type(node.op)]()), scope)
        elif isinstance(node, ast.AugAssign) and type(node.op) in BINOPS:
            s, e = node_end(node.target), at(node.value.lineno, node.value.col_offset)
            tok = (
                src[s:e]
                .decode()
                .replace(
                    SYMBOL[type(node.op)] + "=", SYMBOL[BINOPS[type(node.op)]] + "="
                )
            )
            add(node, tok, scope, s, e)
        elif isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                ops = list(node.ops)
                ops[i] = CMPOPS[type(op)]()
                add(node, _with(node, ops=ops), scope)
        elif isinstance(node, ast.BoolOp):
            add(
                node,
                _with(node, op=ast.Or() if isinstance(node.op, ast.And) else ast.And()),
                scope,
            )
        elif isinstance(node, ast.UnaryOp) and isinstance(
            node.op, (ast.Not, ast.USub, ast.Invert)
        ):
            add(node, node.operand, scope)
        elif isinstance(node, ast.Constant) and type(node.value) in (bool, int, float):
            v = node.value
            add(
                node,
                repr(
                    not v
                    if isinstance(v, bool)
                    else 1
                    if v == 0
                    else 0
                    if v == 1
                    else v + 1
                ),
                scope,
            )
        elif (
            isinstance(node, ast.Name)
            and isinstance(node.ctx, ast.Load)
            and node.id in NAMES
        ):
            add(node, NAMES[node.id], scope)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Load)
            and node.attr in NAMES
        ):
            e = node_end(node)
            add(node, NAMES[node.attr], scope, e - len(node.attr), e)
        elif isinstance(node, ast.Return) and node.value is not None:
            add(node.value, ast.Constant(None), scope)

    def walk(node: ast.AST, scope: str, inside: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = f"{scope}.{node.name}" if scope else node.name
            top = name.split(".")[0]
            if top.startswith(SKIP) or (only is not None and top not in only):
                return
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            for child in body:
                walk(child, name, inside or not isinstance(node, ast.ClassDef))
            return
        if isinstance(node, (ast.Raise, ast.JoinedStr, ast.arguments)):
            return
        if inside:
            collect(node, scope)
        for field, value in ast.iter_fields(node):
            if field in ("annotation", "returns", "decorator_list"):
                continue
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST):
                    walk(child, scope, inside)

    tree = ast.parse(src)
    walk(tree, "", False)
    seen, out, orig = set(), [], ast.dump(tree)
    for m in found:
        new = src[: m["start"]] + m["repl"].encode() + src[m["end"] :]
        try:
            dump = ast.dump(ast.parse(new))
        except SyntaxError:
            continue
        if dump == orig or dump in seen:
            continue
        seen.add(dump)
        m["source"] = new.decode()
        m["diff"] = "".join(
            difflib.unified_diff(
                text.splitlines(True),
                m["source"].splitlines(True),
                f"a/{path}",
                f"b/{path}",
                n=0,
            )
        )
        m["id"] = f"{path}:{m['line']}:{len(out)}"
        out.append(m)
    return out


def _with(node: ast.AST, **fields) -> ast.AST:
    new = copy.copy(node)
    for k, v in fields.items():
        setattr(new, k, v)
    return new


def make_workdir() -> Path:
    """A throw-away copy of the package and the tests; everything else linked to the checkout."""
    w = Path(tempfile.mkdtemp(prefix="robustcore-mutant-"))
    for p in ROOT.iterdir():
        if p.name in ("robustcore", "tests"):
            shutil.copytree(p, w / p.name, ignore=shutil.ignore_patterns("__pycache__"))
        elif p.name not in (".git", ".venv", "_build", ".cache", "mutants"):
            (w / p.name).symlink_to(p)
    return w


def run_tests(w: Path, tests: list[str], timeout: float | None) -> tuple[str, float]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "TQDM_DISABLE": "1"}
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        *tests,
        "-x",
        "-q",
        "-m",
        "not slow",
        "-p",
        "no:cacheprovider",
    ]
    t = time.perf_counter()
    try:  # cwd first on sys.path (python -m): the copy's robustcore wins over the editable install
        rc = subprocess.run(
            cmd, cwd=w, env=env, timeout=timeout, capture_output=True
        ).returncode
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - t
    return ("survived" if rc == 0 else "killed"), time.perf_counter() - t


def run_module(
    name: str, workers: queue.Queue, jobs: int, previous: dict, resume: bool, save
) -> dict:
    """Run the module's mutants; ``save(result)`` after each one, so that an interrupted run keeps
    what it did. ``resume``: reuse the previous verdicts, rerunning only survivors and new mutants."""
    path, tests, only = MODULES[name]
    tests = (
        [EXTRA_TESTS] if (ROOT / EXTRA_TESTS).is_file() else []
    ) + tests  # quick: first
    ms = mutants(path, only)
    w = workers.get()
    status, base = run_tests(w, tests, None)
    workers.put(w)
    if status != "survived":
        print(
            f"{name}: the unmutated tests fail ({' '.join(tests)}); skipped", flush=True
        )
        return {
            "file": path,
            "tests": tests,
            "error": "baseline tests fail",
            "mutants": [],
        }
    old = {
        (m["function"], m["line"], m["before"], m["after"]): m
        for m in previous.get("mutants", [])
    }
    todo, done = [], []
    for m in ms:
        prev = old.get((m["function"], m["line"], m["before"], m["after"]))
        if resume and prev and prev["status"] != "survived":
            m["status"], m["seconds"] = prev["status"], prev["seconds"]
            done.append(m)
        else:
            todo.append(m)
    print(
        f"{name}: {len(ms)} mutants, running {len(todo)}; tests take {base:.0f} s unmutated",
        flush=True,
    )
    t0, lock = time.perf_counter(), threading.Lock()

    def result(partial: bool) -> dict:
        finished = {id(m) for m in done}
        keep = [
            {k: v for k, v in m.items() if k not in ("source", "start", "end", "repl")}
            for m in ms
            if id(m) in finished
        ]
        return {
            "file": path,
            "tests": tests,
            "baseline_s": round(base, 1),
            "partial": partial,
            "seconds": round(time.perf_counter() - t0),
            "mutants": keep,
        }

    def one(m: dict) -> None:
        w = workers.get()
        target = w / path
        try:
            target.write_text(m["source"])
            m["status"], m["seconds"] = run_tests(
                w, tests, 5 * base + 120
            )  # slack: the load can change mid-run
        finally:
            shutil.copyfile(ROOT / path, target)
            workers.put(w)
        print(
            f"  {m['status']:8} {m['seconds']:5.1f} s  {path}:{m['line']}  {m['before'][:50]} → {m['after'][:50]}",
            flush=True,
        )
        with lock:
            done.append(m)
            save(result(partial=True))

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, todo))
    return result(partial=False)


def equivalent_reason(name: str, m: dict, allow: list[dict]) -> str | None:
    for e in allow:  # matched on the line's text, not its number: edits elsewhere keep the entry valid
        key = (e["module"], e["function"], e["context"], e["before"], e["after"])
        if key == (name, m["function"], m.get("context"), m["before"], m["after"]):
            return e["reason"]
    return None


def report(results: dict, allow: list[dict]) -> str:
    lines = [
        "# Mutation report",
        "",
        f"`make mutation` (tools/mutation.py), {datetime.date.today()}. Score = killed / (mutants − "
        "equivalent); a timeout counts as killed. Equivalent mutants: tools/mutation_equivalent.json.",
        "",
        "| module | file | mutants | killed (by timeout) | equivalent | survived | score | time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    surv, equiv = [], []
    for name, r in results.items():
        if r.get("error"):
            lines.append(f"| {name} | {r['file']} | – | – | – | – | {r['error']} | |")
            continue
        ms = r["mutants"]
        killed = sum(m["status"] in ("killed", "timeout") for m in ms)
        eq = [
            (m, why)
            for m in ms
            if m["status"] == "survived" and (why := equivalent_reason(name, m, allow))
        ]
        left = [
            m
            for m in ms
            if m["status"] == "survived" and not equivalent_reason(name, m, allow)
        ]
        score = killed / max(1, len(ms) - len(eq))
        slow = sum(m["status"] == "timeout" for m in ms)
        lines.append(
            f"| {name} | {r['file']} | {len(ms)} | {killed} ({slow}) | {len(eq)} | {len(left)} | "
            f"{100 * score:.1f}% | {r['seconds']} s{' (unfinished)' if r.get('partial') else ''} |"
        )
        surv += [(name, r["file"], m) for m in left]
        equiv += [(name, r["file"], m, why) for m, why in eq]
    lines += ["", f"## Survivors ({len(surv)})", ""]
    for name, f, m in surv:
        lines += [
            f"- `{f}:{m['line']}` in `{m['function']}` ({name}): `{m['before']}` → `{m['after']}`",
            "",
            "  ```diff",
            *("  " + x for x in m["diff"].rstrip("\n").split("\n")),
            "  ```",
            "",
        ]
    lines += [f"## Equivalent mutants ({len(equiv)})", ""]
    lines += [
        f"- `{f}:{m['line']}` in `{m['function']}` ({name}): `{m['before']}` → `{m['after']}` "
        f"in `{m.get('context', '')}` — {why}"
        for name, f, m, why in equiv
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "modules", nargs="*", default=list(MODULES), help=f"any of {', '.join(MODULES)}"
    )
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--resume",
        action="store_true",
        help="keep the previous verdicts; rerun only survivors and mutants not run yet",
    )
    ap.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    ap.add_argument(
        "--report",
        action="store_true",
        help="only rewrite the report from results.json",
    )
    args = ap.parse_args()
    if unknown := set(args.modules) - set(MODULES):
        sys.exit(f"unknown module(s) {sorted(unknown)}; known: {', '.join(MODULES)}")
    if args.list:
        for name in args.modules:
            for m in mutants(MODULES[name][0], MODULES[name][2]):
                print(
                    f"{m['id']:40} {m['function']:25} {m['before'][:40]} → {m['after'][:40]}"
                )
        return
    OUT.mkdir(parents=True, exist_ok=True)
    store = OUT / "results.json"
    results = json.loads(store.read_text()) if store.is_file() else {}
    allow = json.loads(EQUIVALENT.read_text()) if EQUIVALENT.is_file() else []
    if args.report:
        (OUT / "report.md").write_text(report(results, allow))
        return
    workers: queue.Queue = queue.Queue()
    dirs = [make_workdir() for _ in range(args.jobs)]
    for d in dirs:
        workers.put(d)

    def save(name: str, result: dict) -> None:
        results[name] = result
        store.write_text(json.dumps(results, indent=1))
        (OUT / "report.md").write_text(report(results, allow))

    try:
        for name in args.modules:
            save(
                name,
                run_module(
                    name,
                    workers,
                    args.jobs,
                    results.get(name, {}),
                    args.resume,
                    lambda r, name=name: save(name, r),
                ),
            )
    finally:
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
    print(f"report: {(OUT / 'report.md').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
