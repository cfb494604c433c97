"""The benchmark scripts run (tiny settings) and report their ratios; no timing is asserted here."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_pgd_benchmark_smoke(tmp_path, capsys):
    res = _load("pgd").main(
        [
            "--steps",
            "2",
            "--batch",
            "16",
            "--repeats",
            "1",
            "--json",
            str(tmp_path / "r.json"),
        ]
    )
    assert set(res["seconds"]) == {"robustcore", "torchattacks", "bare"}
    assert res["ratio_vs_bare"] > 0 and (tmp_path / "r.json").is_file()
    assert "ratio vs torchattacks" in capsys.readouterr().out


def test_construction_benchmark_smoke(tmp_path, capsys):
    res = _load("construction").main(
        [
            "--steps",
            "2",
            "--batch",
            "16",
            "--repeats",
            "1",
            "--json",
            str(tmp_path / "r.json"),
        ]
    )
    assert set(res["seconds"]) == {"robustcore", "bare"}
    assert res["ratio_vs_bare"] > 0 and (tmp_path / "r.json").is_file()
    assert "ratio vs bare cost" in capsys.readouterr().out


def test_one_pixel_benchmark_smoke(tmp_path, capsys):
    res = _load("one_pixel").main(
        [
            "--batch",
            "2",
            "--popsize",
            "12",
            "--generations",
            "2",
            "--chunk",
            "64",
            "--json",
            str(tmp_path / "r.json"),
        ]
    )
    assert set(res["seconds"]) == {"robustcore", "torchattacks", "raw"}
    # at most 12 × (2 + 1) evaluations per image, one last forward of the 2 results, and
    # the one image the label check scores
    assert (
        res["images_evaluated"]["robustcore"] <= 2 * 12 * 3 + 2 + 1
        and res["throughput_vs_raw"] > 0
    )
    assert "speed-up vs torchattacks" in capsys.readouterr().out


def test_certify_benchmark_smoke(tmp_path, capsys):
    res = _load("certify").main(
        ["--batch", "16", "--repeats", "1", "--crown-digits", "1"]
        + ["--json", str(tmp_path / "r.json")]
    )
    assert set(res["seconds"]) == {"forward", "ibp", "crown-ibp"}
    assert res["crown_unstable_only_speedup"] > 0 and res["ratio_crown_vs_bare"] > 0
    assert res["ratio_vs_bare"] > 0 and (tmp_path / "r.json").is_file()
    assert "IBP / forward" in capsys.readouterr().out


def test_arae_benchmark_smoke(tmp_path, capsys):
    res = _load("arae").main(
        ["--images", "32", "--batch", "16", "--steps", "2", "--repeats", "1"]
    )
    assert set(res["seconds"]) == {"robustcore", "bare"} and res["ratio_vs_bare"] > 0
    assert "ratio vs bare cost" in capsys.readouterr().out


def test_autoattack_benchmark_smoke(tmp_path, capsys):
    pytest.importorskip("torchattacks")
    res = _load("autoattack").main(["--batch", "8", "--steps", "2", "--repeats", "1"])
    assert set(res["seconds"]) == {"robustcore", "bare"} and res["ratio_vs_bare"] > 0
    assert 0 <= res["robust_accuracy"] <= 1
    assert "ratio vs bare cost" in capsys.readouterr().out


def test_layout_benchmark_smoke(tmp_path, capsys):
    res = _load("layout").main(
        ["--images", "32", "--batch", "8", "--steps", "2", "--repeats", "1"]
        + ["--json", str(tmp_path / "r.json")]
    )
    for arch in ("cnn", "resnet"):
        r = res[arch]
        assert set(r["seconds"]) == {
            f"{run} {layout}"
            for run in ("train", "pgd")
            for layout in ("channels_last", "nchw")
        }
        assert r["train_ratio"] > 0 and r["pgd_ratio"] > 0
        # the same weights in both layouts: the logits differ by float rounding only
        assert r["max_logit_difference"] < 1e-4
    assert (tmp_path / "r.json").is_file()
    assert "channels-last / NCHW" in capsys.readouterr().out


def test_allocator_benchmark_smoke(tmp_path, capsys):
    res = _load("allocator").main(
        ["--batch", "1", "--repeats", "1", "--json", str(tmp_path / "r.json")]
    )
    assert res["tunables"].startswith("glibc.malloc.")  # read from the Makefile
    assert set(res["seconds"]) == {"tuned", "default"}
    assert res["ratio_wall"] > 0 and res["ratio_cpu"] > 0
    assert (tmp_path / "r.json").is_file()
    assert "allocator settings / glibc's defaults" in capsys.readouterr().out
