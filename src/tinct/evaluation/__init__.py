"""Evaluation: image and video metrics as pure tensor functions, and LPIPS.

Images are ``(B, 3, H, W)`` sRGB in [0, 1]; per-image metrics return ``(B,)`` float64. See
:mod:`tinct.evaluation.metrics`, :mod:`tinct.evaluation.lpips` and
:mod:`tinct.evaluation.video_metrics` for the exact conventions.
"""

from tinct.evaluation.lpips import LPIPS, load_lpips
from tinct.evaluation.metrics import (
    ciede2000,
    ciede2000_lab,
    colourfulness,
    delta_cf_of_means,
    hsv_saturation,
    mean_abs_delta_cf,
    mean_delta_cf,
    psnr,
    rmse,
    saturation_difference,
    ssim,
    uv_bin_accuracy,
)
from tinct.evaluation.video_metrics import (
    color_distribution_consistency,
    per_frame_psnr,
    warp_error,
)

__all__ = [
    "LPIPS",
    "ciede2000",
    "ciede2000_lab",
    "color_distribution_consistency",
    "colourfulness",
    "delta_cf_of_means",
    "hsv_saturation",
    "load_lpips",
    "mean_abs_delta_cf",
    "mean_delta_cf",
    "per_frame_psnr",
    "psnr",
    "rmse",
    "saturation_difference",
    "ssim",
    "uv_bin_accuracy",
    "warp_error",
]
