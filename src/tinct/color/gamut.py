"""Bring Lab colours into the sRGB gamut by reducing chroma, keeping L and hue.

Clamping RGB channels of an out-of-gamut colour shifts its lightness and hue; colorization must
never change the original L, so we scale ab towards 0 instead. Gray (ab = 0) is always in gamut
for L in [0, 100], so a scale in [0, 1] that brings the colour into gamut always exists; it is
found per pixel by bisection, only for pixels that are out of gamut.
"""

from __future__ import annotations

import torch
from torch import Tensor

from tinct.color.lab import lab_to_linear_rgb

GAMUT_TOLERANCE = 0.0  # L must survive exactly; rounding-level misses only cost chroma
BISECTION_STEPS = 14  # chroma scale resolved to 2**-14, i.e. below 0.01 ab units


def _in_gamut(lightness: Tensor, ab: Tensor) -> Tensor:
    """Boolean ``(*, H, W)``: whether each Lab pixel maps inside linear RGB [0, 1]."""
    linear = lab_to_linear_rgb(torch.cat((lightness, ab), dim=-3))
    inside = (linear >= -GAMUT_TOLERANCE) & (linear <= 1.0 + GAMUT_TOLERANCE)
    return inside.all(dim=-3)


def _largest_in_gamut_scale(lightness: Tensor, ab: Tensor) -> Tensor:
    """Largest s in [0, 1] per pixel of flat ``(N, C, 1, 1)`` inputs with (L, s*ab) in gamut."""
    low = torch.zeros_like(lightness)
    high = torch.ones_like(lightness)
    for _ in range(BISECTION_STEPS):
        middle = (low + high) / 2
        fits = _in_gamut(lightness, ab * middle).unsqueeze(-3)
        low = torch.where(fits, middle, low)
        high = torch.where(fits, high, middle)
    return low


def clip_ab_to_gamut(lightness: Tensor, ab: Tensor) -> Tensor:
    """Scale ab towards gray where (L, ab) falls outside sRGB, keeping L and hue.

    Args:
        lightness: ``(*, 1, H, W)`` L in [0, 100].
        ab: ``(*, 2, H, W)`` chroma, same leading shape.

    Returns:
        ``(*, 2, H, W)`` ab, unchanged where already in gamut.
    """
    if lightness.shape[-3] != 1 or ab.shape[-3] != 2 or lightness.shape[-2:] != ab.shape[-2:]:
        raise ValueError(
            f"expected lightness (*, 1, H, W) and ab (*, 2, H, W), "
            f"got {tuple(lightness.shape)} and {tuple(ab.shape)}"
        )
    lightness = lightness.clamp(0.0, 100.0)
    outside = ~_in_gamut(lightness, ab)
    if not outside.any():
        return ab
    # Gather the out-of-gamut pixels as (N, C, 1, 1) so the bisection touches only them.
    flat_l = lightness.movedim(-3, -1)[outside].view(-1, 1, 1, 1)
    flat_ab = ab.movedim(-3, -1)[outside].view(-1, 2, 1, 1)
    scale = _largest_in_gamut_scale(flat_l, flat_ab)
    result = ab.movedim(-3, -1).clone()
    result[outside] = (flat_ab * scale).view(-1, 2)
    return result.movedim(-1, -3)
