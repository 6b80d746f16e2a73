"""eccv16 / surveillance (Zhang-style VGG): layout of the official release, bins, loading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tinct.models.eccv16_official import load_eccv16_official
from tinct.models.registry import ModelSpec
from tinct.models.zhang_vgg import (
    AB_NORM,
    SPECS,
    SURVEILLANCE_WIDTHS,
    ZhangVGG,
    ZhangVGGConfig,
    build_eccv16,
    build_surveillance,
)
from tinct.quantize import decode_annealed_mean, gamut_ab_bins
from tinct.quantize.eccv16_bins import ECCV16_EXTRA_BINS, eccv16_bins
from tinct.weights import WeightsError

from .conftest import SHARED_REFERENCE, require_shared

# Key names and shapes of ECCVGenerator (richzhang/colorization, colorizers/eccv16.py), written
# down by hand from reading that code: model1..model8 are nn.Sequential of conv/ReLU pairs with
# the BatchNorm last (blocks 1-7), model8.0 is ConvTranspose2d(512, 256, 4) (weight stored as
# (in, out, kH, kW)), model8.6 the 1x1 conv to 313, model_out Conv2d(313, 2, 1, bias=False).
_BN = ("weight", "bias", "running_mean", "running_var")
OFFICIAL_ECCV16_LAYOUT: list[tuple[str, tuple[int, ...]]] = [
    ("model1.0.weight", (64, 1, 3, 3)),
    ("model1.0.bias", (64,)),
    ("model1.2.weight", (64, 64, 3, 3)),
    ("model1.2.bias", (64,)),
    *((f"model1.4.{s}", (64,)) for s in _BN),
    ("model1.4.num_batches_tracked", ()),
    ("model2.0.weight", (128, 64, 3, 3)),
    ("model2.0.bias", (128,)),
    ("model2.2.weight", (128, 128, 3, 3)),
    ("model2.2.bias", (128,)),
    *((f"model2.4.{s}", (128,)) for s in _BN),
    ("model2.4.num_batches_tracked", ()),
    ("model3.0.weight", (256, 128, 3, 3)),
    ("model3.0.bias", (256,)),
    ("model3.2.weight", (256, 256, 3, 3)),
    ("model3.2.bias", (256,)),
    ("model3.4.weight", (256, 256, 3, 3)),
    ("model3.4.bias", (256,)),
    *((f"model3.6.{s}", (256,)) for s in _BN),
    ("model3.6.num_batches_tracked", ()),
    ("model4.0.weight", (512, 256, 3, 3)),
    ("model4.0.bias", (512,)),
    ("model4.2.weight", (512, 512, 3, 3)),
    ("model4.2.bias", (512,)),
    ("model4.4.weight", (512, 512, 3, 3)),
    ("model4.4.bias", (512,)),
    *((f"model4.6.{s}", (512,)) for s in _BN),
    ("model4.6.num_batches_tracked", ()),
    ("model5.0.weight", (512, 512, 3, 3)),
    ("model5.0.bias", (512,)),
    ("model5.2.weight", (512, 512, 3, 3)),
    ("model5.2.bias", (512,)),
    ("model5.4.weight", (512, 512, 3, 3)),
    ("model5.4.bias", (512,)),
    *((f"model5.6.{s}", (512,)) for s in _BN),
    ("model5.6.num_batches_tracked", ()),
    ("model6.0.weight", (512, 512, 3, 3)),
    ("model6.0.bias", (512,)),
    ("model6.2.weight", (512, 512, 3, 3)),
    ("model6.2.bias", (512,)),
    ("model6.4.weight", (512, 512, 3, 3)),
    ("model6.4.bias", (512,)),
    *((f"model6.6.{s}", (512,)) for s in _BN),
    ("model6.6.num_batches_tracked", ()),
    ("model7.0.weight", (512, 512, 3, 3)),
    ("model7.0.bias", (512,)),
    ("model7.2.weight", (512, 512, 3, 3)),
    ("model7.2.bias", (512,)),
    ("model7.4.weight", (512, 512, 3, 3)),
    ("model7.4.bias", (512,)),
    *((f"model7.6.{s}", (512,)) for s in _BN),
    ("model7.6.num_batches_tracked", ()),
    ("model8.0.weight", (512, 256, 4, 4)),
    ("model8.0.bias", (256,)),
    ("model8.2.weight", (256, 256, 3, 3)),
    ("model8.2.bias", (256,)),
    ("model8.4.weight", (256, 256, 3, 3)),
    ("model8.4.bias", (256,)),
    ("model8.6.weight", (313, 256, 1, 1)),
    ("model8.6.bias", (313,)),
    ("model_out.weight", (2, 313, 1, 1)),
]
OFFICIAL_ECCV16_PARAMETERS = 32_236_011  # learned ones + model_out's 626 fixed bin values


def _spec(name: str) -> ModelSpec:
    return next(s for s in SPECS if s.name == name)


def _build(name: str) -> ZhangVGG:
    spec = _spec(name)
    return spec.builder(**spec.defaults)  # type: ignore[return-value]


@pytest.fixture(scope="module")
def eccv16() -> ZhangVGG:
    torch.manual_seed(0)
    model = build_eccv16()
    with torch.no_grad():  # non-trivial BatchNorm statistics, so a round trip proves they load
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
    return model.eval()


@pytest.fixture(scope="module")
def official_file(eccv16: ZhangVGG, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("eccv16") / "colorization_release_v2-9b330a0b.pth"
    torch.save(eccv16.state_dict(), path)
    return path


def _save_variant(path: Path, state_dict: dict[str, torch.Tensor]) -> Path:
    torch.save(state_dict, path)
    return path


# --- specs and architecture ---------------------------------------------------------------


def test_specs_name_the_four_variants_with_their_bins() -> None:
    assert [s.name for s in SPECS] == ["eccv16", "eccv16_tiny", "surveillance", "surveillance_tiny"]
    for spec in SPECS:
        assert spec.output == "ab_bins" and not spec.takes_hints and spec.input_multiple == 8
        model = _build(spec.name)
        assert torch.equal(model.bin_centres.round(), spec.bins())
    assert _spec("eccv16").bins().shape == (313, 2)
    assert _spec("surveillance").bins().shape == (309, 2)
    assert "gradient prior" in _spec("surveillance").description


@pytest.mark.parametrize(("name", "num_bins"), [("eccv16_tiny", 313), ("surveillance_tiny", 309)])
def test_tiny_variants_run_forward_and_backward(name: str, num_bins: int) -> None:
    model = _build(name).train()
    logits = model(torch.rand(2, 1, 40, 56) * 100)
    assert logits.shape == (2, num_bins, 10, 14)
    logits.logsumexp(1).mean().backward()
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in trainable)
    assert model.model_out.weight.grad is None  # kept for the layout, never used in forward
    assert sum(p.numel() for p in model.parameters()) < 100_000


def test_eccv16_state_dict_has_the_official_keys_and_shapes(eccv16: ZhangVGG) -> None:
    ours = [(key, tuple(value.shape)) for key, value in eccv16.state_dict().items()]
    assert ours == OFFICIAL_ECCV16_LAYOUT


def test_eccv16_parameter_count_and_output_shape(eccv16: ZhangVGG) -> None:
    layout_count = sum(
        int(np.prod(shape))
        for key, shape in OFFICIAL_ECCV16_LAYOUT
        if key.endswith(("weight", "bias"))
    )
    assert sum(p.numel() for p in eccv16.parameters()) == layout_count == OFFICIAL_ECCV16_PARAMETERS
    with torch.no_grad():
        assert eccv16(torch.rand(1, 1, 64, 64) * 100).shape == (1, 313, 16, 16)


def test_surveillance_is_eccv16_at_half_width() -> None:
    assert SURVEILLANCE_WIDTHS == (32, 64, 128, 256, 256, 256, 256, 128)
    model = build_surveillance()
    assert model.config.widths == SURVEILLANCE_WIDTHS
    assert model.model8[-1].out_channels == 309
    assert sum(p.numel() for p in model.parameters()) < OFFICIAL_ECCV16_PARAMETERS / 3


def test_model_out_decodes_the_plain_mean_over_the_spec_bins() -> None:
    for name in ("eccv16_tiny", "surveillance_tiny"):
        model = _build(name).eval()
        with torch.no_grad():
            logits = model(torch.rand(1, 1, 16, 16) * 100)
            official = model.model_out(torch.softmax(logits, dim=1)) * AB_NORM
        mean = decode_annealed_mean(logits, _spec(name).bins(), temperature=1.0)
        assert torch.allclose(official, mean, atol=1e-3)
        assert not model.model_out.weight.requires_grad


def test_bad_inputs_and_config_are_refused() -> None:
    model = _build("eccv16_tiny")
    with pytest.raises(ValueError, match="takes no hints"):
        model(torch.rand(1, 1, 32, 32) * 100, torch.zeros(1, 4, 32, 32))
    with pytest.raises(ValueError, match="multiples of 8"):
        model(torch.rand(1, 1, 36, 32) * 100)
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        model(torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError, match="widths must be 8 positive ints"):
        ZhangVGGConfig(widths=(8, 8, 8))
    with pytest.raises(ValueError, match="bins must have shape"):
        ZhangVGG(ZhangVGGConfig(), torch.zeros(313))


def test_config_accepts_lists_from_recipes() -> None:
    assert ZhangVGGConfig(widths=[8] * 8).widths == (8,) * 8  # type: ignore[arg-type]


# --- the official release file --------------------------------------------------------------


def test_official_layout_file_round_trips(eccv16: ZhangVGG, official_file: Path) -> None:
    loaded = load_eccv16_official(official_file, sha256_prefix=None)
    assert not loaded.training
    for key, value in eccv16.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    lightness = torch.rand(1, 1, 32, 32) * 100
    with torch.no_grad():
        assert torch.equal(loaded(lightness), eccv16(lightness))


def test_a_file_without_the_release_hash_is_refused(official_file: Path) -> None:
    with pytest.raises(WeightsError, match="sha256 .* does not start with 9b330a0b"):
        load_eccv16_official(official_file)


def test_renamed_and_missing_keys_are_named(eccv16: ZhangVGG, tmp_path: Path) -> None:
    state = dict(eccv16.state_dict())
    state["model3.4.kernel"] = state.pop("model3.4.weight")
    path = _save_variant(tmp_path / "renamed.pth", state)
    with pytest.raises(WeightsError, match="model3.4.weight") as error:
        load_eccv16_official(path, sha256_prefix=None)
    assert str(path) in str(error.value) and "model3.4.kernel" in str(error.value)
    del state["model3.4.kernel"]
    path = _save_variant(tmp_path / "missing.pth", state)
    with pytest.raises(WeightsError, match=r"missing \(1\): model3.4.weight"):
        load_eccv16_official(path, sha256_prefix=None)


def test_wrong_bins_in_model_out_are_refused(eccv16: ZhangVGG, tmp_path: Path) -> None:
    state = dict(eccv16.state_dict())
    state["model_out.weight"] = state["model_out.weight"] * AB_NORM  # centres not divided by 110
    path = _save_variant(tmp_path / "unscaled.pth", state)
    with pytest.raises(WeightsError, match="model_out.weight does not hold the 313 ECCV16 bin"):
        load_eccv16_official(path, sha256_prefix=None)
    state["model_out.weight"] = eccv16.state_dict()["model_out.weight"].flip(1)  # other order
    path = _save_variant(tmp_path / "reordered.pth", state)
    with pytest.raises(WeightsError, match="another order"):
        load_eccv16_official(path, sha256_prefix=None)


def test_a_file_without_batch_counters_loads(eccv16: ZhangVGG, tmp_path: Path) -> None:
    state = {k: v for k, v in eccv16.state_dict().items() if not k.endswith("num_batches_tracked")}
    path = _save_variant(tmp_path / "old_torch.pth", state)
    loaded = load_eccv16_official(path, sha256_prefix=None)
    assert torch.equal(loaded.model5[6].running_var, eccv16.model5[6].running_var)


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="no such file"):
        load_eccv16_official(tmp_path / "absent.pth")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(WeightsError, match=f"{junk.name}: cannot read weights"):
        load_eccv16_official(junk, sha256_prefix=None)
    listed = _save_variant(tmp_path / "list.pth", [torch.zeros(1)])  # type: ignore[arg-type]
    with pytest.raises(WeightsError, match="expected a state dict of tensors"):
        load_eccv16_official(listed, sha256_prefix=None)


# --- the 313 bins -------------------------------------------------------------------------


def test_eccv16_bins_are_the_gamut_bins_plus_four_sorted_by_a_then_b() -> None:
    bins = eccv16_bins()
    assert bins.shape == (313, 2) and bins.dtype == torch.float32
    keys = (bins[:, 0] * 1000 + bins[:, 1]).tolist()
    assert keys == sorted(keys) and len(set(keys)) == 313
    as_set = {tuple(row) for row in bins.tolist()}
    gamut = {tuple(row) for row in gamut_ab_bins().tolist()}
    assert as_set - gamut == set(ECCV16_EXTRA_BINS) and gamut <= as_set


@pytest.mark.shared_data
def test_eccv16_bins_equal_pts_in_hull_including_order() -> None:
    reference = np.load(require_shared(SHARED_REFERENCE / "pts_in_hull.npy"))
    assert np.array_equal(eccv16_bins().numpy(), reference.astype(np.float32))
