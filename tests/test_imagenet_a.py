"""ImageNet-A evaluator: the 200-class mask on a fixture in the official on-disk layout, the
metrics against hand-computed values, the filter, and clear errors."""

import math
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from misuse import (
    BAD_Y,
    M,
    NAN,
    PROBS,
    X,
    Y,
    bad_images,
    bad_labels,
    cases,
    misuse_test,
    not_a_model,
    written,
)
from robustcore import data, imagenet_a as A


# ---- the subset ------------------------------------------------------------------------------


def test_subset_is_200_sorted_wnids_matching_the_1000_class_indices():
    w, idx = A.wnids(), A.indices()
    assert len(w) == len(idx) == 200 and w == sorted(w) and idx == sorted(idx)
    assert len(set(idx)) == 200 and 0 <= min(idx) and max(idx) < 1000
    assert w[:2] == ["n01498041", "n01531178"] and idx[:2] == [
        6,
        11,
    ]  # stingray, goldfinch
    assert A.class_names()[:2] == ["stingray", "goldfinch"]


def test_mask_logits_keeps_the_subset_columns_in_order():
    logits = torch.arange(1000, dtype=torch.float32).repeat(3, 1)
    m = A.mask_logits(logits)
    assert m.shape == (3, 200) and m[0].tolist() == [float(i) for i in A.indices()]


@pytest.mark.parametrize(
    "bad, err",
    [
        (torch.zeros(2, 200), ValueError),
        (torch.zeros(1000), ValueError),
        (torch.zeros(2, 1000, dtype=torch.long), TypeError),
        ([0.0] * 1000, TypeError),
    ],
)
def test_mask_logits_rejects_wrong_shapes_and_types(bad, err):
    with pytest.raises(err, match="logits"):
        A.mask_logits(bad)


# ---- a fixture in the official layout ---------------------------------------------------------


