"""Run pytest under a second float reduction order: another instruction set and another
thread count than this machine's defaults.

Float sums depend on the order of their terms, and that order on the CPU's vector
width (the kernels PyTorch, oneDNN and MKL choose for it) and on the number of threads.
An artifact whose recipe amplifies last-bit differences (a long optimisation, a training
run) is then a function of the machine that built it. Running the tests that rebuild a
shipped artifact (marker ``rebuild``) here as well makes such an artifact fail on the
developer's machine, before it lands, instead of on the next reader's.

The instruction set is narrowed through the libraries' own switches, read when torch is
imported (so this starts a new process): ``ATEN_CPU_CAPABILITY`` (PyTorch's vectorised
kernels), ``DNNL_MAX_CPU_ISA`` (oneDNN: convolutions) and ``MKL_ENABLE_INSTRUCTIONS``
(MKL: matrix products; MKL may ignore it on other vendors' CPUs: on an AMD EPYC its
products kept their bits).
On an AVX-512 machine the second order is AVX2's. On an AVX2 machine PyTorch's own
kernels fall back to their plain build, and oneDNN and MKL to AVX without fused
multiply-adds: every product in a sum is rounded before it is added, so a convolution
sums in another order and rounding (a 4×4 convolution of 28×28 digits: 70% of its
outputs differ from AVX2's in their last bits), and with vectors twice as wide as
SSE4.1's, the narrower order used before, it costs `make test` less time. On other CPUs
only the thread count changes (said so).

Usage: ``python tools/second_order.py [pytest arguments]``; prints the order it uses.
"""

from __future__ import annotations

import functools
import os
import platform
import subprocess
import sys

# this machine's capability (as PyTorch detects it) -> the narrower one to run under
NARROWER = {
    "AVX512": {
        "ATEN_CPU_CAPABILITY": "avx2",
        "DNNL_MAX_CPU_ISA": "AVX2",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    },
    "AVX2": {
        "ATEN_CPU_CAPABILITY": "default",
        "DNNL_MAX_CPU_ISA": "AVX",
        "MKL_ENABLE_INSTRUCTIONS": "AVX",
    },
}
# `make test` runs its pytest-xdist workers on one thread each (tests/conftest.py); the
# second order takes two where there are two cores.
THREADS_ENV = "ROBUSTCORE_THREADS"
# set in the second order's process: this machine's capability, read before narrowing
ORDER_ENV = "ROBUSTCORE_SECOND_ORDER"


@functools.cache
def capability() -> str:
    """PyTorch's CPU capability here, read once in a clean process (no narrowing set);
    inside the second order, the one its parent read."""
    if os.environ.get(ORDER_ENV):
        return os.environ[ORDER_ENV]
    env = {k: v for k, v in os.environ.items() if k not in NARROWER["AVX512"]}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import torch; print(torch.backends.cpu.get_cpu_capability())",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return out.stdout.strip().upper()


def second_order_env() -> tuple[dict[str, str], str]:
    """The environment of the second order, and a line saying what it is."""
    cap = capability()
    threads = str(max(1, min(2, os.cpu_count() or 1)))
    env = {**os.environ, THREADS_ENV: threads, ORDER_ENV: cap}
    narrower = NARROWER.get(cap) if platform.machine() in ("x86_64", "AMD64") else None
    if narrower:
        env.update(narrower)
        said = f"{cap} → {narrower['DNNL_MAX_CPU_ISA']}, {threads} thread(s)"
    else:
        said = (
            f"{cap} kept (no narrower instruction set known here), {threads} thread(s)"
        )
    return env, said


def main(argv: list[str]) -> int:
    env, said = second_order_env()
    print(f"== second reduction order: {said}", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *argv], env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
