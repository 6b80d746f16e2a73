"""Hint maps: the tensor form of user guidance that models take.

A hint map is ``(B, 4, H, W)`` float:

- channels 0, 1: a and b of the hint colour, in ab units, where the mask is 1 (0 elsewhere);
- channel 2: hint mask in {0, 1};
- channel 3: colour-boundary map in {0, 1}: 1 on lines the user drew that colour must not cross.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

HINT_CHANNELS = 4
HINT_AB_SCALE = 110.0  # ab units -> about [-1, 1] for a network


def empty_hint_map(batch: int, height: int, width: int, like: Tensor) -> Tensor:
    """All-zero hint map (no hints, no boundaries) with the dtype and device of ``like``."""
    return like.new_zeros(batch, HINT_CHANNELS, height, width)


def check_hint_map(hints: Tensor, size: tuple[int, int] | None = None) -> None:
    """ValueError unless ``hints`` is ``(B, 4, H, W)`` (and of spatial ``size`` when given)."""
    if hints.dim() != 4 or hints.shape[1] != HINT_CHANNELS:
        raise ValueError(
            f"hints must have shape (B, {HINT_CHANNELS}, H, W), got {tuple(hints.shape)}"
        )
    if size is not None and tuple(hints.shape[-2:]) != tuple(size):
        raise ValueError(
            f"hints must have spatial size {tuple(size)}, got {tuple(hints.shape[-2:])}"
        )


def resize_hint_map(hints: Tensor, size: tuple[int, int]) -> Tensor:
    """Resize a hint map so that no hint or boundary is lost or smeared into a wrong colour.

    Each output cell holds the mask-weighted mean colour of the hints that fall in it and a mask
    of 1 if any does (bilinear resizing would blend hint colours with the zeros around them);
    the boundary channel is 1 where any boundary pixel falls in the cell.

    Args:
        hints: ``(B, 4, H, W)`` hint map (see the module docstring).
        size: (h, w) of the result.

    Returns:
        ``(B, 4, h, w)`` hint map.
    """
    check_hint_map(hints)
    if tuple(hints.shape[-2:]) == tuple(size):
        return hints
    mask = hints[:, 2:3]
    density = F.adaptive_avg_pool2d(mask, size)
    mean_ab = F.adaptive_avg_pool2d(hints[:, :2] * mask, size) / density.clamp(min=1e-6)
    present = (density > 0).to(hints.dtype)
    boundary = (F.adaptive_avg_pool2d(hints[:, 3:], size) > 0).to(hints.dtype)
    return torch.cat((mean_ab * present, present, boundary), dim=1)


def hint_features(hints: Tensor, size: tuple[int, int]) -> Tensor:
    """A hint map resized to a feature grid, as networks take it: ab / 110, mask, boundary.

    Args:
        hints: ``(B, 4, H, W)`` hint map.
        size: (h, w) of the feature map.

    Returns:
        ``(B, 4, h, w)`` with ab scaled to about [-1, 1].
    """
    resized = resize_hint_map(hints, size)
    return torch.cat((resized[:, :2] / HINT_AB_SCALE, resized[:, 2:]), dim=1)
