"""The artifact store's order (cache → shipped → download → build), its recipe checks, and the
safe-file primitives beneath it: sha256 checks, atomic writes, the xz format, downloads."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import lzma
import os
import warnings
from io import BytesIO
from pathlib import Path

import pytest
import torch

from robustcore import io, store

# what every build records of the code that built it
BUILT = {
    "robustcore": importlib.metadata.version("robustcore"),
    "torch": str(torch.__version__),
}

XZ_MAGIC = b"\xfd7zXZ\x00"


@pytest.fixture
def loads(monkeypatch) -> list[Path]:
    """Records the files that ``io.load_verified`` reads, in order."""
    seen: list[Path] = []
    real = io.load_verified

    def recording(path, expected_sha256=None):
        seen.append(Path(path))
        return real(path, expected_sha256)

    monkeypatch.setattr(io, "load_verified", recording)
    return seen


def no_download(url, path, expected_sha256, timeout=60.0):
    raise AssertionError(f"downloaded {url}")


def shipped_and_cached(a: store.Artifact) -> None:
    """Both a cached and a shipped copy of ``a`` (quick profile), built from its current recipe."""
    store.build(a, "quick")
    store.ship(a, "quick")


# ---- the order --------------------------------------------------------------------------------


def test_cache_comes_first(tmp_cache, tiny, loads, monkeypatch):
    a, calls, shipped = tiny
    shipped_and_cached(a)
    loads.clear()
    monkeypatch.setattr(io, "download", no_download)
    assert store.where(a, "quick") == "cache"
    store.fetch(a, "quick", build_if_missing=False)
    assert loads == [tmp_cache / "test-tiny-quick.pt"] and len(calls) == 1


def test_shipped_comes_before_download_and_fills_the_cache(
    tmp_cache, tiny, loads, monkeypatch
):
    a, calls, shipped = tiny
    shipped_and_cached(a)
    (tmp_cache / "test-tiny-quick.pt").unlink()
    loads.clear()
    monkeypatch.setattr(io, "download", no_download)
    p = store.fetch(a, "quick", build_if_missing=False)
    assert loads == [shipped / "test-tiny-quick.pt.xz"] and len(calls) == 1
    assert p["meta"]["recipe"] == {"seed": 0} and float(p["w"][0]) == 0.0
    assert (
        io.load_verified(tmp_cache / "test-tiny-quick.pt")["meta"] == p["meta"]
    )  # verified copy


def test_download_comes_before_building(tmp_cache, tiny, server, monkeypatch):
    a, calls, shipped = tiny
    root, url = server
    shipped_and_cached(a)
    (root / "artifacts").mkdir()
    (shipped / "test-tiny-quick.pt.xz").rename(
        root / "artifacts" / "test-tiny-quick.pt.xz"
    )
    (tmp_cache / "test-tiny-quick.pt").unlink()
    monkeypatch.setenv(store.URL_ENV, url)  # no trailing slash: one is added
    p = store.fetch(a, "quick")
    assert len(calls) == 1 and p["meta"]["recipe"] == {"seed": 0}
    assert (
        (tmp_cache / "downloads" / "test-tiny-quick.pt.xz")
        .read_bytes()
        .startswith(XZ_MAGIC)
    )
    assert (tmp_cache / "test-tiny-quick.pt").is_file()


def test_download_asks_for_the_listed_file_and_digest(tmp_cache, tiny, monkeypatch):
    a, calls, _ = tiny
    io.atomic_write_json({"test-tiny-quick.pt.xz": "ab" * 32}, store.MANIFEST)
    asked = []

    def offline(url, path, expected_sha256, timeout=60.0):
        asked.append((url, Path(path), expected_sha256))
        raise OSError("offline")

    monkeypatch.setattr(io, "download", offline)
    monkeypatch.setenv(store.URL_ENV, "https://example.org/a")
    with pytest.warns(
        UserWarning,
        match=r"could not download test-tiny-quick.pt.xz \(offline\); building",
    ):
        p = store.fetch(a, "quick")
    assert asked == [
        (
            "https://example.org/a/test-tiny-quick.pt.xz",
            tmp_cache / "downloads" / "test-tiny-quick.pt.xz",
            "ab" * 32,
        )
    ]
    assert len(calls) == 1 and p["meta"]["recipe"] == {"seed": 0}


def test_build_is_the_last_resort_and_is_cached(tmp_cache, tiny, monkeypatch):
    a, calls, _ = tiny
    monkeypatch.setattr(
        io, "download", no_download
    )  # nothing listed: no download tried
    p = store.fetch(a, "full")
    assert len(calls) == 1 and p["meta"] == {
        "metrics": {"n": 1},
        "name": "test-tiny",
        "profile": "full",
        "recipe": {"seed": 1},
        **BUILT,
    }
    f = tmp_cache / "test-tiny-full.pt"
    assert (tmp_cache / "test-tiny-full.pt.sha256").read_text() == io.sha256(f)
    assert io.load_verified(f)["meta"] == p["meta"]


def test_missing_without_building_names_both_folders(tmp_cache, tiny):
    a, calls, shipped = tiny
    with pytest.raises(FileNotFoundError) as e:
        store.fetch(a, "full", build_if_missing=False)
    msg = str(e.value)
    assert (
        "no 'test-tiny' (full profile)" in msg
        and str(tmp_cache) in msg
        and str(shipped) in msg
    )
    assert (
        msg.endswith("python -m robustcore artifacts build test-tiny --profile full")
        and calls == []
    )


# ---- another recipe is never used --------------------------------------------------------------


def change_recipe(a: store.Artifact) -> None:
    a.recipes["quick"]["seed"] = 7


def test_stale_shipped_file_is_rebuilt(tmp_cache, tiny):
    a, calls, _ = tiny
    shipped_and_cached(a)
    (tmp_cache / "test-tiny-quick.pt").unlink()
    change_recipe(a)
    with pytest.warns(
        UserWarning, match=r"test-tiny-quick.pt.xz was built with another recipe"
    ):
        p = store.fetch(a, "quick")
    assert (
        len(calls) == 2
        and p["meta"]["recipe"] == {"seed": 7}
        and float(p["w"][0]) == 7.0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert store.fetch(a, "quick")["meta"]["recipe"] == {
            "seed": 7
        }  # the rebuilt one, cached


def test_stale_shipped_file_is_not_used_even_without_building(tmp_cache, tiny):
    a, calls, _ = tiny
    shipped_and_cached(a)
    (tmp_cache / "test-tiny-quick.pt").unlink()
    change_recipe(a)
    with (
        pytest.warns(UserWarning, match="another recipe"),
        pytest.raises(FileNotFoundError),
    ):
        store.fetch(a, "quick", build_if_missing=False)


def test_stale_cache_gives_way_to_a_matching_shipped_file(tmp_cache, tiny):
    a, calls, _ = tiny
    change_recipe(a)
    shipped_and_cached(a)  # shipped: seed 7
    a.recipes["quick"]["seed"] = 0
    store.build(a, "quick")  # cache: seed 0
    change_recipe(a)
    with pytest.warns(
        UserWarning, match=r"test-tiny-quick.pt was built with another recipe"
    ) as w:
        p = store.fetch(a, "quick")
    assert len(w) == 1 and len(calls) == 2 and p["meta"]["recipe"] == {"seed": 7}
    assert io.load_verified(tmp_cache / "test-tiny-quick.pt")["meta"]["recipe"] == {
        "seed": 7
    }  # replaced
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert store.fetch(a, "quick")["meta"]["recipe"] == {"seed": 7}


def test_warnings_point_at_the_caller_of_fetch(tmp_cache, tiny):
    a, _, _ = tiny
    store.build(a, "quick")
    change_recipe(a)
    with pytest.warns(UserWarning, match="another recipe") as stale_cache:
        store.fetch(a, "quick")
    shipped_and_cached(a)
    (tmp_cache / "test-tiny-quick.pt").unlink()
    a.recipes["quick"]["seed"] = 9
    with pytest.warns(UserWarning, match="another recipe") as stale_shipped:
        store.fetch(a, "quick")
    io.atomic_write_json({"test-tiny-full.pt.xz": "0" * 64}, store.MANIFEST)
    with pytest.warns(UserWarning, match="could not download") as offline:
        store.fetch(a, "full")
    assert [w[0].filename for w in (stale_cache, stale_shipped, offline)] == [
        __file__
    ] * 3


def test_file_without_meta_is_refused(tmp_cache, tiny):
    a, _, _ = tiny
    io.atomic_save({"w": torch.zeros(2)}, tmp_cache / "test-tiny-quick.pt")
    with pytest.raises(
        io.ChecksumError, match="test-tiny-quick.pt is not a robustcore artifact"
    ):
        store.fetch(a, "quick")
    io.atomic_save({"meta": "not a dict"}, tmp_cache / "test-tiny-quick.pt")
    with pytest.raises(io.ChecksumError, match="no meta"):
        store.fetch(a, "quick")
    io.atomic_save([1, 2], tmp_cache / "test-tiny-quick.pt")
    with pytest.raises(io.ChecksumError, match="no meta"):
        store.fetch(a, "quick")


def test_shipped_file_must_match_the_manifest(tmp_cache, tiny):
    """A well-formed artifact of the right recipe is still refused if its digest is not the listed one."""
    a, calls, shipped = tiny
    shipped_and_cached(a)
    (tmp_cache / "test-tiny-quick.pt").unlink()
    forged = {"w": torch.full((3,), 666.0), "meta": {"recipe": {"seed": 0}}}
    io.atomic_save(
        forged, shipped / "test-tiny-quick.pt.xz", compress=True, digest_file=False
    )
    with pytest.raises(
        io.ChecksumError, match="test-tiny-quick.pt.xz is corrupted or was modified"
    ):
        store.fetch(a, "quick")


def test_cache_without_digest_is_refused(tmp_cache, tiny):
    a, _, _ = tiny
    store.build(a, "quick")
    (tmp_cache / "test-tiny-quick.pt.sha256").unlink()
    with pytest.raises(io.ChecksumError, match="unverified"):
        store.fetch(a, "quick")


# ---- shipping, places and names ---------------------------------------------------------------


def test_ship_compresses_and_adds_to_the_manifest(tmp_cache, tiny):
    a, _, shipped = tiny
    io.atomic_write_json({"other.pt.xz": "cd" * 32}, store.MANIFEST)
    store.build(a, "full")
    digest = store.ship(a, "full")
    f = shipped / "test-tiny-full.pt.xz"
    assert f.read_bytes().startswith(XZ_MAGIC) and digest == io.sha256(f)
    assert store.manifest() == {
        "other.pt.xz": "cd" * 32,
        "test-tiny-full.pt.xz": digest,
    }
    assert store.where(a, "full") == "cache"
    (tmp_cache / "test-tiny-full.pt").unlink()
    assert store.where(a, "full") == "shipped"
    f.unlink()
    assert store.where(a, "full") == "download" and store.where(a, "quick") == "-"
    with pytest.raises(ValueError, match="profile must be one of 'quick', 'full'"):
        store.ship(a, "paper")


def test_places(tmp_path, monkeypatch):
    monkeypatch.setenv(store.CACHE_ENV, str(tmp_path / "c"))
    assert store.cache_dir() == (tmp_path / "c").resolve()
    monkeypatch.setenv(store.SHIPPED_ENV, "~/shipped")
    assert store.shipped_dir() == (Path.home() / "shipped").resolve()
    monkeypatch.setenv(store.SHIPPED_ENV, "")
    assert store.shipped_dir() == store.CHECKOUT_ARTIFACTS
    monkeypatch.delenv(store.SHIPPED_ENV)
    assert (
        store.shipped_dir()
        == store.CHECKOUT_ARTIFACTS
        == Path(store.__file__).resolve().parents[1] / "artifacts"
    )
    for value, want in (
        ("http://h/x", "http://h/x/"),
        ("http://h/x/", "http://h/x/"),
        ("", store.DEFAULT_URL),
    ):
        monkeypatch.setenv(store.URL_ENV, value)
        assert store.base_url() == want
    monkeypatch.delenv(store.URL_ENV)
    assert store.base_url() == store.DEFAULT_URL
    monkeypatch.setattr(store, "MANIFEST", tmp_path / "none.json")
    assert store.manifest() == {}


def test_names_recipes_and_lookup(tiny):
    a, _, _ = tiny
    assert (
        a.filename("full") == "test-tiny-full.pt"
        and store.shipped_name(a, "full") == "test-tiny-full.pt.xz"
    )
    r = a.recipe("quick")
    r["seed"] = 5
    assert a.recipes["quick"] == {"seed": 0}  # a copy
    assert store.lookup({"test-tiny": a}, "test-tiny") is a
    for name in (None, 3, "x"):
        with pytest.raises(
            ValueError, match=r"unknown artifact name .*; known: test-tiny"
        ):
            store.lookup({"test-tiny": a}, name, "artifact name")
    with pytest.raises(ValueError, match="unknown name 'x'"):
        store.lookup({"test-tiny": a}, "x")


def test_artifact_names_the_missing_profiles():
    with pytest.raises(
        ValueError,
        match=r"artifact 'x' has no recipe for profile\(s\) \['full', 'quick'\]",
    ):
        store.Artifact("x", {}, lambda rec, progress: {})


def test_build_passes_recipe_and_progress(tmp_cache):
    seen = []

    def build(rec, progress):
        seen.append((rec, progress))
        return {"w": torch.zeros(1)}  # no meta of its own: fetch adds one

    a = store.Artifact("test-p", {"quick": {"k": 1}, "full": {"k": 2}}, build)
    store.fetch(a, "quick", progress=False)
    p = store.build(a, "full")
    assert seen == [({"k": 1}, False), ({"k": 2}, True)]
    assert p["meta"] == {
        "name": "test-p",
        "profile": "full",
        "recipe": {"k": 2},
        **BUILT,
    }


# ---- io: sha256, atomic writes, xz, JSON, downloads --------------------------------------------


def test_sha256_of_a_file_larger_than_one_block(tmp_path):
    data = os.urandom((1 << 20) + 12345)
    (tmp_path / "f").write_bytes(data)
    assert io.sha256(tmp_path / "f") == hashlib.sha256(data).hexdigest()


def test_saved_files_get_the_usual_mode(tmp_path):
    old = os.umask(0o027)
    try:
        io.atomic_save({"w": torch.zeros(1)}, tmp_path / "a.pt")
        io.atomic_write_json({}, tmp_path / "a.json")
    finally:
        os.umask(old)
    for name in ("a.pt", "a.pt.sha256", "a.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o640


def test_failed_overwrite_keeps_the_old_file(tmp_path, monkeypatch):
    p = tmp_path / "a.pt"
    io.atomic_save({"w": torch.ones(2)}, p)

    def boom(obj, f):
        f.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        io.atomic_save({"w": torch.zeros(2)}, p)
    monkeypatch.undo()
    assert torch.equal(io.load_verified(p)["w"], torch.ones(2))
    assert sorted(f.name for f in tmp_path.iterdir()) == ["a.pt", "a.pt.sha256"]


def test_compressed_save_round_trip(tmp_path):
    p = tmp_path / "a.pt.xz"
    digest = io.atomic_save({"w": torch.arange(5)}, p, compress=True, digest_file=False)
    raw = p.read_bytes()
    assert raw.startswith(XZ_MAGIC) and digest == hashlib.sha256(raw).hexdigest()
    assert [f.name for f in tmp_path.iterdir()] == ["a.pt.xz"]
    assert torch.equal(io.load_verified(p, digest)["w"], torch.arange(5))
    assert torch.load(BytesIO(lzma.decompress(raw)), weights_only=True)[
        "w"
    ].tolist() == [0, 1, 2, 3, 4]


def test_atomic_write_json_format(tmp_path):
    io.atomic_write_json({"b": 1, "a": [1, 2]}, tmp_path / "m.json")
    assert (
        tmp_path / "m.json"
    ).read_text() == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'
    assert io.read_json(tmp_path / "m.json") == {"a": [1, 2], "b": 1}
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(ValueError, match="bad.json is not valid JSON"):
        io.read_json(tmp_path / "bad.json")


@pytest.mark.parametrize(
    "path, err, match",
    [
        (True, TypeError, "path must be a non-empty str or os.PathLike, got bool True"),
        (3, TypeError, "got int 3"),
        ("", TypeError, "non-empty"),
    ],
)
def test_write_targets_must_be_paths(path, err, match):
    for write in (
        lambda: io.atomic_save({}, path),
        lambda: io.atomic_write_json({}, path),
        lambda: io.download("http://127.0.0.1:9/x", path, "0" * 64),
    ):
        with pytest.raises(err, match=match):
            write()


def test_write_target_must_not_be_a_folder(tmp_path):
    with pytest.raises(ValueError, match="path must name a file, got the folder"):
        io.atomic_save({}, tmp_path)


def test_write_target_expands_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    io.atomic_write_json([1], "~/sub/m.json")
    assert json.loads((tmp_path / "sub" / "m.json").read_text()) == [1]


@pytest.mark.parametrize(
    "digest, err",
    [
        ("A" * 64, ValueError),
        ("a" * 63, ValueError),
        ("g" * 64, ValueError),
        (b"a" * 64, ValueError),
        (1, ValueError),
    ],
)
def test_load_verified_checks_the_expected_digest(tmp_path, digest, err):
    io.atomic_save({}, tmp_path / "a.pt")
    with pytest.raises(err, match="expected_sha256 must be 64 lowercase hex digits"):
        io.load_verified(tmp_path / "a.pt", digest)


def test_load_verified_paths(tmp_path):
    p = tmp_path / "a.pt"
    io.atomic_save({"w": torch.ones(1)}, p)
    (tmp_path / "a.pt.sha256").write_text(
        io.sha256(p) + "\n"
    )  # a digest file edited by hand
    assert torch.equal(io.load_verified(str(p))["w"], torch.ones(1))
    for bad in (True, 3, None):
        with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
            io.load_verified(bad)
    with pytest.raises(FileNotFoundError, match="no file at"):
        io.load_verified(tmp_path / "missing.pt", "0" * 64)
    mismatch = (
        r"a.pt is corrupted or was modified: sha256 \w{12}… != expected 000000000000…"
    )
    with pytest.raises(io.ChecksumError, match=mismatch):
        io.load_verified(p, "0" * 64)
    with pytest.raises(
        io.ChecksumError,
        match="has no a.pt.sha256; refusing to load an unverified file",
    ):
        (tmp_path / "a.pt.sha256").unlink()
        io.load_verified(p)


def test_download_skips_a_verified_file_and_replaces_a_wrong_one(tmp_path, server):
    root, url = server
    (root / "artifacts").mkdir()
    (root / "artifacts" / "f.bin").write_bytes(b"served bytes")
    good = hashlib.sha256(b"served bytes").hexdigest()
    p = tmp_path / "dl" / "f.bin"
    assert (
        io.download(url + "/f.bin", p, good) == p and p.read_bytes() == b"served bytes"
    )
    assert (
        io.download("http://127.0.0.1:9/nothing-listens", p, good) == p
    )  # already there: no request
    p.write_bytes(b"stale")
    io.download(url + "/f.bin", p, good)
    assert p.read_bytes() == b"served bytes" and sorted(
        f.name for f in p.parent.iterdir()
    ) == ["f.bin"]
    mismatch = r"f.bin does not have the expected sha256 \(\w{12}… != 000000000000…\)"
    with pytest.raises(io.ChecksumError, match=mismatch):
        io.download(url + "/f.bin", tmp_path / "other.bin", "0" * 64)
    assert not (tmp_path / "other.bin").exists()


def test_download_passes_its_timeout(tmp_path, monkeypatch):
    import urllib.request

    asked = []

    def urlopen(url, timeout):
        asked.append((url, timeout))
        raise OSError("offline")

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    for kwargs, want in (({}, 60.0), ({"timeout": 5.0}, 5.0)):
        with pytest.raises(OSError, match="offline"):
            io.download("http://h/f", tmp_path / "f", "0" * 64, **kwargs)
        assert asked[-1] == ("http://h/f", want)
    assert list(tmp_path.iterdir()) == []
