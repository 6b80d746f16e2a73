"""The fast paths of full-resolution recombination agree with the tensor reference.

Large photos are recombined strip by strip, each pixel's gamut search and conversion to sRGB in
compiled code started from a table of in-gamut chroma; these tests hold each shortcut to the
plain tensor functions of :mod:`tinct.color` (float64 inputs take the tensor path throughout).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from tinct.color import clip_ab_to_gamut
from tinct.color.gamut import (
    SEARCH_RESOLUTION,
    in_gamut,
    lab_to_rgb_in_gamut,
    largest_in_gamut_scale,
)
from tinct.color.gamut_kernel import largest_in_gamut_scales
from tinct.color.gamut_tables import estimated_largest_chroma, lab_planes_to_srgb_in_gamut
from tinct.color.recombine import RgbStrips, recombine_lightness_ab, recombine_strips

EIGHT_BIT_STEP = 1 / 255


def _random_lab(count: int, max_chroma: float, seed: int) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(seed)
    lightness = torch.rand(count, generator=generator) * 100
    hue = torch.rand(count, generator=generator) * 2 * math.pi
    chroma = torch.rand(count, generator=generator) * max_chroma
    return lightness, chroma * torch.cos(hue), chroma * torch.sin(hue)


def test_the_interpolated_largest_chroma_is_close_except_near_the_cusps() -> None:
    lightness, a, b = _random_lab(500_000, 150.0, seed=9)
    outside = ~in_gamut(lightness, a, b) & (lightness < 99.99)
    lightness, a, b = lightness[outside], a[outside], b[outside]
    exact = largest_in_gamut_scale(lightness, a, b, newton=False) * torch.hypot(a, b)
    error = (estimated_largest_chroma(lightness, a, b) - exact).abs()
    assert float(error.quantile(0.9)) < 0.01
    assert float(error.quantile(0.99)) < 0.1


def test_the_interpolation_takes_the_ends_of_its_grid() -> None:
    # L = 100, L = 0, and a hue just below 360 degrees, which can round up to the grid's end.
    lightness = torch.tensor([100.0, 0.0, 50.0, 50.0])
    a = torch.tensor([10.0, 10.0, 30.0, 30.0])
    b = torch.tensor([0.0, 0.0, -1e-9, 0.0])
    estimate = estimated_largest_chroma(lightness, a, b)
    assert bool(torch.isfinite(estimate).all()) and float(estimate[:2].abs().max()) < 0.01
    assert abs(float(estimate[2] - estimate[3])) < 1e-3


@pytest.mark.parametrize("count", [300, 100_000])  # one chunk and several
def test_the_search_finds_the_largest_in_gamut_scale(count: int) -> None:
    lightness, a, b = _random_lab(count, 150.0, seed=2)
    outside = ~in_gamut(lightness, a, b) & (lightness < 99.99)  # above, gray itself is out by 1e-4
    lightness, a, b = lightness[outside].double(), a[outside].double(), b[outside].double()
    scale = largest_in_gamut_scale(lightness, a, b)
    assert bool(in_gamut(lightness, a * scale, b * scale).all())
    nudged = scale + 2 * SEARCH_RESOLUTION / torch.sqrt(a * a + b * b)
    assert not bool(in_gamut(lightness, a * nudged, b * nudged).any())


def test_the_search_stops_at_the_first_boundary_where_a_hue_re_enters_the_gamut() -> None:
    # Near yellow's cusp the slice of L = 97 leaves the ray from gray at chroma 29.2 and
    # re-enters it between 92 and 97: the answer is the first boundary, on both paths.
    lightness, a, b = (torch.tensor([value]) for value in (97.0, -44.99, 194.87))
    assert bool(in_gamut(lightness, a * 0.47, b * 0.47))  # chroma 94: the re-entered part
    for newton in (True, False):
        chroma = largest_in_gamut_scale(lightness, a, b, newton=newton) * torch.hypot(a, b)
        assert abs(float(chroma) - 29.2) < 0.1
    clipped = clip_ab_to_gamut(lightness.view(1, 1, 1), torch.stack((a, b)).view(2, 1, 1))
    assert abs(float(torch.hypot(*clipped)) - 29.2) < 0.1
    # the compiled search, from the table's estimate
    chroma = torch.hypot(a, b).double()
    estimate = (estimated_largest_chroma(lightness, a, b) / chroma).clamp(0.0, 1.0)
    planes = (plane.double().numpy() for plane in (lightness, a, b, estimate))
    scale, _ = largest_in_gamut_scales(*planes)
    assert abs(float(scale[0] * chroma) - 29.2) < 0.1


def test_any_estimate_gives_the_first_boundary_and_the_tables_spare_the_search() -> None:
    lightness, a, b = _random_lab(20_000, 150.0, seed=9)
    outside = ~in_gamut(lightness, a, b) & (lightness < 99.99)
    lightness, a, b = lightness[outside].double(), a[outside].double(), b[outside].double()
    chroma = torch.sqrt(a * a + b * b)
    reference = largest_in_gamut_scale(lightness, a, b, newton=False)  # bisection from gray
    tables = (estimated_largest_chroma(lightness, a, b) / chroma).clamp(0.0, 1.0)
    # The share of pixels that go on to the steps from gray, and to the bisection: one Newton
    # step from an estimate a tenth off leaves most unsettled; the steps from gray settle most
    # of those.
    for estimate, from_gray, bisected in (
        (tables, 0.01, 0.002),
        (reference * 0.9, 1.0, 0.15),
        (reference * 0.5, 1.0, 0.15),
        ((reference * 2.0).clamp(max=1.0), 1.0, 0.15),
    ):
        scale, attempts = (
            torch.from_numpy(found)
            for found in largest_in_gamut_scales(*(p.numpy() for p in (lightness, a, b, estimate)))
        )
        difference = (scale - reference).abs() * chroma
        assert float(difference.quantile(0.999)) < 2 * SEARCH_RESOLUTION
        assert bool(in_gamut(lightness, a * scale, b * scale).all())
        assert float((attempts >= 1).double().mean()) <= from_gray
        assert float((attempts == 2).double().mean()) < bisected
    assert float((attempts >= 1).double().mean()) > 0.5  # the estimate 2x off needed the retry


def test_most_pixels_of_a_photo_are_settled_before_the_search() -> None:
    lightness, ab = _smooth_scene(200, 150, seed=13)
    ab = F.interpolate(ab, size=(200, 150), mode="bilinear", align_corners=False)
    out = torch.empty(200, 150, 3)
    counts = lab_planes_to_srgb_in_gamut(lightness[0, 0], *ab[0], out)
    total = counts.inside + counts.out_of_gamut
    assert total == 200 * 150 and counts.out_of_gamut > 0.1 * total
    assert counts.bisected + counts.from_gray < 0.01 * counts.out_of_gamut


def test_the_compiled_conversion_matches_lab_to_rgb_in_gamut() -> None:
    lightness, a, b = (plane.view(400, 500) for plane in _random_lab(200_000, 120.0, seed=4))
    out = torch.empty(400, 500, 3)
    counts = lab_planes_to_srgb_in_gamut(lightness, a, b, out)
    assert counts.out_of_gamut > 50_000  # the search ran, not only the conversion
    reference = lab_to_rgb_in_gamut(lightness.double().unsqueeze(0), torch.stack((a, b)).double())
    error = (out.permute(2, 0, 1).double() - reference).abs().amax(dim=0) / EIGHT_BIT_STEP
    # In gamut only the transfer curve's table differs; out of it, the answers of two searches
    # to 0.005 ab.
    assert float(error[in_gamut(lightness, a, b)].max()) < 0.01
    assert float(error.max()) < 0.1


def test_every_other_row_converts_like_the_whole_planes() -> None:
    lightness, a, b = (plane.view(400, 500) for plane in _random_lab(200_000, 120.0, seed=14))
    whole, halves = torch.empty(400, 500, 3), torch.empty(400, 500, 3)
    lab_planes_to_srgb_in_gamut(lightness, a, b, whole)
    for first in (0, 1):  # strided views, as the blocks of several threads are
        lab_planes_to_srgb_in_gamut(*(plane[first::2] for plane in (lightness, a, b, halves)))
    assert torch.equal(whole, halves)


def _reference_recombination(lightness: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """Upsample the whole chroma at once, then convert with tensor operations only."""
    full = F.interpolate(ab, size=lightness.shape[-2:], mode="bilinear", align_corners=False)
    return lab_to_rgb_in_gamut(lightness, full)


def _smooth_scene(height: int, width: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    lightness = torch.rand(2, 1, height, width, generator=generator) * 100
    ab = (torch.rand(2, 2, height // 8 + 1, width // 8 + 3, generator=generator) - 0.5) * 160
    return lightness, ab


def test_strips_match_one_whole_image_interpolation_at_every_boundary() -> None:
    lightness, ab = _smooth_scene(97, 61, seed=5)
    expected = _reference_recombination(lightness.double(), ab.double())
    for strip_pixels in (1, 61 * 7, 61 * 40, 10**6):  # one row, odd strips, one strip
        strips = list(recombine_strips(lightness.double(), ab.double(), strip_pixels))
        result = torch.cat([strip for _, strip in strips], dim=-2)
        assert [top for top, _ in strips] == list(range(0, 97, max(1, strip_pixels // 61)))
        torch.testing.assert_close(result, expected, atol=1e-6, rtol=0)


def test_cpu_float32_recombination_matches_the_tensor_reference() -> None:
    lightness, ab = _smooth_scene(130, 90, seed=6)
    fast = recombine_lightness_ab(lightness, ab)
    reference = _reference_recombination(lightness.double(), ab.double())
    assert fast.dtype == torch.float32
    assert float((fast.double() - reference).abs().max()) < 0.5 * EIGHT_BIT_STEP


def test_recombination_leaves_the_callers_chroma_alone() -> None:
    lightness, _ = _smooth_scene(32, 32, seed=7)
    ab = torch.full((2, 2, 32, 32), 120.0)  # far out of gamut, same size: no interpolation
    before = ab.clone()
    recombine_lightness_ab(lightness, ab)
    assert torch.equal(ab, before)


def test_rgb_strips_give_the_whole_image_lazily() -> None:
    lightness, ab = _smooth_scene(50, 40, seed=8)
    strips = RgbStrips(lightness[0], ab[0])
    assert strips.size == (50, 40)
    assembled = torch.cat([strip for _, strip in strips], dim=-2)
    torch.testing.assert_close(assembled, recombine_lightness_ab(lightness, ab)[0])
    torch.testing.assert_close(strips.to_tensor(), assembled)


def test_the_gamut_search_on_several_threads_gives_the_same_colours(monkeypatch) -> None:
    import threading

    from tinct.color import recombine

    lightness, ab = _smooth_scene(400, 330, seed=11)  # 132k pixels: 4 blocks of rows
    lightness, ab = lightness[:1], ab[:1] * 1.5  # many colours out of gamut
    alone = torch.cat([strip for _, strip in recombine_strips(lightness, ab)], dim=-2)
    searched = []

    def recording(block_lightness, a, b, out):
        thread = threading.current_thread()
        searched.append((block_lightness.shape[0], thread.name))
        return lab_planes_to_srgb_in_gamut(block_lightness, a, b, out)

    monkeypatch.setattr(recombine, "lab_planes_to_srgb_in_gamut", recording)
    for workers, blocks in ((2, 2), (4, 4), (9, 4)):  # at most MAX_WORKERS
        searched.clear()
        strips = list(recombine_strips(lightness, ab, workers=workers))
        together = torch.cat([strip for _, strip in strips], dim=-2)
        assert torch.equal(together, alone)
        rows, names = zip(*searched, strict=True)
        assert sum(rows) == 400 and len(rows) == blocks
        # the first block on the calling thread, the others on the pool's
        caller = threading.current_thread().name
        assert sorted(name == caller for name in names) == [False] * (blocks - 1) + [True]
    with pytest.raises(ValueError, match="workers"):
        list(recombine_strips(lightness, ab, workers=0))


def test_small_strips_are_searched_on_one_thread(monkeypatch) -> None:
    from tinct.color import recombine

    lightness, ab = _smooth_scene(100, 100, seed=12)  # 10k pixels: one block
    calls = []
    monkeypatch.setattr(
        recombine, "lab_planes_to_srgb_in_gamut", lambda *planes: calls.append(planes)
    )
    list(recombine_strips(lightness[:1], ab[:1], workers=4))
    assert len(calls) == 1


def test_channels_last_chroma_is_recombined_like_contiguous_chroma() -> None:
    lightness, ab = _smooth_scene(40, 56, seed=10)
    expected = recombine_lightness_ab(lightness, ab)
    strided = ab.contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(recombine_lightness_ab(lightness, strided), expected)
    same_size = F.interpolate(ab, size=(40, 56)).contiguous(memory_format=torch.channels_last)
    recombine_lightness_ab(lightness, same_size)  # no interpolation: rows are a strided view
