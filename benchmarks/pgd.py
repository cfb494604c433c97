"""PGD speed: robustcore.attacks.pgd vs torchattacks.PGD vs the bare cost k·(forward+backward).

Same model, ε, step size, steps and batch for all three, timed in one process with the
runs interleaved (so machine load affects them alike); the median of ``--repeats`` is used.
Prints the ratios (ours / reference; lower is faster) and writes them as JSON with ``--json``.

    python benchmarks/pgd.py [--model mnist-cnn-std] [--steps 40] [--batch 256] [--repeats 10] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import torch
import torch.nn.functional as F

from robustcore import data, zoo
from robustcore.attacks import pgd


def bare(model, x, y, eps, alpha, steps):
    """The floor: k forward+backward passes to the input, nothing else."""
    x_adv = x.clone()
    for _ in range(steps):
        x_adv.requires_grad_(True)
        (g,) = torch.autograd.grad(F.cross_entropy(model(x_adv), y, reduction="sum"), x_adv)
        x_adv = x_adv.detach()
    return x_adv


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="mnist-cnn-std")
    ap.add_argument("--eps", type=float, default=0.3)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    args = ap.parse_args(argv)

    import torchattacks  # the reference implementation

    device = torch.device(args.device)
    model = zoo.load(args.model, progress=False).to(device).eval()
    x, y = data.mnist(train=False)
    x, y = x[: args.batch].to(device), y[: args.batch].to(device)
    alpha = 2.5 * args.eps / args.steps
    ta = torchattacks.PGD(model, eps=args.eps, alpha=alpha, steps=args.steps, random_start=True)
    runs = {
        "robustcore": lambda: pgd(model, x, y, args.eps, steps=args.steps, alpha=alpha),
        "torchattacks": lambda: ta(x, y),
        "bare": lambda: bare(model, x, y, args.eps, alpha, args.steps),
    }

    def timed(fn):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        out = fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t, out

    for fn in runs.values():  # warm-up
        timed(fn)
    times: dict[str, list[float]] = {k: [] for k in runs}
    acc: dict[str, float] = {}
    for _ in range(args.repeats):
        for name, fn in runs.items():
            dt, out = timed(fn)
            times[name].append(dt)
            with torch.no_grad():
                acc[name] = float((model(out).argmax(1) == y).float().mean())
    med = {k: statistics.median(v) for k, v in times.items()}
    res = {
        "benchmark": "pgd", "model": args.model, "eps": args.eps, "steps": args.steps, "batch": args.batch,
        "device": str(device), "machine": f"{platform.processor() or platform.machine()}, "
                                          f"{torch.get_num_threads()} threads, torch {torch.__version__}",
        "seconds": med, "accuracy_after_attack": {k: acc[k] for k in ("robustcore", "torchattacks")},
        "ratio_vs_torchattacks": med["robustcore"] / med["torchattacks"],
        "ratio_vs_bare": med["robustcore"] / med["bare"],
    }
    print(f"PGD-{args.steps} L∞ ε={args.eps}, batch {args.batch}, {args.model} on {res['machine']}, {device}")
    for k, v in med.items():
        print(f"  {k:13s} {v * 1000:8.1f} ms  ({args.batch * args.steps / v:,.0f} image-steps/s)")
    print(f"  accuracy after attack: robustcore {acc['robustcore']:.3f}, torchattacks {acc['torchattacks']:.3f}")
    print(f"  ratio vs torchattacks: {res['ratio_vs_torchattacks']:.3f}  (target <= 1.0)")
    print(f"  ratio vs bare cost:    {res['ratio_vs_bare']:.3f}  (target <= 1.15)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
    return res


if __name__ == "__main__":
    main()
