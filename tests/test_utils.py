import random

import numpy as np
import torch

from misuse import cases, misuse_test, not_a_model
from robustcore import utils


def test_set_seed_seeds_everything():
    g = utils.set_seed(3)
    a = (
        random.random(),
        np.random.rand(),
        torch.rand(1).item(),
        torch.rand(1, generator=g).item(),
    )
    g = utils.set_seed(3)
    assert a == (
        random.random(),
        np.random.rand(),
        torch.rand(1).item(),
        torch.rand(1, generator=g).item(),
    )


def test_devices():
    assert utils.default_device().type in ("cpu", "cuda")
    assert utils.model_device(torch.nn.Linear(2, 2)) == torch.device("cpu")
    assert utils.model_device(torch.nn.ReLU()) == torch.device("cpu")


def test_batches_cover_everything_once():
    got = torch.cat(list(utils.batches(10, 3)))
    assert torch.equal(got, torch.arange(10))
    assert [len(b) for b in utils.batches(10, 3)] == [3, 3, 3, 1]
    shuffled = torch.cat(
        list(utils.batches(10, 4, torch.Generator().manual_seed(0), shuffle=True))
    )
    assert sorted(shuffled.tolist()) == list(range(10)) and not torch.equal(
        shuffled, torch.arange(10)
    )


def test_progress_respects_switch_and_env(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    assert not utils.progress(range(2)).disable
    assert utils.progress(range(2), enabled=False).disable
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert utils.progress(range(2)).disable


# ---- misuse: bad arguments are refused and nothing is written

MISUSE = cases(
    "utils",
    {
        "eval_mode:model-str": (
            lambda: utils.eval_mode("mnist-cnn-std").__enter__(),
            TypeError,
            "model must be",
        ),
        "set_seed:str": (lambda: utils.set_seed("0"), TypeError, "seed must be an int"),
        "set_seed:negative": (
            lambda: utils.set_seed(-1),
            ValueError,
            "seed must be an int",
        ),
        "batches:batch_size-zero": (
            lambda: list(utils.batches(10, 0)),
            ValueError,
            "batch_size must be >= 1",
        ),
        "batches:n-negative": (
            lambda: list(utils.batches(-1, 2)),
            ValueError,
            "n must be >= 0",
        ),
        "batches:n-float": (
            lambda: list(utils.batches(2.5, 2)),
            TypeError,
            "n must be an int",
        ),
    },
) + not_a_model({"utils.model_device": lambda m: utils.model_device(m)})
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)
