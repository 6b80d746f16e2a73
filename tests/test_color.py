"""Colour science: frozen reference values, round trips, gamut clipping, recombination."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tinct.color import (
    clip_ab_to_gamut,
    gray_to_lightness,
    lab_to_rgb,
    recombine_lightness_ab,
    rgb_to_lab,
    rgb_to_yuv,
    yuv_to_rgb,
)
from tinct.color.lab import lab_to_linear_rgb

# (sRGB, Lab, YUV) computed once with scikit-image 0.26 (rgb2lab, rgb2yuv) and frozen here.
REFERENCE = [
    ((0.0, 0.0, 0.0), (0.000000, 0.000000, 0.000000), (0.000000, 0.000000, 0.000000)),
    ((1.0, 1.0, 1.0), (100.000000, -0.002455, 0.004653), (1.000000, 0.000000, -0.000000)),
    ((1.0, 0.0, 0.0), (53.240588, 80.092308, 67.202751), (0.299000, -0.147141, 0.614975)),
    ((0.0, 1.0, 0.0), (87.735099, -86.183030, 83.179703), (0.587000, -0.288869, -0.514965)),
    ((0.0, 0.0, 1.0), (32.295673, 79.185591, -107.857300), (0.114000, 0.436010, -0.100010)),
    ((1.0, 1.0, 0.0), (97.139507, -21.554681, 94.478122), (0.886000, -0.436010, 0.100010)),
    ((0.0, 1.0, 1.0), (91.113301, -48.090596, -14.126330), (0.701000, 0.147141, -0.614975)),
    ((1.0, 0.0, 1.0), (60.323507, 98.233054, -60.821015), (0.413000, 0.288869, 0.514965)),
    ((0.5, 0.5, 0.5), (53.388965, -0.001468, 0.002784), (0.500000, 0.000000, -0.000000)),
    ((0.2, 0.4, 0.6), (42.008001, -0.154041, -32.842897), (0.363000, 0.116630, -0.142997)),
    ((0.9, 0.1, 0.3), (49.485586, 73.215612, 27.091189), (0.362000, -0.030511, 0.471978)),
    ((0.01, 0.02, 0.03), (1.300054, -0.312350, -1.199765), (0.018150, 0.005832, -0.007150)),
    ((0.75, 0.6, 0.1), (64.935610, 2.997297, 64.467530), (0.587850, -0.240076, 0.142251)),
]


def _as_image(values: list[tuple[float, float, float]], dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor(values, dtype=dtype).T.reshape(3, 1, -1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_lab_matches_frozen_scikit_image_values(dtype: torch.dtype) -> None:
    rgb = _as_image([row[0] for row in REFERENCE], dtype)
    expected = _as_image([row[1] for row in REFERENCE], torch.float64)
    assert torch.allclose(rgb_to_lab(rgb).double(), expected, atol=1e-4, rtol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_yuv_matches_frozen_scikit_image_values(dtype: torch.dtype) -> None:
    rgb = _as_image([row[0] for row in REFERENCE], dtype)
    expected = _as_image([row[2] for row in REFERENCE], torch.float64)
    assert torch.allclose(rgb_to_yuv(rgb).double(), expected, atol=1e-4, rtol=0)


def test_lab_to_rgb_inverts_the_frozen_values() -> None:
    lab = _as_image([row[1] for row in REFERENCE], torch.float64)
    expected = _as_image([row[0] for row in REFERENCE], torch.float64)
    assert torch.allclose(lab_to_rgb(lab), expected, atol=1e-5)


def test_round_trips_on_random_and_extreme_colours() -> None:
    corners = torch.cartesian_prod(*[torch.tensor([0.0, 1.0])] * 3).T.reshape(3, 1, 8)
    random = torch.rand(2, 3, 40, 40, dtype=torch.float64)
    for rgb in (corners.double(), random):
        assert torch.allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=1e-8)
        assert torch.allclose(yuv_to_rgb(rgb_to_yuv(rgb)), rgb, atol=1e-8)


@settings(max_examples=60, deadline=None)
@given(st.tuples(*[st.floats(0.0, 1.0)] * 3))
def test_lab_round_trip_property(colour: tuple[float, float, float]) -> None:
    rgb = torch.tensor(colour, dtype=torch.float64).view(3, 1, 1)
    assert torch.allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=1e-8)


def test_float32_round_trip_stays_within_1e4() -> None:
    rgb = torch.rand(3, 64, 64)
    assert (lab_to_rgb(rgb_to_lab(rgb)) - rgb).abs().max() < 1e-4


def test_gray_lightness_matches_full_conversion() -> None:
    gray = torch.rand(2, 1, 16, 16, dtype=torch.float64)
    full = rgb_to_lab(gray.expand(-1, 3, -1, -1))
    assert torch.allclose(gray_to_lightness(gray), full[:, :1], atol=1e-10)
    assert full[:, 1:].abs().max() < 0.01  # gray really is (almost exactly) ab = 0


def test_bad_shapes_and_types_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\(\*, 3, H, W\)"):
        rgb_to_lab(torch.rand(4, 8, 8))
    with pytest.raises(TypeError, match="floating-point"):
        rgb_to_lab(torch.zeros(3, 2, 2, dtype=torch.uint8))
    with pytest.raises(TypeError, match="torch.Tensor"):
        rgb_to_lab([[0.0]])  # type: ignore[arg-type]


def test_gamut_clipping_keeps_lightness_and_hue_and_lands_in_gamut() -> None:
    lightness = torch.linspace(1, 99, 50).view(1, 1, 1, 50).expand(1, 1, 4, 50)
    ab = (torch.rand(1, 2, 4, 50) - 0.5) * 260
    clipped = clip_ab_to_gamut(lightness, ab)
    linear = lab_to_linear_rgb(torch.cat((lightness, clipped), 1).double())
    assert linear.min() > -1e-4 and linear.max() < 1 + 1e-4
    scale = clipped.norm(dim=1) / ab.norm(dim=1)
    assert scale.max() <= 1 + 1e-6
    # Same hue: clipped is ab scaled by a non-negative factor.
    assert torch.allclose(clipped, ab * scale.unsqueeze(1), atol=1e-3)
    # Out-of-gamut colours are brought to the gamut boundary, not needlessly desaturated.
    outside = scale < 0.999
    # Bisection resolves chroma to 260 / 2**14 < 0.02 ab units: 0.02 more must leave the gamut.
    direction = ab / ab.norm(dim=1, keepdim=True)
    grown = clipped + 0.02 * direction
    boundary = lab_to_linear_rgb(torch.cat((lightness, grown), 1).double())
    leaves = ((boundary < 0) | (boundary > 1)).any(1)
    assert outside.any() and leaves[outside].all()


def test_gamut_clipping_leaves_in_gamut_colours_alone() -> None:
    lab = rgb_to_lab(torch.rand(1, 3, 8, 8))
    assert torch.equal(clip_ab_to_gamut(lab[:, :1], lab[:, 1:]), lab[:, 1:])


def test_recombine_keeps_full_resolution_lightness() -> None:
    rgb = torch.rand(1, 3, 64, 48, dtype=torch.float64)
    lab = rgb_to_lab(rgb)
    low_ab = torch.nn.functional.avg_pool2d(lab[:, 1:], 4)  # chroma predicted at 1/4 size
    result = recombine_lightness_ab(lab[:, :1], low_ab)
    assert result.shape == rgb.shape
    assert torch.allclose(rgb_to_lab(result)[:, :1], lab[:, :1], atol=1e-6)


def test_recombine_refuses_mismatched_batches() -> None:
    with pytest.raises(ValueError, match="expected lightness"):
        recombine_lightness_ab(torch.rand(2, 1, 8, 8), torch.rand(1, 2, 4, 4))


def test_lightness_to_gray_inverts_gray_to_lightness() -> None:
    from tinct.color.lab import lightness_to_gray

    gray = torch.rand(2, 1, 16, 16, dtype=torch.float64)
    assert torch.allclose(lightness_to_gray(gray_to_lightness(gray)), gray, atol=1e-9)
