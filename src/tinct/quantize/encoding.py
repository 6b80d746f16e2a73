"""Encode ab maps as bin indices (hard) or as Gaussian-weighted distributions (soft).

The soft target of Zhang et al. 2016: for each pixel, the ``k`` nearest bin centres get weights
``exp(-d**2 / (2 * sigma**2))``, normalised to sum to 1; all other bins get 0.
"""

from __future__ import annotations

import torch
from torch import Tensor

SOFT_NEIGHBOURS = 5
SOFT_SIGMA = 5.0
_PIXELS_PER_CHUNK = 65536  # bounds the (pixels, Q) distance matrix to ~80 MB


def _check_ab_and_bins(ab: Tensor, bins: Tensor) -> None:
    if ab.dim() != 4 or ab.shape[1] != 2:
        raise ValueError(f"ab must have shape (B, 2, H, W), got {tuple(ab.shape)}")
    if bins.dim() != 2 or bins.shape[1] != 2:
        raise ValueError(f"bins must have shape (Q, 2), got {tuple(bins.shape)}")


def nearest_bins(ab: Tensor, bins: Tensor, k: int = 1) -> tuple[Tensor, Tensor]:
    """Indices and distances of the ``k`` nearest bin centres of every pixel.

    Args:
        ab: ``(B, 2, H, W)`` chroma.
        bins: ``(Q, 2)`` bin centres in ab units.
        k: neighbours per pixel, at most Q.

    Returns:
        ``(indices, distances)``, each ``(B, k, H, W)``, nearest first; indices are int64.
    """
    _check_ab_and_bins(ab, bins)
    if not 1 <= k <= bins.shape[0]:
        raise ValueError(f"k must be in [1, {bins.shape[0]}], got {k}")
    batch, _, height, width = ab.shape
    points = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    centres = bins.to(dtype=points.dtype, device=points.device)
    found_d, found_i = [], []
    for chunk in points.split(_PIXELS_PER_CHUNK):
        distances, indices = torch.cdist(chunk, centres).topk(k, dim=1, largest=False)
        found_d.append(distances)
        found_i.append(indices)
    shape = (batch, height, width, k)
    distances = torch.cat(found_d).reshape(shape).permute(0, 3, 1, 2)
    indices = torch.cat(found_i).reshape(shape).permute(0, 3, 1, 2)
    return indices, distances


def _grid_lookup_table(bins: Tensor, step: float) -> tuple[Tensor, int] | None:
    """Table from grid coordinates to bin index (-1 where no bin), if bins lie on the grid."""
    grid = torch.round(bins / step)
    if not torch.allclose(grid * step, bins.to(grid.dtype)):
        return None
    offset = int(grid.abs().max().item()) + 1
    table = torch.full((2 * offset + 1,) * 2, -1, dtype=torch.long, device=bins.device)
    index = (grid + offset).long()
    table[index[:, 0], index[:, 1]] = torch.arange(bins.shape[0], device=bins.device)
    return table, offset


def encode_ab_hard(ab: Tensor, bins: Tensor, grid_step: float = 10.0) -> Tensor:
    """Index of the nearest bin per pixel: ``(B, 2, H, W)`` -> ``(B, H, W)`` int64.

    When the bins lie on a grid of ``grid_step``, a pixel whose nearest grid point is a bin has
    that bin as its nearest one; it is found by table lookup, and only the other pixels (outside
    the bins' reach) are searched exhaustively.
    """
    _check_ab_and_bins(ab, bins)
    lookup = _grid_lookup_table(bins, grid_step)
    if lookup is None:
        return nearest_bins(ab, bins, k=1)[0][:, 0]
    table, offset = lookup
    grid = torch.round(ab / grid_step).long() + offset
    inside = ((grid >= 0) & (grid < table.shape[0])).all(dim=1)
    clamped = grid.clamp(0, table.shape[0] - 1)
    index = torch.where(inside, table[clamped[:, 0], clamped[:, 1]], -1)
    missing = index < 0
    if missing.any():
        far = ab.permute(0, 2, 3, 1)[missing]  # (N, 2)
        index[missing] = torch.cdist(far, bins.to(far.dtype)).argmin(dim=1)
    return index


def encode_ab_soft_sparse(
    ab: Tensor, bins: Tensor, k: int = SOFT_NEIGHBOURS, sigma: float = SOFT_SIGMA
) -> tuple[Tensor, Tensor]:
    """Soft encoding kept sparse: the ``k`` bin indices and their weights per pixel.

    Returns:
        ``(indices, weights)``, each ``(B, k, H, W)``; weights are >= 0 and sum to 1 over k.
        Cheaper than :func:`encode_ab_soft` for a loss: gather ``k`` log-probabilities, not Q.
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    indices, distances = nearest_bins(ab, bins, k)
    # Subtracting the nearest distance keeps the exponent finite far from every bin.
    logits = -(distances**2 - distances[:, :1] ** 2) / (2 * sigma**2)
    return indices, torch.softmax(logits, dim=1)


def encode_ab_soft(
    ab: Tensor, bins: Tensor, k: int = SOFT_NEIGHBOURS, sigma: float = SOFT_SIGMA
) -> Tensor:
    """Soft target distribution over bins: ``(B, 2, H, W)`` -> ``(B, Q, H, W)``, sums to 1."""
    indices, weights = encode_ab_soft_sparse(ab, bins, k, sigma)
    batch, _, height, width = ab.shape
    target = torch.zeros(batch, bins.shape[0], height, width, dtype=weights.dtype, device=ab.device)
    return target.scatter_(1, indices, weights)
