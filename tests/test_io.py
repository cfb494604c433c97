import os

import pytest
import torch

from misuse import X, Y, cases, half_then_fail, misuse_test
from robustcore import features, io


def test_atomic_save_and_verified_load(tmp_path):
    p = tmp_path / "sub" / "a.pt"
    digest = io.atomic_save({"w": torch.arange(3)}, p)
    assert digest == io.sha256(p) == (tmp_path / "sub" / "a.pt.sha256").read_text()
    assert torch.equal(io.load_verified(p)["w"], torch.arange(3))
    assert torch.equal(io.load_verified(p, digest)["w"], torch.arange(3))
    assert sorted(os.listdir(p.parent)) == ["a.pt", "a.pt.sha256"]  # no temp files left


def test_tampered_and_unverified_files_refused(tmp_path):
    p = tmp_path / "a.pt"
    io.atomic_save({"w": torch.zeros(4)}, p)
    data = bytearray(p.read_bytes())
    data[-10] ^= 0xFF
    p.write_bytes(bytes(data))
    with pytest.raises(io.ChecksumError, match="corrupted or was modified"):
        io.load_verified(p)
    (tmp_path / "a.pt.sha256").unlink()
    with pytest.raises(io.ChecksumError, match="unverified"):
        io.load_verified(p)
    with pytest.raises(FileNotFoundError):
        io.load_verified(tmp_path / "missing.pt")


def test_pickled_code_refused_even_with_matching_digest(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("true",))

    p = tmp_path / "evil.pt"
    torch.save({"x": Evil()}, p)
    with pytest.raises(io.ChecksumError, match="could not be loaded safely"):
        io.load_verified(p, io.sha256(p))


def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    p = tmp_path / "a.pt"

    def boom(obj, f):
        f.write(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(KeyboardInterrupt):
        io.atomic_save({"w": torch.zeros(1)}, p)
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_json(tmp_path):
    p = tmp_path / "m.json"
    io.atomic_write_json({"b": 1, "a": [1, 2]}, p)
    assert p.read_text().startswith('{\n  "a"')


def test_compressed_json_reads_back_and_a_corrupt_one_is_named(tmp_path):
    p = tmp_path / "m.json.xz"
    obj = {"digits": "0110" * 500, "n": 2000}
    io.atomic_write_json(obj, p, compress=True)
    assert io.read_json(p) == obj and p.stat().st_size < 1000
    p.write_bytes(p.read_bytes()[:-8])  # truncated
    with pytest.raises(ValueError, match="m.json.xz is not valid JSON"):
        io.read_json(p)


# ---- misuse: bad arguments are refused and nothing is written; interrupted writes
# leave nothing that loads

MISUSE = cases(
    "io",
    {
        "download:path-int": (
            lambda: io.download("http://127.0.0.1:9/x", 3, "0" * 64),
            TypeError,
            "path must be",
        ),
        "download:path-empty": (
            lambda: io.download("http://127.0.0.1:9/x", "", "0" * 64),
            TypeError,
            "path must be",
        ),
        "atomic_save:path-int": (
            lambda: io.atomic_save({}, 3),
            TypeError,
            "path must be",
        ),
        "atomic_save:path-empty": (
            lambda: io.atomic_save({}, ""),
            TypeError,
            "path must be",
        ),
        "atomic_save:path-folder": (
            lambda: io.atomic_save({}, "."),
            ValueError,
            "path must name a file",
        ),
        "atomic_write_json:not-json": (
            lambda: io.atomic_write_json({"x": X}, "r.json"),
            TypeError,
            "JSON serializable",
        ),
        "atomic_write_json:path-none": (
            lambda: io.atomic_write_json({}, None),
            TypeError,
            "path must be",
        ),
        "load_verified:digest-short": (
            lambda: io.load_verified("a.pt", "abc"),
            ValueError,
            "expected_sha256 must be",
        ),
        "load_verified:digest-int": (
            lambda: io.load_verified("a.pt", 12),
            ValueError,
            "expected_sha256 must be",
        ),
        "load_verified:path-list": (
            lambda: io.load_verified(["a.pt"]),
            TypeError,
            "path must be",
        ),
        "load_verified:missing": (
            lambda: io.load_verified("missing.pt"),
            FileNotFoundError,
            "no file at",
        ),
    },
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)


def test_interrupted_atomic_save_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "ckpt" / "a.pt"
    monkeypatch.setattr(torch, "save", half_then_fail)
    with pytest.raises(OSError, match="simulated"):
        io.atomic_save({"w": torch.zeros(3)}, target)
    assert list(target.parent.iterdir()) == []
    with pytest.raises(FileNotFoundError):
        io.load_verified(target)


def test_interrupted_digest_write_leaves_a_file_that_does_not_load(
    tmp_path, monkeypatch
):
    """Killed between the checkpoint and its .sha256: the checkpoint is refused as
    unverified."""
    calls = {"n": 0}
    real = io._atomic_write

    def second_fails(path, write):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(path, write)

    monkeypatch.setattr(io, "_atomic_write", second_fails)
    target = tmp_path / "a.pt"
    with pytest.raises(KeyboardInterrupt):
        io.atomic_save({"w": torch.zeros(3)}, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pt"]
    with pytest.raises(io.ChecksumError, match="unverified"):
        io.load_verified(target)


def test_no_temp_files_after_successful_writes(tmp_path):
    io.atomic_save({"w": torch.zeros(1)}, tmp_path / "a.pt")
    io.atomic_write_json({"a": 1}, tmp_path / "b.json")
    features.save(features.Constructed(X, Y), tmp_path / "c.pt")
    assert sorted(os.listdir(tmp_path)) == [
        "a.pt",
        "a.pt.sha256",
        "b.json",
        "c.pt",
        "c.pt.sha256",
    ]
