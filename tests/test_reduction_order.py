"""The second reduction order of `make test` (tools/second_order.py) is another order.

Under it, a few float32 steps of the inversion on real digits must come out in other
bits than the same steps in a process with this machine's defaults: otherwise the
second run of the rebuild tests would test nothing new.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import second_order  # noqa: E402


def inversion() -> torch.Tensor:
    """20 float32 steps of the inversion from a random CNN, on 64 real digits."""
    from robustcore import data, features, models

    torch.manual_seed(0)
    model = models.build("cnn").eval()
    x, _ = data.subset(*data.mnist(train=False), 64, seed=0)
    start = features.starting_points(x)
    return features.invert(model, x, start, steps=20, step_size=8.0, progress=False)[0]


# the same steps in a process of their own, with this machine's defaults
STEPS = f"""
import sys, torch
sys.path.insert(0, {str(ROOT / "tests")!r})
from test_reduction_order import inversion
torch.save(inversion(), sys.argv[1])
"""


def _steps(env: dict, out: Path) -> torch.Tensor:
    subprocess.run([sys.executable, "-c", STEPS, str(out)], env=env, check=True)
    return torch.load(out)


@pytest.mark.rebuild
@pytest.mark.skipif(
    second_order.ORDER_ENV not in os.environ,
    reason="runs in the second reduction order only (tools/second_order.py)",
)
def test_the_second_order_sums_in_another_order(tmp_path):
    if second_order.capability() not in second_order.NARROWER:
        pytest.skip("no narrower instruction set known on this CPU: threads only")
    plain = {
        k: v
        for k, v in os.environ.items()
        if k not in {*second_order.NARROWER["AVX512"], second_order.THREADS_ENV}
    }
    default = _steps(plain, tmp_path / "default.pt")
    # this process runs under the second order (and its thread count: conftest.py)
    assert not torch.equal(inversion(), default)


def test_the_second_order_narrows_the_instruction_set():
    env, said = second_order.second_order_env()
    cap = second_order.capability()
    assert env[second_order.THREADS_ENV] in ("1", "2") and "thread" in said
    if cap in second_order.NARROWER and os.uname().machine == "x86_64":
        assert env["DNNL_MAX_CPU_ISA"] == second_order.NARROWER[cap]["DNNL_MAX_CPU_ISA"]
