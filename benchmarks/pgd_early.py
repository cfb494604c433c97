"""Robust accuracy under PGD, early drop vs the full run: robustcore's ``pgd_correct``
(attack only the examples classified right, drop each as soon as an iterate fools it)
vs torchattacks.PGD followed by one forward pass on its last iterates.

Both evaluate the same examples, with the same ε, step size and steps, from the same
random state (the two draw their random starts alike), on a standard model (which PGD
fools within a few steps: the early drop saves most of the work) and on an
adversarially trained one (which it mostly does not: the early drop must cost nothing).
Timed in one process, interleaved; the median of ``--repeats``. Prints each model's
speed-up (torchattacks' time / ours; higher is faster) and both accuracies (ours is at
most the full run's up to rounding: an example counts as fooled if any iterate fools
it); JSON with ``--json``.

    python benchmarks/pgd_early.py [--model mnist-cnn-std,mnist-cnn-pgd-linf]
                                   [--steps 40] [--batch 256] [--repeats 5]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from robustcore import data, zoo
from robustcore.attacks.pgd import pgd_correct

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness  # noqa: E402  (the shared timing code beside this script)

MODELS = "mnist-cnn-std,mnist-cnn-pgd-linf"


def main(argv: list[str] | None = None) -> dict:
    ap = _harness.parser(__doc__, model=MODELS, batch=256, repeats=5)
    ap.add_argument("--eps", type=float, default=0.3)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    args = _harness.parse(ap, argv)

    import torchattacks  # the reference implementation

    device = torch.device(args.device)
    x, y = data.mnist(train=False)
    x, y = x[: args.batch].to(device), y[: args.batch].to(device)
    alpha = 2.5 * args.eps / args.steps
    per_model = {}
    for name in args.model.split(","):
        model = zoo.load(name, progress=False).to(device).eval()
        ta = torchattacks.PGD(
            model, eps=args.eps, alpha=alpha, steps=args.steps, random_start=True
        )

        def ours() -> torch.Tensor:
            torch.manual_seed(args.seed)
            return pgd_correct(model, x, y, args.eps, steps=args.steps, alpha=alpha)

        def reference() -> torch.Tensor:
            torch.manual_seed(args.seed)
            x_adv = ta(x, y)
            with torch.no_grad():
                return model(x_adv).argmax(1) == y

        med, outs = _harness.interleaved(
            {"robustcore": ours, "torchattacks": reference}, device, args.repeats
        )
        acc = {k: float(v.float().mean()) for k, v in outs.items()}
        per_model[name] = {
            "seconds": med,
            "accuracy": acc,
            "speedup_vs_torchattacks": med["torchattacks"] / med["robustcore"],
            # examples the full run leaves right but an earlier iterate fooled
            "fooled_only_early": int(
                (outs["torchattacks"] & ~outs["robustcore"]).sum()
            ),
            "right_only_early": int((outs["robustcore"] & ~outs["torchattacks"]).sum()),
        }
    res = {
        "benchmark": "pgd_early",
        "eps": args.eps,
        "steps": args.steps,
        "batch": args.batch,
        "device": str(device),
        "machine": _harness.machine(),
        "models": per_model,
    }
    print(
        f"robust accuracy under PGD-{args.steps} L∞ ε={args.eps}, batch {args.batch}, "
        f"early drop vs torchattacks, on {res['machine']}, {device}"
    )
    for name, r in per_model.items():
        s, a = r["seconds"], r["accuracy"]
        print(
            f"  {name:20s} ours {s['robustcore'] * 1000:7.0f} ms, torchattacks "
            f"{s['torchattacks'] * 1000:7.0f} ms: speed-up "
            f"{r['speedup_vs_torchattacks']:.2f}x; accuracy {a['robustcore']:.3f} vs "
            f"{a['torchattacks']:.3f}"
        )
    print("  (targets: speed-up >= 3 on a standard model, >= 1 on a robust one)")
    _harness.write_json(res, args.json)
    return res


if __name__ == "__main__":
    main()
