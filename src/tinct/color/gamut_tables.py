"""The table of the largest in-gamut chroma that starts the gamut search of full-resolution
results, and the conversion of full-resolution Lab planes to sRGB that reads it.

A full-resolution result has millions of pixels and only some of them out of gamut.
:func:`lab_planes_to_srgb_in_gamut` converts each pixel in compiled code
(:mod:`tinct.color.gamut_kernel`): its linear RGB is its exact gamut test, and for a pixel out
of gamut the largest in-gamut chroma interpolated bilinearly in a table over L and hue starts
the search. The estimate is within 0.01 ab of the answer for 9 colours in 10 (a test checks
it), so one Newton step and the exact test settle nearly all. The sRGB transfer curve is read
from a table too.

The chroma table comes once per process from one exact search on a grid of L and hue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from torch import Tensor

from tinct.color.gamut import largest_in_gamut_scale
from tinct.color.lab import linear_to_srgb

L_STEP = 0.5  # grid of L
HUE_STEPS = 720  # grid of hue (half degrees, counter-clockwise from +a)
_BEYOND_GAMUT_CHROMA = 200.0  # more than any sRGB colour has
CURVE_POINTS = 4097  # the sRGB transfer curve's table


@cache
def _largest_chroma_grid() -> Tensor:
    """``(L grid, HUE_STEPS + 1)`` largest in-gamut chroma (L in steps of ``L_STEP``, the last
    column the first again, so that interpolation needs no wrapping), by bisection from gray:
    where a hue's slice leaves the ray and re-enters it, the first boundary."""
    lightness = torch.arange(0.0, 100.0 + L_STEP / 2, L_STEP)
    hues = torch.arange(HUE_STEPS) * (2 * math.pi / HUE_STEPS)
    grid_l = lightness.unsqueeze(1).expand(-1, HUE_STEPS).reshape(-1)
    grid_a = torch.cos(hues).repeat(len(lightness)) * _BEYOND_GAMUT_CHROMA
    grid_b = torch.sin(hues).repeat(len(lightness)) * _BEYOND_GAMUT_CHROMA
    reach = largest_in_gamut_scale(grid_l, grid_a, grid_b, newton=False)
    reach = reach.view(len(lightness), HUE_STEPS) * _BEYOND_GAMUT_CHROMA
    return torch.cat((reach, reach[:, :1]), dim=1)


def estimated_largest_chroma(lightness: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """The largest in-gamut chroma at each colour's L and hue, interpolated bilinearly in the
    grid (flat ``(N,)`` planes, L in [0, 100]; float64): within 0.01 ab for 9 colours in 10 and
    0.1 for 99 in 100 (tested), but tens of ab off near the cusps, where it changes steeply."""
    from tinct.color.gamut_kernel import estimated_largest_chroma as estimated

    planes = (plane.detach().to("cpu", torch.float64).contiguous() for plane in (lightness, a, b))
    return torch.from_numpy(estimated(*(plane.numpy() for plane in planes), _kernel_tables()[0]))


@cache
def srgb_curve() -> np.ndarray:
    """The sRGB transfer curve at ``CURVE_POINTS`` evenly spaced linear values from 0 to 1
    (float64), for linear interpolation: in-gamut colours come out within a hundredth of an
    8-bit level of the curve itself (tested through the conversion)."""
    return linear_to_srgb(torch.linspace(0.0, 1.0, CURVE_POINTS, dtype=torch.float64)).numpy()


@cache
def _kernel_tables() -> tuple[np.ndarray, np.ndarray]:
    """The chroma grid and the transfer curve as the kernel reads them."""
    return _largest_chroma_grid().numpy(), srgb_curve()


def lab_planes_to_srgb_in_gamut(
    lightness: Tensor, a: Tensor, b: Tensor, out: Tensor
) -> GamutCounts:
    """sRGB of Lab given as ``(rows, W)`` float32 CPU planes (L in [0, 100]; rows may be strided
    views) in ``out`` (``(rows, W, 3)`` float32), with chroma reduced towards gray where a colour
    falls outside sRGB: the colours of :func:`tinct.color.gamut.lab_to_rgb_in_gamut` (to a
    tenth of an 8-bit level), in one compiled pass (:mod:`tinct.color.gamut_kernel`).
    """
    from tinct.color.gamut_kernel import srgb_in_gamut

    arrays = (plane.numpy() for plane in (lightness, a, b, out))
    return GamutCounts(*(int(count) for count in srgb_in_gamut(*arrays, *_kernel_tables())))


@dataclass(frozen=True)
class GamutCounts:
    """How the pixels of one :func:`lab_planes_to_srgb_in_gamut` call were settled."""

    inside: int
    one_step: int  # out of gamut, settled by one Newton step from the tables' estimate
    from_gray: int  # settled by the Newton steps from gray
    bisected: int

    @property
    def out_of_gamut(self) -> int:
        return self.one_step + self.from_gray + self.bisected
