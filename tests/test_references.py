"""The registry of published numbers: complete entries, traceable sources, like for like."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from misuse import cases, misuse_test
from robustcore import references

SHA = re.compile(r"@[0-9a-f]{40}$")


@pytest.mark.parametrize("key", sorted(references.REFERENCES))
def test_every_entry_is_traceable(key):
    """A value in its unit, a dataset, what was measured and a source: a paper with its table,
    figure or section, or a repository file at a full commit."""
    r = references.get(key)
    assert r.unit in ("%", "AUROC")
    assert 0 <= r.value <= (100 if r.unit == "%" else 1)
    assert r.dataset and len(r.measured) > 20
    assert r.cite or r.source.startswith("unpublished: ")  # only a paper is cited
    paper = re.search(r"\d{4}, (Table|Fig\.|abstract)", r.source)
    repo = re.match(r"[\w.-]+/[\w.-]+ \S+", r.source) and SHA.search(r.source)
    unpublished = r.source.startswith(
        "unpublished: "
    )  # said so, never passed off as a paper's
    assert paper or repo or unpublished, r.source


def test_paper_and_repository_numbers_are_separate_entries():
    paper, repo = (
        references.get("madry/pgd100x20"),
        references.get("madry-challenge/pgd100x50"),
    )
    assert paper.value != repo.value and "Table 1" in paper.source
    assert "mnist_challenge" in repo.source


def test_like_for_like():
    """A reproduction needs the same data, protocol *and* model."""
    assert references.comparison("madry/pgd40", "MNIST", True, True) == "reproduction"
    assert references.comparison("madry/pgd40", "MNIST") == "analogue"  # our model
    assert references.comparison("madry/pgd40", "MNIST", False, True) == "analogue"
    assert references.comparison("timm/resnet18", "MNIST", True, True) == "analogue"
    assert references.comparison("ilyas/D_R/clean", "MNIST") == "analogue"


def test_the_difference_is_named():
    d = references.difference
    assert d("madry/pgd40", "MNIST", True, True) == "same data, protocol and model"
    assert d("madry/pgd40", "MNIST", model="a small CNN") == (
        "same data and protocol; other model: ours a small CNN, theirs "
        + references.get("madry/pgd40").model
    )
    assert d("timm/resnet18", "MNIST", False, False, "a ResNet", "digits") == (
        "other data: ours MNIST, theirs ImageNet-A; other protocol: ours digits; "
        "other model: ours a ResNet, theirs " + references.get("timm/resnet18").model
    )


def test_every_entry_names_its_model():
    for key, r in references.REFERENCES.items():
        assert len(r.model) > 15, key


def test_the_arae_entries_say_which_model_and_epoch():
    for c in range(10):
        last = references.get(f"arae-repo/p2/{c}/last")
        assert "union" in last.measured and "last" in last.measured
    mean_last = (
        sum(references.get(f"arae-repo/p2/{c}/last").value for c in range(10)) / 10
    )
    assert round(mean_last, 3) == 0.976


MISUSE = cases(
    "references",
    {
        "get:unknown": (
            lambda: references.get("madry/pgd41"),
            ValueError,
            "key must name",
        ),
        "get:not-str": (lambda: references.get(3), ValueError, "key must name"),
        "comparison:dataset": (
            lambda: references.comparison("madry/pgd40", ""),
            TypeError,
            "dataset must be",
        ),
        "comparison:model": (
            lambda: references.comparison("madry/pgd40", "MNIST", True, "yes"),
            TypeError,
            "same_model must be",
        ),
        "difference:model": (
            lambda: references.difference("madry/pgd40", "MNIST", model=1),
            TypeError,
            "model must be a string",
        ),
        "comparison:protocol": (
            lambda: references.comparison("madry/pgd40", "MNIST", 1),
            TypeError,
            "same_protocol must be",
        ),
    },
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)


def test_every_cited_key_is_in_the_bibliography():
    bib = (Path(__file__).resolve().parents[1] / "book" / "references.bib").read_text()
    keys = set(re.findall(r"^@\w+\{([\w-]+),", bib, re.M))
    assert {r.cite for r in references.REFERENCES.values() if r.cite} <= keys


def test_every_citation_in_the_chapters_is_in_the_bibliography():
    root = Path(__file__).resolve().parents[1]
    bib = (root / "book" / "references.bib").read_text()
    keys = set(re.findall(r"^@\w+\{([\w-]+),", bib, re.M))
    for py in sorted((root / "book").glob("[0-9][0-9]_*.py")):
        cited = set(re.findall(r"\{cite:[tp]\}`([\w-]+)`", py.read_text()))
        assert cited, f"{py.name} cites no paper ({{cite:t}}`key` or {{cite:p}}`key`)"
        assert cited <= keys, f"{py.name} cites keys missing from references.bib"
