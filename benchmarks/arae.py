"""ARAE training speed: robustcore.novelty.fit (method "arae") vs the bare cost of its
passes.

One ARAE step crafts the latent attack against the current model (``steps`` forward
passes of the encoder and backward passes to the input) and then trains on it (the
encoder on the clean and the attacked batch, the decoder, one backward pass, one Adam
step). The bare cost runs exactly those passes on the same batches with nothing else: no
projection, no random start, no bookkeeping, no checks. Both are timed in one process,
interleaved; the median of ``--repeats`` is used. Prints images/s for both and the ratio
(ours / bare; 1.0 is the floor), JSON with ``--json``. Defaults: the full recipe's MNIST
settings (40 steps, batches of 256, ε = 0.2).

    python benchmarks/arae.py [--images 1024] [--steps 40] [--batch 256] [--repeats 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from robustcore import data, novelty
from robustcore.novelty import recipes

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness  # noqa: E402  (the shared timing code beside this script)


def bare(model, x, steps, batch, opt, gamma=0.1):
    """The floor of one epoch: per batch, ``steps`` encoder forward+backward passes to the
    input, then the training step's forward, backward and Adam step."""
    for i in range(0, len(x), batch):
        xb = x[i : i + batch]
        with torch.no_grad():
            z = model.encode(xb)
        x_adv = xb.clone()
        for _ in range(steps):
            x_adv.requires_grad_(True)
            (g,) = torch.autograd.grad((model.encode(x_adv) - z).pow(2).sum(), x_adv)
            x_adv = x_adv.detach()
        z, z_adv = model.encode(xb), model.encode(x_adv)
        loss = F.mse_loss(model.decode(z_adv), xb) + gamma * F.mse_loss(z, z_adv)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def main(argv: list[str] | None = None) -> dict:
    ap = _harness.parser(
        __doc__,
        model="(novelty.AutoEncoder)",
        batch=recipes.BATCH_SIZE["mnist"],
        repeats=3,
    )
    ap.add_argument(
        "--images", type=int, default=1024, help="training images per epoch"
    )
    ap.add_argument("--steps", type=int, default=recipes.STEPS["mnist"])
    args = _harness.parse(ap, argv)

    device = torch.device(args.device)
    x, y = data.mnist(train=True)
    x = x[y == 8][: args.images].to(device)
    ours, floor = novelty.AutoEncoder().to(device), novelty.AutoEncoder().to(device)
    opt = torch.optim.Adam(floor.parameters(), lr=1e-3)
    eps = recipes.EPS["mnist"]
    runs = {
        "robustcore": lambda: novelty.fit(
            ours,
            x,
            method="arae",
            epochs=1,
            batch_size=args.batch,
            eps=eps,
            steps=args.steps,
            progress_bar=False,
        ),
        "bare": lambda: bare(floor.train(), x, args.steps, args.batch, opt),
    }
    med, _ = _harness.interleaved(runs, device, args.repeats)
    res = {
        "benchmark": "arae",
        "images": len(x),
        "steps": args.steps,
        "batch": args.batch,
        "device": str(device),
        "machine": _harness.machine(),
        "seconds": med,
        "images_per_second": {k: len(x) / v for k, v in med.items()},
        "ratio_vs_bare": med["robustcore"] / med["bare"],
    }
    print(
        f"ARAE training, {args.steps}-step latent attack, {len(x)} images in batches of "
        f"{args.batch}, on {res['machine']}, {device}"
    )
    for k, v in med.items():
        print(f"  {k:11s} {v:8.2f} s  ({len(x) / v:,.1f} images/s)")
    print(f"  ratio vs bare cost: {res['ratio_vs_bare']:.3f}  (target <= 1.2)")
    _harness.write_json(res, args.json)
    return res


if __name__ == "__main__":
    main()