def _code(index: int) -> tuple[int, int, int]:
    """An ImageNet-1k index as a solid colour that survives JPEG, resizing and cropping."""
    return (index // 32) * 8 + 4, (index % 32) * 8 + 4, 128


class ColourCodedImageNetModel(torch.nn.Module):
    """A 1000-class 'ImageNet model' whose logits are known: it reads the index from the colour
    (the input is normalized with ImageNet's mean/std, as a torchvision model's would be)."""

    def forward(self, x):
        mean = torch.tensor(A.MEAN).view(1, 3, 1, 1)
        std = torch.tensor(A.STD).view(1, 3, 1, 1)
        rgb = (x * std + mean).mean(dim=(2, 3)) * 255
        idx = (
            (((rgb[:, 0] - 4) / 8).round() * 32 + ((rgb[:, 1] - 4) / 8).round())
            .long()
            .clamp(0, 999)
        )
        logits = torch.zeros(x.shape[0], 1000)
        logits[torch.arange(x.shape[0]), idx] = 5.0
        logits[:, 0] = (
            4.0  # a distractor outside the subset: the unmasked argmax must not win
        )
        return logits


@pytest.fixture(scope="module")
def fake_imagenet_a(tmp_path_factory):
    """200 wnid folders, one JPEG each (two in the first), whose colour encodes the image's true
    1000-class index — except that the images of label 5 carry label 7's index (a known mistake)."""
    root = tmp_path_factory.mktemp("ia") / "imagenet-a"
    idx = A.indices()
    for label, w in enumerate(A.wnids()):
        (root / w).mkdir(parents=True)
        shown = idx[7] if label == 5 else idx[label]
        for k in range(2 if label == 0 else 1):
            Image.new("RGB", (40, 30), _code(shown)).save(
                root / w / f"{w}_{k}.jpg", quality=95
            )
    return root


def test_mask_maps_folder_label_i_to_its_imagenet_index(fake_imagenet_a):
    ds = A.dataset(fake_imagenet_a)
    assert ds.classes == A.wnids() and len(ds) == 201
    x, _ = ds[0]
    assert x.shape == (3, 224, 224)  # Resize(256) + CenterCrop(224)
    res = A.evaluate(ColourCodedImageNetModel(), ds, classes=A.indices(), batch_size=64)
    wrong = torch.nonzero(~res.correct).flatten().tolist()
    label5 = [i for i, (_, t) in enumerate(ds.samples) if t == 5]
    assert wrong == label5 and res.predictions[label5].tolist() == [7]
    assert res.accuracy == pytest.approx(200 / 201)


def test_unmasked_1000_class_logits_are_refused(fake_imagenet_a):
    with pytest.raises(ValueError, match="classes=imagenet_a.indices"):
        A.evaluate(ColourCodedImageNetModel(), A.dataset(fake_imagenet_a), batch_size=4)


def test_loader_and_find(fake_imagenet_a, monkeypatch):
    assert A.find(fake_imagenet_a) == fake_imagenet_a.resolve()
    assert (
        A.find(fake_imagenet_a.parent) == fake_imagenet_a.resolve()
    )  # the parent works too
    monkeypatch.setenv(A.ENV_VAR, str(fake_imagenet_a.parent))
    assert A.find() == fake_imagenet_a.resolve()
    xb, yb = next(iter(A.loader(batch_size=8, num_workers=0)))
    assert xb.shape == (8, 3, 224, 224) and yb.tolist() == [0, 0, 1, 2, 3, 4, 5, 6]


def test_wrong_layouts_are_named(tmp_path, fake_imagenet_a):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        A.check_layout(tmp_path / "nowhere")
    partial = tmp_path / "partial"
    for w in A.wnids()[:150]:
        (partial / w).mkdir(parents=True)
        (partial / w / "a.jpg").write_bytes(b"")
    (partial / "n99999999").mkdir()
    with pytest.raises(ValueError, match="50 missing.*1 unexpected"):
        A.check_layout(partial)
    empty = tmp_path / "empty"
    for w in A.wnids():
        (empty / w).mkdir(parents=True)
    with pytest.raises(ValueError, match="hold no images"):
        A.check_layout(empty)
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv(A.ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(data.DataNotFoundError, match="not on disk"):
        A.dataset()
    monkeypatch.undo()


def test_download_offline_says_what_to_do(tmp_path, monkeypatch):
    import torchvision.datasets.utils as tvu

    def offline(*a, **k):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(tvu, "download_and_extract_archive", offline)
    with pytest.raises(data.DataNotFoundError, match="copy its imagenet-a/ folder"):
        A.download(tmp_path)
    assert list(tmp_path.iterdir()) == []


# ---- metrics ------------------------------------------------------------------------------------


def test_calibration_error_counts_the_last_bin():
    conf = np.array([0.9, 0.1, 0.6, 0.8, 0.2])
    correct = np.array([0, 0, 1, 1, 0], dtype=bool)
    # sorted: [.1 .2 | .6 .8 .9], correct [0 0 | 1 1 0]: bins (0, 2), (2, 5) with beta=2
    want = math.sqrt(2 / 5 * 0.15**2 + 3 / 5 * ((0.6 + 0.8 + 0.9) / 3 - 2 / 3) ** 2)
    assert A.calibration_error(conf, correct, beta=2) == pytest.approx(want)
    without_last = math.sqrt(
        2 / 5 * 0.15**2
    )  # what a helper that drops the last bin gives
    assert abs(A.calibration_error(conf, correct, beta=2) - without_last) > 0.02
    assert A.adaptive_bins(5, 2) == [(0, 2), (2, 5)] and A.adaptive_bins(3, 100) == [
        (0, 3)
    ]


def test_calibration_error_of_calibrated_and_overconfident_models():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.2, 1.0, 20_000)
    calibrated = rng.uniform(size=conf.size) < conf
    assert (
        A.calibration_error(conf, calibrated, beta=2000) < 0.03
    )  # bins of 100 carry ±0.045 sampling noise
    assert A.calibration_error(
        np.full(1000, 0.99), np.zeros(1000, bool)
    ) == pytest.approx(0.99)


def test_aurra_by_hand():
    assert A.aurra([0.9, 0.8, 0.7], [1, 0, 1]) == pytest.approx((1 + 1 / 2 + 2 / 3) / 3)
    assert A.aurra([0.7, 0.8, 0.9], [1, 0, 1]) == pytest.approx(
        (1 + 1 / 2 + 2 / 3) / 3
    )  # order-free
    assert A.aurra([0.1, 0.9], [1, 0]) == pytest.approx((0 + 1 / 2) / 2)
    assert A.aurra([0.9, 0.1], [1, 0]) == pytest.approx(
        (1 + 1 / 2) / 2
    )  # confident & right: higher


@pytest.mark.parametrize(
    "conf, correct",
    [
        ([], []),
        ([0.5, 1.2], [1, 0]),
        ([0.5, float("nan")], [1, 0]),
        ([0.5, 0.5], [1]),
        ([0.5, 0.5], [2, 0]),
    ],
)
def test_metrics_reject_bad_arrays(conf, correct):
    with pytest.raises(ValueError):
        A.calibration_error(conf, correct)
    with pytest.raises(ValueError):
        A.aurra(conf, correct)


def test_reliability_diagram_draws_bins():
    import matplotlib.pyplot as plt

    ax = A.reliability_diagram(
        np.linspace(0.1, 1, 300), np.arange(300) % 2 == 0, title="t"
    )
    assert len(ax.patches) == 3 and "RMS" in ax.get_title()
    plt.close("all")


# ---- the filter and evaluate on tensors -----------------------------------------------------------


class Fixed(torch.nn.Module):
    """Predicts the class stored in the first pixel, with confidence set by the second."""

    def forward(self, x):
        flat = x.flatten(1)
        cls = (flat[:, 0] * 10).round().long().clamp(0, 9)
        logits = torch.zeros(x.shape[0], 10)
        logits[torch.arange(x.shape[0]), cls] = flat[:, 1] * 10
        return logits


def _coded(pred, strength):
    x = torch.zeros(len(pred), 1, 4, 4)
    x[:, 0, 0, 0] = torch.tensor(pred, dtype=torch.float32) / 10
    x[:, 0, 0, 1] = torch.tensor(strength, dtype=torch.float32)
    return x


def test_filter_keeps_exactly_the_misclassified_items():
    y = torch.tensor([0, 1, 2, 3, 4, 5])
    x = _coded([0, 2, 2, 9, 4, 1], [1.0, 1.0, 1.0, 0.1, 1.0, 1.0])
    xa, ya, kept = A.natural_adversarial_filter(Fixed(), (x, y))
    assert (
        kept.tolist() == [1, 3, 5]
        and torch.equal(ya, y[kept])
        and torch.equal(xa, x[kept])
    )
    _, _, confident = A.natural_adversarial_filter(Fixed(), (x, y), min_confidence=0.5)
    assert confident.tolist() == [1, 5]  # item 3 is a low-confidence mistake
    res = A.evaluate(Fixed(), (xa, ya))
    assert res.accuracy == 0.0 and res.n == 3
    sub, k2 = A.natural_adversarial_filter(
        Fixed(), torch.utils.data.TensorDataset(x, y)
    )
    assert k2.tolist() == [1, 3, 5] and len(sub) == 3


def test_ensemble_averages_probabilities():
    x, y = _coded([1, 2], [1.0, 1.0]), torch.tensor([1, 2])
    e = A.Ensemble([Fixed(), Fixed()])
    p_single, _ = A.predict_proba(Fixed(), (x, y))
    p_ens, _ = A.predict_proba(e, (x, y))
    assert torch.allclose(p_single, p_ens, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        ({"min_confidence": 1.5}, ValueError, "min_confidence"),
        ({"min_confidence": "high"}, TypeError, "min_confidence"),
        ({"batch_size": 0}, ValueError, "batch_size"),
    ],
)
def test_filter_rejects_bad_arguments(kwargs, err, match):
    x, y = _coded([1], [1.0]), torch.tensor([1])
    with pytest.raises(err, match=match):
        A.natural_adversarial_filter(Fixed(), (x, y), **kwargs)


