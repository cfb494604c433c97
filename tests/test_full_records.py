"""The full profile's committed records: publishing a `make full` folder, showing them
beside a live run, their schema, and a sample of them re-evaluated from the artifacts
when these are present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from misuse import cases, misuse_test
from robustcore import full_records, io, results, stats, tables

ROOT = Path(__file__).resolve().parents[1]


def _make_full_folder(out: Path, monkeypatch, status: str = "ok") -> None:
    monkeypatch.setenv("ROBUSTCORE_RESULTS", str(out / "results"))
    results.record(
        "03",
        "success, 1 px",
        stats.proportion(torch.tensor([1, 0, 0, 0])),
        unit="%",
        profile="full",
    )
    results.record("03", "queries", 40_400, profile="full")
    io.atomic_write_json(
        {
            "profile": "full",
            "machine": "CPU x86_64, 2 cores",
            "device": "cpu",
            "commit": "abcdef1234567",
            "torch": "2.9.0",
            "python": "3.11.7",
            "date": "2026-11-29T09:00:00+0000",
            "chapters": {
                "03_one_pixel_attack": {
                    "seconds": 3_600.0,
                    "status": status,
                    "finished": "2026-11-29T10:00:00+0000",
                    "set": {"N_IMAGES": "100"},
                    "machine": "CPU x86_64, 2 cores",
                    "device": "cpu",
                    "commit": "abcdef1234567",
                    "torch": "2.9.0",
                },
                "reproductions": {"seconds": 5.0, "status": "ok"},
            },
        },
        out / "timing.json",
    )


def test_publish_copies_finished_chapters_with_their_run(tmp_path, monkeypatch):
    out, folder = tmp_path / "full", tmp_path / "committed"
    _make_full_folder(out, monkeypatch)
    assert full_records.publish(out, folder=folder) == ["03"]
    run = full_records.runs(folder)["03"]
    assert run["set"] == {"N_IMAGES": "100"} and run["seconds"] == 3_600.0
    assert run["python"] == "3.11.7"  # from the run as a whole
    rows = full_records.rows("03", folder)
    assert [r["name"] for r in rows] == ["success, 1 px", "queries"]
    assert rows[0]["value"] == 25.0 and rows[0]["n"] == 4


def test_publish_refuses_a_chapter_that_did_not_finish(tmp_path, monkeypatch):
    out, folder = tmp_path / "full", tmp_path / "committed"
    _make_full_folder(out, monkeypatch, status="failed")
    assert full_records.publish(out, folder=folder) == []
    with pytest.raises(ValueError, match="03 did not run to the end"):
        full_records.publish(out, ("03",), folder=folder)
    with pytest.raises(ValueError, match="no .*timing.json"):
        full_records.publish(tmp_path, folder=folder)


def test_beside_puts_this_run_next_to_the_full_profile(tmp_path, monkeypatch):
    out, folder = tmp_path / "full", tmp_path / "committed"
    _make_full_folder(out, monkeypatch)
    full_records.publish(out, folder=folder)
    monkeypatch.setenv("ROBUSTCORE_RESULTS", str(tmp_path / "live"))
    monkeypatch.setenv("ROBUSTCORE_PROFILE", "quick")
    results.record(
        "03", "success, 1 px", stats.proportion(torch.tensor([1, 1])), unit="%"
    )
    text = full_records.beside("03", folder)
    head, *body = [ln for ln in text.splitlines() if ln.startswith("| ")]
    assert "this run (quick)" in head and "full profile, recorded" in head
    assert body[0].startswith("| success, 1 px | 100.0% ") and "25.0%" in body[0]
    assert body[1].startswith("| queries | not run here | 4.04e+04")
    assert "cpu (CPU x86_64, 2 cores), finished 2026-11-29, commit abcdef1" in text
    assert "60 min; run with N_IMAGES = 100." in text
    # folded on the page, the table whole inside; unfolded on request
    assert text.startswith(
        "<details>\n<summary>This run beside the full profile: 2 numbers"
    )
    assert text.endswith("</details>")
    assert full_records.beside("03", folder, fold=False) in text
    # a chapter without a committed run says so
    assert "No full-profile run of this chapter" in tables.beside([], [], None)
    # an empty comparison is one sentence, not a table of dashes
    live = [
        {
            "name": "a",
            "value": 1.0,
            "profile": "quick",
            "reference": None,
            "kind": None,
            "unit": "%",
            "n": None,
            "low": None,
            "high": None,
        }
    ]
    assert "|" not in tables.beside(live, [], None)


def test_committed_records_say_where_and_when_they_were_measured():
    runs = full_records.runs()
    names = {p.name for p in full_records.FOLDER.glob("chapter*-full.json")}
    assert names == {f"chapter{c}-full.json" for c in runs}
    for chapter, run in runs.items():
        for key in full_records.RUN_FIELDS:
            assert run[key] not in (None, ""), (chapter, key)
        assert run["seconds"] > 0
        recs = results.load(chapter, "full", folder=full_records.FOLDER)
        assert recs and all(r["profile"] == "full" for r in recs.values())
    pkg = (ROOT / "pyproject.toml").read_text()
    assert '"full_runs/*.json"' in pkg  # installed with the package


def _full_checkpoint(name: str) -> Path | None:
    for d in (os.environ.get("ROBUSTCORE_CACHE"), ROOT / "_build/full/checkpoints"):
        if d and (Path(d) / f"{name}-full.pt").is_file():
            return Path(d)
    return None


def test_a_sample_of_chapter_4_records_re_evaluates_from_the_artifacts(monkeypatch):
    """Digits-A of the full-profile filter ResNet, and the second ResNet's accuracy on
    it, recomputed from their checkpoints: equal to what the committed run recorded."""
    recs = results.load("04", "full", folder=full_records.FOLDER)
    if not recs:
        pytest.skip("no committed full-profile records of chapter 4")
    names = ("mnist-resnet-std", "mnist-resnet-std-seed1")
    where = {_full_checkpoint(n) for n in names}
    if None in where or len(where) != 1:
        pytest.skip(
            "the full-profile checkpoints of chapter 4 are not here "
            "(`make full CHAPTERS=04` builds them into _build/full/checkpoints)"
        )
    monkeypatch.setenv("ROBUSTCORE_CACHE", str(where.pop()))
    from robustcore import data, imagenet_a, zoo

    filt, other = (
        zoo.load(n, "full", train_if_missing=False, progress=False) for n in names
    )
    x, y = data.load_digits(28)
    for key, confidence in (
        ("Digits-A: ResNet (seed 1) accuracy", 0.0),
        ("Digits-A, confident: ResNet (seed 1) accuracy", 0.9),
    ):
        x_a, y_a, kept = imagenet_a.natural_adversarial_filter(
            filt, (x, y), min_confidence=confidence
        )
        p, _ = imagenet_a.predict_proba(other, (x_a, y_a))
        right = (p.argmax(1) == y_a).float()
        assert recs[key]["n"] == len(kept), key
        assert 100 * right.mean().item() == pytest.approx(recs[key]["value"]), key


MISUSE = cases(
    "full_records",
    {
        "publish:out": (lambda: full_records.publish(3), TypeError, "out must be"),
        "publish:not-a-run": (
            lambda: full_records.publish(ROOT / "book"),
            ValueError,
            "out must be a `make full` output folder",
        ),
        "publish:chapters": (
            lambda: full_records.publish(ROOT, "03"),
            TypeError,
            "chapters must be a tuple",
        ),
        "publish:progress": (
            lambda: full_records.publish(ROOT, progress=3),
            TypeError,
            "progress must be",
        ),
        "beside:chapter": (
            lambda: full_records.beside(3),
            TypeError,
            "chapter must be a non-empty string",
        ),
        "beside:fold": (
            lambda: full_records.beside("03", fold="yes"),
            TypeError,
            "fold must be True or False",
        ),
        "rows:chapter": (
            lambda: full_records.rows("../x"),
            ValueError,
            "chapter must be letters",
        ),
    },
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)


def test_publish_keeps_the_per_digit_outcomes_of_the_chunks(tmp_path, monkeypatch):
    from robustcore import chunks

    out, folder = tmp_path / "full", tmp_path / "committed"
    _make_full_folder(out, monkeypatch)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    x, y = torch.rand(5, 1, 2, 2), torch.tensor([0, 1, 1, 0, 1])
    chunks.evaluate(
        lambda x, y: {"correct": net(x).argmax(1) == y, "image": x},
        x, y, name="clean", model=net, chunk=2, show_progress=False,
        folder=out / "progress" / "03_one_pixel_attack",
    )  # fmt: skip
    assert full_records.publish(out, folder=folder) == ["03"]
    kept = io.read_json(folder / "chapter03-full.outcomes.json.xz")
    expected = "".join(str(int(v)) for v in (net(x).argmax(1) == y).tolist())
    assert kept["clean"]["correct"] == expected and "image" not in kept["clean"]
    assert kept["clean"]["model_sha256"] == chunks.fingerprint(net)


def test_publish_reads_the_outcomes_where_the_run_kept_its_progress(
    tmp_path, monkeypatch
):
    from robustcore import chunks

    out, folder, kept = tmp_path / "full", tmp_path / "committed", tmp_path / "kept"
    _make_full_folder(out, monkeypatch)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    x, y = torch.rand(5, 1, 2, 2), torch.tensor([0, 1, 1, 0, 1])
    chunks.evaluate(
        lambda x, y: {"correct": net(x).argmax(1) == y},
        x, y, name="clean", model=net, chunk=2, show_progress=False,
        folder=kept / "03_one_pixel_attack",
    )  # fmt: skip
    assert full_records.publish(out, folder=folder, progress=kept) == ["03"]
    outcomes = io.read_json(folder / "chapter03-full.outcomes.json.xz")
    assert outcomes["clean"]["done"] == 5
