"""Hint maps: ``(B, 3, H, W)`` tensors holding a, b (ab units) where a hint is, then its mask."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def resize_hint_map(hints: Tensor, size: tuple[int, int]) -> Tensor:
    """Resize a hint map so that no hint is lost or smeared into a wrong colour.

    Each output cell holds the mask-weighted mean colour of the hints that fall in it and a mask
    of 1 if any does (plain bilinear resizing would blend hint colours with the zeros around them).

    Args:
        hints: ``(B, 3, H, W)``; channels a, b (ab units, valid where mask is 1) and mask in {0, 1}.
        size: (h, w) of the result.

    Returns:
        ``(B, 3, h, w)`` hint map.
    """
    if hints.dim() != 4 or hints.shape[1] != 3:
        raise ValueError(f"hints must have shape (B, 3, H, W), got {tuple(hints.shape)}")
    if tuple(hints.shape[-2:]) == tuple(size):
        return hints
    mask = hints[:, 2:]
    density = F.adaptive_avg_pool2d(mask, size)
    mean_ab = F.adaptive_avg_pool2d(hints[:, :2] * mask, size) / density.clamp(min=1e-6)
    present = (density > 0).to(hints.dtype)
    return torch.cat((mean_ab * present, present), dim=1)
