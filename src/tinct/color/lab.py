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


def lab_f_inverse(f: Tensor) -> Tensor:
    """f^-1: the cube above ``LAB_INVERSE_THRESHOLD``, linear below it.

    Chosen by a 0/1 weight from ``sign`` rather than ``torch.where``, the same values bit for
    bit (``lerp`` is exact at both ends): on the CPU ``where`` costs as much as some twenty
    multiplications, and the gamut search calls this on every candidate colour.
    """
    above = (f - LAB_INVERSE_THRESHOLD).sign_().clamp_(min=0.0)
    return torch.lerp((f - LAB_OFFSET) / LAB_LINEAR_SLOPE, f * f * f, above)


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


def _linear_rgb_from_xyz_matrix() -> tuple[tuple[float, float, float], ...]:
    inverse = torch.linalg.inv(torch.tensor(XYZ_FROM_LINEAR_RGB, dtype=torch.float64))
    return tuple(tuple(float(value) for value in row) for row in inverse)


# XYZ (D65) -> linear sRGB, computed once; rows give R, G, B.
LINEAR_RGB_FROM_XYZ = _linear_rgb_from_xyz_matrix()


def lab_planes_to_linear_rgb(
    lightness: Tensor, a: Tensor, b: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """Linear R, G, B planes of Lab given as three same-shaped planes, without clipping.

    The per-channel form of :func:`lab_to_linear_rgb`: no stacking, so that the gamut search
    and strip-wise recombination touch only the memory they need.
    """
    fy = (lightness + 16.0) / 116.0
    x = lab_f_inverse(torch.add(fy, a, alpha=1.0 / 500.0))
    z = lab_f_inverse(torch.add(fy, b, alpha=-1.0 / 200.0))
    return linear_rgb_planes(luminance_shares(lab_f_inverse(fy)), x, z)


def luminance_shares(y: Tensor) -> list[Tensor]:
    """Y's share of linear R, G and B, from ``y`` = f^-1(f(Y)) (Y over the white point's)."""
    return [y * (row[1] * D65_WHITE_XYZ[1]) for row in LINEAR_RGB_FROM_XYZ]


def linear_rgb_planes(
    shares_of_y: list[Tensor], x: Tensor, z: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """Linear R, G and B from Y's shares (:func:`luminance_shares`) and ``x``, ``z`` =
    f^-1(f(X)), f^-1(f(Z)): each channel ``Y share + X share + Z share``, the white point folded
    into the weights (three operations where products and sums of the scaled planes took
    eight)."""
    white_x, _, white_z = D65_WHITE_XYZ
    return tuple(  # type: ignore[return-value]
        torch.add(share, x, alpha=row[0] * white_x).add_(z, alpha=row[2] * white_z)
        for row, share in zip(LINEAR_RGB_FROM_XYZ, shares_of_y, strict=True)
    )


def lab_to_linear_rgb(lab: Tensor) -> Tensor:
    """Convert CIE Lab (D65) to linear RGB without clipping (out of gamut leaves [0, 1])."""
    _check_channels(lab, "lab")
    return torch.stack(lab_planes_to_linear_rgb(*lab.unbind(dim=-3)), dim=-3)


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
    """CIE L of an sRGB image: ``(*, 3, H, W)`` in [0, 1] -> ``(*, 1, H, W)`` in [0, 100].

    Only relative luminance Y is needed (Yn = 1), so a and b are never computed.
    """
    _check_channels(rgb, "rgb")
    return lightness_from_linear(*srgb_to_linear(rgb).unbind(dim=-3)).unsqueeze(-3)


def lightness_of_levels(peak: int) -> tuple[Tensor, Tensor]:
    """Tables for the lightness of integer code values ``0..peak`` (``peak`` 255 or 65535).

    Returns:
        ``(linear, gray_lightness)``, both float32 of length ``peak + 1``: the linear value of
        each code value, and the CIE L of the gray pixel with that value in all three channels.
        A file's lightness is then a table lookup (gray) or three lookups and a weighted sum
        (colour, see :func:`lightness_from_linear`) instead of a transfer curve per pixel.
    """
    values = torch.arange(peak + 1, dtype=torch.float64) / peak
    return srgb_to_linear(values).float(), gray_to_lightness(values).float()


def lightness_from_linear(red: Tensor, green: Tensor, blue: Tensor) -> Tensor:
    """CIE L of linear RGB planes (for tables of :func:`lightness_of_levels`)."""
    weights = XYZ_FROM_LINEAR_RGB[1]
    return 116.0 * _lab_f(red * weights[0] + green * weights[1] + blue * weights[2]) - 16.0


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
    relative_luminance = lab_f_inverse((lightness + 16.0) / 116.0)
    return linear_to_srgb(relative_luminance).clamp(0.0, 1.0)
