"""Lab to sRGB of a full-resolution result with its gamut search, pixel by pixel in compiled
code (Numba).

Each colour's linear RGB, which its conversion needs anyway, is its exact gamut test. A colour
outside starts from the largest in-gamut chroma interpolated in a table over L and hue
(:mod:`tinct.color.gamut_tables`), takes one Newton step towards the channel that leaves [0, 1]
first (:mod:`tinct.color.gamut` explains the rays and the steps) and is certified by the exact
test on both sides of its estimate. A pixel that step leaves open takes ``NEWTON_STEPS`` from
gray and is certified again; the very few still open are bisected, like
:func:`tinct.color.gamut.largest_in_gamut_scale` without Newton. Each colour is then converted to
sRGB, the transfer curve read from a table.

Done pixel by pixel, a colour is read once and its sRGB written once, with no temporaries: a
512 px preview is recombined in about 13 ms, against some 30 ms for the tensor operations (each
reading and writing a megabyte) and OpenCV's conversion that this replaced
(``benchmarks/hint_latency.py``).
Arithmetic is in float64 on float32 planes. The functions release the GIL, so blocks of rows
can be converted on several threads at once (:mod:`tinct.color.recombine`); each compiles on its
first call (seconds) and Numba caches the machine code beside this file (or in its user cache),
so later processes load it in a fraction of a second.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from tinct.color.gamut import NEWTON_STEPS, SEARCH_RESOLUTION
from tinct.color.lab import (
    D65_WHITE_XYZ,
    LAB_INVERSE_THRESHOLD,
    LAB_LINEAR_SLOPE,
    LAB_OFFSET,
    LINEAR_RGB_FROM_XYZ,
)

# Linear R, G, B = X_SHARES * f^-1(f_x) + Y_SHARES * f^-1(f_y) + Z_SHARES * f^-1(f_z): the white
# point folded into the weights.
X_SHARES = tuple(row[0] * D65_WHITE_XYZ[0] for row in LINEAR_RGB_FROM_XYZ)
Y_SHARES = tuple(row[1] * D65_WHITE_XYZ[1] for row in LINEAR_RGB_FROM_XYZ)
Z_SHARES = tuple(row[2] * D65_WHITE_XYZ[2] for row in LINEAR_RGB_FROM_XYZ)
_HALF_RESOLUTION = SEARCH_RESOLUTION / 2
# Reordering and contracting arithmetic is allowed; infinities are not assumed away (a Newton
# step starts from an infinite "nearest" boundary).
_FAST = {"nsz", "arcp", "contract", "reassoc"}
_COMPILE = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": _FAST}


@numba.njit(fastmath=_FAST)
def _f_inverse(f: float) -> float:
    return f * f * f if f > LAB_INVERSE_THRESHOLD else (f - LAB_OFFSET) / LAB_LINEAR_SLOPE


@numba.njit(fastmath=_FAST)
def _linear_rgb(y: float, x: float, z: float) -> tuple[float, float, float]:
    """Linear R, G and B from f^-1 of f(Y), f(X) and f(Z)."""
    return (
        X_SHARES[0] * x + Y_SHARES[0] * y + Z_SHARES[0] * z,
        X_SHARES[1] * x + Y_SHARES[1] * y + Z_SHARES[1] * z,
        X_SHARES[2] * x + Y_SHARES[2] * y + Z_SHARES[2] * z,
    )


@numba.njit(fastmath=_FAST)
def _inside(red: float, green: float, blue: float) -> bool:
    """Whether linear R, G and B all lie in [0, 1]."""
    return min(red, green, blue) >= 0.0 and max(red, green, blue) <= 1.0


@numba.njit(fastmath=_FAST)
def _fits(f_y: float, y: float, slope_x: float, slope_z: float, scale: float) -> bool:
    """Whether the colour at ``scale`` along a ray lies inside linear RGB [0, 1]: the ray is
    f(Y) = ``f_y``, Y = ``y``, f(X) = f_y + scale * slope_x and f(Z) = f_y + scale * slope_z."""
    x = _f_inverse(f_y + scale * slope_x)
    return _inside(*_linear_rgb(y, x, _f_inverse(f_y + scale * slope_z)))


@numba.njit(fastmath=_FAST)
def _newton_step(
    f_y: float, y: float, slope_x: float, slope_z: float, scale: float, low: float, high: float
) -> float:
    """From ``scale``, where the ray first leaves [0, 1] in some channel by one Newton step per
    channel (towards 1 where it grows, 0 where it falls), kept inside ``[low, high]``."""
    f_x = f_y + scale * slope_x
    f_z = f_y + scale * slope_z
    x, z = _f_inverse(f_x), _f_inverse(f_z)
    # d f^-1 / d f is 3 f^2 on the cubic part and 3 (6/29)^2 on the linear part.
    cubic_x, cubic_z = max(f_x, LAB_INVERSE_THRESHOLD), max(f_z, LAB_INVERSE_THRESHOLD)
    growth_x = 3.0 * cubic_x * cubic_x * slope_x
    growth_z = 3.0 * cubic_z * cubic_z * slope_z
    values = _linear_rgb(y, x, z)
    nearest = math.inf
    for channel in range(3):
        value = values[channel]
        growth = X_SHARES[channel] * growth_x + Z_SHARES[channel] * growth_z
        if growth > 0.0:
            nearest = min(nearest, (1.0 - value) / growth)
        elif growth < 0.0:
            nearest = min(nearest, -value / growth)
    return min(max(scale + nearest, low), high)


@numba.njit(fastmath=_FAST)
def _bisected(
    f_y: float, y: float, slope_x: float, slope_z: float, chroma: float, low: float, high: float
) -> float:
    """The largest in-gamut scale in ``[low, high)`` by bisection, to ``SEARCH_RESOLUTION``
    of chroma (the halvings of :func:`tinct.color.gamut._search`)."""
    width = high - low
    span = max(width * chroma, SEARCH_RESOLUTION) / SEARCH_RESOLUTION
    for _ in range(int(2.0 * math.ceil(math.log2(span) / 2.0))):
        width *= 0.5
        if _fits(f_y, y, slope_x, slope_z, low + width):
            low += width
    return low


@numba.njit(fastmath=_FAST)
def _solve(
    f_y: float, y: float, slope_x: float, slope_z: float, chroma: float, estimate: float
) -> tuple[float, int]:
    """The largest in-gamut scale of an out-of-gamut ray from ``estimate`` in [0, 1], and how
    far it went: 0 settled by one Newton step, 1 by the steps from gray, 2 bisected."""
    half = _HALF_RESOLUTION / chroma  # in units of the scale
    high = 1.0
    for attempt in range(2):
        if attempt == 0:
            scale = _newton_step(f_y, y, slope_x, slope_z, estimate, 0.0, 1.0)
        else:
            scale = 0.0
            for _ in range(NEWTON_STEPS):
                scale = _newton_step(f_y, y, slope_x, slope_z, scale, 0.0, high)
        below = max(scale - half, 0.0)
        if not _fits(f_y, y, slope_x, slope_z, below):
            high = below  # the first boundary lies below the estimate: search under it
        elif not _fits(f_y, y, slope_x, slope_z, scale + half):
            return below, attempt
    return _bisected(f_y, y, slope_x, slope_z, chroma, 0.0, high), 2


# atan(x) / x on [0, 1] as a polynomial in x^2 (Abramowitz and Stegun 4.4.49: within 2e-8 rad).
_ATAN_TERMS = (
    1.0,
    -0.3333314528,
    0.1999355085,
    -0.1420889944,
    0.1065626393,
    -0.0752896400,
    0.0429096138,
    -0.0161657367,
    0.0028662257,
)


@numba.njit(fastmath=_FAST)
def _hue(a: float, b: float) -> float:
    """``atan2(b, a)`` in [-pi, pi] to 2e-8 rad: a polynomial on the octant, which the loop
    evaluates several times faster than the library's ``atan2``."""
    across, up = abs(a), abs(b)
    steep = up > across
    ratio = across / up if steep else up / max(across, 1e-30)
    square = ratio * ratio
    polynomial = _ATAN_TERMS[8]
    for index in range(7, -1, -1):
        polynomial = polynomial * square + _ATAN_TERMS[index]
    angle = ratio * polynomial
    if steep:
        angle = 0.5 * math.pi - angle
    if a < 0.0:
        angle = math.pi - angle
    return -angle if b < 0.0 else angle


