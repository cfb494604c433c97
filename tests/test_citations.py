"""Prose that cites its evidence, claims fixed before measuring.

Every claim a chapter checks or reports has a key, every key is cited by a sentence of the
chapter (``{glue:md}`claim-KEY```), every cited key is a claim the chapter makes
(robustcore.claims), and every claim reads as registered in book/preregistration.json,
or an amendment there says when and why it changed (tools/preregistration.py)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("0[0-9]_*.py"))
CITE = re.compile(r"\{glue:md\}`claim-(?:full-)?([^`]+)`")

_spec = importlib.util.spec_from_file_location(
    "preregistration", ROOT / "tools" / "preregistration.py"
)
prereg = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(prereg)


def declared(path: Path) -> list[str]:
    """The keys of the chapter's claims (tools/preregistration.py's reading)."""
    found = prereg.claims_in(path.read_text(), path.name)
    return list(dict.fromkeys(k for keys, _, _ in found for k in keys))


def cited(path: Path) -> set[str]:
    return {
        k
        for cell in jupytext.read(path).cells
        if cell.cell_type == "markdown"
        for k in CITE.findall(cell.source)
    }


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_claim_is_cited_and_every_citation_is_a_claim(path):
    keys = declared(path)
    assert keys, f"{path.name} makes no keyed claim"
    assert prereg.problems(path.read_text(), path.name) == []
    chapter = path.name[:2]
    assert all(k.startswith(chapter + "-") for k in keys), keys
    refs = cited(path)
    assert not (refs - set(keys)), (
        f"cited, but no such claim: {sorted(refs - set(keys))}"
    )
    assert not (set(keys) - refs), (
        f"claims no sentence cites: {sorted(set(keys) - refs)}"
    )


def test_the_rule_catches_both_faults(tmp_path):
    """The test above is not vacuous: an uncited claim and a dangling citation fail it."""
    page = tmp_path / "09_x.py"
    page.write_text(
        "# %%\n"
        'claims.check("a", True, key="09-a")\n'
        'claims.report("b", True, key={1: "09-b", 2: "09-c"}[1])\n'
        "# %% [markdown]\n"
        "# A holds {glue:md}`claim-09-a`, so does B {glue:md}`claim-full-09-b`, and D\n"
        "# {glue:md}`claim-09-d`.\n"
    )
    assert declared(page) == ["09-a", "09-b", "09-c"]
    assert cited(page) == {"09-a", "09-b", "09-d"}
    with pytest.raises(AssertionError, match="cited, but no such claim"):
        test_every_claim_is_cited_and_every_citation_is_a_claim(page)
    page.write_text(
        '# %%\nclaims.check("a", True, key="09-a")\nclaims.report("b", 1, key="09-a")\n'
        'claims.skip("c", "no data", key="09-b")\nclaims.check("d", 1, key="09-b")\n'
    )
    assert prereg.problems(page.read_text()) == [
        "chapter: the key 09-a is used twice",
        "chapter: 09-b is skipped with another wording",
    ]
    page.write_text('# %%\nclaims.check("a", True)\n')
    with pytest.raises(ValueError, match="has no key"):
        declared(page)
    page.write_text('# %%\nclaims.check("a", True, key=f"09-{k}")\n')
    with pytest.raises(ValueError, match="not an f-string"):
        declared(page)


def test_every_claim_reads_as_registered():
    """A claim's wording is fixed in book/preregistration.json; a change is an amendment
    (python tools/preregistration.py amend KEY --reason ...), listed in the appendix."""
    reg = prereg.load()
    assert prereg.differences(reg, prereg.current()) == []
    assert prereg.unexplained(reg) == []
    for k, c in reg["claims"].items():  # a reason, not the claim said again
        assert c["could_fail"].strip() != c["text"].strip(), k
    for a in reg["amendments"]:
        assert a["old"] != a["new"] or a.get("condition"), a  # something changed
        assert a["reason"] and re.match(r"\d{4}-\d\d-\d\d$", a["date"])
        assert a["chapter"] == a["key"][:2]
        # an amended claim is registered; a withdrawn one is not
        assert (a["key"] in reg["claims"]) != bool(a.get("withdrawn")), a


def test_a_changed_wording_needs_an_amendment(tmp_path):
    now = {"09-a": {"chapter": "09", "text": "PGD breaks it (below 5%)"}}
    reg = {"claims": {}, "amendments": []}
    assert prereg.register(reg, now) == ["09-a"]
    assert prereg.differences(reg, now) == []
    assert prereg.unexplained(reg) == [
        "09-a: says not why it could fail (write its could_fail)"
    ]
    reg["claims"]["09-a"]["could_fail"] = "a 7% survival at ε = 0.3 would fail it"
    assert prereg.unexplained(reg) == []
    changed = {"09-a": {"chapter": "09", "text": "PGD breaks it (below 10%)"}}
    assert "changed without an amendment" in prereg.differences(reg, changed)[0]
    with pytest.raises(ValueError, match="reason must say"):
        prereg.amend(reg, changed, "09-a", " ")
    entry = prereg.amend(reg, changed, "09-a", "the standard CNN kept 7% at ε = 0.3")
    assert (entry["old"], entry["new"]) == (
        "PGD breaks it (below 5%)",
        changed["09-a"]["text"],
    )
    assert prereg.differences(reg, changed) == []
    assert "registered, but no chapter claims it" in prereg.differences(reg, {})[0]
    with pytest.raises(ValueError, match="say what changed in condition"):
        prereg.amend(reg, changed, "09-a", "a new threshold")
    entry = prereg.amend(reg, changed, "09-a", "measured x", condition="a < 5 → a < 10")
    assert entry["old"] == entry["new"] and entry["condition"] == "a < 5 → a < 10"


def test_a_withdrawn_claim_leaves_the_registry_with_its_reason():
    reg = {"claims": {}, "amendments": []}
    prereg.register(reg, {"09-a": {"chapter": "09", "text": "a"}})
    with pytest.raises(ValueError, match="no chapter declares"):
        prereg.withdraw(reg, {"09-a": {"chapter": "09", "text": "a"}}, "09-a", "x")
    with pytest.raises(ValueError, match="reason must say"):
        prereg.withdraw(reg, {}, "09-a", "")
    entry = prereg.withdraw(reg, {}, "09-a", "it repeated 09-b on the same numbers")
    assert entry["withdrawn"] and entry["old"] == "a" and reg["claims"] == {}
    assert prereg.differences(reg, {}) == []
