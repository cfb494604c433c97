r"""The command line of the artifact store, for every named artifact of the library::

    python -m robustcore artifacts list    # names, profiles, where each one is
    python -m robustcore artifacts build mnist-cnn-std 'novelty-mnist-p2-*' \
        [--profile full]
    python -m robustcore artifacts build --all [--profile quick|full] [--force]
    # maintainers: into artifacts/
    python -m robustcore artifacts ship NAME ... --profile quick

Names may be shell-style patterns. ``build`` fetches (cache → shipped → download)
and trains only what is missing; ``--force`` rebuilds.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys

from . import features, novelty, profiles, store, zoo


def catalog() -> dict[str, store.Artifact]:
    """Every named artifact: the zoo's classifiers, the constructed datasets, the
    novelty models."""
    return {**zoo.ARTIFACTS, **features.ARTIFACTS, **novelty.ARTIFACTS}


def _select(
    p: argparse.ArgumentParser, names: list[str], everything: bool
) -> list[store.Artifact]:
    known = catalog()
    if everything:
        return list(known.values())
    if not names:
        p.error("name one or more artifacts (patterns allowed), or pass --all")
    chosen: dict[str, store.Artifact] = {}
    for pattern in names:
        hits = fnmatch.filter(sorted(known), pattern)
        if not hits:
            p.error(
                f"unknown artifact {pattern!r}; `python -m robustcore artifacts list` "
                "shows them"
            )
        chosen.update((h, known[h]) for h in hits)
    return list(chosen.values())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m robustcore", description=__doc__.split("\n\n")[0]
    )
    top = p.add_subparsers(dest="area", required=True)
    art = top.add_parser("artifacts", help="checkpoints and constructed datasets")
    sub = art.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="every artifact, per profile, and where it is")
    for cmd, text in (
        ("build", "fetch or train artifacts into the cache"),
        ("ship", "compress cached artifacts into artifacts/ (maintainers)"),
    ):
        b = sub.add_parser(cmd, help=text)
        b.add_argument("names", nargs="*")
        b.add_argument("--all", action="store_true", help="every artifact")
        b.add_argument("--profile", choices=profiles.NAMES, default=None)
        if cmd == "build":
            b.add_argument(
                "--force", action="store_true", help="train again even if a copy exists"
            )
    args = p.parse_args(argv)
    if args.cmd == "list":
        for name, a in sorted(catalog().items()):
            for prof in profiles.NAMES:
                print(f"{name:30s} {prof:6s} {store.where(a, prof):8s} {a.description}")
        return 0
    profile = profiles.resolve(args.profile)
    for a in _select(p, args.names, args.all):
        if args.cmd == "ship":
            print(f"{a.name} ({profile}): shipped, sha256 {store.ship(a, profile)}")
            continue
        payload = store.build(a, profile) if args.force else store.fetch(a, profile)
        print(
            f"{a.name} ({profile}): {store.where(a, profile)}, "
            f"{payload['meta'].get('metrics', '')}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
