"""Chroma from a model's raw output: ab ``(B, 2, h, w)`` for each output kind."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from tinct.color.lab import lightness_to_gray, rgb_to_lab
from tinct.color.yuv import yuv_to_rgb


def uv_to_ab(uv: Tensor, lightness: Tensor) -> Tensor:
    """ab of the colour with predicted U, V and the luma of the gray input.

    For the gray input Y equals its gray value, so (Y, U, V) -> sRGB (unclipped) -> Lab gives the
    chroma the model meant; the caller recombines it with the original L.

    Args:
        uv: ``(B, 2, h, w)`` BT.601 U and V.
        lightness: ``(B, 1, H, W)`` L in [0, 100] the model saw.
    """
    luma = F.interpolate(lightness_to_gray(lightness), size=uv.shape[-2:], mode="area")
    rgb = yuv_to_rgb(torch.cat((luma, uv), dim=1), clip=False).clamp(0.0, 1.0)
    return rgb_to_lab(rgb)[:, 1:]
