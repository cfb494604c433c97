"""Certification speed: IBP and CROWN-IBP bounds vs the bare cost, one forward pass.

IBP pushes a centre and a radius through every layer (two passes' worth of work, plus the
margins folded into the last layer); CROWN-IBP adds one backward walk of the margins. Both are
timed against ``model(x)`` on the same batch, in one process, interleaved; the median of
``--repeats`` is used. Prints images/s and the ratios (ours / forward; the goal for IBP is
≤ 3), JSON with ``--json``.

Full CROWN (a backward walk from every unstable neuron of every layer) is timed per image on
the first ``--crown-digits`` digits, against the same walk from every neuron, stable or not
(the same bounds: a stable neuron's relaxation is the ReLU itself).

    python benchmarks/certify.py [--model mnist-cnn-pgd-linf] [--eps 0.1] [--batch 500] [--repeats 5]
                                 [--crown-digits 8]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from robustcore import certify, data, zoo
from robustcore.attacks import Ball
from robustcore.certify import bounds, network

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness  # noqa: E402  (the shared timing code beside this script)


def main(argv: list[str] | None = None) -> dict:
    ap = _harness.parser(__doc__, model="mnist-cnn-pgd-linf", batch=500, repeats=5)
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--crown-digits", type=int, default=8)
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
    n = min(max(1, args.crown_digits), args.batch)
    steps = network.chain(model, tuple(x.shape[1:]))
    box = Ball(x[:n], args.eps, "linf")
    spec = bounds.margin_spec(y[:n], steps[-1].out_shape[0]).to(x.dtype)

    def crown(unstable_only: bool):
        with torch.no_grad():
            return bounds.lower_bound(
                steps, box.lo, box.hi, spec, "crown", unstable_only=unstable_only
            )

    slow, _ = _harness.interleaved(
        {"crown": lambda: crown(True), "crown, every neuron": lambda: crown(False)},
        device,
        args.repeats,
    )
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
        "crown_digits": n,
        "crown_seconds_per_image": {k: v / n for k, v in slow.items()},
        "ratio_crown_vs_bare": (slow["crown"] / n) / (med["forward"] / args.batch),
        "crown_unstable_only_speedup": slow["crown, every neuron"] / slow["crown"],
    }
    print(
        f"certified bounds, batch {args.batch}, {args.model} on {res['machine']}, {device}"
    )
    for k, v in med.items():
        print(f"  {k:10s} {v:8.4f} s  ({args.batch / v:,.0f} images/s)")
    print(f"  IBP / forward: {res['ratio_vs_bare']:.2f}  (goal <= 3)")
    print(f"  CROWN-IBP / forward: {res['ratio_crown_ibp_vs_bare']:.2f}")
    for k, v in res["crown_seconds_per_image"].items():
        print(f"  {k:20s} {v:8.3f} s per image (first {n} digits)")
    print(f"  CROWN / forward, per image: {res['ratio_crown_vs_bare']:,.0f}")
    print(
        "  CROWN from unstable neurons only: "
        f"{res['crown_unstable_only_speedup']:.2f}x faster, the same bounds"
    )
    _harness.write_json(res, args.json)
    return res


if __name__ == "__main__":
    main()
