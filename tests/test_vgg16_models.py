"""VGG16 trunk and the VGG16 colorizers: layout, contract, input conversion, ImageNet weights."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
from PIL import Image

from tinct.color.lab import gray_to_lightness, lab_to_rgb, lightness_to_gray, rgb_to_lightness
from tinct.color.yuv import U_MAX, V_MAX
from tinct.models.backbones.vgg16 import (
    VGG16Config,
    VGG16Features,
    load_vgg16_imagenet_features,
    normalize_rgb_for_imagenet,
)
from tinct.models.vgg16_colorizers import (
    SPECS,
    VGG16Colorizer,
    build_vgg16_bins,
    build_vgg16_regression,
    lightness_to_imagenet_input,
)
from tinct.weights import WeightsError

from .conftest import SHARED, SHARED_DATA, require_shared

VGG16_FP16_FILE = SHARED / "weights" / "vgg16_imagenet_features_fp16.pth"
SPEC = {spec.name: spec for spec in SPECS}

# torchvision vgg16().features: (index, out channels, in channels) of the 13 convs.
TORCHVISION_CONVS = (
    (0, 64, 3), (2, 64, 64), (5, 128, 64), (7, 128, 128), (10, 256, 128), (12, 256, 256),
    (14, 256, 256), (17, 512, 256), (19, 512, 512), (21, 512, 512), (24, 512, 512),
    (26, 512, 512), (28, 512, 512),
)  # fmt: skip


def _tiny(name: str) -> VGG16Colorizer:
    spec = SPEC[name]
    return spec.builder(**spec.defaults)


# --- trunk -----------------------------------------------------------------------------------


def test_trunk_state_dict_is_torchvision_features_layout() -> None:
    expected = {}
    for index, out_channels, in_channels in TORCHVISION_CONVS:
        expected[f"features.{index}.weight"] = (out_channels, in_channels, 3, 3)
        expected[f"features.{index}.bias"] = (out_channels,)
    state = VGG16Features().state_dict()
    assert list(state) == list(expected)  # same keys, same order
    assert {k: tuple(v.shape) for k, v in state.items()} == expected


def test_trunk_modules_sit_at_torchvision_indices() -> None:
    features = VGG16Features(VGG16Config(width_divisor=16)).features
    assert len(features) == 31
    pools = [i for i, m in enumerate(features) if isinstance(m, torch.nn.MaxPool2d)]
    convs = [i for i, m in enumerate(features) if isinstance(m, torch.nn.Conv2d)]
    assert pools == [4, 9, 16, 23, 30]
    assert convs == [index for index, _, _ in TORCHVISION_CONVS]


def test_taps_have_documented_channels_and_strides() -> None:
    trunk = VGG16Features(VGG16Config(width_divisor=8))
    taps = trunk.forward_taps(torch.randn(2, 3, 64, 96))
    assert trunk.tap_channels == (8, 16, 32, 64, 64)
    for tap, channels, stride in zip(taps, trunk.tap_channels, trunk.tap_strides, strict=True):
        assert tap.shape == (2, channels, 64 // stride, 96 // stride)
        assert (tap >= 0).all()  # taken after the ReLU
    assert len(trunk.forward_taps(torch.randn(1, 3, 32, 32), num_taps=2)) == 2
    with pytest.raises(ValueError, match="num_taps"):
        trunk.forward_taps(torch.randn(1, 3, 32, 32), num_taps=6)


def test_bad_width_divisor_is_refused() -> None:
    with pytest.raises(ValueError, match="width_divisor"):
        VGG16Config(width_divisor=3)
    with pytest.raises(ValueError, match="width_divisor=1"):
        build_vgg16_regression(pretrained_encoder=True, width_divisor=16)


def test_imagenet_normalisation_maps_the_mean_to_zero() -> None:
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    assert torch.allclose(normalize_rgb_for_imagenet(mean), torch.zeros(1, 3, 2, 2))
    white = normalize_rgb_for_imagenet(torch.ones(1, 3, 1, 1)).flatten()
    assert torch.allclose(white, torch.tensor([2.2489, 2.4286, 2.6400]), atol=1e-4)


# --- input conversion ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_lightness_to_gray_inverts_gray_to_lightness(dtype: torch.dtype) -> None:
    gray = torch.linspace(0, 1, 2001, dtype=dtype).view(1, 1, 1, -1)
    lightness = gray_to_lightness(gray)
    assert torch.allclose(lightness_to_gray(lightness), gray, atol=1e-5, rtol=0)
    light = torch.linspace(0, 100, 501, dtype=dtype).view(1, 1, 1, -1)
    assert torch.allclose(gray_to_lightness(lightness_to_gray(light)), light, atol=1e-3, rtol=0)


def test_lightness_to_gray_agrees_with_lab_to_rgb_and_reference_values() -> None:
    light = torch.tensor([0.0, 8.0, 50.0, 100.0]).view(1, 1, 1, -1)
    gray = lightness_to_gray(light)
    via_lab = lab_to_rgb(torch.cat((light, torch.zeros_like(light), torch.zeros_like(light)), 1))
    assert torch.allclose(via_lab, gray.expand(-1, 3, -1, -1), atol=1e-4)
    # L = 50 is sRGB 118.9 / 255; L = 8 is 23.5 / 255.
    assert torch.allclose(gray.flatten(), torch.tensor([0.0, 0.092213, 0.466327, 1.0]), atol=1e-5)


# --- colorizers (tiny, random) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "channels"), [("vgg16_regression_tiny", 2), ("vgg16_bins_tiny", 64)]
)
def test_tiny_variants_run_forward_and_backward(name: str, channels: int) -> None:
    model = _tiny(name).train()
    assert sum(p.numel() for p in model.parameters()) < 100_000
    out = model(torch.rand(2, 1, 64, 96) * 100)
    assert out.shape == (2, channels, 32, 48)  # stride 2, as the spec's output says
    assert SPEC[name].output == ("uv" if channels == 2 else "uv_bins")
    (out.square().mean() if channels == 2 else out.logsumexp(1).mean()).backward()
    for name_, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name_


def test_full_resolution_variant_merges_conv1_2() -> None:
    spec = SPEC["vgg16_regression_tiny"]
    model = spec.builder(**{**spec.defaults, "output_stride": 1})
    assert len(model.stages) == 4
    assert model(torch.rand(1, 1, 32, 48) * 100).shape == (1, 2, 32, 48)


def test_uv_regression_stays_within_the_yuv_ranges() -> None:
    model = _tiny("vgg16_regression_tiny").eval()
    with torch.no_grad():
        model.head.weight.mul_(1e4)  # drive tanh into saturation both ways
        uv = model(torch.rand(2, 1, 64, 64) * 100)
    limits = torch.tensor([U_MAX, V_MAX]).view(1, 2, 1, 1)
    assert (uv.abs() <= limits).all()
    reached = uv.abs().amax(dim=(0, 2, 3)) / limits.flatten()
    assert (reached > 0.99).all()  # the bound is per channel: U to U_MAX, V to V_MAX


def test_bins_head_has_two_n_logits() -> None:
    model = build_vgg16_bins(pretrained_encoder=False, width_divisor=16, n_bins=10)
    assert model(torch.rand(1, 1, 32, 32) * 100).shape == (1, 20, 16, 16)
    assert SPEC["vgg16_bins"].bins().shape == (32, 2)  # U and V bin centres


@pytest.mark.parametrize("name", ["vgg16_regression_tiny", "vgg16_bins_tiny"])
def test_hints_and_bad_shapes_are_refused(name: str) -> None:
    model = _tiny(name)
    with pytest.raises(ValueError, match="takes no hints"):
        model(torch.rand(1, 1, 32, 32) * 100, torch.zeros(1, 4, 32, 32))
    with pytest.raises(ValueError, match="multiples of 16"):
        model(torch.rand(1, 1, 40, 32) * 100)
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        model(torch.rand(1, 3, 32, 32))


def test_specs_follow_the_contract() -> None:
    assert set(SPEC) == {
        "vgg16_regression",
        "vgg16_regression_tiny",
        "vgg16_bins",
        "vgg16_bins_tiny",
    }
    for spec in SPECS:
        assert spec.input_multiple == 16 and not spec.takes_hints and not spec.class_head
        assert spec.defaults.get("pretrained_encoder", True) is not spec.name.endswith("_tiny")


def test_full_builders_run_without_weights_when_asked() -> None:
    model = build_vgg16_regression(pretrained_encoder=False).eval()
    assert 14e6 < sum(p.numel() for p in model.parameters()) < 17e6  # VGG16 trunk is 14.7 M
    with torch.no_grad():
        assert model(torch.rand(1, 1, 32, 32) * 100).shape == (1, 2, 16, 16)


def test_missing_weights_give_a_weights_error(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TINCT_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("TINCT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TINCT_OFFLINE", "1")
    with pytest.raises(WeightsError, match="vgg16_imagenet_features_fp16.pth"):
        build_vgg16_bins()


# --- ImageNet weights (shared file) ------------------------------------------------------------


@pytest.fixture(scope="module")
def imagenet_trunk() -> Iterator[VGG16Features]:
    require_shared(VGG16_FP16_FILE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TINCT_WEIGHTS_DIR", str(VGG16_FP16_FILE.parent))
        patch.setenv("TINCT_OFFLINE", "1")
        yield load_vgg16_imagenet_features().eval()


@pytest.mark.shared_data
def test_pretrained_trunk_holds_the_file_values(imagenet_trunk: VGG16Features) -> None:
    stored = torch.load(VGG16_FP16_FILE, map_location="cpu", weights_only=True)
    state = imagenet_trunk.state_dict()
    assert set(state) == set(stored)
    assert all(torch.equal(state[k], v.float()) for k, v in stored.items())


@pytest.mark.shared_data
def test_pretrained_conv1_1_filters_are_edge_detectors(imagenet_trunk: VGG16Features) -> None:
    # On a gray input conv1_1 sees the sum of its colour kernels. ImageNet VGG16's are almost all
    # blind to flat areas (sum near 0: edge and bar detectors); random kernels are not
    # (measured: median ratio 0.013 and 84% below 0.2 pretrained; 0.2-0.3 and ~40% random).
    kernels = imagenet_trunk.features[0].weight.sum(dim=1)  # (64, 3, 3)
    flat_response = kernels.sum(dim=(1, 2)).abs() / (3 * kernels.norm(dim=(1, 2)))
    assert flat_response.median() < 0.05
    assert (flat_response < 0.2).float().mean() > 0.75
    assert imagenet_trunk.features[0].weight.std() > 0.2  # kaiming init gives about 0.11


def _photo_lightness(path, side: int = 128) -> torch.Tensor:
    image = Image.open(path).convert("RGB").resize((side, side), Image.Resampling.BICUBIC)
    rgb = torch.from_numpy(np.array(image)).permute(2, 0, 1).float().div(255)
    return rgb_to_lightness(rgb[None])


@pytest.mark.shared_data
def test_pretrained_features_see_structure_not_pixel_statistics(
    imagenet_trunk: VGG16Features,
) -> None:
    """A photo's conv5_3 code is near its mirror image's and far from its own shuffled pixels.

    Both have the original's exact histogram; only ImageNet features tell them apart (random
    trunks give cosine > 0.999 to both). Measured at 128 px: mirror 0.92-0.98, shuffled 0.09-0.25.
    """
    names = ("baboon.jpg", "lenna.jpg", "monarch.jpg", "zebra.jpg")
    paths = [require_shared(SHARED_DATA / "val" / "cset14" / n) for n in names]
    lightness = torch.cat([_photo_lightness(p) for p in paths])
    shuffle = torch.randperm(lightness[0].numel(), generator=torch.Generator().manual_seed(0))
    shuffled = lightness.flatten(1)[:, shuffle].view_as(lightness)
    batch = torch.cat((lightness, lightness.flip(-1), shuffled))
    with torch.no_grad():
        taps = imagenet_trunk.forward_taps(lightness_to_imagenet_input(batch))
    codes = torch.nn.functional.normalize(taps[4].mean(dim=(2, 3)), dim=1).view(3, len(names), -1)
    mirror_similarity = (codes[0] * codes[1]).sum(1)
    shuffled_similarity = (codes[0] * codes[2]).sum(1)
    assert (mirror_similarity > 0.85).all(), mirror_similarity
    assert (shuffled_similarity < 0.5).all(), shuffled_similarity
    between_photos = codes[0] @ codes[0].T
    assert between_photos[~torch.eye(len(names), dtype=torch.bool)].max() < 0.8
