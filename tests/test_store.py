"""The artifact store: cache → shipped → download → build, sha256-verified, atomic, one CLI."""

import json
import shutil
import subprocess
import sys
import time

import pytest
import torch

from misuse import cases, misuse_test
from robustcore import io, store, zoo
from robustcore.__main__ import catalog, main


def test_build_then_cache(tmp_cache, tiny):
    a, calls, _ = tiny
    p = store.fetch(a, "quick", progress=False)
    assert len(calls) == 1 and (tmp_cache / "test-tiny-quick.pt").is_file()
    assert p["meta"]["recipe"] == {"seed": 0} and p["meta"]["name"] == "test-tiny"
    assert (
        torch.equal(store.fetch(a, "quick")["w"], p["w"]) and len(calls) == 1
    )  # from the cache
    assert store.where(a, "quick") == "cache" and store.where(a, "full") == "-"


def test_profile_selects_recipe(tmp_cache, tiny, monkeypatch):
    a, _, _ = tiny
    monkeypatch.setenv("ROBUSTCORE_PROFILE", "full")
    assert (
        float(store.fetch(a)["w"][0]) == 1.0
        and (tmp_cache / "test-tiny-full.pt").is_file()
    )


def test_tampered_cache_refused(tmp_cache, tiny):
    a, _, _ = tiny
    store.fetch(a, "quick")
    f = tmp_cache / "test-tiny-quick.pt"
    raw = bytearray(f.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    f.write_bytes(bytes(raw))
    with pytest.raises(io.ChecksumError, match="corrupted or was modified"):
        store.fetch(a, "quick")


def test_stale_recipe_is_not_used_silently(tmp_cache, tiny):
    a, calls, _ = tiny
    store.fetch(a, "quick")
    a.recipes["quick"]["seed"] = 7
    with pytest.warns(UserWarning, match="another recipe"):
        p = store.fetch(a, "quick")
    assert (
        p["meta"]["recipe"] == {"seed": 7}
        and float(p["w"][0]) == 7.0
        and len(calls) == 2
    )


def test_missing_without_building(tmp_cache, tiny):
    a, _, _ = tiny
    with pytest.raises(
        FileNotFoundError, match="python -m robustcore artifacts build test-tiny"
    ):
        store.fetch(a, "quick", build_if_missing=False)


def test_ship_then_load_shipped(tmp_cache, tiny):
    a, calls, shipped = tiny
    store.build(a, "quick")
    digest = store.ship(a, "quick")
    assert json.loads(store.MANIFEST.read_text()) == {"test-tiny-quick.pt.xz": digest}
    assert sorted(p.name for p in shipped.iterdir()) == [
        "test-tiny-quick.pt.xz"
    ]  # no .sha256 beside it
    (tmp_cache / "test-tiny-quick.pt").unlink()
    assert store.where(a, "quick") == "shipped"
    p = store.fetch(a, "quick", build_if_missing=False)
    assert p["meta"]["recipe"] == {"seed": 0} and len(calls) == 1
    assert (tmp_cache / "test-tiny-quick.pt").is_file()  # unpacked into the cache once
    (tmp_cache / "test-tiny-quick.pt").unlink()
    (shipped / "test-tiny-quick.pt.xz").write_bytes(b"tampered")
    with pytest.raises(io.ChecksumError):
        store.fetch(a, "quick")


def test_unlisted_shipped_file_refused(tmp_cache, tiny):
    a, _, shipped = tiny
    shipped.mkdir()
    (shipped / "test-tiny-quick.pt.xz").write_bytes(b"anything")
    with pytest.raises(io.ChecksumError, match="not listed"):
        store.fetch(a, "quick")


def test_download_when_not_shipped(tmp_cache, tiny, server, monkeypatch):
    a, calls, shipped = tiny
    root, url = server
    store.build(a, "quick")
    store.ship(a, "quick")
    (root / "artifacts").mkdir()
    shutil.move(
        shipped / "test-tiny-quick.pt.xz", root / "artifacts" / "test-tiny-quick.pt.xz"
    )
    (tmp_cache / "test-tiny-quick.pt").unlink()
    monkeypatch.setenv(store.URL_ENV, url)
    assert store.where(a, "quick") == "download"
    p = store.fetch(a, "quick", build_if_missing=False)
    assert p["meta"]["recipe"] == {"seed": 0} and len(calls) == 1


def test_tampered_download_leaves_nothing(tmp_cache, tiny, server, monkeypatch):
    a, _, _ = tiny
    root, url = server
    (root / "artifacts").mkdir()
    (root / "artifacts" / "test-tiny-quick.pt.xz").write_bytes(
        b"not what the manifest says"
    )
    io.atomic_write_json({"test-tiny-quick.pt.xz": "0" * 64}, store.MANIFEST)
    monkeypatch.setenv(store.URL_ENV, url)
    with pytest.raises(io.ChecksumError, match="expected sha256"):
        store.fetch(a, "quick")
    assert not any((tmp_cache / "downloads").iterdir())  # no partial file


def test_offline_download_falls_back_to_building(tmp_cache, tiny):
    a, calls, _ = tiny
    io.atomic_write_json({"test-tiny-quick.pt.xz": "0" * 64}, store.MANIFEST)
    with pytest.warns(UserWarning, match="could not download"):
        store.fetch(a, "quick")
    assert len(calls) == 1


def test_interrupted_write_leaves_nothing(tmp_cache, tiny, monkeypatch):
    a, _, _ = tiny

    def half_written(obj, f):
        f.write(b"PK\x03\x04 half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", half_written)
    with pytest.raises(KeyboardInterrupt):
        store.build(a, "quick")
    assert not tmp_cache.exists() or not any(tmp_cache.iterdir())


def test_artifact_needs_every_profile():
    with pytest.raises(ValueError, match="no recipe for profile"):
        store.Artifact("x", {"quick": {}}, lambda rec, progress: {})


def test_lookup_names_the_known():
    with pytest.raises(
        ValueError, match="unknown model name 'mnist-vgg'; known: .*mnist-cnn-std"
    ):
        store.lookup(catalog(), "mnist-vgg", "model name")


def test_catalog_names_are_unique_and_complete():
    from robustcore import features, novelty, zoo

    assert len(catalog()) == len(zoo.ARTIFACTS) + len(features.ARTIFACTS) + len(
        novelty.ARTIFACTS
    )


def test_every_shipped_file_is_listed_and_quick():
    listed = store.manifest()
    files = {p.name for p in store.CHECKOUT_ARTIFACTS.iterdir()}
    assert files == set(listed)
    known = {store.shipped_name(a, "quick") for a in catalog().values()}
    assert (
        set(listed) <= known
    )  # only quick-profile artifacts ship; paper scale is never committed


def test_cli_list_and_usage_errors(capsys, tmp_cache):
    assert main(["artifacts", "list"]) == 0
    out = capsys.readouterr().out
    assert (
        "mnist-cnn-pgd-linf" in out
        and "novelty-mnist-p2-8-arae" in out
        and "mnist-d_r" in out
    )
    for argv in (["artifacts", "build"], ["artifacts", "build", "nope"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code != 0
    assert "unknown artifact 'nope'" in capsys.readouterr().err


def test_module_entry_point_runs(tmp_cache):
    """`python -m robustcore artifacts list` works as a real command, with no import warnings."""
    out = subprocess.run(
        [
            sys.executable,
            "-W",
            "error::RuntimeWarning",
            "-m",
            "robustcore",
            "artifacts",
            "list",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "mnist-cnn-std" in out.stdout and "shipped" in out.stdout
    # an unknown name's exit status and message: test_cli_list_and_usage_errors


# ---- misuse: bad arguments are refused and nothing is written

MISUSE = cases(
    "store",
    {
        "defaults:unknown": (
            lambda: store.defaults(store.fetch, "speed"),
            ValueError,
            "fetch has no parameter",
        ),
        "defaults:fn": (
            lambda: store.defaults("fetch", "profile"),
            TypeError,
            "fn must be a function",
        ),
        "lookup:unknown": (
            lambda: store.lookup(zoo.ARTIFACTS, "nope", "model name"),
            ValueError,
            "unknown model name 'nope'",
        ),
        "lookup:int": (
            lambda: store.lookup(zoo.ARTIFACTS, 3),
            ValueError,
            "unknown name 3",
        ),
        "fetch:profile": (
            lambda: store.fetch(zoo.ARTIFACTS["mnist-cnn-std"], "medium"),
            ValueError,
            "profile must be one of",
        ),
        "build:profile": (
            lambda: store.build(zoo.ARTIFACTS["mnist-cnn-std"], "medium"),
            ValueError,
            "profile must be one of",
        ),
        "ship:profile": (
            lambda: store.ship(zoo.ARTIFACTS["mnist-cnn-std"], "medium"),
            ValueError,
            "profile must be one of",
        ),
        "announce:artifact": (
            lambda: store.announce("mnist-cnn-std"),
            TypeError,
            "artifact must be a store.Artifact",
        ),
        "announce:profile": (
            lambda: store.announce(zoo.ARTIFACTS["mnist-cnn-std"], "medium"),
            ValueError,
            "profile must be one of",
        ),
        "Artifact:profiles": (
            lambda: store.Artifact("x", {"full": {}}, None),
            ValueError,
            "no recipe for profile",
        ),
    },
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)


def test_a_long_build_is_announced_with_its_estimate(tmp_cache, tiny, capsys):
    import dataclasses

    a, calls, _ = tiny
    slow = dataclasses.replace(a, estimate=lambda rec: 600.0 + rec["seed"])
    store.fetch(slow, "full", progress=False)
    said = capsys.readouterr().out
    assert "test-tiny (full profile) is neither cached nor shipped" in said
    assert "about 10 min on this machine" in said
    assert "ROBUSTCORE_PROFILE=quick" in said  # how to choose the quick profile
    store.fetch(slow, "quick", progress=False)  # quick builds are short: no estimate
    assert capsys.readouterr().out == ""
    # cached now: nothing to announce; a short build is not announced either
    store.fetch(slow, "full", progress=False)
    quick = dataclasses.replace(a, name="test-fast", estimate=lambda rec: 5.0)
    store.fetch(quick, "full", progress=False)
    assert capsys.readouterr().out == "" and len(calls) == 3
    assert store.announce(a) is None  # no estimate: nothing said


@pytest.mark.parametrize(
    "name", ["mnist-mlp-std", "mnist-d_det", "novelty-mnist-p2-8-dae"]
)
def test_estimates_time_a_few_steps_of_the_recipe(name):
    """A classifier, a constructed dataset and a novelty detector: each kind of
    artifact estimates its build from a few timed steps of its own recipe."""
    a = catalog()[name]
    rec = a.recipe("quick")
    if name == "mnist-mlp-std":
        rec = {**rec, "n_train": 512, "epochs": 3}
    seconds = a.estimate(rec)
    assert 0 < seconds < 3_600


# A slow artifact fetched by a separate process: its build appends to a log and waits
# until told to finish, so that the second process asks while the first is building.
FETCH_SLOW = """
import sys, time
from pathlib import Path
import torch
from robustcore import store
log, go = Path(sys.argv[1]), Path(sys.argv[2])
def build(rec, progress):
    with log.open("a") as f:
        f.write("built\\n")
    while not go.exists():
        time.sleep(0.05)
    return {"w": torch.arange(3.0), "meta": {}}
a = store.Artifact("test-slow", {"quick": {}, "full": {}}, build)
print(store.fetch(a, "quick", progress=False)["w"].tolist(), flush=True)
"""


def test_two_processes_build_an_artifact_once(tmp_cache, tmp_path):
    """The second process to need an artifact waits for the first one's build (and
    says so), then loads its copy: one build, the same payload."""
    log, go = tmp_path / "log", tmp_path / "go"
    outs = [tmp_path / "first.out", tmp_path / "second.out"]
    run = [sys.executable, "-c", FETCH_SLOW, str(log), str(go)]
    procs = []
    for out, ready in zip(outs, (log, outs[1])):
        procs.append(subprocess.Popen(run, stdout=out.open("w")))
        for _ in range(1200):  # the first is building; the second is waiting
            if ready.is_file() and ready.read_text():
                break
            assert procs[-1].poll() is None, "a process ended before it was told to"
            time.sleep(0.05)
    go.touch()
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    said = [out.read_text() for out in outs]
    assert log.read_text() == "built\n", said
    assert all(s.strip().endswith("[0.0, 1.0, 2.0]") for s in said), said
    assert said[1].startswith("another process is building test-slow (quick profile)")
    assert (tmp_cache / "test-slow-quick.pt.lock").is_file()
