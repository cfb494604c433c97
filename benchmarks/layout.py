"""Memory layout: the convolutional models in channels-last (NHWC, as robustcore builds
them) against the same weights in NCHW, for training and for PGD.

Training is an epoch of ``train.train`` on ``--images`` MNIST digits (batches of 128,
Adam); PGD is ``attacks.pgd`` (L∞, ε = 0.3, ``--steps`` steps) on ``--batch`` test
digits. Both layouts start from the same weights and see the same digits, timed in one
process with the runs interleaved; the median of ``--repeats`` is kept. Prints the
ratios (channels-last / NCHW; lower is faster) and the largest difference between the
two layouts' logits before training (float rounding only), and writes them as JSON with
``--json``.

    python benchmarks/layout.py [--images 2048] [--batch 500] [--steps 20] [--repeats 5]
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import torch

from robustcore import data, models, train
from robustcore.attacks import pgd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness  # noqa: E402  (the shared timing code beside this script)

ARCHS = ("cnn", "resnet")


def main(argv: list[str] | None = None) -> dict:
    ap = _harness.parser(__doc__, model="cnn", batch=500, repeats=5)
    ap.add_argument("--images", type=int, default=2048, help="digits trained on")
    ap.add_argument("--steps", type=int, default=20, help="PGD steps")
    ap.add_argument("--archs", default=",".join(ARCHS), help="comma-separated")
    args = _harness.parse(ap, argv)
    device = torch.device(args.device)
    x_tr, y_tr = data.subset(*data.mnist(train=True), args.images, seed=0)
    x, y = data.subset(*data.mnist(train=False), args.batch, seed=0)
    x_tr, y_tr, x, y = (t.to(device) for t in (x_tr, y_tr, x, y))

    res: dict = {
        "benchmark": "layout",
        "machine": _harness.machine(),
        "images": args.images,
        "batch": args.batch,
        "steps": args.steps,
    }
    lines = []
    for arch in args.archs.split(","):
        torch.manual_seed(0)
        nets = {"channels_last": models.build(arch).to(device)}
        nets["nchw"] = copy.deepcopy(nets["channels_last"]).to(
            memory_format=torch.contiguous_format
        )
        with torch.no_grad():  # the same weights in both layouts: rounding only
            diff = (nets["channels_last"].eval()(x) - nets["nchw"].eval()(x)).abs()
        runs = {}
        for k, m in nets.items():
            runs[f"train {k}"] = lambda m=m: train.train(
                m, x_tr, y_tr, epochs=1, progress=False
            )
            runs[f"pgd {k}"] = lambda m=m: pgd(m.eval(), x, y, 0.3, steps=args.steps)
        med, _ = _harness.interleaved(runs, device, args.repeats)
        out = {
            "seconds": med,
            "train_ratio": med["train channels_last"] / med["train nchw"],
            "pgd_ratio": med["pgd channels_last"] / med["pgd nchw"],
            "max_logit_difference": diff.max().item(),
        }
        res[arch] = out
        lines.append(
            f"{arch:7s} training {out['train_ratio']:.2f}, PGD {out['pgd_ratio']:.2f} "
            f"(channels-last / NCHW); largest logit difference "
            f"{out['max_logit_difference']:.1e}"
        )
    print(
        f"{_harness.machine()}: {args.images} digits trained on, PGD-{args.steps} "
        f"on {args.batch}"
    )
    print("\n".join(lines))
    _harness.write_json(res, args.json)
    return res


if __name__ == "__main__":
    main()
