import pytest

from robustcore import profiles


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
    with pytest.raises(ValueError, match="ROBUSTCORE_PROFILE must be one of 'quick', 'full'"):
        profiles.current()
    with pytest.raises(ValueError, match="profile must be one of"):
        profiles.Profile("fast")
