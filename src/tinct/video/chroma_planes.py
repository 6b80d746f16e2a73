"""Between video planes (Y, U, V uint8, BT.601) and the Lab working grid of the video core.

The Y plane is never converted at full resolution: it is shrunk to the working grid first and
mapped to CIE L through a 256-entry table (for gray input R = G = B = the gray value, so L is a
function of the 8-bit code alone once the colour range is undone). Chroma comes back the other
way at low resolution, (L, ab) -> sRGB -> BT.601 colour differences -> U, V codes, and only the
chroma planes are upsampled.

Colour ranges: ``"tv"`` (limited: Y in 16..235, U and V in 16..240 around 128) and ``"pc"``
(full: all three in 0..255, U and V around 128).
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import torch
from torch import Tensor

from tinct.color.lab import gray_to_lightness, lab_to_rgb
from tinct.color.yuv import U_MAX, V_MAX, YUV_FROM_RGB, yuv_to_rgb

COLOR_RANGES = ("tv", "pc")
# (luma black, luma span, chroma span) of each range; chroma is centred on CHROMA_ZERO.
RANGE_CODES = {"tv": (16.0, 219.0, 224.0), "pc": (0.0, 255.0, 255.0)}
CHROMA_ZERO = 128.0


def check_color_range(color_range: str) -> None:
    """ValueError unless ``color_range`` is ``"tv"`` or ``"pc"``."""
    if color_range not in COLOR_RANGES:
        raise ValueError(f"color_range must be one of {COLOR_RANGES}, got {color_range!r}")


def chroma_plane_size(height: int, width: int) -> tuple[int, int]:
    """(h, w) of the U and V planes of a yuv420p frame of ``height`` x ``width``."""
    return (height + 1) // 2, (width + 1) // 2


@lru_cache(maxsize=len(COLOR_RANGES))
def luma_code_to_lightness(color_range: str = "tv") -> np.ndarray:
    """``(256,)`` float32 table: CIE L in [0, 100] of the gray whose 8-bit luma code is i."""
    check_color_range(color_range)
    black, span, _ = RANGE_CODES[color_range]
    gray = ((torch.arange(256, dtype=torch.float64) - black) / span).clamp(0.0, 1.0)
    return gray_to_lightness(gray.view(1, 256, 1)).view(256).float().numpy()


def luma_to_lightness(luma: np.ndarray, size: tuple[int, int], color_range: str = "tv") -> Tensor:
    """CIE L on the working grid from a full-resolution Y plane.

    Args:
        luma: ``(H, W)`` uint8 Y plane.
        size: (h, w) of the working grid.
        color_range: ``"tv"`` or ``"pc"``.

    Returns:
        ``(1, 1, h, w)`` float32 L in [0, 100].
    """
    small = shrink_luma(luma, size)
    return torch.from_numpy(luma_code_to_lightness(color_range)[small]).view(1, 1, *size)


def shrink_luma(luma: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``(H, W)`` uint8 -> ``size`` = (h, w) uint8 by area averaging (no full-res conversion)."""
    if luma.dtype != np.uint8 or luma.ndim != 2:
        raise ValueError(f"luma must be a (H, W) uint8 array, got {luma.dtype} {luma.shape}")
    if luma.shape == tuple(size):
        return luma
    return cv2.resize(luma, (size[1], size[0]), interpolation=cv2.INTER_AREA)


def lab_to_color_differences(lightness: Tensor, ab: Tensor) -> Tensor:
    """BT.601 (U, V) of the sRGB colour (L, ab), clamped to the sRGB cube.

    Clamping shifts the lightness of out-of-gamut colours, which would be wrong for a still
    image (:func:`tinct.color.gamut.clip_ab_to_gamut` keeps L instead), but here only the colour
    differences are kept and Y comes from the source, so the cheap clamp is enough.

    Args:
        lightness: ``(B, 1, h, w)`` L in [0, 100].
        ab: ``(B, 2, h, w)`` chroma.

    Returns:
        ``(B, 2, h, w)`` analogue U in [-U_MAX, U_MAX] and V in [-V_MAX, V_MAX]; 0 where ab = 0.
    """
    rgb = lab_to_rgb(torch.cat((lightness, ab), dim=1), clip=True)
    matrix = torch.tensor(YUV_FROM_RGB[1:], dtype=rgb.dtype)
    return torch.einsum("ij,bjhw->bihw", matrix, rgb)


def color_differences_to_codes(uv: Tensor, color_range: str = "tv") -> Tensor:
    """Analogue BT.601 (U, V) ``(*, 2, h, w)`` -> float chroma codes (128 = no colour)."""
    check_color_range(color_range)
    span = RANGE_CODES[color_range][2]
    scale = torch.tensor([span / (2 * U_MAX), span / (2 * V_MAX)], dtype=uv.dtype)
    return uv * scale.view(2, 1, 1) + CHROMA_ZERO


def ab_to_chroma_planes(
    lightness: Tensor, ab: Tensor, plane_size: tuple[int, int], color_range: str = "tv"
) -> tuple[np.ndarray, np.ndarray]:
    """U and V planes for chroma ab on the working grid.

    Args:
        lightness: ``(1, 1, h, w)`` L in [0, 100] on the working grid.
        ab: ``(1, 2, h, w)`` chroma on the same grid.
        plane_size: (h, w) of the output planes (see :func:`chroma_plane_size`).
        color_range: ``"tv"`` or ``"pc"``.

    Returns:
        ``(U, V)``, each ``plane_size`` uint8; exactly 128 where ab = 0.
    """
    codes = color_differences_to_codes(lab_to_color_differences(lightness, ab), color_range)
    planes = codes[0].permute(1, 2, 0).contiguous().numpy()
    if planes.shape[:2] != tuple(plane_size):
        size = (plane_size[1], plane_size[0])
        planes = cv2.resize(planes, size, interpolation=cv2.INTER_LINEAR)
    lowest, highest = (16, 240) if color_range == "tv" else (0, 255)
    planes = np.clip(np.rint(planes), lowest, highest).astype(np.uint8)
    return np.ascontiguousarray(planes[..., 0]), np.ascontiguousarray(planes[..., 1])


def planes_to_rgb(
    luma: np.ndarray, u: np.ndarray, v: np.ndarray, color_range: str = "tv"
) -> Tensor:
    """Decode yuv420p planes to sRGB as a player would (chroma upsampled bilinearly).

    Args:
        luma: ``(H, W)`` uint8 Y plane.
        u, v: ``((H+1)//2, (W+1)//2)`` uint8 chroma planes.
        color_range: ``"tv"`` or ``"pc"``.

    Returns:
        ``(3, H, W)`` float32 sRGB in [0, 1].
    """
    check_color_range(color_range)
    black, luma_span, chroma_span = RANGE_CODES[color_range]
    height, width = luma.shape
    chroma = np.stack((u, v), axis=-1).astype(np.float32)
    chroma = cv2.resize(chroma, (width, height), interpolation=cv2.INTER_LINEAR)
    scale = torch.tensor([2 * U_MAX, 2 * V_MAX]).view(2, 1, 1) / chroma_span
    uv = (torch.from_numpy(chroma).permute(2, 0, 1) - CHROMA_ZERO) * scale
    y = (torch.from_numpy(luma).float().unsqueeze(0) - black) / luma_span
    return yuv_to_rgb(torch.cat((y, uv), dim=0), clip=True)
