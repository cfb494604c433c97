"""Resumable evaluations: per-digit work done in chunks, each kept as it finishes.

A paper-scale evaluation (AutoAttack on 10,000 digits, the one-pixel search on 500)
runs for hours on a CPU and must survive an interrupted session. :func:`evaluate`
splits its inputs into chunks of ``chunk`` rows, calls ``fn`` on each and, when a
progress folder is set (``$ROBUSTCORE_PROGRESS``; ``make full`` points it into its
output folder), saves each chunk's outputs atomically, sha256-verified, with what made
them: the sha256 of the model's weights, of the inputs and of the settings (a chunk
of per-digit outcomes xz-compressed, ``chunk-*.pt.xz``: kilobytes). A rerun
loads the chunks already made and computes only the rest. A chunk made from other
weights, inputs or settings is refused with a ``ValueError``, never merged.

Without a progress folder nothing is written, and ``fn`` still runs chunk by chunk.
Each chunk is an independent call of ``fn``: an attack that draws random numbers draws
them per chunk, so its outcomes depend on ``chunk`` (recorded with the chunks, so a
change of ``chunk`` is refused too).

:func:`outcomes` reads the per-digit outcomes kept in a folder (the one-dimensional
boolean and integer outputs; images stay out), small enough to commit with the records.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import torch

from . import checks, io
from .utils import env_dir, progress

ENV_VAR = "ROBUSTCORE_PROGRESS"
ORDER_ENV = "ROBUSTCORE_CHUNK_ORDER"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.=-]{0,120}")
# A chunk whose outputs take fewer bytes than this (per-digit outcomes, not images) is
# kept xz-compressed: a few kilobytes, small enough to commit as a long run goes.
SMALL_BYTES = 1 << 20
# A chunk is taken only from the same weights, so a run resumed on another machine
# must train them bit for bit again: one thread, PyTorch's and oneDNN's kernels at AVX2
# (every x86 machine here has it; AVX-512 sums in another order) and MKL's conditional
# numerical reproducibility branch COMPATIBLE, which MKL documents as giving the same
# results on Intel and other x86 CPUs (its AVX2 branch falls back to AUTO on AMD). Read
# when torch is imported: set it for a new process. It costs 1.3x on a SmallCNN's
# training (MKL's products at SSE2 width).
PORTABLE_ORDER = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "ATEN_CPU_CAPABILITY": "avx2",
    "DNNL_MAX_CPU_ISA": "AVX2",
    "MKL_CBWR": "COMPATIBLE",
}


def progress_dir() -> Path | None:
    """The folder named by ``$ROBUSTCORE_PROGRESS``, or None (chunks are not kept)."""
    return env_dir(ENV_VAR, "progress") if os.environ.get(ENV_VAR) else None


@contextlib.contextmanager
def none_kept() -> Iterator[None]:
    """Within it no progress folder is set: work meant to be thrown away (a timing
    probe) leaves no chunks behind."""
    saved = os.environ.pop(ENV_VAR, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[ENV_VAR] = saved


def fingerprint(obj: Any) -> str:
    """sha256 of a model's weights (its ``state_dict``: names, dtypes, shapes and
    bytes), of a tensor, or of a tuple/list of tensors."""
    h = hashlib.sha256()
    if isinstance(obj, torch.nn.Module):
        items = list(obj.state_dict().items())
    elif isinstance(obj, torch.Tensor):
        items = [("", obj)]
    elif isinstance(obj, (tuple, list)) and all(
        isinstance(t, torch.Tensor) for t in obj
    ):
        items = [(str(i), t) for i, t in enumerate(obj)]
    else:
        raise TypeError(
            "obj must be a torch.nn.Module, a tensor or a tuple of tensors, got "
            f"{type(obj).__name__}"
        )
    for name, t in items:
        t = t.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(
            t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        )
    return h.hexdigest()


def _fields(out: Any) -> tuple[dict[str, torch.Tensor], str]:
    """The tensors ``fn`` returned (on the CPU), and the dataclass holding them
    ("module:QualName") or "" for a dict."""
    kind = ""
    if dataclasses.is_dataclass(out) and not isinstance(out, type):
        kind = f"{type(out).__module__}:{type(out).__qualname__}"
        out = {f.name: getattr(out, f.name) for f in dataclasses.fields(out)}
    if not isinstance(out, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in out.values()
    ):
        raise TypeError(
            "fn must return a dict of tensors or a dataclass of tensors, got "
            f"{type(out).__name__}"
        )
    return {k: v.detach().cpu() for k, v in out.items()}, kind


def _merge(parts: list[dict[str, torch.Tensor]], kind: str) -> Any:
    merged = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
    if not kind:
        return merged
    module, _, qualname = kind.partition(":")
    cls: Any = importlib.import_module(module)
    for attr in qualname.split("."):
        cls = getattr(cls, attr)
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"chunks name {kind} as their type, which is not a dataclass")
    return cls(**merged)


def _settings(settings: Mapping[str, Any] | None) -> str:
    try:
        return json.dumps(dict(settings or {}), sort_keys=True)
    except TypeError as e:
        raise TypeError(f"settings must be JSON-able (numbers, strings): {e}") from None


def evaluate(
    fn: Callable[..., Any],
    *inputs: torch.Tensor,
    name: str,
    model: torch.nn.Module,
    chunk: int = 500,
    settings: Mapping[str, Any] | None = None,
    folder: str | Path | None = None,
    show_progress: bool = True,  # a bar over the chunks, when there are several
) -> Any:
    """``fn(*inputs)`` computed ``chunk`` rows at a time, resumable.

    ``inputs``: tensors sharing their first dimension N (e.g. images (N, C, H, W) in
    [0, 1] and labels (N,)). ``fn`` returns, for n rows, a dict or dataclass of tensors
    whose first dimension is n; the result is the same type with the chunks
    concatenated. ``name`` names the evaluation in the folder (letters, digits,
    ``_.=-``). ``model``: the network ``fn`` evaluates; its weights' sha256 goes with
    every chunk. ``settings``: what else decides the outputs (JSON-able), e.g. the
    attack's budget. ``folder``: where chunks are kept, default
    :func:`progress_dir`; None there keeps nothing.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"name must be letters, digits, _.=- (121 at most): {name!r}")
    checks.module(model, "model")
    chunk = checks.integer(chunk, "chunk", 1)
    if not inputs or not all(isinstance(t, torch.Tensor) for t in inputs):
        raise TypeError("inputs must be one or more tensors")
    n = len(inputs[0])
    if n == 0 or any(len(t) != n for t in inputs):
        raise ValueError(
            "inputs must share a non-zero first dimension, got "
            f"{[tuple(t.shape) for t in inputs]}"
        )
    meta = {
        "name": name,
        "model_sha256": fingerprint(model),
        "inputs_sha256": fingerprint(inputs),
        "settings": _settings(settings),
        "chunk": chunk,
        "n": n,
    }
    base = checks.path(folder, "folder") if folder is not None else progress_dir()
    where = base / name if base is not None else None
    if where is not None:
        _check_manifest(where, meta)
    parts, kind = [], ""
    starts = range(0, n, chunk)
    if order() == "reverse":  # a second process shares the work from the other end
        starts = starts[::-1]
    for start in progress(starts, enabled=show_progress and n > chunk, desc=name):
        stop = min(start + chunk, n)
        path = where / f"chunk-{start:06d}-{stop:06d}.pt" if where else None
        kept = _kept(path) if path is not None else None
        if kept is not None:
            saved = io.load_verified(kept)
            if saved["meta"] != {**meta, "start": start, "stop": stop}:
                raise ValueError(
                    f"{kept} was made from other weights, inputs or settings; "
                    f"delete {where} to recompute"
                )
            part, kind = saved["out"], saved["type"]
        else:
            part, kind = _fields(fn(*(t[start:stop] for t in inputs)))
            if any(len(v) != stop - start for v in part.values()):
                raise ValueError(
                    f"fn must return tensors with {stop - start} rows for "
                    f"{stop - start} inputs"
                )
            if path is not None:
                small = sum(v.numel() * v.element_size() for v in part.values())
                small = small < SMALL_BYTES
                io.atomic_save(
                    {
                        "meta": {**meta, "start": start, "stop": stop},
                        "type": kind,
                        "out": part,
                    },
                    path.with_name(path.name + ".xz") if small else path,
                    compress=small,
                )
        parts.append((start, part))
    return _merge([part for _, part in sorted(parts, key=lambda p: p[0])], kind)


