"""The independent, stronger evaluation: torchattacks' AutoAttack and Square on our models."""

from __future__ import annotations

import pytest
import torch

from misuse import M, X, Y, cases, misuse_test, not_a_model
from robustcore import audit, chunks, data, stats, train, zoo

pytest.importorskip("torchattacks")


@pytest.fixture(scope="module")
def tiny():
    """The shipped standard CNN and eight test digits it classifies right."""
    x, y = data.mnist(train=False)
    return (
        zoo.load("mnist-cnn-std", train_if_missing=False, progress=False),
        x[:8],
        y[:8],
    )


def test_autoattack_is_seeded_and_at_least_as_strong_as_pgd(tiny):
    """At ε = 0.15 PGD breaks this model on every digit; AutoAttack must too (a weaker run
    would mean the wrapper mis-wires labels, mode or device); at ε = 1 nothing survives.
    (Below ~0.1 some digits survive and AutoAttack's FAB and Square take minutes on a CPU.)"""
    m, x, y = tiny
    assert train.correct(m, x, y).all()
    pgd = train.correct(m, x, y, {"name": "pgd", "eps": 0.15, "steps": 10})
    aa = audit.autoattack(m, x, y, 0.15)
    assert aa.dtype == torch.bool and aa.shape == (8,)
    assert int(aa.sum()) <= int(pgd.sum())
    assert torch.equal(aa, audit.autoattack(m, x, y, 0.15))
    assert not audit.autoattack(m, x, y, 1.0, parts=("apgd-ce",)).any()


def test_a_named_autoattack_is_kept_and_not_run_again(tiny, tmp_path, monkeypatch):
    """With a name it is kept in the progress folder; a rerun reads it (AutoAttack not
    called), the same outcomes as a run without a name; other settings are refused."""
    m, x, y = tiny
    monkeypatch.setenv(chunks.ENV_VAR, str(tmp_path))
    first = audit.autoattack(m, x, y, 0.05, parts=("apgd-ce",), name="aa", chunk=8)
    assert (tmp_path / "aa" / "chunk-000000-000008.pt.xz").is_file()
    assert torch.equal(first, audit.autoattack(m, x, y, 0.05, parts=("apgd-ce",)))
    monkeypatch.setattr(audit, "_torchattacks", lambda: 1 / 0)  # no attack may run
    again = audit.autoattack(m, x, y, 0.05, parts=("apgd-ce",), name="aa", chunk=8)
    assert torch.equal(first, again)
    with pytest.raises(ValueError, match="settings"):
        audit.autoattack(m, x, y, 0.06, parts=("apgd-ce",), name="aa", chunk=8)


def test_square_never_helps_and_is_seeded(tiny):
    m, x, y = tiny
    sq = audit.square(m, x, y, 0.1, queries=50)
    assert sq.shape == (8,)
    assert torch.equal(sq, audit.square(m, x, y, 0.1, queries=50))
    wrong = y.clone()
    wrong[:4] = (y[:4] + 1) % 10  # four labels the model does not give
    assert not audit.square(m, x, wrong, 0.1, queries=10)[
        :4
    ].any()  # never counted right


def test_correct_matches_evaluate(tiny):
    m, x, y = tiny
    spec = {"name": "pgd", "eps": 0.05, "steps": 5}
    assert train.correct(m, x, y, spec).float().mean().item() == train.evaluate(
        m, x, y, spec
    )
    assert train.correct(m, x, y).float().mean().item() == train.evaluate(m, x, y)


ESTIMATE = stats.from_rate(0.5, 10)
MISUSE = cases(
    "audit",
    {
        "autoattack:eps-zero": (
            lambda: audit.autoattack(M, X, Y, 0.0),
            ValueError,
            "eps must be",
        ),
        "autoattack:parts": (
            lambda: audit.autoattack(M, X, Y, 0.1, parts=("pgd",)),
            ValueError,
            "parts must be",
        ),
        "autoattack:norm": (
            lambda: audit.autoattack(M, X, Y, 0.1, norm="L1"),
            ValueError,
            "norm must be one of",
        ),
        "autoattack:labels": (
            lambda: audit.autoattack(M, X, Y[:2], 0.1),
            ValueError,
            "y",
        ),
        "square:queries": (
            lambda: audit.square(M, X, Y, 0.1, queries=0),
            ValueError,
            "queries must be",
        ),
        "square:x-nan": (
            lambda: audit.square(M, X * float("nan"), Y, 0.1),
            ValueError,
            "NaN",
        ),
        "outcomes:parts": (
            lambda: audit.outcomes(M, X, Y, 0.1, parts=("square", "pgd")),
            ValueError,
            "parts must be",
        ),
        "outcomes:restarts": (
            lambda: audit.outcomes(M, X, Y, 0.1, restarts=0),
            ValueError,
            "restarts must be",
        ),
        "audit:restarts": (
            lambda: audit.audit(M, X, Y, 0.1, restarts=0),
            ValueError,
            "restarts must be",
        ),
        "table:audits": (
            lambda: audit.table({"PGD-40": 0.5}),
            TypeError,
            "audits must map",
        ),
        "table:attacks": (
            lambda: audit.table({"A": {}, "B": {"clean": ESTIMATE}}),
            ValueError,
            "audits must all hold the same attacks",
        ),
    },
) + not_a_model(
    {
        "audit.autoattack": lambda m: audit.autoattack(m, X, Y, 0.1),
        "audit.square": lambda m: audit.square(m, X, Y, 0.1),
    }
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)


