import pytest
import torch

from misuse import cases, misuse_test, not_a_model
from robustcore import models


@pytest.mark.parametrize("arch", sorted(models.ARCHITECTURES))
def test_shapes_and_features(arch):
    m = models.build(arch).eval()
    x = torch.rand(3, 1, 28, 28)
    assert m(x).shape == (3, 10)
    f = m.features(x)
    assert f.dim() == 2 and f.shape[0] == 3
    assert torch.allclose(m.head(f), m(x), atol=1e-6)
    assert models.num_parameters(m) > 10_000


def test_three_families_differ():
    kinds = {type(models.build(a)).__name__ for a in models.ARCHITECTURES}
    assert kinds == {"MLP", "SmallMLP", "SmallCNN", "SmallResNet"}


def test_other_input_sizes():
    m = models.build("cnn", in_channels=3, num_classes=5, image_size=32)
    assert m(torch.rand(2, 3, 32, 32)).shape == (2, 5)
    assert models.build("resnet", in_channels=3, image_size=32)(
        torch.rand(2, 3, 32, 32)
    ).shape == (2, 10)


def test_bad_names_and_sizes():
    with pytest.raises(ValueError, match="arch must be one of"):
        models.build("vgg")
    with pytest.raises(ValueError, match="num_classes"):
        models.build("mlp", num_classes=1)
    with pytest.raises(TypeError, match="in_channels"):
        models.build("mlp", in_channels="1")


# ---- misuse: bad arguments are refused and nothing is written

MISUSE = cases(
    "models",
    {
        "build:unknown": (
            lambda: models.build("vgg"),
            ValueError,
            "arch must be one of",
        ),
        "build:in_channels-zero": (
            lambda: models.build("mlp", in_channels=0),
            ValueError,
            "in_channels must be >= 1",
        ),
        "build:in_channels-float": (
            lambda: models.build("cnn", in_channels=1.5),
            TypeError,
            "in_channels must be an int",
        ),
        "build:num_classes-one": (
            lambda: models.build("cnn", num_classes=1),
            ValueError,
            "num_classes must be >= 2",
        ),
        "build:image_size-small": (
            lambda: models.build("resnet", image_size=4),
            ValueError,
            "image_size must be >= 8",
        ),
    },
) + not_a_model({"models.num_parameters": lambda m: models.num_parameters(m)})
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)