@numba.njit(fastmath=_FAST)
def _estimated_chroma(lightness: float, a: float, b: float, grid: np.ndarray) -> float:
    """The largest in-gamut chroma at the colour's L and hue, bilinear in ``grid`` (rows of L
    in steps of ``100 / (rows - 1)``, columns of hue counter-clockwise from +a, the last the
    first again)."""
    rows, columns = grid.shape
    hue_steps = columns - 1
    hue = (_hue(a, b) * (hue_steps / (2.0 * math.pi))) % hue_steps
    row = min(max(lightness * ((rows - 1) / 100.0), 0.0), rows - 1.0)
    column_index = min(int(hue), columns - 2)
    row_index = min(int(row), rows - 2)
    hue_fraction, row_fraction = hue - column_index, row - row_index
    below = np.float64(grid[row_index, column_index])
    below += (grid[row_index, column_index + 1] - below) * hue_fraction
    above = np.float64(grid[row_index + 1, column_index])
    above += (grid[row_index + 1, column_index + 1] - above) * hue_fraction
    return below + (above - below) * row_fraction


@numba.njit(fastmath=_FAST)
def _srgb(linear: float, curve: np.ndarray) -> float:
    """The sRGB value of a linear value clamped to [0, 1], interpolated in ``curve`` (the
    transfer curve at evenly spaced linear values from 0 to 1)."""
    position = min(max(linear, 0.0), 1.0) * (curve.shape[0] - 1)
    index = min(int(position), curve.shape[0] - 2)
    return curve[index] + (curve[index + 1] - curve[index]) * (position - index)


