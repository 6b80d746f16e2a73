"""The ab bins of the classification models: a grid of step 10 kept where sRGB colours reach.

Rule: a grid point (a, b), a and b multiples of ``AB_GRID_STEP``, is a bin when some 8-bit sRGB
colour has its ab within one grid step of it in both coordinates (Chebyshev distance <= 10).

Why one step of reach rather than "nearest grid point of some colour": soft encoding spreads
every ground-truth colour over its nearest bins, and the four grid corners around any sRGB
colour must all be bins, or colours near the gamut boundary would be encoded lopsidedly and
decode pulled towards gray. The rule gives 309 bins; 309 of the 313 bins of Zhang et al.
(``pts_in_hull.npy``) are among them (98.7%) and none are extra. The four reference bins it lacks
are (40, 90), (100, -90), (100, -10) and (100, 0), each more than 10 units from every sRGB colour.

The bins are derived once by :func:`derive_gamut_ab_bins` (a few seconds) and frozen in
``data/gamut_ab_bins.npy``; a test re-derives them. Order: ascending a, then ascending b.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np
import torch
from torch import Tensor

from tinct.color.lab import rgb_to_lab

AB_GRID_STEP = 10.0
AB_GRID_LIMIT = 130.0  # every sRGB ab lies within +-128; the grid covers that with margin
GAMUT_REACH = 10.0
BINS_FILE = "gamut_ab_bins.npy"


def _all_srgb8_ab(chunk_reds: int = 16) -> Tensor:
    """ab of all 256**3 8-bit sRGB colours, float64 ``(N, 2)``, computed in chunks of red values."""
    levels = torch.arange(256, dtype=torch.float64) / 255.0
    chunks = []
    for start in range(0, 256, chunk_reds):
        r, g, b = torch.meshgrid(levels[start : start + chunk_reds], levels, levels, indexing="ij")
        rgb = torch.stack((r, g, b)).reshape(3, 1, -1)
        chunks.append(rgb_to_lab(rgb)[1:].reshape(2, -1).T)
    return torch.cat(chunks)


def derive_gamut_ab_bins(step: float = AB_GRID_STEP, reach: float = GAMUT_REACH) -> Tensor:
    """Derive the ab bins from the sRGB gamut (see the module docstring for the rule).

    Returns:
        ``(Q, 2)`` float32 bin centres, sorted by a then b.
    """
    ab = _all_srgb8_ab()
    size = int(2 * AB_GRID_LIMIT / step) + 1
    occupied = torch.zeros(size, size, dtype=torch.bool)
    low = torch.ceil((ab - reach) / step).long()  # first grid index within reach, per axis
    high = torch.floor((ab + reach) / step).long()
    offset = int(AB_GRID_LIMIT / step)
    span = int(2 * reach / step) + 1
    for da in range(span):
        for db in range(span):
            index = low + torch.tensor([da, db])
            valid = (index <= high).all(dim=1)
            occupied[index[valid, 0] + offset, index[valid, 1] + offset] = True
    grid_index = occupied.nonzero()  # row-major order: ascending a, then b
    return ((grid_index - offset).double() * step).float()


@cache
def _packaged_bins() -> np.ndarray:
    with resources.files("tinct.quantize").joinpath("data", BINS_FILE).open("rb") as handle:
        return np.load(handle)


def gamut_ab_bins() -> Tensor:
    """The frozen default ab bins: ``(309, 2)`` float32, sorted by a then b."""
    return torch.from_numpy(_packaged_bins().astype(np.float32))
