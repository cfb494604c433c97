"""Certification speed: IBP and CROWN-IBP bounds vs the bare cost, one forward pass.

IBP pushes a centre and a radius through every layer (two passes' worth of work, plus the
margins folded into the last layer); CROWN-IBP adds one backward walk of the margins. Both are
timed against ``model(x)`` on the same batch, in one process, interleaved; the median of
``--repeats`` is used. Prints images/s and the ratios (ours / forward; the goal for IBP is
≤ 3), JSON with ``--json``.

    python benchmarks/certify.py [--model mnist-cnn-pgd-linf] [--eps 0.1] [--batch 500] [--repeats 5]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from robustcore import certify, data, zoo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness  # noqa: E402  (the shared timing code beside this script)


def main(argv: list[str] | None = None) -> dict:
    ap = _harness.parser(__doc__, model="mnist-cnn-pgd-linf", batch=500, repeats=5)
    ap.add_argument("--eps", type=float, default=0.1)
    args = _harness.parse(ap, argv)

    device = torch.device(args.device)
    model = zoo.load(args.model, progress=False).to(device).eval()
    x, y = data.mnist(train=False)
    x, y = x[: args.batch].to(device), y[: args.batch].to(device)
    margins = certify.margins.unchecked

    def forward():
        with torch.no_grad():
            return model(x)

    runs = {
        "forward": forward,
        "ibp": lambda: margins(
            model, x, y, args.eps, method="ibp", batch_size=args.batch
        ),
        "crown-ibp": lambda: margins(
            model, x, y, args.eps, method="crown-ibp", batch_size=args.batch
        ),
    }
    med, _ = _harness.interleaved(runs, device, args.repeats)
    res = {
        "benchmark": "certify",
        "model": args.model,
        "eps": args.eps,
        "batch": args.batch,
        "device": str(device),
        "machine": _harness.machine(),
        "seconds": med,
        "images_per_second": {k: args.batch / v for k, v in med.items()},
        "ratio_vs_bare": med["ibp"] / med["forward"],
        "ratio_crown_ibp_vs_bare": med["crown-ibp"] / med["forward"],
    }
    print(
        f"certified bounds, batch {args.batch}, {args.model} on {res['machine']}, {device}"
    )
    for k, v in med.items():
        print(f"  {k:10s} {v:8.4f} s  ({args.batch / v:,.0f} images/s)")
    print(f"  IBP / forward: {res['ratio_vs_bare']:.2f}  (goal <= 3)")
    print(f"  CROWN-IBP / forward: {res['ratio_crown_ibp_vs_bare']:.2f}")
    _harness.write_json(res, args.json)
    return res


if __name__ == "__main__":
    main()
