"""Complete recipes: every artifact's recipe holds every setting its build uses, the
defaults of the functions it calls included, and the version of the algorithm that
builds it; a file built otherwise is rebuilt or refused, never used."""

import dataclasses
import inspect

import pytest

from robustcore import features, novelty, store, train, zoo
from robustcore.novelty import model as novelty_model

# the keyword settings of the function each kind of build calls (not its progress bar)
CALLS = {
    # ibp: only in the recipes of certified training (its absence is ibp=None)
    "classifier": (train.train, {"progress", "desc", "ibp"}),
    "D_R": (features.robust_dataset, {"progress"}),
    "D_NR": (features.non_robust_dataset, {"progress"}),
    "D_det": (features.relabelled_dataset, {"progress", "num_classes"}),
    "D_rand": (features.relabelled_dataset, {"progress", "num_classes"}),
    "novelty": (novelty_model.fit, {"progress_bar", "desc"}),
}


def _kind(name: str, rec: dict) -> str:
    if name in zoo.ARTIFACTS:
        return "classifier"
    return rec["kind"] if name in features.ARTIFACTS else "novelty"


ALL = {**zoo.ARTIFACTS, **features.ARTIFACTS, **novelty.ARTIFACTS}


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_every_recipe_holds_every_setting_and_default_its_build_uses(profile):
    for name, a in ALL.items():
        rec = a.recipe(profile)
        fn, skip = CALLS[_kind(name, rec)]
        params = inspect.signature(fn).parameters
        wanted = {
            p
            for p, v in params.items()
            if v.default is not inspect.Parameter.empty and p not in skip
        }
        assert wanted <= set(rec), (name, sorted(wanted - set(rec)))
        assert rec["built_by"].startswith("robustcore."), name


def test_defaults_in_recipes_are_the_functions_defaults():
    """A changed default changes the recipe (it is read from the signature)."""
    rec = zoo.recipe("mnist-mlp-std", "quick")
    sig = inspect.signature(train.train).parameters
    for k in ("optimizer", "schedule", "weight_decay"):
        assert rec[k] == sig[k].default
    assert store.defaults(train.train, "schedule") == {
        "schedule": sig["schedule"].default
    }
    with pytest.raises(ValueError, match="has no parameter"):
        store.defaults(train.train, "momentum")


def test_every_shipped_file_carries_its_complete_recipe(tmp_cache):
    for name, a in ALL.items():
        if store.shipped_name(a, "quick") not in store.manifest():
            continue
        payload = store.fetch(a, "quick", build_if_missing=False)
        assert payload["meta"]["recipe"] == a.recipe("quick"), name


def test_another_version_of_the_algorithm_is_refused(tmp_cache, monkeypatch):
    """A shipped checkpoint built by version 1 of the training code is not used once the
    code says it builds version 2: refused where building is not allowed."""
    a = zoo.ARTIFACTS["mnist-mlp-std"]
    bumped = {
        p: {**r, "built_by": "robustcore.zoo classifier 2"}
        for p, r in a.recipes.items()
    }
    monkeypatch.setitem(zoo.ARTIFACTS, a.name, dataclasses.replace(a, recipes=bumped))
    with pytest.warns(UserWarning, match="another recipe"):
        with pytest.raises(FileNotFoundError):
            zoo.load("mnist-mlp-std", "quick", train_if_missing=False)


def test_a_build_records_the_versions_that_built_it(tmp_cache, tiny):
    a, _, _ = tiny
    meta = store.build(a, "quick", progress=False)["meta"]
    assert meta["robustcore"] and meta["torch"]