def test_evaluate_rejects_bad_sources():
    with pytest.raises(TypeError, match="model"):
        A.evaluate("resnet", (torch.zeros(1, 1, 4, 4), torch.tensor([0])))
    with pytest.raises(TypeError, match="data must be"):
        A.evaluate(Fixed(), 42)
    with pytest.raises(ValueError, match="differ in length"):
        A.evaluate(Fixed(), (torch.zeros(2, 1, 4, 4), torch.tensor([0])))
    with pytest.raises(ValueError, match="empty"):
        A.evaluate(Fixed(), [])
    with pytest.raises(ValueError, match="only 10 class scores"):
        A.evaluate(Fixed(), (torch.zeros(1, 1, 4, 4), torch.tensor([12])))


# ---- misuse: bad arguments are refused, wrong folder layouts are named, and nothing
# is written

CONF = torch.tensor([0.9, 0.6, 0.3, 0.8])
CORRECT = torch.tensor([True, False, True, True])
PAIR = (X, Y)
SOURCE = {  # f(model, source)
    "imagenet_a.predict_proba": A.predict_proba,
    "imagenet_a.evaluate": A.evaluate,
    "imagenet_a.natural_adversarial_filter": A.natural_adversarial_filter,
}
MISUSE = cases(
    "imagenet_a",
    {
        "mask_logits:list": (
            lambda: A.mask_logits([[0.0] * 1000]),
            TypeError,
            "logits must be",
        ),
        "mask_logits:int": (
            lambda: A.mask_logits(torch.zeros(2, 1000, dtype=torch.long)),
            TypeError,
            "logits must be a floating",
        ),
        "mask_logits:200": (
            lambda: A.mask_logits(torch.zeros(2, 200)),
            ValueError,
            r"logits must have shape",
        ),
        "mask_logits:1d": (
            lambda: A.mask_logits(torch.zeros(1000)),
            ValueError,
            r"logits must have shape",
        ),
        "transform:normalize-str": (
            lambda: A.transform("no"),
            TypeError,
            "normalize must be True or False",
        ),
        "find:root-int": (lambda: A.find(3), TypeError, "root must be"),
        "find:root-empty": (lambda: A.find(""), TypeError, "root must be"),
        "check_layout:root-none": (
            lambda: A.check_layout(None),
            TypeError,
            "root must be",
        ),
        "check_layout:missing": (
            lambda: A.check_layout("nowhere"),
            FileNotFoundError,
            "root .* not a folder",
        ),
        "dataset:missing": (
            lambda: A.dataset("nowhere"),
            data.DataNotFoundError,
            "not on disk",
        ),
        "dataset:root-int": (lambda: A.dataset(7), TypeError, "root must be"),
        "dataset:normalize-str": (
            lambda: A.dataset("nowhere", normalize="yes"),
            TypeError,
            "normalize must be",
        ),
        "loader:batch_size-zero": (
            lambda: A.loader("nowhere", batch_size=0),
            ValueError,
            "batch_size must be >= 1",
        ),
        "loader:batch_size-float": (
            lambda: A.loader("nowhere", batch_size=8.0),
            TypeError,
            "batch_size must be an int",
        ),
        "loader:num_workers-negative": (
            lambda: A.loader("nowhere", num_workers=-1),
            ValueError,
            "num_workers must be >= 0",
        ),
        "loader:missing": (
            lambda: A.loader("nowhere", num_workers=0),
            data.DataNotFoundError,
            "not on disk",
        ),
        "download:root-int": (lambda: A.download(5), TypeError, "root must be"),
        "download:offline": (
            lambda: A.download("ia-root/sub"),
            data.DataNotFoundError,
            "could not download ImageNet-A",
        ),
        "download:offline-default-root": (
            lambda: A.download(),
            data.DataNotFoundError,
            "could not download ImageNet-A",
        ),
        "adaptive_bins:n-zero": (
            lambda: A.adaptive_bins(0),
            ValueError,
            "n must be >= 1",
        ),
        "adaptive_bins:n-float": (
            lambda: A.adaptive_bins(10.0),
            TypeError,
            "n must be an int",
        ),
        "adaptive_bins:beta-zero": (
            lambda: A.adaptive_bins(10, 0),
            ValueError,
            "beta must be >= 1",
        ),
        "adaptive_bins:beta-negative": (
            lambda: A.adaptive_bins(10, -5),
            ValueError,
            "beta must be >= 1",
        ),
        "calibration_error:nan": (
            lambda: A.calibration_error(torch.tensor([NAN, 0.5]), [1, 0]),
            ValueError,
            "confidence must hold finite",
        ),
        "calibration_error:above-one": (
            lambda: A.calibration_error([1.5, 0.5], [1, 0]),
            ValueError,
            r"confidence must hold finite probabilities in \[0, 1\]",
        ),
        "calibration_error:negative": (
            lambda: A.calibration_error([-0.1, 0.5], [1, 0]),
            ValueError,
            "confidence must hold",
        ),
        "calibration_error:empty": (
            lambda: A.calibration_error([], []),
            ValueError,
            "confidence is empty",
        ),
        "calibration_error:str": (
            lambda: A.calibration_error("high", [1]),
            TypeError,
            "confidence",
        ),
        "calibration_error:objects": (
            lambda: A.calibration_error([{"p": 0.5}], [1]),
            TypeError,
            "confidence must be",
        ),
        "calibration_error:length": (
            lambda: A.calibration_error(CONF, CORRECT[:2]),
            ValueError,
            "confidence and correct must be 1-D and of equal length",
        ),
        "calibration_error:correct-2": (
            lambda: A.calibration_error(CONF, [0, 1, 2, 1]),
            ValueError,
            "correct must hold booleans",
        ),
        "calibration_error:correct-nan": (
            lambda: A.calibration_error(CONF, [0, 1, NAN, 1]),
            ValueError,
            "correct must hold booleans",
        ),
        "calibration_error:beta-zero": (
            lambda: A.calibration_error(CONF, CORRECT, 0),
            ValueError,
            "beta must be >= 1",
        ),
        "calibration_error:beta-float": (
            lambda: A.calibration_error(CONF, CORRECT, 2.5),
            TypeError,
            "beta must be an int",
        ),
        "rra_curve:2d": (
            lambda: A.rra_curve(PROBS, CORRECT),
            ValueError,
            "confidence and correct must be 1-D",
        ),
        "rra_curve:empty": (
            lambda: A.rra_curve(CONF[:0], CORRECT[:0]),
            ValueError,
            "confidence is empty",
        ),
        "aurra:correct-2": (
            lambda: A.aurra(CONF, torch.tensor([2, 0, 1, 1])),
            ValueError,
            "correct must hold",
        ),
        "aurra:inf": (
            lambda: A.aurra([math.inf, 0.2], [1, 0]),
            ValueError,
            "confidence must hold finite",
        ),
        "reliability_diagram:beta-zero": (
            lambda: A.reliability_diagram(CONF, CORRECT, beta=0),
            ValueError,
            "beta must be >= 1",
        ),
        "reliability_diagram:range": (
            lambda: A.reliability_diagram(CONF * 3, CORRECT),
            ValueError,
            "confidence must hold",
        ),
        "reliability_diagram:ax-str": (
            lambda: A.reliability_diagram(CONF, CORRECT, ax="left"),
            TypeError,
            "ax must be a matplotlib Axes",
        ),
        "reliability_diagram:title-int": (
            lambda: A.reliability_diagram(CONF, CORRECT, title=3),
            TypeError,
            "title must be a str",
        ),
        "predict_proba:batch_size-zero": (
            lambda: A.predict_proba(M, PAIR, batch_size=0),
            ValueError,
            "batch_size must be >= 1",
        ),
        "predict_proba:classes-negative": (
            lambda: A.predict_proba(M, PAIR, classes=[-1, 2]),
            ValueError,
            "classes must be >= 0",
        ),
        "predict_proba:classes-float": (
            lambda: A.predict_proba(M, PAIR, classes=[0.5, 2.5]),
            TypeError,
            "classes must hold int",
        ),
        "predict_proba:classes-str": (
            lambda: A.predict_proba(M, PAIR, classes="0123"),
            TypeError,
            "classes must be a sequence",
        ),
        "predict_proba:classes-int": (
            lambda: A.predict_proba(M, PAIR, classes=5),
            TypeError,
            "classes must be a sequence",
        ),
        "predict_proba:classes-empty": (
            lambda: A.predict_proba(M, PAIR, classes=[]),
            ValueError,
            "classes must be a non-empty",
        ),
        "predict_proba:classes-repeat": (
            lambda: A.predict_proba(M, PAIR, classes=[1, 1]),
            ValueError,
            "distinct",
        ),
        "predict_proba:classes-beyond": (
            lambda: A.predict_proba(M, PAIR, classes=A.indices()),
            ValueError,
            "classes holds index .* 10 logits",
        ),
        "predict_proba:source-str": (
            lambda: A.predict_proba(M, "imagenet-a"),
            TypeError,
            "data must be",
        ),
        "predict_proba:source-int": (
            lambda: A.predict_proba(M, 42),
            TypeError,
            "data must be",
        ),
        "predict_proba:source-dict": (
            lambda: A.predict_proba(M, {"x": X, "y": Y}),
            TypeError,
            "data must be",
        ),
        "predict_proba:length": (
            lambda: A.predict_proba(M, (X, Y[:2])),
            ValueError,
            "differ in length",
        ),
        "predict_proba:empty": (
            lambda: A.predict_proba(M, (X[:0], Y[:0])),
            ValueError,
            "empty",
        ),
        "predict_proba:labels-beyond": (
            lambda: A.predict_proba(M, (X, Y + 8)),
            ValueError,
            "only 10 class scores",
        ),
        "result:list": (
            lambda: A.result([[0.5, 0.5]], torch.tensor([0])),
            ValueError,
            r"probabilities must be a tensor of shape \(N, classes\)",
        ),
        "result:1d": (
            lambda: A.result(CONF, Y),
            ValueError,
            "probabilities must be a tensor of shape",
        ),
        "result:int": (
            lambda: A.result(PROBS.long(), Y),
            TypeError,
            "probabilities must be a floating",
        ),
        "result:nan": (
            lambda: A.result(torch.full((4, 10), NAN), Y),
            ValueError,
            r"probabilities must hold finite values in \[0, 1\]",
        ),
        "result:range": (
            lambda: A.result(PROBS * 20, Y),
            ValueError,
            "probabilities must hold finite",
        ),
        "result:empty": (
            lambda: A.result(PROBS[:0], Y[:0]),
            ValueError,
            "probabilities is empty",
        ),
        "result:labels-length": (
            lambda: A.result(PROBS, Y[:3]),
            ValueError,
            r"labels must have shape \(4,\)",
        ),
        "result:labels-beyond": (
            lambda: A.result(PROBS, Y + 7),
            ValueError,
            r"labels must hold class indices in \[0, 9\]",
        ),
        "result:labels-float": (
            lambda: A.result(PROBS, Y.float()),
            TypeError,
            "labels must be an integer",
        ),
        "result:beta-zero": (
            lambda: A.result(PROBS, Y, beta=0),
            ValueError,
            "beta must be >= 1",
        ),
        "evaluate:beta-zero": (
            lambda: A.evaluate(M, PAIR, beta=0),
            ValueError,
            "beta must be >= 1",
        ),
        "evaluate:batch_size-negative": (
            lambda: A.evaluate(M, PAIR, batch_size=-1),
            ValueError,
            "batch_size must be >= 1",
        ),
        "evaluate:source-none": (
            lambda: A.evaluate(M, None),
            TypeError,
            "data must be",
        ),
        "evaluate:classes-float": (
            lambda: A.evaluate(M, PAIR, classes=[1.0, 2.0]),
            TypeError,
            "classes",
        ),
        "natural_adversarial_filter:min_confidence-nan": (
            lambda: A.natural_adversarial_filter(M, PAIR, min_confidence=NAN),
            ValueError,
            "min_confidence must be in",
        ),
        "natural_adversarial_filter:min_confidence-above": (
            lambda: A.natural_adversarial_filter(M, PAIR, min_confidence=1.5),
            ValueError,
            r"min_confidence must be in \[0, 1\]",
        ),
        "natural_adversarial_filter:min_confidence-str": (
            lambda: A.natural_adversarial_filter(M, PAIR, min_confidence="high"),
            TypeError,
            "min_confidence must be a real number",
        ),
        "natural_adversarial_filter:source-triple": (
            lambda: A.natural_adversarial_filter(M, (X, Y, Y)),
            TypeError,
            "source must be",
        ),
        "natural_adversarial_filter:source-loader": (
            lambda: A.natural_adversarial_filter(M, iter([PAIR])),
            TypeError,
            "source must be",
        ),
        "natural_adversarial_filter:model-str": (
            lambda: A.natural_adversarial_filter("resnet50", PAIR),
            TypeError,
            "model must be",
        ),
        "natural_adversarial_filter:batch_size-zero": (
            lambda: A.natural_adversarial_filter(M, PAIR, batch_size=0),
            ValueError,
            "batch_size must be",
        ),
    },
)
MISUSE += bad_images(
    {k: (lambda x, f=f: f(M, (x, Y))) for k, f in SOURCE.items()},
    defects=[("nan", ValueError, "source holds images with NaN")],
)
MISUSE += bad_labels(
    {k: (lambda y, f=f: f(M, (X, y))) for k, f in SOURCE.items()},
    defects=BAD_Y[:3],
    match="labels must|differ in length",
)
MISUSE += not_a_model(
    {k: (lambda m, f=f: f(m, PAIR)) for k, f in SOURCE.items()},
    model="resnet50",
    match="model must be",
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)


