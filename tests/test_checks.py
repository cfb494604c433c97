"""robustcore.checks, the argument checks every public function runs: their misuse."""

from misuse import cases, misuse_test
from robustcore import checks

MISUSE = cases(
    "checks",
    {
        "seed:bool": (lambda: checks.seed(True), TypeError, "seed must be an int"),
        "path:none": (lambda: checks.path(None, "where"), TypeError, "where must be"),
    },
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)


# ---- every entry point that takes a model and labels checks the labels against the
# classes the model scores (found by signature, so a new entry point is covered too)

import importlib  # noqa: E402
import inspect  # noqa: E402
import pkgutil  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

import robustcore  # noqa: E402
from misuse import M, X  # noqa: E402

LABEL_ARGS = ("y", "labels", "target")
# what the other required arguments get
FILL = {
    "eps": 0.1,
    "name": "pgd",
    "spec": {"name": "pgd", "eps": 0.1, "steps": 1},
    "attack": {"name": "pgd", "eps": 0.1, "steps": 1},
    "eps_values": [0.1],
    "found": {},  # frames.one_pixel_frames: checked after the labels
}


# public names that take a model and a "label-like" argument but are not entry points
# of this kind
NOT_LABELS = {
    "robustcore.features.construct.invert": "its target is a batch of images",
    "robustcore.train.attack_batch": "train()'s inner step, unchecked by design "
    "(its callers validate once, before their loop)",
    "robustcore.certify.milp.verify_one": "verify()'s step for one image, unchecked "
    "(verify validates the batch once)",
    "robustcore.certify.training.ibp_loss": "train()'s loss under certified training, "
    "unchecked like attack_batch (train validates once)",
}
ONE_IMAGE = (
    "attack_one",
    "one_pixel_one",
    "eps_frames",
)  # widgets: one image (C, H, W), an int label


def _entry_points():
    out = []
    for info in pkgutil.walk_packages(robustcore.__path__, "robustcore."):
        if info.name.endswith("__main__"):
            continue
        mod = importlib.import_module(info.name)
        for n, f in vars(mod).items():
            if n.startswith("_") or not inspect.isfunction(f):
                continue
            if f.__module__ != mod.__name__ or f.__module__ == "robustcore.checks":
                continue
            params = inspect.signature(f).parameters
            if any("model" in p for p in params) and any(
                p in LABEL_ARGS for p in params
            ):
                if f"{f.__module__}.{n}" not in NOT_LABELS:
                    out.append(pytest.param(f, id=f"{f.__module__}.{n}"))
    return out


ENTRY_POINTS = _entry_points()


def test_the_sweep_finds_the_entry_points():
    ids = {p.id for p in ENTRY_POINTS}
    assert {"robustcore.attacks.pgd.pgd", "robustcore.audit.autoattack"} <= ids
    assert len(ids) >= 20


@pytest.mark.parametrize("fn", ENTRY_POINTS)
def test_labels_outside_the_models_classes_are_refused(fn):
    """Labels ≥ the number of classes the model scores (10 here) are a ValueError naming
    the labels, not an IndexError from inside torch."""
    params = inspect.signature(fn).parameters
    kwargs = {}
    for p, v in params.items():
        if "model" in p:
            kwargs[p] = {"m": M} if p == "models" else M
        elif p == "x":
            kwargs[p] = X[0] if fn.__name__ in ONE_IMAGE else X
        elif p in LABEL_ARGS and v.default is inspect.Parameter.empty:
            kwargs[p] = 10 if fn.__name__ in ONE_IMAGE else torch.full((len(X),), 10)
        elif p in FILL and v.default is inspect.Parameter.empty:
            kwargs[p] = FILL[p]
        elif v.kind is inspect.Parameter.VAR_KEYWORD:  # attacks.check's settings
            kwargs["eps"] = FILL["eps"]
    label = next(p for p in params if p in LABEL_ARGS)
    with pytest.raises(
        ValueError, match=rf"{label} must hold class indices in \[0, 9\]"
    ):
        fn(**kwargs)


def test_a_model_that_does_not_return_logits_is_refused():
    with pytest.raises(ValueError, match=r"model must return logits of shape"):
        robustcore.attacks.pgd(
            torch.nn.Identity(), X, torch.zeros(4, dtype=torch.long), eps=0.1
        )
    with pytest.raises(
        ValueError, match=r"model cannot take images of shape \(3, 28, 28\)"
    ):
        robustcore.attacks.fgsm(
            M, torch.rand(4, 3, 28, 28), torch.zeros(4, dtype=torch.long), 0.1
        )
