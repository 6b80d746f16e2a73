"""Tables of in-gamut chroma that spare most pixels the exact gamut test and narrow the search.

A full-resolution result has millions of pixels and only a few percent of them out of gamut.
:func:`clip_planes_to_gamut_` sorts them in three steps, each on fewer pixels:

1. one table over L of the chroma that is inside sRGB at *every* hue: pixels below it (most of
   a photo's) are in gamut;
2. the rest take the exact test;
3. the pixels out of gamut are searched (:func:`tinct.color.gamut.largest_in_gamut_scale`)
   between the bounds that a table over L and hue gives on the largest in-gamut chroma,
   instead of between gray and their own chroma.

(The bounds once sorted the pixels of step 2 as well; finding each pixel's hue and cell, and
gathering them, cost more than the exact test on all of them.)

Both tables are computed once per process from the exact test, on a grid with margins for the
colours between grid points; a test checks their bounds on millions of random colours.
"""

from __future__ import annotations

import math
from functools import cache

import torch
from torch import Tensor

from tinct.color.gamut import in_gamut, largest_in_gamut_scale

L_STEP = 0.5  # grid of L, both tables
HUE_STEPS = 360  # grid of hue of the bounds table (one degree)
GRID_HUES_PER_STEP = 2  # the safe table also tries the half degrees between
MARGIN = 2.0  # ab units, for the colours between grid points
# A cell whose corners differ by more than this (near the cusps of the gamut, where the largest
# chroma changes steeply with L) gets no upper bound: its doubtful pixels all take the exact test.
STEEP_CELL = 4.0
_BEYOND_GAMUT_CHROMA = 200.0  # more than any sRGB colour has


@cache
def _largest_chroma_grid() -> Tensor:
    """``(L grid, HUE_STEPS * GRID_HUES_PER_STEP)`` largest in-gamut chroma, the one exact
    search both tables derive from (L in steps of ``L_STEP``, hues counter-clockwise from +a)."""
    lightness = torch.arange(0.0, 100.0 + L_STEP / 2, L_STEP)
    count = HUE_STEPS * GRID_HUES_PER_STEP
    hues = torch.arange(count) * (2 * math.pi / count)
    grid_l = lightness.unsqueeze(1).expand(-1, count).reshape(-1)
    grid_a = torch.cos(hues).repeat(len(lightness)) * _BEYOND_GAMUT_CHROMA
    grid_b = torch.sin(hues).repeat(len(lightness)) * _BEYOND_GAMUT_CHROMA
    reach = largest_in_gamut_scale(grid_l, grid_a, grid_b, newton=False)  # the first boundary
    return reach.view(len(lightness), count) * _BEYOND_GAMUT_CHROMA


@cache
def safe_chroma_squared() -> Tensor:
    """Squared chroma below which every hue is inside sRGB, per step of L (float32).

    Entry ``i`` holds for all L in ``[i, i + 1] * L_STEP``.
    """
    least = _largest_chroma_grid().min(dim=1).values
    between = torch.minimum(least[:-1], least[1:])  # each step of L: the lower of its two ends
    return (between - MARGIN / 2).clamp(min=0.0).square()


@cache
def chroma_bounds() -> tuple[Tensor, Tensor]:
    """Lower and upper bounds ``(L steps, HUE_STEPS)`` on the largest in-gamut chroma of each
    cell of L (steps of ``L_STEP``) and hue (whole degrees from 0, counter-clockwise from +a)."""
    reach = _largest_chroma_grid()[:, ::GRID_HUES_PER_STEP]
    corners = torch.stack(
        [
            reach[:-1],
            reach[1:],
            reach[:-1].roll(-1, dims=1),  # the next hue, wrapping at 360 degrees
            reach[1:].roll(-1, dims=1),
        ]
    )
    least, most = corners.min(dim=0).values, corners.max(dim=0).values
    upper = torch.where(most - least > STEEP_CELL, torch.inf, most + MARGIN)
    return (least - MARGIN).clamp(min=0.0), upper


def clip_planes_to_gamut_(lightness: Tensor, a: Tensor, b: Tensor) -> None:
    """Scale ``a`` and ``b`` in place towards gray where (L, a, b) falls outside sRGB.

    The fast form of :func:`tinct.color.gamut.clip_ab_to_gamut` for same-shaped contiguous
    planes with L in [0, 100] (see the module for the steps).
    """
    safe = safe_chroma_squared()
    flat_l, flat_a, flat_b = lightness.reshape(-1), a.view(-1), b.view(-1)
    # index_select rather than tensor[index]: the same values, several times faster on the CPU.
    step = (flat_l * (1.0 / L_STEP)).long().clamp_(0, len(safe) - 1)
    suspect = (flat_a * flat_a + flat_b * flat_b > safe.index_select(0, step)).nonzero()
    suspect = suspect.squeeze(1)
    if not len(suspect):
        return
    s_l, s_a, s_b = (plane.index_select(0, suspect) for plane in (flat_l, flat_a, flat_b))
    outside = (~in_gamut(s_l, s_a, s_b)).nonzero().squeeze(1)
    if not len(outside):
        return
    o_l, o_a, o_b = (plane.index_select(0, outside) for plane in (s_l, s_a, s_b))
    chroma = torch.sqrt(o_a * o_a + o_b * o_b)
    hue = torch.atan2(o_b, o_a) * (HUE_STEPS / (2 * math.pi))
    o_step = (o_l * (1.0 / L_STEP)).long().clamp_(0, len(safe) - 1)
    cell = o_step * HUE_STEPS + hue.floor().long().remainder_(HUE_STEPS)
    lower, upper = (bound.view(-1).index_select(0, cell) for bound in chroma_bounds())
    scale = largest_in_gamut_scale(
        o_l, o_a, o_b, low=lower / chroma, high=torch.clamp(upper / chroma, max=1.0)
    )
    chosen = suspect.index_select(0, outside)
    flat_a.index_copy_(0, chosen, o_a * scale)
    flat_b.index_copy_(0, chosen, o_b * scale)