def _imagenet_a_tree(root: Path, layout: str) -> Path:
    """A would-be ImageNet-A folder of one image per class, laid out wrongly in one
    way."""
    wnids = A.wnids()
    folders = {
        "wrong-wnids": [f"n{i:08d}" for i in range(200)],
        "missing-classes": wnids[:199],
        "extra-class": [*wnids, "n99999999"],
        "no-images": wnids,
        "nested": wnids,
        "flat": [],
    }[layout]
    base = root / "imagenet-a"
    if layout == "nested":
        base = base / "imagenet-a"
    base.mkdir(parents=True)
    for w in folders:
        (base / w).mkdir()
        if layout != "no-images":
            (base / w / "0.jpg").write_bytes(b"")
    if layout == "flat":
        for i in range(3):
            (base / f"{wnids[i]}_0.jpg").write_bytes(b"")
    return root / "imagenet-a"


@pytest.mark.parametrize(
    "layout, exc, match",
    [
        ("wrong-wnids", ValueError, "200 missing.*200 unexpected"),
        ("missing-classes", ValueError, "1 missing.*0 unexpected"),
        ("extra-class", ValueError, r"0 missing.*1 unexpected .*n99999999"),
        ("no-images", ValueError, "200 class folder.*hold no images"),
        ("nested", ValueError, "not ImageNet-A's layout"),
        ("flat", ValueError, "not ImageNet-A's layout"),
    ],
)
def test_imagenet_a_wrong_folder_layout(layout, exc, match, sandbox):
    folder = _imagenet_a_tree(sandbox / "ia-root", layout)
    before = written(sandbox)
    with pytest.raises(exc, match=match):
        A.check_layout(folder)
    if layout in ("nested", "flat"):  # no wnid folder where it looks: not found at all
        with pytest.raises(data.DataNotFoundError, match="ImageNet-A is not on disk"):
            A.dataset(sandbox / "ia-root")
    else:
        with pytest.raises(exc, match=match):
            A.dataset(sandbox / "ia-root")
        with pytest.raises(exc, match=match):
            A.loader(folder, num_workers=0)
    assert written(sandbox) == before, "a refused layout left files or folders behind"


