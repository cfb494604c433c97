"""Run a chapter under two float reduction orders and commit which of its recorded
numbers moved: ``python tools/noise.py 02 [03 ...]``.

Each chapter runs under pytest --nbval twice, one after the other, in the current
profile: with this machine's kernels and thread count (as `make book` runs it), then
under the second order of tools/second_order.py (a narrower instruction set). The two
folders of recorded results are compared by robustcore.noise, which writes the
measurement into robustcore/full_runs/noise.json; each chapter shows it with
noise.table. Minutes per chapter.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import second_order  # noqa: E402

from robustcore import noise, profiles  # noqa: E402


def run(chapter: str, env: dict, out: Path) -> None:
    (nb,) = glob.glob(str(ROOT / "book" / f"{chapter}_*.ipynb"))
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--nbval",
        nb,
    ]
    subprocess.run(
        cmd, env={**env, "ROBUSTCORE_RESULTS": str(out)}, check=True, cwd=ROOT
    )


def main(chapters: list[str]) -> int:
    if not chapters:
        sys.exit(__doc__)
    second, said = second_order.second_order_env()
    threads = os.environ.get("OMP_NUM_THREADS") or os.cpu_count()  # torch's default
    first = f"{second_order.capability()} kernels, {threads} thread(s)"
    for chapter in chapters:
        with tempfile.TemporaryDirectory() as tmp:
            a, b = Path(tmp, "a"), Path(tmp, "b")
            print(f"== chapter {chapter}: {first}", flush=True)
            run(chapter, dict(os.environ), a)
            print(f"== chapter {chapter}: {said}", flush=True)
            run(chapter, second, b)
            m = noise.measure(chapter, a, b, (first, said), profiles.resolve(None))
            noise.publish(chapter, m)
            print(
                f"== chapter {chapter}: {m['identical']} of {m['recorded']} identical, {len(m['moved'])} moved"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
