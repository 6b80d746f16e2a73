"""Resizing and cropping of ``(*, C, H, W)`` tensors (no I/O)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def fit_within(height: int, width: int, max_side: int) -> tuple[int, int]:
    """Size keeping the aspect ratio, longer side at most ``max_side`` (never enlarges)."""
    if max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    scale = min(1.0, max_side / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize(image: Tensor, size: tuple[int, int]) -> Tensor:
    """Antialiased bilinear resize of ``(C, H, W)`` or ``(B, C, H, W)`` to ``size`` = (H, W)."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    batched = image if image.dim() == 4 else image.unsqueeze(0)
    resized = F.interpolate(
        batched, size=size, mode="bilinear", align_corners=False, antialias=True
    )
    return resized if image.dim() == 4 else resized.squeeze(0)


def resize_to_fit(image: Tensor, max_side: int) -> Tensor:
    """Shrink ``(*, C, H, W)`` so that its longer side is at most ``max_side``."""
    return resize(image, fit_within(image.shape[-2], image.shape[-1], max_side))


def shrink_to_short_side(image: Tensor, short_side: int) -> Tensor:
    """Shrink ``(*, C, H, W)`` so that its shorter side is ``short_side`` (never enlarges)."""
    if short_side < 1:
        raise ValueError(f"short_side must be >= 1, got {short_side}")
    height, width = image.shape[-2:]
    scale = short_side / min(height, width)
    if scale >= 1:
        return image
    return resize(image, (max(1, round(height * scale)), max(1, round(width * scale))))


def center_crop(rgb: Tensor, size: int) -> Tensor:
    """Resize the short side to ``size`` and take the central square."""
    height, width = rgb.shape[-2:]
    scale = size / min(height, width)
    rgb = resize(rgb, (max(size, round(height * scale)), max(size, round(width * scale))))
    top, left = (rgb.shape[-2] - size) // 2, (rgb.shape[-1] - size) // 2
    return rgb[:, top : top + size, left : left + size]