# ---- the two protocols -----------------------------------------------------------------------


class TableModel(torch.nn.Module):
    """Returns row ``i`` of a fixed logit table for an image whose first pixel is ``i``."""

    def __init__(self, logits):
        super().__init__()
        self.logits = torch.tensor(logits, dtype=torch.float32)

    def forward(self, x):
        return self.logits[x.flatten(1)[:, 0].round().long()]


# 4 logits; the labels name logits 1 and 3 (label 0 ↔ logit 1, label 1 ↔ logit 3).
LOGITS = [[0.0, 2.0, 0.0, 1.0], [3.0, 1.0, 0.0, 2.0], [0.0, 0.0, 5.0, 1.0]]
SUB = [1, 3]
ROWS = (
    torch.arange(3.0).view(3, 1, 1, 1).expand(3, 1, 2, 2).clone(),
    torch.tensor([0, 1, 0]),
)


def test_masked_and_argmax_protocols_by_hand():
    net = TableModel(LOGITS)
    masked = A.evaluate(net, ROWS, classes=SUB, protocol="masked", beta=1)
    own = A.evaluate(net, ROWS, classes=SUB, protocol="argmax", beta=1)
    # masked: softmax over logits 1 and 3 → answers 0, 1, 1 (row 2: logit 3 beats logit 1)
    assert masked.predictions.tolist() == [
        0,
        1,
        1,
    ] and masked.accuracy == pytest.approx(2 / 3)
    assert masked.probabilities.shape == (3, 2)
    assert masked.confidence[0] == pytest.approx(math.e**2 / (math.e**2 + math.e))
    # argmax: the model's own answers are logits 1, 0, 2: only the first is in the subset
    assert own.probabilities.shape == (3, 3)  # the last column: best logit outside
    assert own.predictions.tolist() == [0, 2, 2] and own.accuracy == pytest.approx(
        1 / 3
    )
    z0 = sum(math.exp(v) for v in LOGITS[0])
    z1 = sum(math.exp(v) for v in LOGITS[1])
    assert own.confidence[0] == pytest.approx(math.e**2 / z0)
    assert own.confidence[1] == pytest.approx(math.e**3 / z1)
    assert own.probabilities[1, 2] == pytest.approx(math.e**3 / z1)
    # the default is the paper's masked protocol
    assert torch.equal(
        A.evaluate(net, ROWS, classes=SUB, beta=1).predictions, masked.predictions
    )


