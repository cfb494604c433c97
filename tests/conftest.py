import functools
import http.server
import os
import threading
import urllib.error
import urllib.request

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
# ROBUSTCORE_THREADS: the thread count of a second reduction order
# (tools/second_order.py). Under pytest-xdist each worker takes one thread (the workers
# share the cores); the chapters' kernels keep their own default.
_THREADS = (
    1 if "PYTEST_XDIST_WORKER" in os.environ else max(1, min(2, os.cpu_count() or 1))
)
torch.set_num_threads(int(os.environ.get("ROBUSTCORE_THREADS") or _THREADS))

# pytest-xdist hands each worker one file at a time, in collection order
# (`make test` passes --no-loadscope-reorder): the longest files go first, so that
# the short ones fill the gaps at the end instead of a long chapter starting last.
# Measured seconds in `make test` on 2 cores (`--durations=0`, summed per file), longest
# first; the rest follow.
LONGEST_FIRST = (
    "book/02_robust_features.ipynb",  # 294 s, +90 s building D_det, D_rand
    "tests/test_second_order.py",  # 148 s (four rebuilds under a second order)
    "book/05_arae.ipynb",  # 139 s
    "book/01_adversarial_examples.ipynb",  # 128 s
    "book/03_one_pixel_attack.ipynb",  # 96 s
    "tests/test_claims_can_fail.py",  # 65 s (all mutants in one kernel)
    "book/06_certified_robustness.ipynb",  # 62 s
    "tests/test_novelty.py",  # 44 s
    "tests/test_exercises.py",  # 37 s
    "tests/test_features.py",  # 33 s
    "tests/test_zoo.py",  # 26 s
    "tests/test_benchmarks.py",  # 19 s
    "tests/test_full.py",  # 19 s
    "book/04_natural_adversarial_examples.ipynb",  # 17 s
    "tests/test_store.py",  # 17 s
)


def pytest_collection_modifyitems(config, items):
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}

    def key(item):
        path = item.nodeid.split("::")[0]
        return rank.get(path, len(rank))

    items.sort(key=key)  # stable: within a file, and for the rest, the order is kept


@pytest.fixture(scope="session")
def mnist_test():
    from robustcore import data

    x, y = data.mnist(train=False)
    return data.subset(x, y, 500, seed=1)


@pytest.fixture(scope="session")
def trained_mlp():
    """An MLP trained for one epoch on 10k MNIST images (about 2 s): accurate, not robust."""
    from robustcore import data, models, train

    x, y = data.mnist(train=True)
    x, y = data.subset(x, y, 10_000, seed=0)
    m = models.build("mlp")
    train.train(m, x, y, epochs=2, batch_size=128, lr=1e-3, progress=False)
    return m.eval()


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """An empty zoo cache for the test."""
    monkeypatch.setenv("ROBUSTCORE_CACHE", str(tmp_path / "ckpt"))
    return tmp_path / "ckpt"


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    """A tiny artifact (its build counts its calls), an empty shipped folder and manifest."""
    from robustcore import store

    calls = []

    def build(rec, progress):
        calls.append(rec)
        return {
            "w": torch.full((3,), float(rec["seed"])),
            "meta": {"metrics": {"n": len(calls)}},
        }

    a = store.Artifact(
        "test-tiny",
        {"quick": {"seed": 0}, "full": {"seed": 1}},
        build,
        "a test artifact",
    )
    shipped = tmp_path / "shipped"
    monkeypatch.setenv(store.SHIPPED_ENV, str(shipped))
    monkeypatch.setattr(store, "MANIFEST", tmp_path / "artifacts.json")
    monkeypatch.setenv(store.URL_ENV, "http://127.0.0.1:9/")  # nothing listens: offline
    return a, calls, shipped


@pytest.fixture
def server(tmp_path):
    """A loopback HTTP server over a folder; yields (folder, base URL)."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(root)
    )
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/artifacts"
    httpd.shutdown()


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """Every folder the library may write to, and the working directory, inside one
    empty tmp folder; no download reaches the network."""
    root = tmp_path / "sandbox"
    root.mkdir()
    for var, sub in (
        ("ROBUSTCORE_CACHE", "cache"),
        ("ROBUSTCORE_DATA", "data"),
        ("ROBUSTCORE_RESULTS", "results"),
        ("XDG_CACHE_HOME", "xdg"),
        ("HOME", "home"),
    ):
        monkeypatch.setenv(var, str(root / sub))
    monkeypatch.chdir(root)
    monkeypatch.setattr(urllib.request, "urlopen", _offline)
    return root


def _offline(*args, **kwargs):
    raise urllib.error.URLError("offline (test)")
