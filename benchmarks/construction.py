"""D_R construction speed: robustcore.features.robust_dataset vs the bare cost k·(forward+backward).

The bare cost is the floor of any inversion: ``steps`` forward passes through the representation
and backward passes to the input, on the same batch, with nothing else (no step, no clipping, no
bookkeeping). Both are timed in one process, interleaved; the median of ``--repeats`` is used.
Prints images/s for both and the ratio (ours / bare; 1.0 is the floor), JSON with ``--json``.

    python benchmarks/construction.py [--model mnist-cnn-pgd-linf] [--steps 200] [--batch 500] [--repeats 5]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from robustcore import data, features, zoo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness  # noqa: E402  (the shared timing code beside this script)


def bare(model, x, target, steps):
    """The floor: ``steps`` forward+backward passes of the representation distance to the input."""
    with torch.no_grad():
        rep = model.features(target)
    z = x.clone()
    for _ in range(steps):
        z.requires_grad_(True)
        (g,) = torch.autograd.grad((model.features(z) - rep).norm(dim=1).sum(), z)
        z = z.detach()
    return z


def main(argv: list[str] | None = None) -> dict:
    ap = _harness.parser(__doc__, model="mnist-cnn-pgd-linf", batch=500, repeats=5)
    ap.add_argument("--steps", type=int, default=200)
    args = _harness.parse(ap, argv)

    device = torch.device(args.device)
    model = zoo.load(args.model, progress=False).to(device).eval()
    x, y = data.mnist(train=True)
    x, y = x[: args.batch], y[: args.batch]
    start = features.starting_points(x, "image", seed=0)
    xd, sd = x.to(device), start.to(device)
    runs = {
        "robustcore": lambda: features.robust_dataset(
            model, x, y, steps=args.steps, batch_size=args.batch, progress=False
        ),
        "bare": lambda: bare(model, sd, xd, args.steps),
    }

    med, _ = _harness.interleaved(runs, device, args.repeats)
    res = {
        "benchmark": "construction",
        "model": args.model,
        "steps": args.steps,
        "batch": args.batch,
        "device": str(device),
        "machine": _harness.machine(),
        "seconds": med,
        "images_per_second": {k: args.batch / v for k, v in med.items()},
        "ratio_vs_bare": med["robustcore"] / med["bare"],
    }
    print(
        f"D_R construction, {args.steps} steps, batch {args.batch}, {args.model} on {res['machine']}, {device}"
    )
    for k, v in med.items():
        print(
            f"  {k:11s} {v:8.2f} s  ({args.batch / v:,.1f} images/s, {args.batch * args.steps / v:,.0f} image-steps/s)"
        )
    print(f"  ratio vs bare cost: {res['ratio_vs_bare']:.3f}  (target <= 1.15)")
    _harness.write_json(res, args.json)
    return res


if __name__ == "__main__":
    main()