def test_argmax_protocol_equals_masked_when_the_answer_is_in_the_subset(
    fake_imagenet_a,
):
    ds = A.dataset(fake_imagenet_a)
    kw = {"classes": A.indices(), "batch_size": 64}
    own = A.evaluate(ColourCodedImageNetModel(), ds, protocol="argmax", **kw)
    masked = A.evaluate(ColourCodedImageNetModel(), ds, **kw)
    assert torch.equal(
        own.predictions, masked.predictions
    )  # logit 0 (outside) never wins
    assert (
        own.probabilities.shape == (201, 201)
        and (own.confidence < masked.confidence).all()
    )


# ---- the cross-filter matrix and the matched control -----------------------------------------


def test_cross_filter_by_hand():
    correct = torch.tensor(
        [
            [True, True, False, False],
            [False, True, True, False],
            [True, False, True, True],
        ]
    )
    m = A.cross_filter(correct)
    assert [[e.value for e in row] for row in m] == [
        [0.0, 0.5, 1.0],
        [0.5, 0.0, 1.0],
        [1.0, 1.0, 0.0],
    ]
    assert [row[0].n for row in m] == [2, 2, 1]
    assert m[0][1].low < 0.5 < m[0][1].high


PROXY = torch.tensor([0.1, 0.9, 0.5, 0.12, 0.85, 0.55, 0.3])
CLASSES = torch.tensor([0, 0, 0, 0, 0, 1, 1])


