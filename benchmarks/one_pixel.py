"""One-pixel attack speed: robustcore.attacks.one_pixel vs torchattacks.OnePixel at the paper's budget,
and against the model's raw batched forward throughput.

Same model, same images, same budget for both attacks (1 pixel, population 400 — torchattacks
sizes its population as a multiple of the 3 numbers of a grayscale pixel, so it gets 399 —
and 100 generations), each stopping an image as soon as it is fooled. Timed in one process,
interleaved; the median of ``--repeats``. Every forward pass is counted with a hook, so both
attacks' throughput (images evaluated per second) is measured, not assumed. The raw throughput
is plain forward passes of ``--chunk`` images, as many as our attack evaluated, timed in the
same interleaved loop. Prints the ratios; JSON with ``--json``.

    python benchmarks/one_pixel.py [--model mnist-cnn-std] [--batch 16] [--popsize 400] [--generations 100]

``--model small-cnn`` is a model defined here, small enough that the work around each
forward pass shows: conv 16 → conv 32 → fc 64 → 10, trained for one epoch on 10,000
training digits (seed 0; seconds on a CPU), so that both attacks' success rates mean
something.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

from robustcore import attacks, data, train, zoo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness  # noqa: E402  (the shared timing code beside this script)


SMALL_CNN = "small-cnn"


def small_cnn(train_images: int = 10_000, seed: int = 0) -> nn.Module:
    """conv 16 → conv 32 → fc 64 → 10 (4×4 kernels, stride 2, ReLU) for 28×28 digits,
    trained for one epoch on ``train_images`` MNIST training digits; in eval mode."""
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )
    x, y = data.mnist(train=True)
    x, y = data.subset(x, y, train_images, seed=seed)
    train.train(model, x, y, epochs=1, batch_size=128, lr=1e-3, progress=False)
    return model.eval()


def raw_forward(model, x, n: int, chunk: int) -> None:
    """``n`` images through the model in plain forward passes of ``chunk`` images: the floor."""
    xb = x[:1].expand(chunk, -1, -1, -1).contiguous()
    with torch.no_grad():
        for s in range(0, n, chunk):
            model(xb[: min(chunk, n - s)])


def main(argv: list[str] | None = None) -> dict:
    ap = _harness.parser(__doc__, model="mnist-cnn-std", batch=16, repeats=1)
    ap.add_argument("--pixels", type=int, default=1)
    ap.add_argument(
        "--strategy",
        default="rand1",
        help="our DE's mutation: rand1 (the paper's) or best1",
    )
    ap.add_argument(
        "--bounds",
        default="clip",
        help="our DE's rule for numbers out of bounds: clip or resample",
    )
    ap.add_argument("--popsize", type=int, default=400)
    ap.add_argument("--generations", type=int, default=100)
    ap.add_argument(
        "--chunk",
        type=int,
        default=512,
        help="images per forward pass for robustcore and raw",
    )
    ap.add_argument(
        "--train-images",
        type=int,
        default=10_000,
        help=f"training digits of --model {SMALL_CNN} (one epoch)",
    )
    args = _harness.parse(ap, argv)

    import torchattacks  # the reference implementation

    device = torch.device(args.device)
    if args.model == SMALL_CNN:
        model = small_cnn(args.train_images).to(device)
    else:
        model = zoo.load(args.model, progress=False).to(device).eval()
    x, y = data.mnist(train=False)
    x, y = x[: args.batch].to(device), y[: args.batch].to(device)
    seen = {"n": 0}
    model.register_forward_hook(
        lambda m, inp, out: seen.__setitem__("n", seen["n"] + inp[0].shape[0])
    )
    ta = torchattacks.OnePixel(
        model,
        pixels=args.pixels,
        steps=args.generations,
        popsize=args.popsize,
        inf_batch=args.chunk,
    )

    def counted(fn):
        def run():
            seen["n"] = 0
            out = fn()
            return out, seen["n"]

        return run

    ours_run = counted(
        lambda: attacks.one_pixel(
            model,
            x,
            y,
            pixels=args.pixels,
            popsize=args.popsize,
            generations=args.generations,
            strategy=args.strategy,
            bounds=args.bounds,
            batch_size=args.chunk,
            progress=False,
        )
    )
    n_ours = ours_run()[
        1
    ]  # the same every run (seeded): the raw floor forwards as many images
    runs = {
        "robustcore": ours_run,
        "torchattacks": counted(lambda: ta(x, y)),
        "raw": counted(lambda: raw_forward(model, x, n_ours, args.chunk)),
    }
    med, outs = _harness.interleaved(runs, device, args.repeats)
    ours, n_ours = outs["robustcore"]
    adv_ta, n_ta = outs["torchattacks"]
    with torch.no_grad():
        success = {
            "robustcore": float(ours.success.float().mean()),
            "torchattacks": float((model(adv_ta).argmax(1) != y).float().mean()),
        }
    raw = outs["raw"][1] / med["raw"]
    thr = {
        "robustcore": n_ours / med["robustcore"],
        "torchattacks": n_ta / med["torchattacks"],
        "raw": raw,
    }
    res = {
        "benchmark": "one_pixel",
        "model": args.model,
        "model_training": (
            f"one epoch on {args.train_images:,} training digits"
            if args.model == SMALL_CNN
            else "zoo checkpoint"
        ),
        "pixels": args.pixels,
        "strategy": args.strategy,
        "bounds": args.bounds,
        "batch": args.batch,
        "popsize": args.popsize,
        "generations": args.generations,
        "chunk": args.chunk,
        "device": str(device),
        "machine": _harness.machine(),
        "seconds": med,
        "images_evaluated": {"robustcore": n_ours, "torchattacks": n_ta},
        "throughput": thr,
        "success_rate": success,
        "speedup_vs_torchattacks": med["torchattacks"] / med["robustcore"],
        "throughput_vs_raw": thr["robustcore"] / raw,
        "queries_per_image": {
            "robustcore": n_ours / args.batch,
            "torchattacks": n_ta / args.batch,
        },
    }
    print(
        f"one-pixel attack (ours: DE/{args.strategy}, {args.bounds}), {args.pixels} pixel(s), population {args.popsize}, {args.generations} generations, {args.batch} "
        f"images, {args.model} on {res['machine']}, {device}"
    )
    for k in ("robustcore", "torchattacks"):
        print(
            f"  {k:13s} {med[k]:7.1f} s  {res['images_evaluated'][k]:>9,} images evaluated "
            f"({thr[k]:,.0f} img/s)  success {success[k]:.1%}"
        )
    print(
        f"  raw forward   {med['raw']:7.1f} s  {outs['raw'][1]:>9,} images ({raw:,.0f} img/s at batch {args.chunk})"
    )
    print(
        f"  speed-up vs torchattacks: {res['speedup_vs_torchattacks']:.2f}x  (target >= 1.5 on a CPU)"
    )
    print(
        f"  throughput vs raw forward: {res['throughput_vs_raw']:.3f}  (target >= 0.9)"
    )
    _harness.write_json(res, args.json)
    return res


if __name__ == "__main__":
    main()
