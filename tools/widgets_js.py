"""Fetch the JavaScript that renders the chapters' widgets, so the book serves it itself.

myst-nb loads RequireJS and the ipywidgets embedder (``@jupyter-widgets/html-manager``)
from CDNs by default; a reader offline then sees no widget. No Python package ships
them, so this script takes both from the npm registry at pinned versions, checks each
tarball's sha256, and unpacks what a page needs (the AMD embedder, its fonts, RequireJS)
into ``.cache/widgets/``. ``book/_ext/local_widgets.py`` copies them into the built book.

Without npm, or with the registry out of reach, it says so and exits 0: the book then
keeps myst-nb's CDN addresses.

    python tools/widgets_js.py [--dest .cache/widgets]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# npm spec → (sha256 of its tarball, what to keep: one file, or a folder of which the
# AMD embedder and the fonts are kept)
PACKAGES = {
    "@jupyter-widgets/html-manager@1.0.15": (
        "2b9d65cb7913e1c7d671757a10008b32c9c2448d4429513371e55c07d6107638",
        "package/dist/",
    ),
    "requirejs@2.3.8": (
        "777158e89275e16bd51aec3ef714fbcb5dc45789e7078659933bc814916d7dec",
        "package/require.js",
    ),
}
FONTS = (".eot", ".svg", ".ttf", ".woff", ".woff2")
STAMP = ".complete"


def wanted(name: str, keep: str) -> bool:
    """Whether tarball member ``name`` goes into the book."""
    if not keep.endswith("/"):
        return name == keep
    rest = name[len(keep) :]
    return (
        name.startswith(keep)
        and "/" not in rest
        and (rest == "embed-amd.js" or rest.endswith(FONTS))
    )


def fetch(dest: Path) -> int:
    if (dest / STAMP).is_file():
        print(f"widgets: {dest} is complete")
        return 0
    npm = shutil.which("npm")
    if npm is None:
        print("widgets: npm not found; the book loads widget JavaScript from a CDN")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        staged = tmp / "widgets"
        staged.mkdir()
        for spec, (sha, keep) in PACKAGES.items():
            run = subprocess.run(
                [npm, "pack", "--silent", spec, "--pack-destination", str(tmp)],
                capture_output=True,
                text=True,
                timeout=300,
            )
            if run.returncode != 0:
                print(f"widgets: npm pack {spec} failed; the book keeps the CDN")
                print(run.stderr.strip()[-500:])
                return 0
            tgz = tmp / run.stdout.strip().splitlines()[-1]
            got = hashlib.sha256(tgz.read_bytes()).hexdigest()
            if got != sha:
                sys.exit(f"widgets: {spec} has sha256 {got}, expected {sha}")
            with tarfile.open(tgz) as tar:
                for m in tar.getmembers():
                    if m.isfile() and wanted(m.name, keep):
                        with tar.extractfile(m) as f:
                            (staged / Path(m.name).name).write_bytes(f.read())
        (staged / STAMP).write_text("\n".join(PACKAGES) + "\n")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            shutil.rmtree(dest)
        shutil.move(str(staged), dest)  # nothing half-written: moved in once complete
    print(f"widgets: {', '.join(PACKAGES)} → {dest}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dest", type=Path, default=Path(".cache/widgets"))
    return fetch(p.parse_args(argv).dest)


if __name__ == "__main__":
    sys.exit(main())