def test_matched_control_by_hand():
    kept = torch.tensor([0, 1, 5])
    for replace in (False, True):
        c = A.matched_control(PROXY, CLASSES, kept, replace=replace)
        assert c.tolist() == [3, 4, 6]  # nearest unkept of the same class
    # two kept digits want the same partner: without replacement one takes the next best
    kept = torch.tensor([0, 3])  # 0.1 and 0.12; unkept of class 0: 0.9, 0.5, 0.85
    c = A.matched_control(PROXY, CLASSES, kept)
    assert sorted(c.tolist()) == [2, 4] and len(set(c.tolist())) == 2
    assert A.matched_control(PROXY, CLASSES, kept, replace=True).tolist() == [2, 2]
    # same seed, same control; class mix and size as the kept set
    big = torch.rand(200, generator=torch.Generator().manual_seed(0))
    lab = torch.arange(200) % 4
    kept = torch.arange(0, 200, 5)
    a = A.matched_control(big, lab, kept, seed=3)
    assert torch.equal(a, A.matched_control(big, lab, kept, seed=3))
    assert torch.equal(lab[a], lab[kept]) and not set(a.tolist()) & set(kept.tolist())
    assert len(set(a.tolist())) == len(kept)


def test_difficulty_is_the_mean_true_class_loss():
    y = torch.tensor([0, 1])
    r1 = A.result(torch.tensor([[0.5, 0.5], [0.2, 0.8]]), y)
    r2 = A.result(torch.tensor([[0.25, 0.75], [0.6, 0.4]]), y)
    d = A.difficulty([r1, r2])
    want = [(-math.log(0.5) - math.log(0.25)) / 2, (-math.log(0.8) - math.log(0.4)) / 2]
    assert d.tolist() == pytest.approx(want)