# Compiled once for any row stride (blocks of every other row are views), not once per layout.
_SRGB_SIGNATURE = (
    "int64[:](float32[:, :], float32[:, :], float32[:, :], float32[:, :, :],"
    " float32[:, :], float64[:])"
)


@numba.njit(_SRGB_SIGNATURE, **_COMPILE)
def srgb_in_gamut(
    lightness: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    out: np.ndarray,
    grid: np.ndarray,
    curve: np.ndarray,
) -> np.ndarray:
    """sRGB in ``out`` (``(rows, W, 3)`` float32) of Lab ``(rows, W)`` float32 planes (L in
    [0, 100]), with chroma reduced towards gray where the colour is outside sRGB.

    Each colour's linear RGB, which the conversion needs anyway, is its exact gamut test.

    Args:
        grid: the table of :func:`_estimated_chroma`.
        curve: the table of :func:`_srgb`.

    Returns:
        How many pixels were inside, and how many outside were settled by one Newton step, by
        the steps from gray, and bisected (four counts).
    """
    counts = np.zeros(4, dtype=np.int64)
    for row in range(lightness.shape[0]):
        for column in range(lightness.shape[1]):
            pixel_l, pixel_a, pixel_b = lightness[row, column], a[row, column], b[row, column]
            f_y = (pixel_l + 16.0) / 116.0
            y, slope_x, slope_z = _f_inverse(f_y), pixel_a / 500.0, pixel_b / -200.0
            red, green, blue = _linear_rgb(y, _f_inverse(f_y + slope_x), _f_inverse(f_y + slope_z))
            if _inside(red, green, blue):
                counts[0] += 1
            else:
                chroma = math.sqrt(pixel_a * pixel_a + pixel_b * pixel_b)
                estimate = _estimated_chroma(pixel_l, pixel_a, pixel_b, grid) / chroma
                scale, attempt = _solve(
                    f_y, y, slope_x, slope_z, chroma, min(max(estimate, 0.0), 1.0)
                )
                counts[1 + attempt] += 1
                x = _f_inverse(f_y + scale * slope_x)
                red, green, blue = _linear_rgb(y, x, _f_inverse(f_y + scale * slope_z))
            out[row, column, 0] = _srgb(red, curve)
            out[row, column, 1] = _srgb(green, curve)
            out[row, column, 2] = _srgb(blue, curve)
    return counts


@numba.njit(**_COMPILE)
def largest_in_gamut_scales(
    lightness: np.ndarray, a: np.ndarray, b: np.ndarray, estimates: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The scale of each out-of-gamut colour (flat float64 planes) from the given estimates of
    it, and how far each went (0 one Newton step, 1 the steps from gray, 2 bisected): the
    search of :func:`srgb_in_gamut` with any estimate."""
    scales = np.empty_like(lightness)
    attempts = np.empty(lightness.shape[0], dtype=np.int64)
    for index in range(lightness.shape[0]):
        f_y = (lightness[index] + 16.0) / 116.0
        chroma = math.sqrt(a[index] * a[index] + b[index] * b[index])
        scales[index], attempts[index] = _solve(
            f_y, _f_inverse(f_y), a[index] / 500.0, b[index] / -200.0, chroma, estimates[index]
        )
    return scales, attempts


@numba.njit(**_COMPILE)
def estimated_largest_chroma(
    lightness: np.ndarray, a: np.ndarray, b: np.ndarray, grid: np.ndarray
) -> np.ndarray:
    """:func:`_estimated_chroma` of each colour of flat planes (float64)."""
    estimates = np.empty(lightness.shape[0])
    for index in range(lightness.shape[0]):
        estimates[index] = _estimated_chroma(lightness[index], a[index], b[index], grid)
    return estimates
