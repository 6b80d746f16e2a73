"""Bring Lab colours into the sRGB gamut by reducing chroma, keeping L and hue.

Clamping RGB channels of an out-of-gamut colour shifts its lightness and hue; colorization must
never change the original L, so we scale ab towards 0 instead. Gray (ab = 0) is always in gamut
for L in [0, 100], so a scale in [0, 1] that brings the colour into gamut always exists. It is
searched per pixel, only for pixels that are out of gamut, until the chroma is known to 0.005
ab units. A few pixels take a 4-way search (each round tries 3 evenly spaced scales at once, so
half as many rounds of wide tensor operations suffice); many take plain bisection in chunks (the
fewest evaluations per pixel, with temporaries that stay in cache). Callers that know
bounds on the scale (:mod:`tinct.color.gamut_tables`) narrow the search to them.
"""

from __future__ import annotations

import torch
from torch import Tensor

from tinct.color.lab import (
    D65_WHITE_XYZ,
    LINEAR_RGB_FROM_XYZ,
    lab_f_inverse,
    lab_planes_to_linear_rgb,
    linear_to_srgb,
)

SEARCH_RESOLUTION = 0.005  # ab units: the search stops when the chroma is known this closely
FEW_PIXELS = 4096  # up to this many, a 4-way search (fewer rounds), else bisection
SEARCH_CHUNK = 1 << 16  # pixels searched at once


