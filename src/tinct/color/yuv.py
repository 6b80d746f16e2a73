"""sRGB <-> YUV (analogue BT.601, as used by the regression models of the VGG16 paper).

Y in [0, 1], U in [-U_MAX, U_MAX], V in [-V_MAX, V_MAX]. The matrix is the one scikit-image uses.
"""

from __future__ import annotations

import torch
from torch import Tensor

from tinct.color.lab import _apply_matrix, _check_channels

YUV_FROM_RGB = (
    (0.299, 0.587, 0.114),
    (-0.14714119, -0.28886916, 0.43601035),
    (0.61497538, -0.51496512, -0.10001026),
)
U_MAX = 0.43601035
V_MAX = 0.61497538


def rgb_to_yuv(rgb: Tensor) -> Tensor:
    """``(*, 3, H, W)`` sRGB in [0, 1] -> ``(*, 3, H, W)`` YUV (Y in [0, 1], U, V signed)."""
    _check_channels(rgb, "rgb")
    return _apply_matrix(rgb, torch.tensor(YUV_FROM_RGB, dtype=rgb.dtype, device=rgb.device))


def yuv_to_rgb(yuv: Tensor, clip: bool = True) -> Tensor:
    """``(*, 3, H, W)`` YUV -> sRGB, clamped to [0, 1] when ``clip``."""
    _check_channels(yuv, "yuv")
    inverse = torch.linalg.inv(torch.tensor(YUV_FROM_RGB, dtype=torch.float64))
    rgb = _apply_matrix(yuv, inverse.to(dtype=yuv.dtype, device=yuv.device))
    return rgb.clamp(0.0, 1.0) if clip else rgb
