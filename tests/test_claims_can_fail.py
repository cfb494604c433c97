"""The chapters' asserted claims can fail: run a chapter on mutated inputs and its checks
must stop it.

* Chapter 1 with the standard and the adversarially trained CNN swapped: its first cell
  of claims must stop the run (on this machine the robust CNN's clean accuracy,
  98.2% [96.6, 99.1], already misses the standard CNN's check; PGD at ε = 0.3 would
  miss the next one by far).
* Chapter 6 with an unsound "certificate" (every digit the MLP gets right, in place of
  interval bounds): the sandwich check (certified ⊆ robust by MILP ⊆ survives the
  attacks) must stop the run, since attacks break some of those digits."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "01_adversarial_examples.ipynb"
LOADED = 'std_cnn, robust_cnn = nets["CNN"], nets["CNN (adv. trained)"]'
SWAPPED = 'std_cnn, robust_cnn = nets["CNN (adv. trained)"], nets["CNN"]'


def test_chapter_1_fails_its_checks_with_the_models_swapped(tmp_path, monkeypatch):
    # the mutated run records nothing where the book's numbers are kept
    monkeypatch.setenv("ROBUSTCORE_RESULTS", str(tmp_path))
    nb = nbformat.read(CHAPTER, as_version=4)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    (load,) = [i for i in code if LOADED in nb.cells[i].source]
    nb.cells[load].source = nb.cells[load].source.replace(LOADED, SWAPPED)
    first = next(i for i in code if "claims.check(" in nb.cells[i].source)
    assert load < first
    nb.cells = nb.cells[: first + 1]  # up to the first cell of claims
    client = nbclient.NotebookClient(
        nb, timeout=600, resources={"metadata": {"path": str(CHAPTER.parent)}}
    )
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="claim failed: "):
        client.execute()


SIX = ROOT / "book" / "06_certified_robustness.ipynb"
SOUND = 'h["IBP"] = certify.certified(net, x, y, EPS_MLP, method="ibp")'
UNSOUND = 'h["IBP"] = train.correct(net, x, y)'


def test_chapter_6_fails_its_sandwich_check_with_an_unsound_bound(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("ROBUSTCORE_RESULTS", str(tmp_path))
    nb = nbformat.read(SIX, as_version=4)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    (bound,) = [i for i in code if SOUND in nb.cells[i].source]
    nb.cells[bound].source = nb.cells[bound].source.replace(SOUND, UNSOUND)
    check = next(i for i in code if '"06-sandwich-holds"' in nb.cells[i].source)
    nb.cells = nb.cells[: check + 1]
    client = nbclient.NotebookClient(
        nb, timeout=600, resources={"metadata": {"path": str(SIX.parent)}}
    )
    with pytest.raises(
        nbclient.exceptions.CellExecutionError, match="claim failed: the sandwich"
    ):
        client.execute()
