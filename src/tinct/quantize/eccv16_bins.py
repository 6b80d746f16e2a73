"""The 313 ab bins of the ECCV16 release (Zhang et al. 2016), rebuilt from tinct's gamut bins.

The release's bins (``pts_in_hull.npy``) are tinct's 309 gamut bins
(:func:`tinct.quantize.gamut_ab_bins`) plus four grid points that lie more than one grid step
from every 8-bit sRGB colour (see :mod:`tinct.quantize.ab_bins`). The release orders its bins by
a, then b; a weight file's bin index q means ``eccv16_bins()[q]``, so the order matters as much
as the values. Only the four extra points are written down here; the other 309 come from the
gamut rule.
"""

from __future__ import annotations

import torch
from torch import Tensor

from tinct.quantize.ab_bins import gamut_ab_bins

ECCV16_NUM_BINS = 313
ECCV16_EXTRA_BINS: tuple[tuple[float, float], ...] = (
    (40.0, 90.0),
    (100.0, -90.0),
    (100.0, -10.0),
    (100.0, 0.0),
)


def sort_bins_by_a_then_b(bins: Tensor) -> Tensor:
    """Rows of ``bins`` ``(Q, 2)`` reordered by ascending a, ties by ascending b."""
    by_b = bins[torch.argsort(bins[:, 1], stable=True)]
    return by_b[torch.argsort(by_b[:, 0], stable=True)]


def eccv16_bins() -> Tensor:
    """The ECCV16 release's ab bin centres, in its order.

    Returns:
        ``(313, 2)`` float32 (a, b) in ab units, sorted by a then b.
    """
    extra = torch.tensor(ECCV16_EXTRA_BINS, dtype=torch.float32)
    return sort_bins_by_a_then_b(torch.cat((gamut_ab_bins(), extra)))
