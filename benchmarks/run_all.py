"""Every benchmark in one command (``make bench``): PGD, robust accuracy with PGD's early drop, the
one-pixel attack (on a zoo CNN and on a small CNN), D_R construction, the convolutions' memory layout, the allocator settings of `make test`, and the whole book under ``pytest --nbval`` (wall time and peak memory). Writes ``benchmarks/results.json``
(atomically), which the book's appendix page "Benchmarks" shows, with the machine and the date.

    python benchmarks/run_all.py [--only pgd,pgd_early,one_pixel,one_pixel_small,construction,book]
                                 [--out benchmarks/results.json] [--results-dir DIR] [--threads N]

Each speed benchmark runs at its script's default settings and prints its own ratios; see the scripts.
The book run records its chapters' headline numbers in ``--results-dir`` (default: a temporary folder,
so that a benchmark run never changes the numbers the reproduction summary shows).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from robustcore import io, profiles

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BENCHMARKS = (
    "pgd",
    "pgd_early",
    "one_pixel",
    "one_pixel_small",
    "construction",
    "certify",
    "arae",
    "autoattack",
    "layout",
    "allocator",
    "book",
)
# benchmark -> (script, its arguments): one script may serve two benchmarks
SCRIPTS = {
    "pgd": ("pgd", []),
    "pgd_early": ("pgd_early", []),
    "one_pixel": ("one_pixel", []),
    "one_pixel_small": ("one_pixel", ["--model", "small-cnn"]),
    "construction": ("construction", []),
    "certify": ("certify", []),
    "arae": ("arae", []),
    "autoattack": ("autoattack", []),
    "layout": ("layout", []),
    "allocator": ("allocator", []),
}
# Tiny settings that exercise every script in seconds (tests); the numbers mean nothing.
SMOKE = {
    "pgd": ["--steps", "2", "--batch", "16", "--repeats", "1"],
    "pgd_early": ["--steps", "2", "--batch", "16", "--repeats", "1"],
    "construction": ["--steps", "2", "--batch", "16", "--repeats", "1"],
    "certify": ["--batch", "16", "--repeats", "1"],
    "arae": ["--images", "32", "--batch", "16", "--steps", "2", "--repeats", "1"],
    "autoattack": ["--batch", "8", "--steps", "2", "--repeats", "1"],
    "layout": ["--images", "32", "--batch", "8", "--steps", "2", "--repeats", "1"],
    "allocator": ["--batch", "1", "--repeats", "1"],
    "one_pixel": [
        "--batch",
        "2",
        "--popsize",
        "12",
        "--generations",
        "2",
        "--chunk",
        "64",
    ],
}
SMOKE["one_pixel_small"] = SMOKE["one_pixel"] + ["--train-images", "256"]


def machine() -> str:
    """CPU model, cores, memory, and the GPU if one is used: the machine the numbers belong to."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem = f", {kib / 2**20:.0f} GiB RAM"
    except (OSError, IndexError, ValueError):
        pass
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    return f"{cpu}, {os.cpu_count()} cores{mem}{gpu}, {platform.system()} {platform.release()}"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def book(results_dir: str | None) -> dict:
    """Every notebook of book/ under ``pytest --nbval`` in a child process: wall time, peak memory."""
    notebooks = sorted(
        str(p.relative_to(ROOT)) for p in (ROOT / "book").glob("*.ipynb")
    )
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "--nbval",
        "--nbval-cell-timeout=900",
        "-q",
        "-p",
        "no:cacheprovider",
        *notebooks,
    ]
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "TQDM_DISABLE": "1",
            "ROBUSTCORE_RESULTS": results_dir or tmp,
        }
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=env)
        seconds = time.perf_counter() - t0
        peak = resource.getrusage(
            resource.RUSAGE_CHILDREN
        ).ru_maxrss  # KiB: the largest process waited for
    res = {
        "benchmark": "book",
        "command": "pytest --nbval book/*.ipynb",
        "notebooks": len(notebooks),
        "profile": profiles.default_name(),
        "seconds": seconds,
        "peak_rss_mib": max(peak, before) / 1024,
        "returncode": proc.returncode,
    }
    print(
        f"whole book ({len(notebooks)} notebooks, {res['profile']} profile): {seconds:.0f} s, "
        f"peak memory {res['peak_rss_mib']:,.0f} MiB, {'passed' if proc.returncode == 0 else 'FAILED'}"
    )
    return res


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help=f"comma-separated subset of {BENCHMARKS}",
    )
    ap.add_argument("--out", default=str(HERE / "results.json"))
    ap.add_argument(
        "--results-dir",
        default=None,
        help="where the book run records its headline numbers",
    )
    ap.add_argument(
        "--smoke",
        action="store_true",
        help="tiny settings, to check that everything runs",
    )
    ap.add_argument(
        "--threads", type=int, default=None, help="torch's CPU threads in every script"
    )
    args = ap.parse_args(argv)
    todo = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = set(todo) - set(BENCHMARKS)
    if unknown:
        ap.error(
            f"unknown benchmark(s) {sorted(unknown)}; known: {', '.join(BENCHMARKS)}"
        )
    out = Path(args.out)
    earlier = json.loads(out.read_text()) if out.is_file() else {}
    # a partial run (--only) keeps the other benchmarks' earlier results, if measured on this machine
    previous = (
        earlier.get("benchmarks", {}) if earlier.get("machine") == machine() else {}
    )
    found: dict[str, dict] = {}
    t0 = time.perf_counter()
    if (
        "book" in todo
    ):  # first, so that its peak memory is not mixed with anything else's
        found["book"] = book(args.results_dir)
    threads = [] if args.threads is None else ["--threads", str(args.threads)]
    for name, (script, extra) in SCRIPTS.items():
        if name in todo:
            print(f"== {name}", flush=True)
            found[name] = _script(script).main(
                extra + (SMOKE[name] if args.smoke else []) + threads
            )
    res = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
        "command": "python benchmarks/run_all.py --smoke"
        if args.smoke
        else "make bench",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "total_seconds": round(time.perf_counter() - t0, 1),
        "benchmarks": {**previous, **found},
    }
    io.atomic_write_json(res, out)
    print(
        f"wrote {out} ({', '.join(sorted(res['benchmarks']))}) in {res['total_seconds']:.0f} s"
    )
    if found.get("book", {}).get("returncode", 0) != 0:
        sys.exit("the whole-book run failed: see the pytest output above")
    return res


if __name__ == "__main__":
    main()
