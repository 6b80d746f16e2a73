"""sRGB <-> CIE Lab (D65, 2 degree observer) as pure functions on ``(*, 3, H, W)`` tensors.

Constants follow IEC 61966-2-1 (sRGB) and CIE 15, with the same matrix, white point and
piecewise constants as scikit-image, so that values agree with it to within 1e-4.
"""

from __future__ import annotations

import torch
from torch import Tensor

# Linear sRGB -> XYZ (D65); rows give X, Y, Z.
XYZ_FROM_LINEAR_RGB = (
    (0.412453, 0.357580, 0.180423),
    (0.212671, 0.715160, 0.072169),
    (0.019334, 0.119193, 0.950227),
)
D65_WHITE_XYZ = (0.95047, 1.0, 1.08883)

# The CIE f(t) function is cube root above EPSILON and linear below it.
LAB_EPSILON = 0.008856
LAB_LINEAR_SLOPE = 7.787
LAB_OFFSET = 16.0 / 116.0
# f^-1 switches at f(EPSILON), which is 0.2068966 (= 6/29).
LAB_INVERSE_THRESHOLD = 0.2068966

L_MAX = 100.0


def _check_channels(image: Tensor, name: str) -> None:
    if not isinstance(image, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(image).__name__}")
    if image.dim() < 3 or image.shape[-3] != 3:
        raise ValueError(f"{name} must have shape (*, 3, H, W), got {tuple(image.shape)}")
    if not image.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {image.dtype}")


def _apply_matrix(image: Tensor, matrix: Tensor) -> Tensor:
    """Multiply the channel dimension of ``(*, 3, H, W)`` by a 3x3 matrix."""
    return torch.einsum("ij,...jhw->...ihw", matrix, image)


def srgb_to_linear(rgb: Tensor) -> Tensor:
    """Undo the sRGB transfer curve. Input and output in [0, 1]."""
    return torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055).clamp(min=0) ** 2.4, rgb / 12.92)


def linear_to_srgb(linear: Tensor) -> Tensor:
    """Apply the sRGB transfer curve. Values outside [0, 1] are extrapolated, not clipped."""
    curved = 1.055 * linear.clamp(min=0.0031308) ** (1 / 2.4) - 0.055
    return torch.where(linear > 0.0031308, curved, linear * 12.92)


def _lab_f(t: Tensor) -> Tensor:
    return torch.where(
        t > LAB_EPSILON, t.clamp(min=LAB_EPSILON) ** (1 / 3), LAB_LINEAR_SLOPE * t + LAB_OFFSET
    )


def _lab_f_inverse(f: Tensor) -> Tensor:
    return torch.where(f > LAB_INVERSE_THRESHOLD, f**3, (f - LAB_OFFSET) / LAB_LINEAR_SLOPE)


def rgb_to_lab(rgb: Tensor) -> Tensor:
    """Convert sRGB to CIE Lab (D65).

    Args:
        rgb: ``(*, 3, H, W)`` float sRGB in [0, 1].

    Returns:
        ``(*, 3, H, W)`` Lab: L in [0, 100], a and b roughly in [-110, 110].
    """
    _check_channels(rgb, "rgb")
    matrix = torch.tensor(XYZ_FROM_LINEAR_RGB, dtype=rgb.dtype, device=rgb.device)
    white = torch.tensor(D65_WHITE_XYZ, dtype=rgb.dtype, device=rgb.device).view(3, 1, 1)
    xyz = _apply_matrix(srgb_to_linear(rgb), matrix) / white
    fx, fy, fz = _lab_f(xyz).unbind(dim=-3)
    lightness = 116.0 * fy - 16.0
    return torch.stack((lightness, 500.0 * (fx - fy), 200.0 * (fy - fz)), dim=-3)


def lab_to_linear_rgb(lab: Tensor) -> Tensor:
    """Convert CIE Lab (D65) to linear RGB without clipping (out of gamut leaves [0, 1])."""
    _check_channels(lab, "lab")
    lightness, a, b = lab.unbind(dim=-3)
    fy = (lightness + 16.0) / 116.0
    f = torch.stack((fy + a / 500.0, fy, fy - b / 200.0), dim=-3)
    white = torch.tensor(D65_WHITE_XYZ, dtype=lab.dtype, device=lab.device).view(3, 1, 1)
    xyz = _lab_f_inverse(f) * white
    matrix = torch.linalg.inv(torch.tensor(XYZ_FROM_LINEAR_RGB, dtype=torch.float64))
    return _apply_matrix(xyz, matrix.to(dtype=lab.dtype, device=lab.device))


def lab_to_rgb(lab: Tensor, clip: bool = True) -> Tensor:
    """Convert CIE Lab (D65) to sRGB.

    Args:
        lab: ``(*, 3, H, W)`` with L in [0, 100] and ab in about [-110, 110].
        clip: clamp the result to [0, 1]. Use :func:`tinct.color.gamut.clip_ab_to_gamut` first
            to bring colours into gamut by reducing chroma instead of clamping channels.

    Returns:
        ``(*, 3, H, W)`` sRGB, in [0, 1] when ``clip``.
    """
    rgb = linear_to_srgb(lab_to_linear_rgb(lab))
    return rgb.clamp(0.0, 1.0) if clip else rgb


def rgb_to_lightness(rgb: Tensor) -> Tensor:
    """CIE L of an sRGB image: ``(*, 3, H, W)`` in [0, 1] -> ``(*, 1, H, W)`` in [0, 100]."""
    return rgb_to_lab(rgb)[..., :1, :, :]


def gray_to_lightness(gray: Tensor) -> Tensor:
    """CIE L of a gray sRGB value: ``(*, 1, H, W)`` in [0, 1] -> ``(*, 1, H, W)`` in [0, 100].

    For a neutral colour X/Xn = Y = Z/Zn, so L depends on the linearised gray value only.
    """
    return 116.0 * _lab_f(srgb_to_linear(gray)) - 16.0


def lightness_to_gray(lightness: Tensor) -> Tensor:
    """Gray sRGB value of a neutral colour of lightness L: the inverse of :func:`gray_to_lightness`.

    Args:
        lightness: ``(*, 1, H, W)`` L in [0, 100].

    Returns:
        ``(*, 1, H, W)`` gray in [0, 1].
    """
    relative_luminance = _lab_f_inverse((lightness + 16.0) / 116.0)
    return linear_to_srgb(relative_luminance).clamp(0.0, 1.0)
