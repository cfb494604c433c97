"""What every benchmark here shares: interleaved timing with medians, the machine, JSON output."""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch


def parser(
    doc: str, *, model: str, batch: int, repeats: int
) -> argparse.ArgumentParser:
    """The options every benchmark takes; a script adds its own."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--model", default=model, help="a zoo model name")
    ap.add_argument("--batch", type=int, default=batch)
    ap.add_argument(
        "--repeats",
        type=int,
        default=repeats,
        help="timed runs of each; the median is kept",
    )
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    ap.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch's CPU threads (default: torch's own choice)",
    )
    return ap


def parse(ap: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The parsed options, with ``--threads`` applied."""
    args = ap.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    return args


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def interleaved(
    runs: dict[str, Callable[[], Any]], device: torch.device, repeats: int
) -> tuple[dict[str, float], dict[str, Any]]:
    """Warm each run up once, then time the runs in turn ``repeats`` times (so machine load affects
    them alike). Returns the median seconds of each run and each run's last output."""

    def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        out = fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t, out

    for fn in runs.values():
        timed(fn)
    times: dict[str, list[float]] = {k: [] for k in runs}
    outputs: dict[str, Any] = {}
    for _ in range(repeats):
        for name, fn in runs.items():
            times[name].append((r := timed(fn))[0])
            outputs[name] = r[1]
    return {k: statistics.median(v) for k, v in times.items()}, outputs


def write_json(res: dict, path: str | None) -> None:
    if path:
        with open(path, "w") as f:
            json.dump(res, f, indent=2)
