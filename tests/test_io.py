import os

import pytest
import torch

from robustcore import io


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
