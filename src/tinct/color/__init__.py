"""Colour science: pure tensor functions on ``(*, C, H, W)``, no I/O."""

from tinct.color.gamut import clip_ab_to_gamut
from tinct.color.lab import gray_to_lightness, lab_to_rgb, rgb_to_lab, rgb_to_lightness
from tinct.color.recombine import recombine_lightness_ab
from tinct.color.yuv import rgb_to_yuv, yuv_to_rgb

__all__ = [
    "clip_ab_to_gamut",
    "gray_to_lightness",
    "lab_to_rgb",
    "recombine_lightness_ab",
    "rgb_to_lab",
    "rgb_to_lightness",
    "rgb_to_yuv",
    "yuv_to_rgb",
]
