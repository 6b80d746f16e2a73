"""The fast paths of full-resolution recombination agree with the tensor reference.

Large photos are recombined strip by strip, with a table of always-safe chroma in front of the
exact gamut test and OpenCV converting Lab to sRGB; these tests hold each shortcut to the plain
tensor functions of :mod:`tinct.color` (float64 inputs take the tensor path throughout).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from tinct.color import clip_ab_to_gamut, lab_to_rgb
from tinct.color.gamut import (
    SEARCH_RESOLUTION,
    in_gamut,
    lab_to_rgb_in_gamut,
    largest_in_gamut_scale,
)
from tinct.color.gamut_tables import (
    L_STEP,
    clip_planes_to_gamut_,
    estimated_largest_chroma,
    safe_chroma_squared,
)
from tinct.color.lab_opencv import lab_planes_to_srgb
from tinct.color.recombine import RgbStrips, recombine_lightness_ab, recombine_strips

EIGHT_BIT_STEP = 1 / 255


def _random_lab(count: int, max_chroma: float, seed: int) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(seed)
    lightness = torch.rand(count, generator=generator) * 100
    hue = torch.rand(count, generator=generator) * 2 * math.pi
    chroma = torch.rand(count, generator=generator) * max_chroma
    return lightness, chroma * torch.cos(hue), chroma * torch.sin(hue)


def test_every_colour_below_the_safe_chroma_table_is_in_gamut() -> None:
    lightness, a, b = _random_lab(2_000_000, 60.0, seed=1)
    table = safe_chroma_squared()
    step = (lightness / L_STEP).long().clamp(max=len(table) - 1)
    below = a * a + b * b <= table[step]
    assert bool(in_gamut(lightness, a, b)[below].all())
    assert float(below.float().mean()) > 0.3  # the table is not uselessly cautious


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


def test_any_estimate_gives_the_first_boundary_and_the_tables_spare_the_search(
    monkeypatch,
) -> None:
    from tinct.color import gamut

    lightness, a, b = _random_lab(20_000, 150.0, seed=9)
    outside = ~in_gamut(lightness, a, b) & (lightness < 99.99)
    lightness, a, b = lightness[outside].double(), a[outside].double(), b[outside].double()
    chroma = torch.sqrt(a * a + b * b)
    reference = largest_in_gamut_scale(lightness, a, b, newton=False)  # bisection from gray
    searched = []
    search = gamut._search

    def counted(rays, low, high):
        searched.append(len(low))
        return search(rays, low, high)

    monkeypatch.setattr(gamut, "_search", counted)
    tables = estimated_largest_chroma(lightness.float(), a.float(), b.float()).double()
    tables = (tables / chroma).clamp(0.0, 1.0)
    # The share of pixels that reach the bisection: one Newton step from an estimate a tenth
    # off leaves about 4 in 5 unsettled; the steps from gray that follow settle most of them.
    for estimate, bisected in ((tables, 0.002), (reference * 0.9, 0.15), (reference * 0.5, 0.15)):
        searched.clear()
        scale = largest_in_gamut_scale(lightness, a, b, estimate=estimate)
        difference = (scale - reference).abs() * chroma
        assert float(difference.quantile(0.999)) < 2 * SEARCH_RESOLUTION
        assert bool(in_gamut(lightness, a * scale, b * scale).all())
        assert sum(searched) < bisected * len(lightness)
    far = largest_in_gamut_scale(lightness, a, b, estimate=(reference * 2.0).clamp(max=1.0))
    assert float(((far - reference).abs() * chroma).quantile(0.999)) < 2 * SEARCH_RESOLUTION


def test_clipping_planes_in_place_matches_clip_ab_to_gamut() -> None:
    lightness, a, b = _random_lab(100_000, 120.0, seed=3)
    expected = clip_ab_to_gamut(lightness.view(1, 1, -1), torch.stack((a, b)).view(2, 1, -1))
    clip_planes_to_gamut_(lightness, a, b)
    fast = torch.stack((a, b)).view(2, 1, -1)
    torch.testing.assert_close(fast, expected, atol=2 * SEARCH_RESOLUTION, rtol=0)


def test_opencv_conversion_agrees_with_lab_to_rgb_in_gamut() -> None:
    lightness, a, b = _random_lab(200_000, 120.0, seed=4)
    clip_planes_to_gamut_(lightness, a, b)
    planes = [plane.view(400, 500) for plane in (lightness, a, b)]
    fast = lab_planes_to_srgb(*planes).permute(2, 0, 1)
    reference = lab_to_rgb(torch.stack(planes).double())
    assert float((fast.double() - reference).abs().max()) < 0.2 * EIGHT_BIT_STEP


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

    def recording(block_lightness, a, b) -> None:
        thread = threading.current_thread()
        searched.append((block_lightness.shape[0], thread.name, torch.get_num_threads()))
        clip_planes_to_gamut_(block_lightness, a, b)

    monkeypatch.setattr(recombine, "clip_planes_to_gamut_", recording)
    for workers, blocks in ((2, 2), (4, 4), (9, 4)):  # at most MAX_WORKERS
        searched.clear()
        strips = list(recombine_strips(lightness, ab, workers=workers))
        together = torch.cat([strip for _, strip in strips], dim=-2)
        torch.testing.assert_close(together, alone, atol=1e-6, rtol=0)
        rows, names, threads = zip(*searched, strict=True)
        assert sum(rows) == 400 and len(rows) == blocks
        # the first block on the calling thread, the others on the pool's, with one torch thread
        caller = threading.current_thread().name
        assert sorted(name == caller for name in names) == [False] * (blocks - 1) + [True]
        assert {count for name, count in zip(names, threads, strict=True) if name != caller} == {1}
    with pytest.raises(ValueError, match="workers"):
        list(recombine_strips(lightness, ab, workers=0))


def test_small_strips_are_searched_on_one_thread(monkeypatch) -> None:
    from tinct.color import recombine

    lightness, ab = _smooth_scene(100, 100, seed=12)  # 10k pixels: one block
    calls = []
    monkeypatch.setattr(recombine, "clip_planes_to_gamut_", lambda *planes: calls.append(planes))
    list(recombine_strips(lightness[:1], ab[:1], workers=4))
    assert len(calls) == 1


def test_channels_last_chroma_is_recombined_like_contiguous_chroma() -> None:
    lightness, ab = _smooth_scene(40, 56, seed=10)
    expected = recombine_lightness_ab(lightness, ab)
    strided = ab.contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(recombine_lightness_ab(lightness, strided), expected)
    same_size = F.interpolate(ab, size=(40, 56)).contiguous(memory_format=torch.channels_last)
    recombine_lightness_ab(lightness, same_size)  # no interpolation: rows are a strided view
