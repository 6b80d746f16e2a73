"""Turn a model's raw output into ab, whatever kind of output its spec declares."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from tinct.color.lab import lightness_to_gray, rgb_to_lab
from tinct.color.yuv import yuv_to_rgb
from tinct.models.registry import OUTPUT_AB_BINS, OUTPUT_UV, OUTPUT_UV_BINS
from tinct.quantize.decoding import decode_annealed_mean
from tinct.quantize.uv_bins import decode_uv_logits


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


def output_to_ab(
    output_kind: str, prediction: Tensor, lightness: Tensor, bins: Tensor, temperature: float
) -> Tensor:
    """``(B, 2, h, w)`` ab from a model output of kind ``output_kind`` (see the registry)."""
    if output_kind == OUTPUT_AB_BINS:
        return decode_annealed_mean(prediction, bins, temperature)
    if output_kind == OUTPUT_UV_BINS:
        return uv_to_ab(decode_uv_logits(prediction, temperature), lightness)
    if output_kind == OUTPUT_UV:
        return uv_to_ab(prediction, lightness)
    raise ValueError(f"unknown model output kind {output_kind!r}")
