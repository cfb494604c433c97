"""Every public function of the library has misuse cases: together, the ``MISUSE``
tables of the test modules (see misuse.py) name each one, so a new function needs its
bad-input cases."""

import importlib
import inspect
from pathlib import Path

from robustcore import (
    attacks,
    audit,
    chunks,
    claims,
    determinism,
    frames,
    full_records,
    noise,
    data,
    features,
    glue,
    imagenet_a,
    io,
    metrics,
    models,
    novelty,
    plotting,
    references,
    results,
    stats,
    store,
    tables,
    train,
    utils,
    widgets,
    zoo,
)

# The modules whose functions must have cases (robustcore.checks: the validators that
# every case exercises).
MODULES = {
    "data": data,
    "models": models,
    "attacks": attacks,
    "train": train,
    "features": features,
    "zoo": zoo,
    "io": io,
    "plotting": plotting,
    "widgets": widgets,
    "results": results,
    "full_records": full_records,
    "noise": noise,
    "utils": utils,
    "imagenet_a": imagenet_a,
    "novelty": novelty,
    "store": store,
    "metrics": metrics,
    "stats": stats,
    "references": references,
    "claims": claims,
    "audit": audit,
    "tables": tables,
    "glue": glue,
    "chunks": chunks,
    "determinism": determinism,
    "frames": frames,
}
# Functions that take no input to check, or that only read state: nothing to misuse.
EXEMPT = {
    "data.data_root",
    "plotting.use_style",
    "features.to_uint8",
    "features.artifact",
    "imagenet_a.subset_from_timm",
    "features.from_uint8",
    "features.representation_distance",
    "io.sha256",
    "results.results_dir",
    "results.machine",
    "results.gap",
    "results.main",
    "chunks.progress_dir",
    "chunks.none_kept",
    "chunks.order",  # reads $ROBUSTCORE_CHUNK_ORDER; its check: tests/test_chunks.py
    "full_records.main",
    "full_records.runs",
    "utils.default_device",
    "utils.progress",
    "utils.env_dir",
    "attacks.encode",
    "attacks.mutate",
    "widgets.plot_attack_one",
    "widgets.plot_one_pixel",
    "widgets.one_pixel_row",  # a result's row as a dict, for the figures
    "attacks.flat_norm",
    "imagenet_a.wnids",
    "imagenet_a.indices",
    "imagenet_a.class_names",
    "store.cache_dir",
    "store.shipped_dir",
    "store.base_url",
    "store.manifest",
    "store.shipped_name",
    "store.where",
    "data.quiet_download",
    "io.read_json",
    "novelty.main",  # the command line's misuse: tests/test_novelty.py
    # Building blocks that run inside checked entry points, on every step or batch: no
    # checks, callers validate (attacks.check, the attacks' own checks, train's
    # _check_attack).
    "attacks.ascent_step",
    "attacks.random_delta",
    "attacks.projected_ascent",
    "attacks.generation",
    "train.attack_batch",
}


def misuse_tables() -> dict[str, list]:
    """The ``MISUSE`` table of each test module that has one, by module name."""
    here = Path(__file__).parent
    names = [
        p.stem
        for p in sorted(here.glob("test_*.py"))
        if "\nMISUSE = " in p.read_text(encoding="utf-8")
    ]
    return {n: importlib.import_module(n).MISUSE for n in names}


def test_every_public_function_has_cases():
    """Each module's public functions appear in the tables."""
    covered = " ".join(c[0] for table in misuse_tables().values() for c in table)
    # A function is listed under the module that defines it (for a package, any of its
    # submodules) and under imagenet_a for the metrics it re-exports; cases under any of
    # those names cover it.
    homes: dict[object, set[str]] = {}
    for mname, mod in MODULES.items():
        for name, obj in vars(mod).items():
            home = obj.__module__ if inspect.isfunction(obj) else ""
            if not name.startswith("_") and (
                home == mod.__name__
                or home.startswith(mod.__name__ + ".")
                or (mname == "imagenet_a" and home == metrics.__name__)
            ):
                homes.setdefault(obj, set()).add(f"{mname}.{name}")
    missing = [
        sorted(keys)[0]
        for keys in homes.values()
        if not keys & EXEMPT and not any(k in covered for k in keys)
    ]
    assert not missing, (
        f"public functions without misuse cases: {missing}; add bad-input cases to the "
        "MISUSE table of tests/test_<module>.py (or, for a function with no input to "
        "check, to EXEMPT in tests/test_misuse.py)"
    )