def in_gamut(lightness: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """Boolean, same shape as the planes: whether each Lab pixel maps inside linear RGB [0, 1]."""
    inside = None
    for channel in lab_planes_to_linear_rgb(lightness, a, b):
        fits = (channel >= 0.0) & (channel <= 1.0)
        inside = fits if inside is None else inside & fits
    return inside  # type: ignore[return-value]


def largest_in_gamut_scale(
    lightness: Tensor, a: Tensor, b: Tensor, low: Tensor | None = None, high: Tensor | None = None
) -> Tensor:
    """Largest s in [0, 1) per out-of-gamut pixel of flat ``(N,)`` planes with (L, s*a, s*b) in
    gamut, to 0.005 ab units of chroma, assuming the scales that fit form an interval from 0 (as
    for sRGB).

    Args:
        low, high: per-pixel bounds with ``low`` in gamut and the answer below ``high``
            (default 0 and 1).
    """
    low = torch.zeros_like(lightness) if low is None else low
    high = torch.ones_like(lightness) if high is None else high
    if len(lightness) <= FEW_PIXELS:
        return _search(lightness, a, b, low, high - low, ways=4)
    planes = (lightness, a, b, low, high - low)
    chunks = zip(*(plane.split(SEARCH_CHUNK) for plane in planes), strict=True)
    return torch.cat([_search(*chunk, ways=2) for chunk in chunks])


def _search(
    lightness: Tensor, a: Tensor, b: Tensor, low: Tensor, width: Tensor, ways: int
) -> Tensor:
    """:func:`largest_in_gamut_scale` by a ``ways``-way search (``ways`` a power of 2) of the
    scales ``[low, low + width)``.

    Y depends on L alone, and X and Z on one chroma axis each, so a round evaluates all
    candidate scales with two inverse transfers and, per RGB channel, two multiply-adds on
    ``(N, ways - 1)`` planes (not a stacked last axis of 3, whose reductions cost several
    times more: :func:`_fits_in_gamut`).
    """
    if not len(lightness):
        return low
    dtype, device = lightness.dtype, lightness.device
    # Halvings each pixel needs, even so that the 4-way search (two per round) lands on the
    # same grid as bisection: a pixel's answer does not depend on the others searched with it.
    span = (width * torch.sqrt(a * a + b * b)).clamp(min=SEARCH_RESOLUTION) / SEARCH_RESOLUTION
    halvings = 2 * torch.ceil(torch.log2(span) / 2)
    per_round = ways.bit_length() - 1
    f_y = (lightness + 16.0) / 116.0
    rgb_from_xyz = torch.tensor(LINEAR_RGB_FROM_XYZ, dtype=dtype, device=device)
    y = (lab_f_inverse(f_y) * D65_WHITE_XYZ[1]).view(-1, 1)
    from_y = [y * rgb_from_xyz[channel, 1] for channel in range(3)]  # (N, 1) each
    slope_x = (a / 500.0).view(-1, 1)
    slope_z = (b / -200.0).view(-1, 1)
    f_y = f_y.view(-1, 1)
    steps = torch.arange(1, ways, dtype=dtype, device=device).view(1, -1)
    for done in range(0, int(halvings.max()), per_round):
        width = width / ways
        scales = low.view(-1, 1) + steps * width.view(-1, 1)  # (N, ways - 1)
        x = lab_f_inverse(f_y + scales * slope_x) * D65_WHITE_XYZ[0]
        z = lab_f_inverse(f_y + scales * slope_z) * D65_WHITE_XYZ[2]
        fits = _fits_in_gamut(x, z, from_y, rgb_from_xyz)  # (N, ways - 1)
        # Count the candidates that fit before the first that does not.
        fitting = fits[:, 0] if ways == 2 else fits.to(torch.uint8).cumprod(dim=-1).sum(dim=-1)
        low = low + fitting.to(dtype) * width * (halvings > done).to(dtype)
    return low


def _fits_in_gamut(x: Tensor, z: Tensor, from_y: list[Tensor], rgb_from_xyz: Tensor) -> Tensor:
    """Whether linear R, G and B of XYZ (``x``, ``z`` and each channel's share of Y, ``from_y``)
    all lie in [0, 1]; each channel summed as ``Y share + X share + Z share``."""
    red, green, blue = (
        y_share + x * rgb_from_xyz[channel, 0] + z * rgb_from_xyz[channel, 2]
        for channel, y_share in enumerate(from_y)
    )
    least = torch.minimum(torch.minimum(red, green), blue)
    most = torch.maximum(torch.maximum(red, green), blue)
    return (least >= 0.0) & (most <= 1.0)


def _scaled_chroma_outside(lightness: Tensor, ab: Tensor, outside: Tensor) -> tuple[Tensor, Tensor]:
    """L ``(N,)`` and in-gamut ab ``(N, 2)`` of the pixels where ``outside`` (``(*, H, W)``)."""
    flat_l = lightness.movedim(-3, -1)[outside][:, 0]
    flat_ab = ab.movedim(-3, -1)[outside]
    scale = largest_in_gamut_scale(flat_l, flat_ab[:, 0], flat_ab[:, 1])
    return flat_l, flat_ab * scale.unsqueeze(-1)


def _check_shapes(lightness: Tensor, ab: Tensor) -> None:
    if lightness.shape[-3] != 1 or ab.shape[-3] != 2 or lightness.shape[-2:] != ab.shape[-2:]:
        raise ValueError(
            f"expected lightness (*, 1, H, W) and ab (*, 2, H, W), "
            f"got {tuple(lightness.shape)} and {tuple(ab.shape)}"
        )


def clip_ab_to_gamut(lightness: Tensor, ab: Tensor) -> Tensor:
    """Scale ab towards gray where (L, ab) falls outside sRGB, keeping L and hue.

    Args:
        lightness: ``(*, 1, H, W)`` L in [0, 100].
        ab: ``(*, 2, H, W)`` chroma, same leading shape.

    Returns:
        ``(*, 2, H, W)`` ab, unchanged where already in gamut.
    """
    _check_shapes(lightness, ab)
    lightness = lightness.clamp(0.0, 100.0)
    outside = ~in_gamut(lightness[..., 0, :, :], ab[..., 0, :, :], ab[..., 1, :, :])
    if not bool(outside.any()):
        return ab
    result = ab.movedim(-3, -1).clone()
    result[outside] = _scaled_chroma_outside(lightness, ab, outside)[1]
    return result.movedim(-1, -3)


def lab_to_rgb_in_gamut(lightness: Tensor, ab: Tensor) -> Tensor:
    """sRGB of (L, ab) with out-of-gamut chroma reduced first: the same as
    ``lab_to_rgb(cat(L, clip_ab_to_gamut(L, ab)))``, converting in-gamut pixels only once.

    Args:
        lightness: ``(*, 1, H, W)`` L in [0, 100] (clamped to it).
        ab: ``(*, 2, H, W)`` chroma, same leading shape.

    Returns:
        ``(*, 3, H, W)`` sRGB in [0, 1].
    """
    _check_shapes(lightness, ab)
    lightness = lightness.clamp(0.0, 100.0)
    planes = lab_planes_to_linear_rgb(lightness[..., 0, :, :], ab[..., 0, :, :], ab[..., 1, :, :])
    linear = torch.stack(planes, dim=-3)
    outside = ((linear < 0.0) | (linear > 1.0)).any(dim=-3)
    if bool(outside.any()):
        flat_l, flat_ab = _scaled_chroma_outside(lightness, ab, outside)
        fixed = lab_planes_to_linear_rgb(flat_l, flat_ab[:, 0], flat_ab[:, 1])
        linear.movedim(-3, -1)[outside] = torch.stack(fixed, dim=-1)
    return linear_to_srgb(linear).clamp_(0.0, 1.0)
