"""AutoAttack speed: robustcore.audit.autoattack (torchattacks' APGD-CE) vs its bare cost.

APGD-CE with ``steps`` iterations costs at least ``steps`` forward+backward passes of
the model on the images it attacks. The bare cost runs exactly those passes on the same
batch with nothing else; ``audit.autoattack`` with ``parts=("apgd-ce",)`` adds
torchattacks' step-size schedule, checkpoints and bookkeeping, and the final check of
every image. Both are timed in one process, interleaved; the median of ``--repeats`` is
used. A robust model is attacked (an attack that fools a digit early stops spending on
it, which a standard model would reward). Prints images/s for both and the ratio (ours /
bare; 1.0 is the floor), JSON with ``--json``.

    python benchmarks/autoattack.py [--model mnist-cnn-pgd-linf] [--steps 100] [--batch 250]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from robustcore import audit, data, zoo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness  # noqa: E402  (the shared timing code beside this script)


def bare(model, x, y, steps):
    """The floor: ``steps`` forward+backward passes of the cross-entropy to the input."""
    z = x.clone()
    for _ in range(steps):
        z.requires_grad_(True)
        (g,) = torch.autograd.grad(F.cross_entropy(model(z), y), z)
        z = z.detach()
    return z


def main(argv: list[str] | None = None) -> dict:
    ap = _harness.parser(__doc__, model="mnist-cnn-pgd-linf", batch=250, repeats=3)
    ap.add_argument("--steps", type=int, default=audit.STEPS)
    ap.add_argument("--eps", type=float, default=0.3)
    args = _harness.parse(ap, argv)

    device = torch.device(args.device)
    model = zoo.load(args.model, progress=False).to(device).eval()
    x, y = data.mnist(train=False)
    x, y = x[: args.batch].to(device), y[: args.batch].to(device)
    old = audit.STEPS
    audit.STEPS = args.steps  # the module's step count, for --steps (smoke runs)
    runs = {
        "robustcore": lambda: audit.autoattack(
            model, x, y, args.eps, parts=("apgd-ce",), batch_size=args.batch
        ),
        "bare": lambda: bare(model, x, y, args.steps),
    }
    try:
        med, out = _harness.interleaved(runs, device, args.repeats)
    finally:
        audit.STEPS = old
    res = {
        "benchmark": "autoattack",
        "model": args.model,
        "steps": args.steps,
        "batch": args.batch,
        "robust_accuracy": float(out["robustcore"].float().mean()),
        "device": str(device),
        "machine": _harness.machine(),
        "seconds": med,
        "images_per_second": {k: args.batch / v for k, v in med.items()},
        "ratio_vs_bare": med["robustcore"] / med["bare"],
    }
    print(
        f"AutoAttack's APGD-CE, {args.steps} steps, {args.batch} digits, {args.model} "
        f"(robust accuracy {res['robust_accuracy']:.1%}) on {res['machine']}, {device}"
    )
    for k, v in med.items():
        print(f"  {k:11s} {v:8.2f} s  ({args.batch / v:,.1f} images/s)")
    print(f"  ratio vs bare cost: {res['ratio_vs_bare']:.3f}  (target <= 1.2)")
    _harness.write_json(res, args.json)
    return res


if __name__ == "__main__":
    main()