def test_table_has_one_row_per_attack_and_one_column_per_model():
    from robustcore import stats

    nine, five = (torch.tensor([True] * k + [False] * (10 - k)) for k in (9, 5))
    res = {
        "A": {"clean": stats.proportion(nine), "PGD-40": stats.proportion(five)},
        "B": {"clean": stats.proportion(five), "PGD-40": stats.proportion(nine)},
    }
    md = audit.table(res, "**Caption.**").splitlines()
    assert md[0] == "**Caption.**" and md[2] == "| attack | A (n = 10) | B (n = 10) |"
    assert md[4] == "| clean | 90.0% [59.6, 98.2] | 50.0% ±26.3 |"  # n in the header
    assert md[5].startswith("| PGD-40 | 50.0% ±26.3 |") and len(md) == 6


def test_outcomes_are_per_image_and_audit_summarises_them(tiny):
    """The worst case is right only where every attack at eps failed; audit's estimates
    are the proportions of the same outcomes (same seed, same numbers)."""
    m, x, y = tiny
    kw = {"restarts": 1, "parts": ("apgd-ce",), "queries": 20}
    hits = audit.outcomes(m, x, y, 0.05, **kw)
    at_eps = [
        k
        for k in hits
        if k not in ("clean", "PGD-40, ε = 1", "white-box", "worst case")
    ]
    assert all(hits[k].shape == (8,) and hits[k].dtype == torch.bool for k in hits)
    assert torch.equal(
        hits["worst case"], torch.stack([hits[k] for k in at_eps]).all(0)
    )
    est = audit.audit(m, x, y, 0.05, **kw)
    assert {k: e.value for k, e in est.items()} == {
        k: float(v.float().mean()) for k, v in hits.items()
    }


def test_known_outcomes_are_used_instead_of_running_again(tiny):
    """Outcomes computed earlier on the same images (the same run, seed and settings)
    replace the attacks they stand for; equal to running them, and checked."""
    m, x, y = tiny
    kw = {"restarts": 1, "parts": ("apgd-ce",), "queries": 20}
    hits = audit.outcomes(m, x, y, 0.05, **kw)
    again = audit.outcomes(
        m, x, y, 0.05, **kw, known={"PGD-100 ×1": hits["PGD-100 ×1"]}
    )
    assert all(torch.equal(hits[k], again[k]) for k in hits)
    none = torch.zeros(8, dtype=torch.bool)
    used = audit.outcomes(m, x, y, 0.05, **kw, known={"PGD-40": none})
    assert torch.equal(used["PGD-40"], none) and not used["worst case"].any()
    with pytest.raises(ValueError, match="known may hold"):
        audit.outcomes(m, x, y, 0.05, **kw, known={"Square": none})
    with pytest.raises(ValueError, match=r"shape \(8,\)"):
        audit.outcomes(m, x, y, 0.05, **kw, known={"PGD-40": none[:3]})


def test_the_white_box_verdict_holds_no_square(tiny, monkeypatch):
    """The gradient-masking check compares Square with the white-box attacks: a
    white-box verdict that contained Square would make that check hold by
    construction. Here Square breaks every digit and AutoAttack's gradient parts none:
    the white-box verdict is the PGDs' alone, AutoAttack and the worst case are 0."""
    m, x, y = tiny
    calls = []

    def gradient_parts(model, x, y, eps, *, parts, **kw):
        calls.append(parts)
        return torch.ones(len(y), dtype=torch.bool)

    monkeypatch.setattr(audit, "autoattack", gradient_parts)
    monkeypatch.setattr(
        audit, "square", lambda m, x, y, e, **kw: torch.zeros(len(y), dtype=torch.bool)
    )
    hits = audit.outcomes(
        m, x, y, 0.02, restarts=1, parts=("apgd-ce", "apgd-t", "square")
    )
    assert calls == [("apgd-ce", "apgd-t")]
    assert torch.equal(hits["white-box"], hits["PGD-40"] & hits["PGD-100 ×1"])
    assert hits["white-box"].any()  # the case is informative
    assert not hits["AutoAttack"].any() and not hits["worst case"].any()
    # without Square among AutoAttack's parts, AutoAttack is its gradient parts
    hits = audit.outcomes(m, x, y, 0.02, restarts=1, parts=("apgd-ce",))
    assert hits["AutoAttack"].all() and not hits["Square"].any()


def test_a_named_evaluation_resumes_from_its_chunks(tiny, tmp_path, monkeypatch):
    """With a name, the outcomes are kept chunk by chunk in the progress folder; a
    rerun attacks nothing again, and with one chunk holding every image the outcomes
    are those of the plain call."""
    m, x, y = tiny
    monkeypatch.setenv("ROBUSTCORE_PROGRESS", str(tmp_path))
    kw = {"restarts": 1, "parts": ("apgd-ce",), "queries": 20}
    plain = audit.outcomes(m, x, y, 0.05, **kw)
    kept = audit.outcomes(m, x, y, 0.05, **kw, name="aa", chunk=8)
    assert all(torch.equal(plain[k], kept[k]) for k in plain)
    chunked = audit.outcomes(m, x, y, 0.05, **kw, name="aa4", chunk=4)
    assert len(list((tmp_path / "aa4").glob("chunk-*.pt.xz"))) == 2
    monkeypatch.setattr(audit, "square", lambda *a, **k: 1 / 0)  # nothing reruns
    again = audit.outcomes(m, x, y, 0.05, **kw, name="aa4", chunk=4)
    assert all(torch.equal(chunked[k], again[k]) for k in chunked)
    with pytest.raises(ValueError, match="settings"):
        audit.outcomes(m, x, y, 0.1, **kw, name="aa4", chunk=4)
