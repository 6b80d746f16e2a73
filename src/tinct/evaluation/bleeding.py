"""Colour bleeding: chroma error near luminance edges.

Colour bleeds when a model paints one object's colour across its outline onto the next (grass
green climbing up a wall, a red coat leaking onto the sky). Outlines are where lightness jumps,
so bleeding shows as chroma error concentrated next to strong lightness edges. The measure:

- **edge band**: pixels within ``EDGE_BAND`` px (Chebyshev distance) of a pixel whose Sobel
  magnitude of the ground-truth L (:func:`tinct.losses.gradient_prior.gradient_magnitude`, L
  units per pixel: a sharp step of height h gives h / 2) is at least ``EDGE_THRESHOLD`` (5:
  steps of 10 L or more, a visible outline);
- ``edge_chroma_error``: mean Euclidean ab distance between prediction and ground truth over the
  edge band; ``flat_chroma_error``: the same over all other pixels.

A model that bleeds less has a lower ``edge_chroma_error``; comparing it with
``flat_chroma_error`` separates bleeding from colour that is wrong everywhere. The gradient
prior of the surveillance paper (Yao & Xia, *Deep Colorization for Surveillance Images*) targets
exactly this band.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from tinct.color.lab import rgb_to_lab
from tinct.losses.gradient_prior import gradient_magnitude

EDGE_THRESHOLD = 5.0
EDGE_BAND = 2


def edge_band(
    lightness: Tensor, threshold: float = EDGE_THRESHOLD, band: int = EDGE_BAND
) -> Tensor:
    """``(B, 1, H, W)`` bool: pixels within ``band`` px of a strong lightness edge."""
    edges = (gradient_magnitude(lightness) >= threshold).to(lightness.dtype)
    return F.max_pool2d(edges, 2 * band + 1, stride=1, padding=band) > 0


def chroma_error_near_edges(pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """``(edge_chroma_error, flat_chroma_error)``, each ``(B,)``, of sRGB ``(B, 3, H, W)`` images.

    NaN for an image without edge (or without flat) pixels.
    """
    pred_lab, target_lab = rgb_to_lab(pred), rgb_to_lab(target)
    error = torch.linalg.vector_norm(pred_lab[:, 1:] - target_lab[:, 1:], dim=1, keepdim=True)
    near = edge_band(target_lab[:, :1])
    return masked_mean(error, near), masked_mean(error, ~near)


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """``(B,)`` mean of ``(B, 1, H, W)`` values over the ``mask`` pixels; NaN where none."""
    count = mask.sum(dim=(1, 2, 3))
    total = (values * mask).sum(dim=(1, 2, 3))
    return torch.where(count > 0, total / count.clamp(min=1), torch.full_like(total, float("nan")))
