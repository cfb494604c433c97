"""The artifact store: named recipes → verified files (checkpoints, constructed
datasets).

An :class:`Artifact` is a name, one JSON-able recipe per profile, and a ``build``
function that turns a recipe into a *payload*: a dict that ``torch.save`` can hold
(tensors, numbers, strings) with a ``"meta"`` dict recording the recipe it was built
from. :func:`fetch` returns the payload of the current recipe from, in order,

1. the cache (``$ROBUSTCORE_CACHE``, default ``~/.cache/robustcore/checkpoints``),
   verified against the ``.sha256`` written beside each file;
2. the shipped folder (``$ROBUSTCORE_ARTIFACTS``, default the checkout's
   ``artifacts/``), whose xz-compressed files are verified against the package's
   ``artifacts.json`` manifest;
3. a download of the same file from ``$ROBUSTCORE_ARTIFACTS_URL`` (default: the
   repository's ``artifacts/`` folder on GitHub), verified against the same manifest and
   saved in the cache;
4. a build from the recipe, saved atomically in the cache. One process builds at a
   time: another that needs the same file meanwhile (a second ``tools/full.py``, a
   second test worker) waits for it and then loads its copy instead of building it
   twice (a lock file beside the cached one).

A file built from another recipe is never used silently: it is skipped with a warning.
Every load is sha256-checked before ``torch.load(weights_only=True)`` reads it.

A recipe is complete: it holds every setting its build uses, the defaults of the
functions the build calls included (read from their signatures with :func:`defaults`,
so a changed default changes the recipe), and a ``"built_by"`` entry naming the
algorithm and its version, bumped when the code changes what it builds. A shipped or
cached file whose recipe differs in any of these is rebuilt, or refused where building
is not allowed. Each payload also records the robustcore and torch versions that built
it.

Modules declare their artifacts as plain dicts (``zoo.ARTIFACTS``,
``features.ARTIFACTS``, ``novelty.ARTIFACTS``); ``python -m robustcore artifacts ...``
is the command line for all of them.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import inspect
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filelock
import torch

from . import checks, io, profiles
from .utils import env_dir

CACHE_ENV = "ROBUSTCORE_CACHE"
SHIPPED_ENV = "ROBUSTCORE_ARTIFACTS"
URL_ENV = "ROBUSTCORE_ARTIFACTS_URL"
DEFAULT_URL = (
    "https://raw.githubusercontent.com/robustcore/"
    "adversarial-robustness-hands-on/main/artifacts/"
)
# shipped file name -> sha256, in the package
MANIFEST = Path(__file__).parent / "artifacts.json"
CHECKOUT_ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@dataclass(frozen=True)
class Artifact:
    """A named artifact: ``recipes`` (profile → JSON-able settings) and
    ``build(recipe, progress) → payload``, a dict with a ``"meta"`` dict.
    :func:`fetch` adds ``meta["recipe"]``."""

    name: str
    recipes: dict[str, dict[str, Any]]
    build: Callable[[dict[str, Any], bool], dict[str, Any]]
    description: str = ""
    # recipe → seconds the build would take on this machine (timed on a few steps);
    # None: not estimated
    estimate: Callable[[dict[str, Any]], float] | None = None

    def __post_init__(self) -> None:
        missing = set(profiles.NAMES) - set(self.recipes)
        if missing:
            raise ValueError(
                f"artifact {self.name!r} has no recipe for profile(s) {sorted(missing)}"
            )

    def recipe(self, profile: str | None = None) -> dict[str, Any]:
        """The recipe in ``profile`` (default: the current profile), a copy."""
        return dict(self.recipes[profiles.resolve(profile)])

    def filename(self, profile: str) -> str:
        return f"{self.name}-{profile}.pt"


def defaults(fn: Callable[..., Any], *names: str) -> dict[str, Any]:
    """The defaults of ``fn``'s parameters ``names``, from its signature: what a recipe
    stores for the settings it does not change."""
    if not callable(fn):
        raise TypeError(f"fn must be a function, got {type(fn).__name__}")
    params = inspect.signature(fn).parameters
    missing = [n for n in names if n not in params]
    if missing:
        raise ValueError(f"{fn.__qualname__} has no parameter(s) {missing}")
    return {n: params[n].default for n in names}


def lookup(registry: dict[str, Artifact], name: Any, what: str = "name") -> Artifact:
    """``registry[name]``, or a ``ValueError`` naming ``what`` and the known names."""
    if not isinstance(name, str) or name not in registry:
        raise ValueError(
            f"unknown {what} {name!r}; known: {', '.join(sorted(registry))}"
        )
    return registry[name]


def cache_dir() -> Path:
    """``$ROBUSTCORE_CACHE`` or ``~/.cache/robustcore/checkpoints``."""
    return env_dir(CACHE_ENV, "checkpoints")


def shipped_dir() -> Path:
    """``$ROBUSTCORE_ARTIFACTS`` or the ``artifacts/`` folder of the checkout
    (may not exist)."""
    env = os.environ.get(SHIPPED_ENV)
    return Path(env).expanduser().resolve() if env else CHECKOUT_ARTIFACTS


def base_url() -> str:
    """Where shipped files are downloaded from: ``$ROBUSTCORE_ARTIFACTS_URL`` or the
    repository."""
    url = os.environ.get(URL_ENV) or DEFAULT_URL
    return url if url.endswith("/") else url + "/"


def manifest() -> dict[str, str]:
    """Shipped file name → sha256 (the package's ``artifacts.json``)."""
    return io.read_json(MANIFEST) if MANIFEST.is_file() else {}


def shipped_name(artifact: Artifact, profile: str) -> str:
    return artifact.filename(profile) + ".xz"


def where(artifact: Artifact, profile: str) -> str:
    """``"cache"``, ``"shipped"``, ``"download"`` (listed, not here) or ``"-"``
    (built on use)."""
    if (cache_dir() / artifact.filename(profile)).is_file():
        return "cache"
    name = shipped_name(artifact, profile)
    if name in manifest():
        return "shipped" if (shipped_dir() / name).is_file() else "download"
    return "-"


def _matching(payload: Any, want: dict[str, Any], file: Path, stacklevel: int) -> bool:
    """Whether ``payload`` was built from the recipe ``want``; warns (at ``stacklevel``)
    if not."""
    if not isinstance(payload, dict) or not isinstance(payload.get("meta"), dict):
        raise io.ChecksumError(f"{file} is not a robustcore artifact (no meta)")
    if payload["meta"].get("recipe") == want:
        return True
    warnings.warn(
        f"{file} was built with another recipe than the current one; not using it",
        stacklevel=stacklevel,
    )
    return False


def _shipped(
    artifact: Artifact, profile: str, want: dict[str, Any]
) -> dict[str, Any] | None:
    name = shipped_name(artifact, profile)
    digest = manifest().get(name)
    local = shipped_dir() / name
    if digest is None:
        if local.is_file():
            raise io.ChecksumError(
                f"{local} is not listed in {MANIFEST.name}; refusing to load it"
            )
        return None
    if not local.is_file():
        local = cache_dir() / "downloads" / name
        try:
            io.download(base_url() + name, local, digest)
        except OSError as e:  # offline, or not served there: build it instead
            warnings.warn(
                f"could not download {name} ({e}); building it instead", stacklevel=3
            )
            return None
    payload = io.load_verified(local, digest)
    return payload if _matching(payload, want, local, stacklevel=4) else None


def fetch(
    artifact: Artifact,
    profile: str | None = None,
    *,
    build_if_missing: bool = True,
    progress: bool = True,
) -> dict[str, Any]:
    """The payload of ``artifact`` built with its current recipe (see the module doc for
    where it comes from). ``FileNotFoundError`` when it would have to be built and
    ``build_if_missing`` is False; :class:`robustcore.io.ChecksumError` for a tampered
    file."""
    profile = profiles.resolve(profile)
    want = artifact.recipe(profile)
    cached = cache_dir() / artifact.filename(profile)
    if cached.is_file():
        payload = io.load_verified(cached)
        if _matching(payload, want, cached, stacklevel=3):
            return payload
    payload = _shipped(artifact, profile, want)
    # keep an uncompressed copy (replacing a stale one): later loads skip the xz step
    if payload is not None:
        io.atomic_save(payload, cached)
        return payload
    if not build_if_missing:
        raise FileNotFoundError(
            f"no {artifact.name!r} ({profile} profile) in {cache_dir()} or "
            f"{shipped_dir()}; run: python -m robustcore artifacts build "
            f"{artifact.name} --profile {profile}"
        )
    with _building(cached, artifact, profile):
        if cached.is_file():  # built by another process while this one waited
            payload = io.load_verified(cached)
            if _matching(payload, want, cached, stacklevel=3):
                return payload
        announce(artifact, profile)
        return build(artifact, profile, progress)


@contextlib.contextmanager
def _building(cached: Path, artifact: Artifact, profile: str) -> Iterator[None]:
    """Hold the lock on building ``cached`` (an OS file lock, released if the process
    dies), saying so when another process holds it."""
    cached.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(f"{cached}.lock")
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        print(
            f"another process is building {artifact.name} ({profile} profile); "
            "waiting for it",
            flush=True,
        )
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


LONG_SECONDS = 120.0  # a build estimated to take longer is announced before it starts


def announce(artifact: Artifact, profile: str | None = None) -> float | None:
    """Before a full-profile build, print a notice if it is long: what is built, the
    estimated time on this machine and how to choose the quick profile instead (whose
    builds are short by design, and not estimated). Returns the estimate in seconds
    (None: quick profile, or no :attr:`Artifact.estimate`)."""
    if not isinstance(artifact, Artifact):
        raise TypeError(
            f"artifact must be a store.Artifact, got {type(artifact).__name__}"
        )
    profile = profiles.resolve(profile)
    if artifact.estimate is None or profile != "full":
        return None
    seconds = float(artifact.estimate(artifact.recipe(profile)))
    if seconds >= LONG_SECONDS:
        print(
            f"{artifact.name} (full profile) is neither cached nor shipped, so it is "
            f"built now from its recipe: about {seconds / 60:.0f} min on this machine, "
            "estimated from a few timed steps. To use the quick profile instead, set "
            "ROBUSTCORE_PROFILE=quick before the chapter's first cell (in a notebook: "
            "`%env ROBUSTCORE_PROFILE=quick`, after restarting the kernel).",
            flush=True,
        )
    return seconds


def _version() -> str:
    try:
        return importlib.metadata.version("robustcore")
    except importlib.metadata.PackageNotFoundError:  # a checkout that is not installed
        return "unknown"


def build(
    artifact: Artifact, profile: str | None = None, progress: bool = True
) -> dict[str, Any]:
    """Build ``artifact`` from its recipe now, save it atomically in the cache, return
    the payload."""
    profile = profiles.resolve(profile)
    rec = artifact.recipe(profile)
    payload = artifact.build(rec, progress)
    payload["meta"] = {
        **payload.get("meta", {}),
        "name": artifact.name,
        "profile": profile,
        "recipe": rec,
        "robustcore": _version(),
        "torch": str(torch.__version__),
    }
    io.atomic_save(payload, cache_dir() / artifact.filename(profile))
    return payload


def ship(artifact: Artifact, profile: str) -> str:
    """Compress the cached file into the shipped folder and list its sha256 in the
    manifest."""
    profile = checks.choice(profile, "profile", profiles.NAMES)
    payload = io.load_verified(cache_dir() / artifact.filename(profile))
    name = shipped_name(artifact, profile)
    digest = io.atomic_save(
        payload, shipped_dir() / name, compress=True, digest_file=False
    )
    io.atomic_write_json({**manifest(), name: digest}, MANIFEST)
    return digest
