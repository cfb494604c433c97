"""PGD speed: robustcore.attacks.pgd vs torchattacks.PGD vs the bare cost k·(forward+backward).

Same model, ε, step size, steps and batch for all three, timed in one process with the
runs interleaved (so machine load affects them alike); the median of ``--repeats`` is used.
Prints the ratios (ours / reference; lower is faster) and writes them as JSON with ``--json``.

    python benchmarks/pgd.py [--model mnist-cnn-std] [--steps 40] [--batch 256] [--repeats 10] [--json out.json]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from robustcore import data, zoo
from robustcore.attacks import pgd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness  # noqa: E402  (the shared timing code beside this script)


def bare(model, x, y, eps, alpha, steps):
    """The floor: k forward+backward passes to the input, nothing else."""
    x_adv = x.clone()
    for _ in range(steps):
        x_adv.requires_grad_(True)
        (g,) = torch.autograd.grad(
            F.cross_entropy(model(x_adv), y, reduction="sum"), x_adv
        )
        x_adv = x_adv.detach()
    return x_adv


def main(argv: list[str] | None = None) -> dict:
    ap = _harness.parser(__doc__, model="mnist-cnn-std", batch=256, repeats=10)
    ap.add_argument("--eps", type=float, default=0.3)
    ap.add_argument("--steps", type=int, default=40)
    args = _harness.parse(ap, argv)

    import torchattacks  # the reference implementation

    device = torch.device(args.device)
    model = zoo.load(args.model, progress=False).to(device).eval()
    x, y = data.mnist(train=False)
    x, y = x[: args.batch].to(device), y[: args.batch].to(device)
    alpha = 2.5 * args.eps / args.steps
    ta = torchattacks.PGD(
        model, eps=args.eps, alpha=alpha, steps=args.steps, random_start=True
    )
    runs = {
        "robustcore": lambda: pgd(model, x, y, args.eps, steps=args.steps, alpha=alpha),
        "torchattacks": lambda: ta(x, y),
        "bare": lambda: bare(model, x, y, args.eps, alpha, args.steps),
    }

    med, outs = _harness.interleaved(runs, device, args.repeats)
    with torch.no_grad():
        acc = {
            k: float((model(outs[k]).argmax(1) == y).float().mean())
            for k in ("robustcore", "torchattacks")
        }
    res = {
        "benchmark": "pgd",
        "model": args.model,
        "eps": args.eps,
        "steps": args.steps,
        "batch": args.batch,
        "device": str(device),
        "machine": _harness.machine(),
        "seconds": med,
        "accuracy_after_attack": acc,
        "ratio_vs_torchattacks": med["robustcore"] / med["torchattacks"],
        "ratio_vs_bare": med["robustcore"] / med["bare"],
    }
    print(
        f"PGD-{args.steps} L∞ ε={args.eps}, batch {args.batch}, {args.model} on {res['machine']}, {device}"
    )
    for k, v in med.items():
        print(
            f"  {k:13s} {v * 1000:8.1f} ms  ({args.batch * args.steps / v:,.0f} image-steps/s)"
        )
    print(
        f"  accuracy after attack: robustcore {acc['robustcore']:.3f}, torchattacks {acc['torchattacks']:.3f}"
    )
    print(
        f"  ratio vs torchattacks: {res['ratio_vs_torchattacks']:.3f}  (target <= 1.0)"
    )
    print(f"  ratio vs bare cost:    {res['ratio_vs_bare']:.3f}  (target <= 1.15)")
    _harness.write_json(res, args.json)
    return res


if __name__ == "__main__":
    main()
