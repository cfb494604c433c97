"""glibc's allocator settings of `make test` and `make book` (``GLIBC_TUNABLES`` in the
Makefile) against its defaults, on a slice of the chapters' work in a fresh process.

By default glibc hands every block above its mmap threshold (at most 32 MiB) back to
the system when it is freed, so the next tensor of that size is faulted in again, page
by page; the chapters allocate such tensors all the time (CROWN's bounds, batches of
activations). The Makefile's settings keep blocks up to 256 MiB in the heap for reuse.
The workload, run alternately under both settings in child processes: CROWN bounds of
the zoo's standard CNN on ``--batch`` test digits, PGD-20 on 25 times as many and
clean accuracy on 500 times as many (at the default 20: 500 and all 10,000). Prints the ratios (Makefile's settings / defaults; lower is better) of the
median wall and CPU seconds, and the page faults of each, and writes them as JSON with
``--json``.

    python benchmarks/allocator.py [--batch 20] [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness  # noqa: E402  (the shared timing code beside this script)

ROOT = Path(__file__).resolve().parents[1]
WORKLOAD = """
import sys, torch
from robustcore import certify, data, train, zoo
if len(sys.argv) > 2:
    torch.set_num_threads(int(sys.argv[2]))
n = int(sys.argv[1])
net = zoo.load("mnist-cnn-std", progress=False)
x, y = data.mnist(train=False)
certify.certified(net, x[:n], y[:n], 0.02, method="crown")
train.evaluate(net, x[: 25 * n], y[: 25 * n], {"name": "pgd", "eps": 0.1, "steps": 20})
train.evaluate(net, x[: 500 * n], y[: 500 * n])
"""


def makefile_tunables() -> str:
    """The ``GLIBC_TUNABLES`` value the Makefile exports."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return re.search(r"^export GLIBC_TUNABLES \?= (\S+)$", text, re.M).group(1)


def run(env: dict, args: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and minor page faults of one child run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", WORKLOAD, *args], env=env, check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu, after.ru_minflt - before.ru_minflt


def main(argv: list[str] | None = None) -> dict:
    ap = _harness.parser(__doc__, model="mnist-cnn-std", batch=20, repeats=3)
    args = _harness.parse(ap, argv)
    base = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    tunables = makefile_tunables()
    envs = {"tuned": {**base, "GLIBC_TUNABLES": tunables}, "default": base}
    child = [str(args.batch)] + ([str(args.threads)] if args.threads else [])
    runs: dict[str, list] = {k: [] for k in envs}
    for _ in range(args.repeats):  # in turn, so that machine load affects both alike
        for k, env in envs.items():
            runs[k].append(run(env, child))
    med = {
        k: {
            "wall": statistics.median(r[0] for r in v),
            "cpu": statistics.median(r[1] for r in v),
            "page_faults": statistics.median(r[2] for r in v),
        }
        for k, v in runs.items()
    }
    res = {
        "benchmark": "allocator",
        "machine": _harness.machine(),
        "tunables": tunables,
        "batch": args.batch,
        "seconds": med,
        "ratio_wall": med["tuned"]["wall"] / med["default"]["wall"],
        "ratio_cpu": med["tuned"]["cpu"] / med["default"]["cpu"],
    }
    print(
        f"{_harness.machine()}: the Makefile's allocator settings / glibc's defaults: "
        f"wall {res['ratio_wall']:.2f}, CPU {res['ratio_cpu']:.2f}; page faults "
        f"{med['tuned']['page_faults']:,.0f} against {med['default']['page_faults']:,.0f}"
    )
    _harness.write_json(res, args.json)
    return res


if __name__ == "__main__":
    main()
