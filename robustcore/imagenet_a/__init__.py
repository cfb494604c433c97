"""Natural adversarial examples (Hendrycks et al., ImageNet-A): the evaluator and the
filter.

ImageNet-A holds 7,500 unmodified photos of 200 ImageNet classes, kept because a fixed
ResNet-50 got them wrong. Its official protocol has two traps this package closes:

* **The 200-class mask.** An ImageNet model has 1000 logits; ImageNet-A's labels are
  0..199, assigned by :class:`torchvision.datasets.ImageFolder` in sorted-wnid order.
  Scoring the 1000-way argmax against those labels gives about 0.1% for any model.
  :func:`mask_logits` keeps the 200 logits of ImageNet-A's classes, in ImageFolder's
  order, so that label ``i`` and masked logit ``i`` are the same class. The list comes
  from timm's shipped ``imagenet_a_indices.txt`` / ``imagenet_a_synsets.txt`` and is
  checked against timm's 1000 sorted ImageNet wnids, not typed here.
* **Calibration error.** :func:`calibration_error` is the RMS calibration error over
  adaptive bins of ``beta`` examples, counting *every* bin; ``legacy=True`` leaves out
  the top bin, as the authors' reference ``calib_err`` does.

``evaluate(..., protocol="argmax")`` scores the model's own answer over all its logits
instead (an answer outside the subset is wrong), beside the paper's ``"masked"``.

``evaluate(model, loader)`` returns an :class:`EvalResult` (accuracy, RMS calibration
error, AURRA); :func:`natural_adversarial_filter` keeps what a fixed model gets
wrong — the method that built ImageNet-A, which Chapter 4 reproduces on real
handwritten digits.

The modules: :mod:`.subset` (the 200 classes, the mask), :mod:`.data` (the dataset on
disk), :mod:`.evaluation` (probabilities, metrics, the reliability diagram),
:mod:`.filtering` (the filter, the ensemble) and :mod:`.transfer` (the cross-filter
matrix, the difficulty-matched control). Every name is used as
``imagenet_a.NAME``.
"""

from ..metrics import (
    adaptive_bins,
    aurra,
    calibration_error,
    check_confidence,
    rra_curve,
)
from .data import (
    ENV_VAR,
    FOLDER,
    IMAGE_EXTENSIONS,
    MEAN,
    STD,
    TAR_MD5,
    URL,
    check_layout,
    dataset,
    download,
    find,
    loader,
    transform,
)
from .evaluation import (
    PROTOCOLS,
    EvalResult,
    evaluate,
    predict_proba,
    reliability_diagram,
    result,
)
from .filtering import Ensemble, natural_adversarial_filter
from .subset import (
    IMAGENET_CLASSES,
    NUM_CLASSES,
    class_names,
    indices,
    mask_logits,
    subset_from_timm,
    wnids,
)
from .transfer import cross_filter, difficulty, matched_control

__all__ = [
    "ENV_VAR",
    "FOLDER",
    "IMAGENET_CLASSES",
    "IMAGE_EXTENSIONS",
    "MEAN",
    "NUM_CLASSES",
    "PROTOCOLS",
    "STD",
    "TAR_MD5",
    "URL",
    "Ensemble",
    "EvalResult",
    "adaptive_bins",
    "aurra",
    "calibration_error",
    "check_confidence",
    "check_layout",
    "class_names",
    "cross_filter",
    "dataset",
    "difficulty",
    "download",
    "evaluate",
    "find",
    "indices",
    "loader",
    "mask_logits",
    "matched_control",
    "natural_adversarial_filter",
    "predict_proba",
    "reliability_diagram",
    "result",
    "rra_curve",
    "subset_from_timm",
    "transform",
    "wnids",
]
