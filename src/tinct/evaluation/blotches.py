"""Colour blotches: chroma variation inside regions of flat lightness.

A flat backdrop or a sky has one colour, or one that changes slowly. A model that paints it in
soft patches (green here, beige there) leaves no lightness edge between them, so the patches
show as chroma that varies where lightness does not. The measure:

- **flat pixels**: those farther than ``FLAT_BAND`` px from any pixel whose Sobel magnitude of
  the ground-truth L (:func:`tinct.losses.gradient_prior.gradient_magnitude`, L units per pixel)
  is at least ``FLAT_GRADIENT`` (1: a ramp of 1 L per pixel, well under any visible outline, but
  above the grain of a JPEG sky); computed with :func:`tinct.evaluation.bleeding.edge_band`;
- **local chroma std** at a flat pixel: ``sqrt(var(a) + var(b))`` (ab units) over the flat
  pixels of the ``(2 * FLAT_WINDOW_RADIUS + 1)``-px square around it;
- ``flat_chroma_std``: its mean over the flat pixels of an image (``flat_chroma_std_gt``: the
  same of the ground truth, over the same pixels).

A model whose flat areas are blotchier than the photo's scores above the ground truth. The
window is large (31 px of a 256 px crop) because blotches are: they come from chroma predicted
at 1/4 of the working side, so a 7 px window sees mostly JPEG chroma grain, which the truth has
and the prediction lacks. Not the same as ``flat_chroma_error`` (:mod:`bleeding`), which is the
error against the truth away from edges: a uniformly wrong colour has a large
``flat_chroma_error`` and no blotches.
"""

from __future__ import annotations

import torch
from torch import Tensor

from tinct.color.lab import rgb_to_lab
from tinct.evaluation.bleeding import edge_band, masked_mean

FLAT_GRADIENT = 1.0  # L units per pixel
FLAT_BAND = 1  # px kept away from non-flat pixels
FLAT_WINDOW_RADIUS = 15  # px: windows of 31 x 31


def flat_lightness_mask(lightness: Tensor) -> Tensor:
    """``(B, 1, H, W)`` bool: pixels of flat lightness (see the module docstring).

    Args:
        lightness: ``(B, 1, H, W)`` L in [0, 100].
    """
    return ~edge_band(lightness, threshold=FLAT_GRADIENT, band=FLAT_BAND)


def box_mean(values: Tensor, radius: int) -> Tensor:
    """Mean over the ``(2 * radius + 1)``-px square around each pixel, of the part inside the
    image: ``(B, C, H, W)`` -> ``(B, C, H, W)`` (cumulative sums, cost independent of radius)."""
    return _box_mean_along(_box_mean_along(values, -1, radius), -2, radius)


def _box_mean_along(values: Tensor, dim: int, radius: int) -> Tensor:
    size = values.shape[dim]
    sums = torch.cumsum(values, dim)
    sums = torch.cat((torch.zeros_like(sums.narrow(dim, 0, 1)), sums), dim)
    index = torch.arange(size, device=values.device)
    high, low = (index + radius + 1).clamp(max=size), (index - radius).clamp(min=0)
    total = sums.index_select(dim, high) - sums.index_select(dim, low)
    shape = [1] * values.dim()
    shape[dim] = size
    return total / (high - low).to(values.dtype).view(shape)


def local_chroma_std(ab: Tensor, mask: Tensor, radius: int = FLAT_WINDOW_RADIUS) -> Tensor:
    """``sqrt(var(a) + var(b))`` over the ``mask`` pixels of each pixel's window.

    Args:
        ab: ``(B, 2, H, W)`` chroma, ab units.
        mask: ``(B, 1, H, W)`` bool: the pixels that count.
        radius: half the window side, px.

    Returns:
        ``(B, 1, H, W)`` ab units; 0 where a window holds no mask pixel.
    """
    weight = mask.to(ab.dtype)
    count = box_mean(weight, radius).clamp(min=1e-12)
    mean = box_mean(ab * weight, radius) / count
    variance = box_mean(ab * ab * weight, radius) / count - mean * mean
    return variance.clamp(min=0).sum(dim=1, keepdim=True).sqrt() * (count > 1e-9)


def flat_chroma_std(pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """``(flat_chroma_std, flat_chroma_std_gt)``, each ``(B,)`` ab units, of sRGB images.

    Args:
        pred: ``(B, 3, H, W)`` sRGB in [0, 1], the colorized image.
        target: ``(B, 3, H, W)`` sRGB in [0, 1], the ground truth; its lightness says which
            pixels are flat.

    Returns:
        the mean local chroma std over the flat pixels of the prediction and of the truth; NaN
        for an image without flat pixels.
    """
    if pred.shape != target.shape or pred.dim() != 4 or pred.shape[1] != 3:
        raise ValueError(
            f"pred and target must both be (B, 3, H, W), got {tuple(pred.shape)} and "
            f"{tuple(target.shape)}"
        )
    pred_lab, target_lab = rgb_to_lab(pred), rgb_to_lab(target)
    flat = flat_lightness_mask(target_lab[:, :1])
    return (
        masked_mean(local_chroma_std(pred_lab[:, 1:], flat), flat),
        masked_mean(local_chroma_std(target_lab[:, 1:], flat), flat),
    )