R1 = A.result(torch.tensor([[0.5, 0.5], [0.2, 0.8]]), torch.tensor([0, 1]))
K = torch.tensor([0, 1, 2, 3])
TRANSFER_MISUSE = cases(
    "imagenet_a",
    {
        "evaluate:protocol-unknown": (
            lambda: A.evaluate(TableModel(LOGITS), ROWS, classes=SUB, protocol="top1"),
            ValueError,
            "protocol must be one of",
        ),
        "predict_proba:protocol-none": (
            lambda: A.predict_proba(
                TableModel(LOGITS), ROWS, classes=SUB, protocol=None
            ),
            ValueError,
            "protocol must be one of",
        ),
        "evaluate:argmax-without-classes": (
            lambda: A.evaluate(TableModel(LOGITS), ROWS, protocol="argmax"),
            ValueError,
            "protocol='argmax' needs classes=",
        ),
        "cross_filter:no-mistake": (
            lambda: A.cross_filter(torch.tensor([[True, False], [True, True]])),
            ValueError,
            r"correct\[1\] has no mistake",
        ),
        "cross_filter:int": (
            lambda: A.cross_filter(torch.tensor([[1, 0], [0, 1]])),
            TypeError,
            "correct must be a bool tensor",
        ),
        "cross_filter:one-model": (
            lambda: A.cross_filter(torch.tensor([[True, False]])),
            ValueError,
            "models ≥ 2",
        ),
        "cross_filter:list": (
            lambda: A.cross_filter([[True, False], [False, True]]),
            TypeError,
            "correct must be a bool tensor",
        ),
        "matched_control:pool-short": (
            lambda: A.matched_control(PROXY, CLASSES, K),
            ValueError,
            "pass replace=True",
        ),
        "matched_control:pool-empty": (
            lambda: A.matched_control(
                PROXY, CLASSES, torch.tensor([5, 6]), replace=True
            ),
            ValueError,
            "only 0 unkept",
        ),
        "matched_control:kept-repeated": (
            lambda: A.matched_control(PROXY, CLASSES, torch.tensor([0, 0])),
            ValueError,
            "distinct indices",
        ),
        "matched_control:kept-range": (
            lambda: A.matched_control(PROXY, CLASSES, torch.tensor([0, 7])),
            ValueError,
            r"in \[0, 7\)",
        ),
        "matched_control:kept-float": (
            lambda: A.matched_control(PROXY, CLASSES, torch.tensor([0.0])),
            TypeError,
            "kept must be an int64",
        ),
        "matched_control:kept-empty": (
            lambda: A.matched_control(
                PROXY, CLASSES, torch.tensor([], dtype=torch.long)
            ),
            ValueError,
            "K ≥ 1",
        ),
        "matched_control:proxy-nan": (
            lambda: A.matched_control(PROXY * NAN, CLASSES, K),
            ValueError,
            "proxy holds NaN",
        ),
        "matched_control:proxy-int": (
            lambda: A.matched_control(CLASSES, CLASSES, K),
            TypeError,
            "proxy must be a floating",
        ),
        "matched_control:labels-short": (
            lambda: A.matched_control(PROXY, CLASSES[:3], K),
            ValueError,
            "labels must have shape",
        ),
        "matched_control:replace-int": (
            lambda: A.matched_control(PROXY, CLASSES, K, replace=1),
            TypeError,
            "replace must be",
        ),
        "matched_control:seed-negative": (
            lambda: A.matched_control(PROXY, CLASSES, K, seed=-1),
            ValueError,
            "seed must be",
        ),
        "difficulty:empty": (
            lambda: A.difficulty([]),
            TypeError,
            "non-empty sequence of EvalResult",
        ),
        "difficulty:one-result": (
            lambda: A.difficulty(R1),
            TypeError,
            "non-empty sequence of EvalResult",
        ),
        "difficulty:other-labels": (
            lambda: A.difficulty(
                [R1, A.result(R1.probabilities, torch.tensor([1, 1]))]
            ),
            ValueError,
            "same candidates",
        ),
    },
)
MISUSE += TRANSFER_MISUSE
test_protocol_and_transfer_misuse = misuse_test(TRANSFER_MISUSE)
