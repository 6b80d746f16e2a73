"""Hint spreading's steps between the solves, in compiled code (Numba), for CPU tensors: the
joint bilateral upsampling between levels, each level's system and the pyramids' 2x2 pooling.

Each does the same arithmetic as its tensor twin in :mod:`tinct.guidance.spread`, in the same
order, so the values are the same bit for bit (tested). As tensor operations each took some
passes over the grid, each allocating its result; here one pass writes the result. Numba
compiles them on the first call and caches the machine code beside this file (or in its user
cache).
"""

from __future__ import annotations

import numba
import numpy as np

_LEAST_WEIGHT = np.float32(1e-6)


@numba.njit(cache=True, nogil=True)
def upsample_within_regions(
    field: np.ndarray,
    open_: np.ndarray,
    rows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    columns: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    affinities: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    out: np.ndarray,
) -> None:
    """``out`` ``(B, C, H, W)`` from the coarse ``field`` ``(B, C, h, w)``.

    Args:
        open_: ``(B, h, w)`` openness of the coarse cells.
        rows, columns: the lower taps' indices and weights, then the upper taps' (``(H,)`` and
            ``(W,)``).
        affinities: ``(B, H, W)`` each, for the (row tap, column tap) pairs (lower, lower),
            (lower, upper), (upper, lower), (upper, upper).
    """
    row_low, row_low_weight, row_high, row_high_weight = rows
    column_low, column_low_weight, column_high, column_high_weight = columns
    near, right, below, diagonal = affinities
    for image in range(out.shape[0]):
        for row in range(out.shape[2]):
            # Unsigned indices: no test for Python's negative indices on every read.
            top, bottom = np.uintp(row_low[row]), np.uintp(row_high[row])
            top_weight, bottom_weight = row_low_weight[row], row_high_weight[row]
            for column in range(out.shape[3]):
                left, far = np.uintp(column_low[column]), np.uintp(column_high[column])
                left_weight, far_weight = column_low_weight[column], column_high_weight[column]
                weight_1 = top_weight * left_weight * open_[image, top, left]
                weight_1 = weight_1 * near[image, row, column]
                weight_2 = top_weight * far_weight * open_[image, top, far]
                weight_2 = weight_2 * right[image, row, column]
                weight_3 = bottom_weight * left_weight * open_[image, bottom, left]
                weight_3 = weight_3 * below[image, row, column]
                weight_4 = bottom_weight * far_weight * open_[image, bottom, far]
                weight_4 = weight_4 * diagonal[image, row, column]
                total_weight = max(weight_1 + weight_2 + weight_3 + weight_4, _LEAST_WEIGHT)
                for channel in range(out.shape[1]):
                    total = weight_1 * field[image, channel, top, left]
                    total = total + weight_2 * field[image, channel, top, far]
                    total = total + weight_3 * field[image, channel, bottom, left]
                    total = total + weight_4 * field[image, channel, bottom, far]
                    out[image, channel, row, column] = total / total_weight


@numba.njit(cache=True, nogil=True)
def level_system(
    pooled: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    coherence: np.ndarray,
    lightness_affinities: tuple[np.ndarray, np.ndarray],
    hint_weight: np.float32,
    decay: np.float32,
    system: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    rhs: np.ndarray,
    open_: np.ndarray,
) -> None:
    """One pyramid level's system, as :func:`tinct.guidance.spread._level_system` builds it
    with tensor operations (the same arithmetic in the same order).

    Args:
        pooled: ``(B, h, w)`` mean hint mask, ``(B, C, h, w)`` mean residual, ``(B, h, w)``
            largest boundary and largest hint mask over each cell.
        coherence: ``(B, h, w)``: how much each cell is one region (ones for none).
        lightness_affinities: ``(B, h, w - 1)`` to the right and ``(B, h - 1, w)`` below.
        system: ``(B, h, w)`` outputs: the diagonal and the affinities to the right, left,
            lower and upper neighbour.
        rhs: ``(B, C, h, w)`` output.
        open_: ``(B, h, w)`` output: each cell's openness.
    """
    mean_mask, mean_residual, boundary, mask = pooled
    to_right, to_below = lightness_affinities
    centre, right, left, down, up = system
    batch, channels, height, width = mean_residual.shape
    for image in range(batch):
        for row in range(height):
            for column in range(width):
                density = max(mean_mask[image, row, column], _LEAST_WEIGHT)
                held = mask[image, row, column]
                closed = np.float32(1.0) if boundary[image, row, column] > 0 else np.float32(0.0)
                open_[image, row, column] = (np.float32(1.0) - closed) * coherence[
                    image, row, column
                ]
                for channel in range(channels):
                    residual = mean_residual[image, channel, row, column] / density * held
                    rhs[image, channel, row, column] = hint_weight * held * residual
        for row in range(height):
            for column in range(width):
                here = open_[image, row, column]
                to_right_here = np.float32(0.0)
                if column + 1 < width:
                    to_right_here = to_right[image, row, column] * open_[image, row, column + 1]
                    to_right_here = to_right_here * here
                to_left_here = np.float32(0.0)
                if column > 0:
                    to_left_here = to_right[image, row, column - 1] * here
                    to_left_here = to_left_here * open_[image, row, column - 1]
                to_below_here = np.float32(0.0)
                if row + 1 < height:
                    to_below_here = to_below[image, row, column] * open_[image, row + 1, column]
                    to_below_here = to_below_here * here
                to_above_here = np.float32(0.0)
                if row > 0:
                    to_above_here = to_below[image, row - 1, column] * here
                    to_above_here = to_above_here * open_[image, row - 1, column]
                right[image, row, column] = to_right_here
                left[image, row, column] = to_left_here
                down[image, row, column] = to_below_here
                up[image, row, column] = to_above_here
                total = to_right_here + to_left_here + to_below_here + to_above_here
                diagonal = hint_weight * mask[image, row, column] + decay
                centre[image, row, column] = diagonal + total


@numba.njit(cache=True, nogil=True)
def halve(planes: np.ndarray, maximum: bool, out: np.ndarray) -> None:
    """``out`` ``(B, C, h, w)``: each 2x2 block of ``planes`` ``(B, C, 2h, 2w)`` averaged (its
    four values summed row by row, then divided by 4, as ``avg_pool2d`` does) or its largest."""
    quarter = np.float32(4.0)
    for image in range(out.shape[0]):
        for channel in range(out.shape[1]):
            for row in range(out.shape[2]):
                top, bottom = 2 * row, 2 * row + 1
                for column in range(out.shape[3]):
                    left, right = 2 * column, 2 * column + 1
                    first = planes[image, channel, top, left]
                    second = planes[image, channel, top, right]
                    third = planes[image, channel, bottom, left]
                    fourth = planes[image, channel, bottom, right]
                    if maximum:
                        value = max(first, second, third, fourth)
                    else:
                        value = (first + second + third + fourth) / quarter
                    out[image, channel, row, column] = value
