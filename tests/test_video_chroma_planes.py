"""The video core's plane conversions: Y -> L on the working grid, (L, ab) -> U, V planes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tinct.color.lab import gray_to_lightness, rgb_to_lab
from tinct.color.recombine import recombine_lightness_ab
from tinct.video.chroma_planes import (
    ab_to_chroma_planes,
    chroma_plane_size,
    luma_code_to_lightness,
    luma_to_lightness,
    planes_to_rgb,
)


def test_lightness_table_matches_gray_conversion_in_both_ranges() -> None:
    tv = luma_code_to_lightness("tv")
    pc = luma_code_to_lightness("pc")
    assert tv[16] == pytest.approx(0.0, abs=1e-4) and tv[235] == pytest.approx(100.0, abs=1e-3)
    assert tv[0] == tv[16] and tv[255] == tv[235]  # out-of-range codes clamp
    assert pc[0] == pytest.approx(0.0, abs=1e-4) and pc[255] == pytest.approx(100.0, abs=1e-3)
    expected = gray_to_lightness(torch.tensor([[[128 / 255]]]))
    assert pc[128] == pytest.approx(float(expected), abs=1e-4)
    assert np.all(np.diff(pc) > 0)


def test_luma_is_shrunk_to_the_grid_before_conversion() -> None:
    luma = np.full((31, 47), 126, np.uint8)
    lightness = luma_to_lightness(luma, (8, 12), "tv")
    assert lightness.shape == (1, 1, 8, 12)
    assert torch.allclose(lightness, torch.tensor(float(luma_code_to_lightness("tv")[126])))
    with pytest.raises(ValueError, match="uint8"):
        luma_to_lightness(luma.astype(np.float32), (8, 12))


@pytest.mark.parametrize("color_range", ["tv", "pc"])
def test_gray_in_gives_gray_out(color_range: str) -> None:
    lightness = torch.linspace(0, 100, 96).view(1, 1, 8, 12)
    u, v = ab_to_chroma_planes(lightness, torch.zeros(1, 2, 8, 12), (15, 23), color_range)
    assert u.shape == v.shape == (15, 23) and u.dtype == np.uint8
    assert np.all(u == 128) and np.all(v == 128)


def test_odd_frame_sizes_get_rounded_up_chroma_planes() -> None:
    assert chroma_plane_size(480, 854) == (240, 427)
    assert chroma_plane_size(7, 5) == (4, 3)


@pytest.mark.parametrize("color_range", ["tv", "pc"])
def test_planes_decode_to_the_colour_of_the_still_pipeline(color_range: str) -> None:
    """A frame coloured through low-res U, V planes and decoded with the original full-res Y
    has the chroma that recombining L and ab at full resolution gives, within a few ab units."""
    generator = torch.Generator().manual_seed(1)
    height, width = 96, 160
    ramp = torch.linspace(40, 200, width).view(1, width).expand(height, width)
    luma = (ramp + 10 * torch.randn(height, width, generator=generator)).clamp(20, 230)
    luma = luma.round().to(torch.uint8).numpy()
    grid = (24, 40)
    small_lightness = luma_to_lightness(luma, grid, color_range)
    smooth = torch.nn.functional.interpolate(torch.randn(1, 2, 3, 5, generator=generator), grid)
    ab = 25 * torch.nn.functional.avg_pool2d(smooth, 5, 1, 2, count_include_pad=False)
    u, v = ab_to_chroma_planes(small_lightness, ab, chroma_plane_size(height, width), color_range)
    decoded = planes_to_rgb(luma, u, v, color_range)
    gray = planes_to_rgb(luma, np.full_like(u, 128), np.full_like(v, 128), color_range)
    full_lightness = rgb_to_lab(gray[None])[:, :1]
    reference = recombine_lightness_ab(full_lightness, ab)
    difference = rgb_to_lab(decoded[None])[:, 1:] - rgb_to_lab(reference)[:, 1:]
    assert float(ab.abs().mean()) > 5  # the check is about real colour, not near-gray
    assert float(difference.abs().mean()) < 3.0
