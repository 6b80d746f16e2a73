"""Bring Lab colours into the sRGB gamut by reducing chroma, keeping L and hue.

Clamping RGB channels of an out-of-gamut colour shifts its lightness and hue; colorization must
never change the original L, so we scale ab towards 0 instead. Gray (ab = 0) is always in gamut
for L in [0, 100], so a scale in [0, 1] that brings the colour into gamut always exists. It is
searched per pixel, only for pixels that are out of gamut, to 2**-14 (below 0.01 ab units). A
few pixels take a 4-way search (each round tries 3 evenly spaced scales at once, so seven rounds
of wide tensor operations suffice); many take plain bisection in chunks (the fewest evaluations
per pixel, with temporaries that stay in cache).
"""

from __future__ import annotations

from functools import cache

import torch
from torch import Tensor

from tinct.color.lab import (
    D65_WHITE_XYZ,
    LINEAR_RGB_FROM_XYZ,
    lab_f_inverse,
    lab_planes_to_linear_rgb,
    linear_to_srgb,
)

SEARCH_BITS = 14  # the scale's resolution: 2**-14 of the predicted chroma
FEW_PIXELS = 4096  # up to this many, a 4-way search (7 rounds), else bisection (14 rounds)
SEARCH_CHUNK = 1 << 16  # pixels searched at once
# The table of chroma that is in gamut at every hue: L in steps of 0.5, hues every half degree,
# and a margin of 1 ab unit for the hues between those tried (a test checks millions of colours).
SAFE_CHROMA_L_STEP = 0.5
SAFE_CHROMA_HUE_STEP_DEGREES = 0.5
SAFE_CHROMA_MARGIN = 1.0
_BEYOND_GAMUT_CHROMA = 200.0  # more than any sRGB colour has


def in_gamut(lightness: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """Boolean, same shape as the planes: whether each Lab pixel maps inside linear RGB [0, 1]."""
    inside = None
    for channel in lab_planes_to_linear_rgb(lightness, a, b):
        fits = (channel >= 0.0) & (channel <= 1.0)
        inside = fits if inside is None else inside & fits
    return inside  # type: ignore[return-value]


def largest_in_gamut_scale(lightness: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """Largest s in [0, 1) (to 2**-14) per out-of-gamut pixel of flat ``(N,)`` planes with
    (L, s*a, s*b) in gamut, assuming the scales that fit form an interval from 0 (as for sRGB)."""
    if len(lightness) <= FEW_PIXELS:
        return _search(lightness, a, b, ways=4)
    chunks = zip(*(plane.split(SEARCH_CHUNK) for plane in (lightness, a, b)), strict=True)
    return torch.cat([_search(*chunk, ways=2) for chunk in chunks])


def _search(lightness: Tensor, a: Tensor, b: Tensor, ways: int) -> Tensor:
    """:func:`largest_in_gamut_scale` by a ``ways``-way search (``ways`` a power of 2).

    Y depends on L alone, and X and Z on one chroma axis each, so a round evaluates all
    candidate scales with two inverse transfers and three broadcast multiply-adds.
    """
    dtype, device = lightness.dtype, lightness.device
    f_y = (lightness + 16.0) / 116.0
    # Column j of the XYZ -> RGB matrix: what X, Y, Z add to (R, G, B).
    x_to_rgb, y_to_rgb, z_to_rgb = torch.tensor(LINEAR_RGB_FROM_XYZ, dtype=dtype, device=device).T
    from_y = (lab_f_inverse(f_y) * D65_WHITE_XYZ[1]).view(-1, 1, 1) * y_to_rgb  # (N, 1, 3)
    slope_x = (a / 500.0).view(-1, 1, 1)
    slope_z = (b / -200.0).view(-1, 1, 1)
    f_y = f_y.view(-1, 1, 1)
    steps = torch.arange(1, ways, dtype=dtype, device=device).view(1, -1, 1)
    low = torch.zeros_like(lightness)
    width = 1.0
    for _ in range(SEARCH_BITS // (ways.bit_length() - 1)):
        width /= ways
        scales = low.view(-1, 1, 1) + steps * width  # (N, ways - 1, 1)
        x = lab_f_inverse(f_y + scales * slope_x) * D65_WHITE_XYZ[0]
        z = lab_f_inverse(f_y + scales * slope_z) * D65_WHITE_XYZ[2]
        linear = from_y + x * x_to_rgb + z * z_to_rgb  # (N, ways - 1, 3)
        least, most = linear.aminmax(dim=-1)
        fits = (least >= 0.0) & (most <= 1.0)  # (N, ways - 1)
        if ways == 2:
            low = low + fits[:, 0].to(dtype) * width
            continue
        # Count the candidates that fit before the first that does not.
        fitting = fits.to(torch.uint8).cumprod(dim=-1).sum(dim=-1)
        low = low + fitting.to(dtype) * width
    return low


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


@cache
def safe_chroma_squared() -> Tensor:
    """Squared chroma below which every hue is inside sRGB, per step of L (float32).

    Entry ``i`` holds for all L in ``[i, i + 1] * SAFE_CHROMA_L_STEP``. Pixels whose chroma is
    below it need no gamut search; computed once per process (about 0.1 s).
    """
    lightness = torch.arange(0.0, 100.0 + SAFE_CHROMA_L_STEP / 2, SAFE_CHROMA_L_STEP)
    hues = torch.deg2rad(torch.arange(0.0, 360.0, SAFE_CHROMA_HUE_STEP_DEGREES))
    grid_l = lightness.unsqueeze(1).expand(-1, len(hues)).reshape(-1)
    grid_a = torch.cos(hues).repeat(len(lightness)) * _BEYOND_GAMUT_CHROMA
    grid_b = torch.sin(hues).repeat(len(lightness)) * _BEYOND_GAMUT_CHROMA
    reach = largest_in_gamut_scale(grid_l, grid_a, grid_b).view(len(lightness), -1)
    least = reach.min(dim=1).values * _BEYOND_GAMUT_CHROMA
    between = torch.minimum(least[:-1], least[1:])  # each step of L: the lower of its two ends
    return (between - SAFE_CHROMA_MARGIN).clamp(min=0.0).square()


def clip_planes_to_gamut_(lightness: Tensor, a: Tensor, b: Tensor) -> None:
    """Scale ``a`` and ``b`` in place towards gray where (L, a, b) falls outside sRGB.

    The fast form of :func:`clip_ab_to_gamut` for same-shaped contiguous planes with L in
    [0, 100]: a table of the chroma that is safe at every hue leaves only the few pixels above
    it to the exact test, and only those outside to the search.
    """
    table = safe_chroma_squared()
    flat_l, flat_a, flat_b = lightness.reshape(-1), a.view(-1), b.view(-1)
    step = (flat_l * (1.0 / SAFE_CHROMA_L_STEP)).long().clamp_(0, len(table) - 1)
    suspect = (flat_a * flat_a + flat_b * flat_b > table[step]).nonzero().squeeze(1)
    if not len(suspect):
        return
    suspect_l, suspect_a, suspect_b = (plane[suspect] for plane in (flat_l, flat_a, flat_b))
    outside = (~in_gamut(suspect_l, suspect_a, suspect_b)).nonzero().squeeze(1)
    if not len(outside):
        return
    chosen = suspect[outside]
    scale = largest_in_gamut_scale(suspect_l[outside], suspect_a[outside], suspect_b[outside])
    flat_a[chosen] = suspect_a[outside] * scale
    flat_b[chosen] = suspect_b[outside] * scale
