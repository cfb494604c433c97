"""Safe files: atomic writes and sha256 checksums.

Everything the library saves (checkpoints, constructed datasets, results) goes
through :func:`atomic_save`, so an interrupted write never leaves a file that
later loads, and through :func:`load_verified`, which checks the sha256 before
``torch.load(..., weights_only=True)`` reads a single byte as data.
"""

from __future__ import annotations

import hashlib
import io as _bytes_io
import json
import lzma
import os
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import torch


class ChecksumError(ValueError):
    """A file's sha256 does not match the expected value (corrupted or tampered)."""


def sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        # mkstemp makes 0600 files; give the usual mode
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _target(path: Any) -> Path:
    """A path to write a file to: a str or os.PathLike that is not an existing
    folder."""
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)) or path == "":
        raise TypeError(
            f"path must be a non-empty str or os.PathLike, got {type(path).__name__} "
            f"{path!r}"
        )
    path = Path(path).expanduser()
    if path.is_dir():
        raise ValueError(f"path must name a file, got the folder {path}")
    return path


def atomic_save(
    obj: Any,
    path: str | os.PathLike,
    *,
    compress: bool = False,
    digest_file: bool = True,
) -> str:
    """``torch.save`` to a temp file in the same folder, then rename; return the sha256.

    ``compress``: xz-compress the bytes (for files that ship; :func:`load_verified`
    reads them back). ``digest_file``: also write ``<path>.sha256`` (atomically) next to
    it.
    """
    path = _target(path)
    if compress:
        buf = _bytes_io.BytesIO()
        torch.save(obj, buf)
        data = lzma.compress(buf.getvalue(), preset=9 | lzma.PRESET_EXTREME)
        _atomic_write(path, lambda f: f.write(data))
    else:
        _atomic_write(path, lambda f: torch.save(obj, f))
    digest = sha256(path)
    if digest_file:
        _atomic_write(
            path.with_name(path.name + ".sha256"), lambda f: f.write(digest.encode())
        )
    return digest


def atomic_write_json(
    obj: Any, path: str | os.PathLike, *, compress: bool = False
) -> None:
    """Write JSON atomically (sorted keys, indented); ``compress``: xz-compressed, for
    bulky records (:func:`read_json` reads a ``.xz`` file back)."""
    path = _target(path)
    data = json.dumps(obj, indent=2, sort_keys=True).encode() + b"\n"
    if compress:
        data = lzma.compress(data, preset=9 | lzma.PRESET_EXTREME)
    _atomic_write(path, lambda f: f.write(data))


def load_verified(path: str | os.PathLike, expected_sha256: str | None = None) -> Any:
    """Verify a file's sha256, then ``torch.load(weights_only=True)`` it.

    The expected digest is ``expected_sha256`` if given, else the ``.sha256`` file
    written by :func:`atomic_save`. A ``.xz`` file is decompressed in memory. Raises
    :class:`ChecksumError` on a mismatch or a missing digest, ``FileNotFoundError`` if
    the file is absent.
    """
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    if expected_sha256 is not None and (
        not isinstance(expected_sha256, str)
        or len(expected_sha256) != 64
        or any(ch not in "0123456789abcdef" for ch in expected_sha256)
    ):
        raise ValueError(
            f"expected_sha256 must be 64 lowercase hex digits, got {expected_sha256!r}"
        )
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path}")
    if expected_sha256 is None:
        side = path.with_name(path.name + ".sha256")
        if not side.is_file():
            raise ChecksumError(
                f"{path} has no {side.name}; refusing to load an unverified file"
            )
        expected_sha256 = side.read_text().strip()
    actual = sha256(path)
    if actual != expected_sha256:
        raise ChecksumError(
            f"{path} is corrupted or was modified: sha256 {actual[:12]}… "
            f"!= expected {expected_sha256[:12]}…"
        )
    try:
        if path.suffix == ".xz":
            return torch.load(
                _bytes_io.BytesIO(lzma.decompress(path.read_bytes())),
                map_location="cpu",
                weights_only=True,
            )
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a file whose digest matches but does not unpickle safely
        raise ChecksumError(f"{path} could not be loaded safely: {e}") from None


def read_json(path: str | os.PathLike) -> Any:
    """The JSON value in a file, xz-decompressed first if its name ends in ``.xz``
    (``ValueError`` naming the file if it is not JSON)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if path.suffix == ".xz":
            raw = lzma.decompress(raw)
        return json.loads(raw.decode())
    except (json.JSONDecodeError, lzma.LZMAError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None


def download(
    url: str, path: str | os.PathLike, expected_sha256: str, timeout: float = 60.0
) -> Path:
    """Fetch ``url`` into ``path`` unless a file with ``expected_sha256`` is already
    there.

    The bytes go to a temp file beside ``path`` and are renamed only once their sha256
    matches, so an interrupted or tampered download leaves nothing behind
    (:class:`ChecksumError`).
    """
    path = _target(path)
    if path.is_file() and sha256(path) == expected_sha256:
        return path
    h = hashlib.sha256()

    def write(f) -> None:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            for block in iter(lambda: r.read(1 << 20), b""):
                h.update(block)
                f.write(block)
        if h.hexdigest() != expected_sha256:
            raise ChecksumError(
                f"{url} does not have the expected sha256 "
                f"({h.hexdigest()[:12]}… != {expected_sha256[:12]}…)"
            )

    _atomic_write(path, write)
    return path
