"""Recombine the original full-resolution lightness with predicted (low-resolution) chroma."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from tinct.color.gamut import clip_ab_to_gamut
from tinct.color.lab import lab_to_rgb


def upsample_ab(ab: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinearly resize ``(B, 2, h, w)`` chroma to ``size`` = (H, W)."""
    if tuple(ab.shape[-2:]) == tuple(size):
        return ab
    return F.interpolate(ab, size=size, mode="bilinear", align_corners=False)


def recombine_lightness_ab(lightness: Tensor, ab: Tensor) -> Tensor:
    """Colour image from the original L and predicted ab, never altering L.

    Chroma is predicted at a working resolution; here it is upsampled to the size of the original
    lightness, reduced in chroma where needed to stay in the sRGB gamut, and converted to sRGB.

    Args:
        lightness: ``(B, 1, H, W)`` L in [0, 100] at full resolution.
        ab: ``(B, 2, h, w)`` chroma in about [-110, 110], any resolution.

    Returns:
        ``(B, 3, H, W)`` sRGB in [0, 1].
    """
    if lightness.dim() != 4 or ab.dim() != 4 or lightness.shape[0] != ab.shape[0]:
        raise ValueError(
            f"expected lightness (B, 1, H, W) and ab (B, 2, h, w), "
            f"got {tuple(lightness.shape)} and {tuple(ab.shape)}"
        )
    full_ab = upsample_ab(ab.to(lightness.dtype), tuple(lightness.shape[-2:]))
    full_ab = clip_ab_to_gamut(lightness, full_ab)
    return lab_to_rgb(torch.cat((lightness, full_ab), dim=1))
