"""The chapters' asserted claims can fail: each chapter runs on a mutated input, up to
the cell that decides the claims the mutation should break, and those claims must be
recorded as failed. All mutants run in one kernel, one after another, each from an
empty namespace.

The mutated run keeps going past a failed check (``Claims.check`` is patched in the
kernel to record without raising), so a test names every asserted claim a mutation
breaks, not only the first one met. Each mutation is a change a bug or a careless
edit could make:

* Chapter 1, the standard and the adversarially trained CNN swapped: PGD at ε = 0.3 no
  longer breaks "the standard CNN".
* Chapter 2, the CNN "trained on the five perturbation groups" replaced by the standard
  CNN: training on the groups no longer fixes them.
* Chapter 3, differential evolution with a population of 4 for 1 generation in place of
  the paper's 400 × 100: its pixel is no longer among the best 1% of the exhaustive
  scan.
* Chapter 4, a filter that guesses at random (uniform logits from a fixed seed) in
  place of the trained ResNet: its "mistakes" are a random subset of the candidates, so
  the other models' errors no longer transfer to Digits-A, and the filter is no MNIST
  model.
* Chapter 5, the novelty score negated (normal digits scored as the most novel): the
  autoencoders fall below chance.
* Chapter 6, an unsound "certificate" (every digit the MLP gets right, in place of
  interval bounds): the sandwich certified ⊆ robust by MILP ⊆ survives the attacks
  breaks, since attacks break some of those digits.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from robustcore import claims as claims_module

nbclient = pytest.importorskip("nbclient")

BOOK = Path(__file__).resolve().parents[1] / "book"

# record a failed check and go on, so that the run shows every claim the mutation breaks
KEEP_GOING = """\
from robustcore.claims import Claims as _Claims


# the original bound as a default: a mutant's `%reset -f` clears the namespace
def _record(self, *args, _check=_Claims.check, **kwargs):
    try:
        _check(self, *args, **kwargs)
    except AssertionError:
        pass


_Claims.check = _record
"""

# chapter, the source as written, the mutation, a string of the last cell to run, and
# the asserted claims the mutation must break
MUTANTS = {
    "01-models-swapped": (
        "01_adversarial_examples",
        'std_cnn, robust_cnn = nets["CNN"], nets["CNN (adv. trained)"]',
        'std_cnn, robust_cnn = nets["CNN (adv. trained)"], nets["CNN"]',
        '"01-pgd-linf-breaks-std-cnn"',
        {"01-pgd-linf-breaks-std-cnn"},
    ),
    "02-groups-cnn-untrained-on-groups": (
        "02_robust_features",
        'groups_cnn = zoo.load("mnist-cnn-groups")',
        'groups_cnn = zoo.load("mnist-cnn-std")',
        '"02-group-training-fixes"',
        {"02-group-training-fixes"},
    ),
    "03-de-without-budget": (
        "03_one_pixel_attack",
        "pixels=1, popsize=400, generations=100, progress=False",
        "pixels=1, popsize=4, generations=1, progress=False",
        '"03-de-flips-or-matches-best"',
        {"03-de-near-best-pixel", "03-de-flips-or-matches-best"},
    ),
    "04-random-filter": (
        "04_natural_adversarial_examples",
        'filter_net = zoo.load("mnist-resnet-std")',
        "filter_net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))"
        ".requires_grad_(False)\n"
        "torch.manual_seed(0); filter_net[1].weight.normal_(0, 3)",
        '"04-lower-aurra"',
        {"04-good-mnist-models", "04-errors-transfer"},
    ),
    "05-score-negated": (
        "05_arae",
        "s2 = {(c, m): novelty.scores(ae, p2[c].x_test)",
        "s2 = {(c, m): -novelty.scores(ae, p2[c].x_test)",
        '"05-autoencoders-beat-chance"',
        {"05-autoencoders-beat-chance"},
    ),
    "06-unsound-bound": (
        "06_certified_robustness",
        'h["IBP"] = certify.certified(net, x, y, EPS_MLP, method="ibp")',
        'h["IBP"] = train.correct(net, x, y)',
        '"06-sandwich-holds"',
        {"06-sandwich-holds"},
    ),
}


def mutated_cells(name: str, folder: Path) -> list:
    """Mutant ``name``'s chapter up to its last cell, mutated, after a cell that clears
    the kernel's namespace and sends its claims to ``folder``."""
    chapter, written, mutant, last, _ = MUTANTS[name]
    nb = nbformat.read(BOOK / f"{chapter}.ipynb", as_version=4)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    (at,) = [i for i in code if written in nb.cells[i].source]
    nb.cells[at].source = nb.cells[at].source.replace(written, mutant)
    stop = next(i for i in code if last in nb.cells[i].source)
    assert at < stop
    start = nbformat.v4.new_code_cell(
        f"%reset -f\nimport os\nos.environ['ROBUSTCORE_RESULTS'] = {str(folder)!r}"
    )
    cells = [start, *nb.cells[: stop + 1]]
    for c in cells:
        c.metadata["mutant"] = name
    return cells


@pytest.fixture(scope="module")
def mutated_runs(tmp_path_factory) -> dict[str, tuple[Path, list[str]]]:
    """Every mutant run in one kernel, one after another (one start of the kernel and
    one import of torch instead of one per mutant); each starts from an empty namespace
    and records its claims in a folder of its own, not where the book's numbers are
    kept. Mutant name → (that folder, the errors its cells raised)."""
    root = tmp_path_factory.mktemp("mutants")
    folders = {name: root / name for name in MUTANTS}
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(KEEP_GOING)]
    for name, folder in folders.items():
        nb.cells += mutated_cells(name, folder)
    # an error does not stop the other mutants: each starts from a cleared namespace
    nbclient.NotebookClient(
        nb, timeout=600, allow_errors=True, resources={"metadata": {"path": str(BOOK)}}
    ).execute()
    errors = {name: [] for name in MUTANTS}
    for c in nb.cells[1:]:
        for out in c.get("outputs", []):
            if out.output_type == "error":
                errors[c.metadata["mutant"]].append(f"{out.ename}: {out.evalue}")
    return {name: (folders[name], errors[name]) for name in MUTANTS}


@pytest.mark.parametrize("name", MUTANTS)
def test_a_mutated_chapter_fails_its_checks(name, mutated_runs):
    chapter, broken = MUTANTS[name][0], MUTANTS[name][4]
    folder, errors = mutated_runs[name]
    assert not errors, f"the mutated run raised: {errors}"
    recorded = claims_module.stored(chapter[:2], "quick", folder)
    assert broken <= set(recorded), f"not decided in the mutated run: {broken}"
    failed = {k for k, c in recorded.items() if c["asserted"] and not c["held"]}
    assert broken <= failed, {k: recorded[k]["evidence"] for k in broken}
