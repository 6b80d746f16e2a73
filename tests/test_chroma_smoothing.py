"""The chroma-smoothing post-step: blotches in flat lightness go, colour steps on edges stay,
lightness and hints are kept, both backends apply it."""

from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path

import pytest
import torch

import tinct
from tinct.api import UntrainedModelWarning, recommended_chroma_smoothing
from tinct.cli.main import main
from tinct.color.lab import rgb_to_lab
from tinct.guidance.hint_maps import empty_hint_map
from tinct.models import create_model
from tinct.pipeline.chroma_smoothing import smooth_chroma
from tinct.pipeline.colorizer import Colorizer
from tinct.quantize import gamut_ab_bins
from tinct.weights.table import default_weights_for

TINY = "tinct-lite_tiny"
HAVE_ONNX = all(importlib.util.find_spec(p) is not None for p in ("onnx", "onnxruntime"))


def flat_with_blotch(size: int = 128, grid: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """Working lightness (1, 1, size, size), flat L 60; chroma (1, 2, grid, grid), beige with a
    green 4 x 4 blotch in the middle (no lightness change under it)."""
    lightness = torch.full((1, 1, size, size), 60.0)
    ab = torch.tensor([5.0, 15.0]).view(1, 2, 1, 1).repeat(1, 1, grid, grid)
    middle = slice(grid // 2 - 2, grid // 2 + 2)
    ab[:, 0, middle, middle] = -25.0
    return lightness, ab


def two_regions(size: int = 128, grid: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """Dark left half, light right half; red chroma left, blue right: the step sits on the
    lightness edge."""
    lightness = torch.full((1, 1, size, size), 30.0)
    lightness[..., size // 2 :] = 70.0
    ab = torch.zeros(1, 2, grid, grid)
    ab[:, :, :, : grid // 2] = torch.tensor([40.0, 25.0]).view(1, 2, 1, 1)
    ab[:, :, :, grid // 2 :] = torch.tensor([-5.0, -35.0]).view(1, 2, 1, 1)
    return lightness, ab


def test_the_blotch_inside_a_flat_region_is_evened_out() -> None:
    lightness, ab = flat_with_blotch()
    smoothed = smooth_chroma(lightness, ab, strength=16.0)
    depth_before = (ab[0, 0].max() - ab[0, 0].min()).item()
    depth_after = (smoothed[0, 0].max() - smoothed[0, 0].min()).item()
    assert depth_after < 0.4 * depth_before
    # the region's mean colour is kept (the filter only moves colour around)
    assert smoothed.mean(dim=(2, 3)) == pytest.approx(ab.mean(dim=(2, 3)), abs=0.5)


def test_a_colour_step_on_a_lightness_edge_stays() -> None:
    lightness, ab = two_regions()
    smoothed = smooth_chroma(lightness, ab, strength=16.0)
    assert torch.allclose(smoothed, ab, atol=0.5)


def test_the_step_stays_while_a_blotch_beside_it_goes() -> None:
    lightness, ab = two_regions()
    ab[:, 1, 4:8, 4:8] += 30.0  # a blotch in the dark half, far from the edge
    smoothed = smooth_chroma(lightness, ab, strength=16.0)
    assert (smoothed[0, 1, 4:8, 4:8] - 25.0).abs().max() < 0.4 * 30.0
    step = smoothed[0, :, :, 17] - smoothed[0, :, :, 14]
    assert torch.allclose(step, torch.tensor([-45.0, -60.0]).view(2, 1), atol=1.0)


def test_strength_zero_is_the_identity() -> None:
    lightness, ab = flat_with_blotch()
    assert smooth_chroma(lightness, ab, 0.0) is ab


def test_stronger_smoothing_evens_out_more() -> None:
    lightness, ab = flat_with_blotch()
    depths = [smooth_chroma(lightness, ab, s)[0, 0].std().item() for s in (0.0, 4.0, 16.0, 48.0)]
    assert depths == sorted(depths, reverse=True) and depths[-1] < 0.5 * depths[0]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shape_dtype_and_grid_are_kept(dtype: torch.dtype) -> None:
    lightness, ab = flat_with_blotch()
    batch = (lightness.repeat(2, 1, 1, 1).to(dtype), ab.repeat(2, 1, 1, 1).to(dtype))
    smoothed = smooth_chroma(*batch, 8.0)
    assert smoothed.shape == (2, 2, 32, 32) and smoothed.dtype == dtype


def test_hinted_cells_keep_their_colour_and_boundaries_stop_it() -> None:
    lightness, ab = flat_with_blotch()
    hints = empty_hint_map(1, 128, 128, lightness)
    hints[:, 2, 64:68, 64:68] = 1.0  # a hint over chroma cell (16, 16), inside the blotch
    smoothed = smooth_chroma(lightness, ab, 16.0, hints)
    assert smoothed[0, 0, 16, 16].item() == pytest.approx(-25.0, abs=0.5)
    # a drawn boundary around the blotch keeps it apart from the backdrop
    hints = empty_hint_map(1, 128, 128, lightness)
    hints[:, 3, 52:76, 52:56] = hints[:, 3, 52:76, 72:76] = 1.0
    hints[:, 3, 52:56, 52:76] = hints[:, 3, 72:76, 52:76] = 1.0
    fenced = smooth_chroma(lightness, ab, 16.0, hints)
    assert fenced[0, 0, 15:17, 15:17].mean().item() < smoothed[0, 0, 15:17, 15:17].mean() - 5


@pytest.mark.parametrize("strength", [-1.0, math.nan, math.inf, "8"])
def test_a_bad_strength_is_named(strength: object) -> None:
    lightness, ab = flat_with_blotch()
    with pytest.raises(ValueError, match="chroma smoothing strength"):
        smooth_chroma(lightness, ab, strength)  # type: ignore[arg-type]


def test_bad_shapes_are_named() -> None:
    lightness, ab = flat_with_blotch()
    with pytest.raises(ValueError, match=r"ab must have shape"):
        smooth_chroma(lightness, ab[:, :1], 8.0)
    with pytest.raises(ValueError, match="must not be larger"):
        smooth_chroma(lightness[..., :16, :16], ab, 8.0)


@pytest.fixture(scope="module")
def tiny() -> Colorizer:
    return Colorizer(create_model(TINY), gamut_ab_bins(), TINY, trained=False)


def test_the_colorizer_keeps_lightness_exactly_with_smoothing(tiny: Colorizer) -> None:
    tiny.chroma_smoothing = 16.0
    try:
        rgb = torch.rand(1, 3, 70, 90, dtype=torch.float64)
        result = tiny.colorize_rgb(rgb)
    finally:
        tiny.chroma_smoothing = 0.0
    assert result.shape == rgb.shape and result.dtype == torch.float64
    assert torch.allclose(rgb_to_lab(result)[:, 0], rgb_to_lab(rgb)[:, 0], atol=1e-6)


def test_the_colorizer_smooths_the_decoded_chroma(tiny: Colorizer) -> None:
    lightness = torch.rand(1, 1, 64, 64) * 100
    with torch.no_grad():
        small, _ = tiny.working_inputs(lightness, None)
        decoded = tiny.decode_ab(small, None)
    assert torch.equal(tiny.predict_ab(lightness), decoded)  # 0: off
    tiny.chroma_smoothing = 12.0
    try:
        expected = smooth_chroma(small, decoded, 12.0)
        assert torch.allclose(tiny.predict_ab(lightness), expected)
    finally:
        tiny.chroma_smoothing = 0.0


def test_hints_hold_with_smoothing_on(tiny: Colorizer) -> None:
    """Smoothing runs before the hint colours are spread, so a hint's colour still holds."""
    lightness = torch.full((1, 1, 64, 64), 55.0)
    hints = empty_hint_map(1, 64, 64, lightness)
    hints[:, 0, 30:34, 30:34], hints[:, 1, 30:34, 30:34], hints[:, 2, 30:34, 30:34] = 50, -40, 1
    tiny.chroma_smoothing = 24.0
    try:
        ab = tiny.predict_ab(lightness, hints)
    finally:
        tiny.chroma_smoothing = 0.0
    # the hint map is resized to the 256 working side, where the hint covers 128:136
    assert ab[0, :, 128:136, 128:136].mean(dim=(1, 2)) == pytest.approx([50.0, -40.0], abs=2.0)


def test_the_colorizer_refuses_a_bad_strength() -> None:
    with pytest.raises(ValueError, match="chroma smoothing strength"):
        Colorizer(create_model(TINY), gamut_ab_bins(), TINY, trained=False, chroma_smoothing=-2)


def test_load_takes_the_strength_and_defaults_to_the_weight_sets() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        assert tinct.load(TINY).chroma_smoothing == 0.0  # no weight set: not measured, off
        assert tinct.load(TINY, chroma_smoothing=6.0).chroma_smoothing == 6.0
    entry = default_weights_for("tinct-lite")
    assert entry is not None
    expected = entry.config.get("chroma_smoothing", 0.0)  # a set nobody measured gets 0
    assert recommended_chroma_smoothing("tinct-lite", None) == expected
    assert recommended_chroma_smoothing("tinct-lite", "tinct-lite-v1") == 12.0


@pytest.mark.skipif(not HAVE_ONNX, reason="onnx and onnxruntime are not installed")
def test_the_onnx_backend_smooths_like_pytorch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINCT_CACHE_DIR", str(tmp_path))
    lightness = torch.rand(1, 1, 48, 80) * 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        onnx = tinct.load(TINY, backend="onnx", chroma_smoothing=12.0)
        reference = tinct.load(TINY, chroma_smoothing=12.0)
    got = onnx.colorize_lightness(lightness)
    torch.testing.assert_close(got, reference.colorize_lightness(lightness), rtol=0, atol=1e-3)
    with torch.no_grad():
        small, _ = onnx.working_inputs(lightness, None)
        expected = smooth_chroma(small, onnx.decode_ab(small, None), 12.0)  # graph, then smoothing
    torch.testing.assert_close(onnx.predict_ab(lightness), expected)


def test_colorize_command_takes_the_strength(tmp_path: Path, capsys) -> None:
    from PIL import Image

    source = tmp_path / "gray.png"
    Image.new("L", (40, 30), 120).save(source)
    code = main(["colorize", str(source), "-o", str(tmp_path / "out.png"), "--model", TINY,
                 "--backend", "torch", "--chroma-smoothing", "8"])  # fmt: skip
    assert code == 0 and (tmp_path / "out.png").exists()
    with pytest.raises(SystemExit):
        main(["colorize", str(source), "--chroma-smoothing", "-1"])
    assert "chroma smoothing strength" in capsys.readouterr().err
