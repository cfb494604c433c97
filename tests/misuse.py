"""Shared machinery of the misuse tests: each test module holds a ``MISUSE`` table of
bad calls to its library module, each of which must be refused with a TypeError or
ValueError (or the stated error) that names the argument, before anything is written.

A test module's table and its test::

    MISUSE = cases("data", {
        "subset:n-zero": (lambda: data.subset(X, Y, 0), ValueError, "n must be >= 1"),
    }) + bad_images({"data.perturb": lambda x: data.perturb(x, 1)})
    test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)

tests/test_misuse.py checks that the tables cover every public function of the library.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from robustcore import models

# (id, call, exception type, regex the message must match: it names the argument)
Case = tuple[str, Callable[[], object], type, str]

NAN = float("nan")
torch.manual_seed(0)
M = models.build("mlp").eval()  # untrained: bad-input checks come before any real work
X = torch.rand(4, 1, 28, 28)
Y = torch.tensor([0, 1, 2, 3])
PROBS = torch.full((4, 10), 0.1)
SCORES, ANOM = torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1])

# (defect, exception type, message): the defects of bad_x
BAD_X = [
    ("nan", ValueError, "NaN"),
    ("range", ValueError, r"\[0, 1\]"),
    ("dtype", TypeError, "floating"),
    ("shape", ValueError, r"\(N, C, H, W\)"),
    ("empty", ValueError, "empty"),
]
# (defect, labels, exception type, message) for the labels Y of X
BAD_Y = [
    ("float", Y.float(), TypeError, "integer tensor"),
    ("length", Y[:2], ValueError, r"shape \(4,\)"),
    # ">= 0", or the range of the model's classes where a model is given
    ("negative", torch.tensor([0, -1, 2, 3]), ValueError, r"(>= 0|in \[0, \d+\])"),
    ("list", [0, 1, 2, 3], TypeError, "Tensor"),
]


def bad_x(defect: str) -> torch.Tensor:
    """X with one defect: ``nan``, ``range`` (values above 1), ``dtype`` (uint8),
    ``shape`` (3-D) or ``empty``."""
    if defect == "nan":
        x = X.clone()
        x[0, 0, 0, 0] = NAN
        return x
    return {
        "range": lambda: X * 2,
        "dtype": lambda: (X * 255).to(torch.uint8),
        "shape": lambda: X[:, 0],
        "empty": lambda: X[:0],
    }[defect]()


def cases(prefix: str, calls: dict[str, tuple[Callable, type, str]]) -> list[Case]:
    """The table ``{id: (call, exception type, message regex)}``, ids ``prefix.id``."""
    return [(f"{prefix}.{k}", fn, exc, match) for k, (fn, exc, match) in calls.items()]


def bad_images(funcs: dict[str, Callable], defects=BAD_X) -> list[Case]:
    """Each ``name: f(x)`` called with each defective batch: ``name[x:defect]``."""
    return [
        (f"{name}[x:{d}]", (lambda f=fn, d=d: f(bad_x(d))), exc, match)
        for name, fn in funcs.items()
        for d, exc, match in defects
    ]


def bad_labels(
    funcs: dict[str, Callable], arg: str = "y", defects=BAD_Y, match: str | None = None
) -> list[Case]:
    """Each ``name: f(y)`` called with each bad label tensor: ``name[arg:defect]``; the
    message names ``arg``, unless ``match`` replaces it."""
    return [
        (
            f"{name}[{arg}:{d}]",
            (lambda f=fn, y=y: f(y)),
            exc,
            match or f"{arg} must .*{m}",
        )
        for name, fn in funcs.items()
        for d, y, exc, m in defects
    ]


def not_a_model(
    funcs: dict[str, Callable], model: str = "mnist-cnn-std", match: str = "model"
) -> list[Case]:
    """Each ``name: f(model)`` called with a model's name: ``name[model:str]``."""
    return [
        (f"{name}[model:str]", (lambda f=fn: f(model)), TypeError, match)
        for name, fn in funcs.items()
    ]


def written(root: Path) -> list[str]:
    """Everything below ``root``, as sorted relative paths."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def misuse_test(table: list[Case]):
    """The test of each case of ``table``, run in the ``sandbox`` fixture (conftest.py):
    the call raises the stated error, its message matches, and nothing is written."""

    @pytest.mark.parametrize(
        "call,exc,match", [c[1:] for c in table], ids=[c[0] for c in table]
    )
    def test(call, exc, match, sandbox):
        with pytest.raises(exc, match=match):
            call()
        unclear = (KeyError, AttributeError, IndexError, RuntimeError)
        assert not issubclass(exc, unclear), exc
        assert written(sandbox) == [], f"a refused call wrote {written(sandbox)}"

    return test


# ---- interrupted writes and corrupted files


def half_then_fail(obj, f, *args, **kwargs):
    """A ``torch.save`` that writes half a checkpoint, then runs out of disk."""
    f.write(b"PK\x03\x04 half a checkpoint")
    raise OSError("no space left on device (simulated)")


def corrupt(path: Path, how: str) -> None:
    """Damage the file at ``path``: ``truncated``, ``flipped`` (one byte), ``appended``
    or ``empty``."""
    b = bytearray(path.read_bytes())
    if how == "truncated":
        path.write_bytes(bytes(b[: len(b) // 2]))
    elif how == "flipped":
        b[len(b) // 2] ^= 0xFF
        path.write_bytes(bytes(b))
    elif how == "appended":
        path.write_bytes(bytes(b) + b"\x00extra")
    elif how == "empty":
        path.write_bytes(b"")
    else:
        raise AssertionError(how)
