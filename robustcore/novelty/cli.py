"""The command line ``python -m robustcore.novelty prepare | train | test``: the
workflow of the public scripts."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch

from .. import checks, data, io, profiles
from . import __doc__ as novelty_doc
from .model import METHODS, AutoEncoder, evaluate
from .protocols import DATASETS, PROTOCOLS, prepare
from .recipes import EPOCHS, load, make, recipe, split_of, train_recipe

SPEC_FILE, MODEL_FILE = "split.json", "model.pt"


def _parse_prepare(
    dataset: str, protocol: str, rest: list[str]
) -> tuple[float | None, list[int]]:
    def num(s: str, kind: type, what: str):
        try:
            return kind(s)
        except ValueError:
            raise ValueError(f"{what} must be a {kind.__name__}, got {s!r}") from None

    if protocol == "p1":
        if len(rest) < 2:
            raise ValueError(
                "p1 takes an anomaly fraction and at least one normal class: "
                "prepare DATASET p1 FRACTION CLASS [CLASS ...]"
            )
        return num(rest[0], float, "anomaly fraction"), [
            num(c, int, "class") for c in rest[1:]
        ]
    if not rest:
        raise ValueError(
            "p2 takes the normal class(es): prepare DATASET p2 CLASS [CLASS ...]"
        )
    return None, [num(c, int, "class") for c in rest]


def _load_checkpoint(where: str) -> tuple[AutoEncoder, dict[str, Any], str | None]:
    """(model, recipe, data root) from a checkpoint file (sha256-verified) or a zoo
    name."""
    path = Path(where)
    if not path.is_file() and where.startswith("novelty-"):
        model = load(where, device="cpu")
        return model, model.meta["recipe"], None  # type: ignore[attr-defined]
    ckpt = io.load_verified(path)
    if (
        not isinstance(ckpt, dict)
        or not isinstance(ckpt.get("state_dict"), dict)
        or not isinstance(ckpt.get("meta"), dict)
        or not isinstance(ckpt["meta"].get("recipe"), dict)
    ):
        raise io.ChecksumError(
            f"{path} is not a novelty checkpoint (no state_dict/meta)"
        )
    rec = ckpt["meta"]["recipe"]
    try:
        model = make(rec)
        model.load_state_dict(ckpt["state_dict"])
    except (TypeError, ValueError, RuntimeError) as e:
        raise io.ChecksumError(
            f"{path} is not a novelty checkpoint of its recipe "
            f"({type(e).__name__}: {e})"
        ) from None
    return model.eval(), rec, ckpt["meta"].get("root")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m robustcore.novelty", description=novelty_doc.split("\n\n")[0]
    )
    p.add_argument(
        "--dir",
        default="novelty-run",
        help="working folder for the split and the model",
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser(
        "prepare",
        help="choose the task: DATASET p1 FRACTION CLASS... | DATASET p2 CLASS...",
    )
    pp.add_argument("dataset")
    pp.add_argument("protocol")
    pp.add_argument("rest", nargs="*", metavar="ARG")
    pp.add_argument("--seed", type=int, default=0)
    pp.add_argument("--root", default=None, help=f"data root (default ${data.ENV_VAR})")
    pp.add_argument("--max-train", type=int, default=None)
    pp.add_argument("--max-test", type=int, default=None)
    pt = sub.add_parser("train", help="train an autoencoder on the prepared split")
    pt.add_argument("--method", choices=METHODS, default="arae")
    pt.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="default: the profile's (quick 40, full 200); the other settings default "
        "to the paper's",
    )
    for flag, kind in (
        ("--batch-size", int),
        ("--lr", float),
        ("--gamma", float),
        ("--eps", float),
        ("--steps", int),
        ("--noise-std", float),
        ("--seed", int),
    ):
        pt.add_argument(flag, type=kind, default=None)
    pe = sub.add_parser(
        "test", help="AUROC (and F1 for p1) of a checkpoint on its split"
    )
    pe.add_argument(
        "checkpoint",
        nargs="?",
        default=None,
        help=f"a checkpoint file or a zoo name (default: <dir>/{MODEL_FILE})",
    )
    args = p.parse_args(argv)
    run = Path(args.dir)
    try:
        if args.cmd == "prepare":
            checks.choice(args.dataset, "dataset", DATASETS)
            checks.choice(args.protocol, "protocol", PROTOCOLS)
            frac, classes = _parse_prepare(args.dataset, args.protocol, args.rest)
            split = prepare(
                args.dataset,
                args.protocol,
                classes,
                frac,
                seed=args.seed,
                root=args.root,
                max_train=args.max_train,
                max_test=args.max_test,
            )
            spec = {
                "dataset": args.dataset,
                "protocol": args.protocol,
                "normal": list(split.normal),
                "anomaly_fraction": split.anomaly_fraction,
                "seed": args.seed,
                "root": args.root,
                "max_train": args.max_train,
                "max_test": args.max_test,
            }
            run.mkdir(parents=True, exist_ok=True)
            io.atomic_write_json(spec, run / SPEC_FILE)
            print(split.summary())
            print(f"wrote {run / SPEC_FILE}")
            return 0
        if args.cmd == "train":
            spec_path = run / SPEC_FILE
            if not spec_path.is_file():
                raise FileNotFoundError(f"no {SPEC_FILE} in {run}; run `prepare` first")
            spec = json.loads(spec_path.read_text())
            root = spec.pop("root", None)
            epochs = (
                args.epochs
                if args.epochs is not None
                else EPOCHS[profiles.default_name()]
            )
            over = {
                k: v
                for k, v in (
                    ("batch_size", args.batch_size),
                    ("lr", args.lr),
                    ("gamma", args.gamma),
                    ("eps", args.eps),
                    ("steps", args.steps),
                    ("noise_std", args.noise_std),
                )
                if v is not None
            }
            rec = recipe(
                spec["dataset"],
                spec["protocol"],
                spec["normal"],
                args.method,
                epochs=epochs,
                anomaly_fraction=spec["anomaly_fraction"],
                seed=spec["seed"],
                max_train=spec["max_train"],
                max_test=spec["max_test"],
                **over,
            )
            if args.seed is not None:
                # the training seed; the split keeps the one it was prepared with
                rec["train_seed"] = args.seed
            model = make(rec)
            t0 = time.perf_counter()
            metrics = train_recipe(model, rec, root=root)
            meta = {
                "recipe": rec,
                "metrics": metrics,
                "root": root,
                "train_seconds": round(time.perf_counter() - t0, 1),
                "torch": str(torch.__version__),
            }
            state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
            digest = io.atomic_save(
                {"state_dict": state, "meta": meta}, run / MODEL_FILE
            )
            print(
                f"trained {args.method} in {meta['train_seconds']} s: "
                + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
            )
            print(f"wrote {run / MODEL_FILE} (sha256 {digest[:12]}…)")
            return 0
        where = args.checkpoint or str(run / MODEL_FILE)
        model, rec, root = _load_checkpoint(where)
        res = evaluate(model, split_of(rec, root))
        print(
            f"{rec['method']} on {rec['dataset']} {rec['protocol']} "
            f"normal {rec['normal']}: "
            + ", ".join(f"{k} {v:.4f}" for k, v in res.items())
        )
        return 0
    except (ValueError, TypeError, FileNotFoundError) as e:
        p.error(str(e))
    return 2