def order() -> str:
    """The order chunks are made in: ``$ROBUSTCORE_CHUNK_ORDER``, "forward" (default)
    or "reverse". Two processes on the same folder, one each way, share a long
    evaluation: each skips the chunks the other has kept."""
    value = os.environ.get(ORDER_ENV, "forward")
    if value not in ("forward", "reverse"):
        raise ValueError(f"{ORDER_ENV} must be 'forward' or 'reverse', got {value!r}")
    return value


def _kept(path: Path) -> Path | None:
    """The chunk kept at ``path``, compressed (``.pt.xz``) or not, or None."""
    return next(
        (p for p in (path.with_name(path.name + ".xz"), path) if p.is_file()), None
    )


def _chunk_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("chunk-*") if p.suffix in (".pt", ".xz"))


def _check_manifest(where: Path, meta: dict[str, Any]) -> None:
    manifest = where / "manifest.json"
    if manifest.is_file():
        old = io.read_json(manifest)
        differ = sorted(k for k in meta if old.get(k) != meta[k])
        if differ:
            raise ValueError(
                f"{where} holds chunks of another evaluation (different "
                f"{', '.join(differ)}); delete it to recompute"
            )
    else:
        io.atomic_write_json(meta, manifest)


def outcomes(folder: str | Path) -> dict[str, dict[str, Any]]:
    """Per evaluation kept in ``folder`` (one subfolder each), its per-digit outcomes:
    each one-dimensional boolean output as a string of 0s and 1s, each integer one as a
    list, over the digits of the chunks made so far; with the model's sha256 and the
    number of digits done of ``n``."""
    folder = checks.path(folder, "folder")
    found: dict[str, dict[str, Any]] = {}
    for manifest in sorted(folder.glob("*/manifest.json")):
        meta = io.read_json(manifest)
        parts = [io.load_verified(p) for p in _chunk_files(manifest.parent)]
        parts = [p for p in parts if p["meta"]["model_sha256"] == meta["model_sha256"]]
        rec: dict[str, Any] = {
            "model_sha256": meta["model_sha256"],
            "n": meta["n"],
            "done": sum(p["meta"]["stop"] - p["meta"]["start"] for p in parts),
        }
        parts.sort(key=lambda p: p["meta"]["start"])
        for key in parts[0]["out"] if parts else ():
            t = torch.cat([p["out"][key] for p in parts])
            if t.ndim != 1:
                continue
            if t.dtype == torch.bool:
                rec[key] = "".join("1" if v else "0" for v in t.tolist())
            elif not t.is_floating_point():
                rec[key] = t.tolist()
        found[manifest.parent.name] = rec
    return found
