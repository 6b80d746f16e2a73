"""Lay out predictions as a grid: one row per image, columns gray / models... / ground truth."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

GAP = 4  # white pixels between cells


def _fit(image: Tensor, size: int) -> Tensor:
    """Resize ``(3, H, W)`` so it fits a ``size`` square, centred on white."""
    scale = size / max(image.shape[-2:])
    height, width = max(1, round(image.shape[-2] * scale)), max(1, round(image.shape[-1] * scale))
    small = F.interpolate(image[None], size=(height, width), mode="bilinear", antialias=True)[0]
    cell = torch.ones(3, size, size)
    top, left = (size - height) // 2, (size - width) // 2
    cell[:, top : top + height, left : left + width] = small.clamp(0, 1)
    return cell


def contact_sheet(rows: list[list[Tensor]], cell: int = 192) -> Tensor:
    """``(3, H, W)`` grid of ``rows`` (each a list of ``(3, h, w)`` images), white gaps."""
    if not rows or not rows[0]:
        raise ValueError("contact_sheet needs at least one row with one image")
    columns = max(len(r) for r in rows)
    sheet = torch.ones(3, len(rows) * (cell + GAP) + GAP, columns * (cell + GAP) + GAP)
    for i, row in enumerate(rows):
        for j, image in enumerate(row):
            top, left = GAP + i * (cell + GAP), GAP + j * (cell + GAP)
            sheet[:, top : top + cell, left : left + cell] = _fit(image, cell)
    return sheet
