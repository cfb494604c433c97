import pytest

from misuse import cases, misuse_test, written
from robustcore import profiles, zoo


def test_env_override(monkeypatch):
    monkeypatch.setenv("ROBUSTCORE_PROFILE", "full")
    assert profiles.current().name == "full" and not profiles.current().quick
    monkeypatch.setenv("ROBUSTCORE_PROFILE", "Quick")
    p = profiles.current()
    assert p.quick and p.pick(quick=1, full=2) == 1


def test_default_follows_hardware(monkeypatch):
    import torch

    monkeypatch.delenv("ROBUSTCORE_PROFILE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert profiles.default_name() == "full"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert profiles.default_name() == "quick"


def test_bad_profile(monkeypatch):
    monkeypatch.setenv("ROBUSTCORE_PROFILE", "medium")
    with pytest.raises(
        ValueError, match="ROBUSTCORE_PROFILE must be one of 'quick', 'full'"
    ):
        profiles.current()
    with pytest.raises(ValueError, match="profile must be one of"):
        profiles.Profile("fast")


# ---- misuse: bad arguments are refused and nothing is written

MISUSE = cases(
    "profiles",
    {
        "Profile:unknown": (
            lambda: profiles.Profile("medium"),
            ValueError,
            "profile must be one of",
        ),
        "pick:positional": (
            lambda: profiles.Profile("quick").pick(1, 2),
            TypeError,
            "positional",
        ),
    },
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)


def test_profile_environment_variable(monkeypatch, sandbox):
    monkeypatch.setenv("ROBUSTCORE_PROFILE", "medium")
    with pytest.raises(ValueError, match="ROBUSTCORE_PROFILE must be one of"):
        profiles.current()
    with pytest.raises(ValueError, match="ROBUSTCORE_PROFILE must be one of"):
        zoo.load("mnist-cnn-std")
    assert written(sandbox) == []
