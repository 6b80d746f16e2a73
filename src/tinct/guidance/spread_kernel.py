"""The joint bilateral upsampling between the levels of hint spreading, in compiled code (Numba),
for CPU tensors.

The same arithmetic as :func:`tinct.guidance.spread._upsample_within_regions`, in the same
order, a fine pixel at a time: its four coarse cells, each weighted by its bilinear weights,
its openness and its lightness affinity to the pixel. As tensor operations that took some
twenty passes over the fine grid, each allocating its result; here one pass writes the result.
Numba compiles it on the first call and caches the machine code beside this file (or in its user
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
