"""Image colorization metrics as pure functions on ``(B, 3, H, W)`` sRGB tensors in [0, 1].

Every per-image metric returns a ``(B,)`` float64 tensor (one value per image); the arithmetic is
done in float64 so that values do not depend on the input dtype. Set-level quantities (delta CF)
return Python floats. No metric modifies its inputs or needs gradients.

Sources:
    RMSE, PSNR: Xu, *Greyscale image & video colorization* (SJTU report, 2017).
    Acc_U, Acc_V, saturation difference: Hsu & Shiao, *Image Colorization with Deep Learning*.
    SSIM: Wang, Bovik, Sheikh & Simoncelli, IEEE TIP 13(4), 2004.
    Colourfulness: Hasler & Suesstrunk, "Measuring colourfulness in natural images", SPIE 2003.
    CIEDE2000: Sharma, Wu & Dalal, Color Research & Application 30(1), 2005.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from tinct.color.lab import rgb_to_lab
from tinct.color.yuv import rgb_to_yuv
from tinct.quantize.uv_bins import DEFAULT_UV_BINS, encode_uv_bins

EIGHT_BIT_PEAK = 255.0

SSIM_WINDOW = 11  # Gaussian taps: 2 * int(3.5 * sigma + 0.5) + 1, as scikit-image builds it
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
SSIM_DATA_RANGE = 1.0

CF_MEAN_WEIGHT = 0.3  # Hasler & Suesstrunk's weight of the mean-chroma term

CIEDE_25_POW_7 = 25.0**7


def _check_images(rgb: Tensor, name: str) -> None:
    if not isinstance(rgb, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(rgb).__name__}")
    if rgb.dim() != 4 or rgb.shape[1] != 3:
        raise ValueError(f"{name} must have shape (B, 3, H, W), got {tuple(rgb.shape)}")
    if not rgb.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor in [0, 1], got {rgb.dtype}")


def _check_pair(pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """Validate a prediction/target pair and return both as float64."""
    _check_images(pred, "pred")
    _check_images(target, "target")
    if pred.shape != target.shape:
        raise ValueError(
            f"pred and target must have the same shape, got pred {tuple(pred.shape)} "
            f"and target {tuple(target.shape)}"
        )
    return pred.detach().double(), target.detach().to(pred.device).double()


def _mean_squared_error(pred: Tensor, target: Tensor) -> Tensor:
    return ((pred - target) ** 2).mean(dim=(1, 2, 3))


def rmse(pred: Tensor, target: Tensor) -> Tensor:
    """Root mean squared error over all RGB values of each image, in 8-bit units.

    Args:
        pred: ``(B, 3, H, W)`` sRGB in [0, 1].
        target: ``(B, 3, H, W)`` sRGB in [0, 1], same shape.

    Returns:
        ``(B,)`` float64 in [0, 255]: ``255 * sqrt(mean over C, H, W of (pred - target)^2)``.
    """
    pred, target = _check_pair(pred, target)
    return EIGHT_BIT_PEAK * _mean_squared_error(pred, target).sqrt()


def psnr(pred: Tensor, target: Tensor) -> Tensor:
    """Peak signal-to-noise ratio over all RGB values of each image.

    The peak is 1 on the [0, 1] scale (the same as 255 on the 8-bit scale), so
    ``PSNR = 10 log10(1 / MSE)``.

    Args:
        pred: ``(B, 3, H, W)`` sRGB in [0, 1].
        target: ``(B, 3, H, W)`` sRGB in [0, 1], same shape.

    Returns:
        ``(B,)`` float64 in dB; ``+inf`` for an image identical to its target (MSE = 0). Leave
        such images out of a mean, or report them separately.
    """
    pred, target = _check_pair(pred, target)
    return -10.0 * torch.log10(_mean_squared_error(pred, target))


def _gaussian_window(dtype: torch.dtype, device: torch.device) -> Tensor:
    """Normalised 1-D Gaussian of ``SSIM_WINDOW`` taps and standard deviation ``SSIM_SIGMA``."""
    offsets = torch.arange(SSIM_WINDOW, dtype=dtype, device=device) - (SSIM_WINDOW - 1) / 2
    weights = torch.exp(-(offsets**2) / (2 * SSIM_SIGMA**2))
    return weights / weights.sum()


def _local_mean(images: Tensor, window: Tensor) -> Tensor:
    """Separable Gaussian filter of each channel, valid region only (no padding)."""
    channels = images.shape[1]
    rows = window.view(1, 1, -1, 1).expand(channels, 1, -1, 1)
    columns = window.view(1, 1, 1, -1).expand(channels, 1, 1, -1)
    return F.conv2d(F.conv2d(images, rows, groups=channels), columns, groups=channels)


def ssim(pred: Tensor, target: Tensor) -> Tensor:
    """Structural similarity (Wang et al. 2004), computed per RGB channel and averaged.

    Convention: Gaussian window of 11 taps with sigma 1.5, K1 = 0.01, K2 = 0.03, data range 1,
    population (not sample) local variances, and the SSIM map averaged over the *valid* region
    only: the pixels whose whole 11x11 window lies inside the image (5 pixels are dropped on each
    side), so no padding enters the result. Each of R, G and B gets its own mean SSIM; the three
    are averaged. This equals ``skimage.metrics.structural_similarity(pred, target,
    channel_axis=..., gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    data_range=1)``.

    Args:
        pred: ``(B, 3, H, W)`` sRGB in [0, 1], H and W at least 11.
        target: ``(B, 3, H, W)`` sRGB in [0, 1], same shape.

    Returns:
        ``(B,)`` float64 in [-1, 1]; 1 for identical images.
    """
    pred, target = _check_pair(pred, target)
    if min(pred.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(
            f"ssim needs H and W of at least {SSIM_WINDOW}, got {tuple(pred.shape[-2:])}"
        )
    window = _gaussian_window(pred.dtype, pred.device)
    mean_p, mean_t = _local_mean(pred, window), _local_mean(target, window)
    var_p = _local_mean(pred * pred, window) - mean_p**2
    var_t = _local_mean(target * target, window) - mean_t**2
    cov = _local_mean(pred * target, window) - mean_p * mean_t
    c1 = (SSIM_K1 * SSIM_DATA_RANGE) ** 2
    c2 = (SSIM_K2 * SSIM_DATA_RANGE) ** 2
    numerator = (2 * mean_p * mean_t + c1) * (2 * cov + c2)
    denominator = (mean_p**2 + mean_t**2 + c1) * (var_p + var_t + c2)
    return (numerator / denominator).mean(dim=(2, 3)).mean(dim=1)


def colourfulness(rgb: Tensor) -> Tensor:
    """Colourfulness CF of Hasler & Suesstrunk (2003), on 8-bit values.

    With R, G, B in [0, 255]: ``rg = R - G``, ``yb = (R + G) / 2 - B``, and
    ``CF = sqrt(std_rg^2 + std_yb^2) + 0.3 * sqrt(mean_rg^2 + mean_yb^2)``, with population
    standard deviations over the pixels of the image. Gray images score 0.

    Args:
        rgb: ``(B, 3, H, W)`` sRGB in [0, 1].

    Returns:
        ``(B,)`` float64, >= 0 (natural photos mostly fall between 0 and about 150).
    """
    _check_images(rgb, "rgb")
    red, green, blue = (EIGHT_BIT_PEAK * rgb.detach().double()).unbind(dim=1)
    rg = (red - green).flatten(1)
    yb = ((red + green) / 2 - blue).flatten(1)
    spread = (rg.var(dim=1, correction=0) + yb.var(dim=1, correction=0)).sqrt()
    offset = (rg.mean(dim=1) ** 2 + yb.mean(dim=1) ** 2).sqrt()
    return spread + CF_MEAN_WEIGHT * offset


def _as_cf_values(values: Tensor, name: str) -> Tensor:
    values = torch.as_tensor(values).detach().double().flatten()
    if values.numel() == 0:
        raise ValueError(f"{name} is empty; pass the CF of at least one image")
    return values


def _paired_cf(pred_cf: Tensor, target_cf: Tensor) -> tuple[Tensor, Tensor]:
    pred_cf, target_cf = _as_cf_values(pred_cf, "pred_cf"), _as_cf_values(target_cf, "target_cf")
    if pred_cf.shape != target_cf.shape:
        raise ValueError(
            f"pred_cf and target_cf must be paired (same shape), got pred_cf "
            f"{tuple(pred_cf.shape)} and target_cf {tuple(target_cf.shape)}"
        )
    return pred_cf, target_cf


def delta_cf_of_means(pred_cf: Tensor, target_cf: Tensor) -> float:
    """Delta CF as the difference of set means: ``mean(pred_cf) - mean(target_cf)``.

    The sets need not be paired or of equal size. Signed: negative means the predictions are,
    on average, less colourful than the ground truth (the usual failure of colorizers). Papers
    that report a single positive "delta CF" of a method against the ground truth report the
    absolute value of this dataset-level difference.

    Args:
        pred_cf: ``(N,)`` CF of the predicted images (from :func:`colourfulness`).
        target_cf: ``(M,)`` CF of the ground-truth images.

    Returns:
        The difference, in CF units.
    """
    pred_cf = _as_cf_values(pred_cf, "pred_cf")
    target_cf = _as_cf_values(target_cf, "target_cf")
    return float(pred_cf.mean() - target_cf.mean())


def mean_delta_cf(pred_cf: Tensor, target_cf: Tensor) -> float:
    """Mean over images of the signed per-image difference ``pred_cf[i] - target_cf[i]``.

    For paired sets this equals :func:`delta_cf_of_means` (the mean is linear); it exists to
    make the pairing explicit and fails when the sets are not paired. Under- and
    over-saturated images cancel; see :func:`mean_abs_delta_cf` for the convention that does not.

    Args:
        pred_cf: ``(N,)`` CF of the predicted images.
        target_cf: ``(N,)`` CF of the same images' ground truth, in the same order.

    Returns:
        The mean difference, in CF units.
    """
    pred_cf, target_cf = _paired_cf(pred_cf, target_cf)
    return float((pred_cf - target_cf).mean())


def mean_abs_delta_cf(pred_cf: Tensor, target_cf: Tensor) -> float:
    """Mean over images of ``|pred_cf[i] - target_cf[i]|``: per-image colourfulness error.

    Always >= ``|delta_cf_of_means|``; 0 only if every image matches its ground truth's CF.

    Args:
        pred_cf: ``(N,)`` CF of the predicted images.
        target_cf: ``(N,)`` CF of the same images' ground truth, in the same order.

    Returns:
        The mean absolute difference, in CF units, >= 0.
    """
    pred_cf, target_cf = _paired_cf(pred_cf, target_cf)
    return float((pred_cf - target_cf).abs().mean())


def _prime_chroma_hue(a: Tensor, b: Tensor, g_factor: Tensor) -> tuple[Tensor, Tensor]:
    """C' and h' (degrees in [0, 360)) of Sharma et al. eqs. 2-4."""
    a_prime = (1 + g_factor) * a
    chroma = torch.hypot(a_prime, b)
    hue = torch.rad2deg(torch.atan2(b, a_prime)) % 360.0
    return chroma, torch.where(chroma == 0, torch.zeros_like(hue), hue)


def _hue_difference_and_mean(
    hue_1: Tensor, hue_2: Tensor, chroma_product: Tensor
) -> tuple[Tensor, Tensor]:
    """Delta h' and mean h' (degrees), with the 360-degree wrap of Sharma et al. eqs. 10, 14."""
    difference = hue_2 - hue_1
    difference = torch.where(difference > 180, difference - 360, difference)
    difference = torch.where(difference < -180, difference + 360, difference)
    total = hue_1 + hue_2
    wrapped = torch.where(total < 360, total + 360, total - 360)
    mean = torch.where((hue_1 - hue_2).abs() > 180, wrapped, total) / 2
    achromatic = chroma_product == 0
    return torch.where(achromatic, 0.0, difference), torch.where(achromatic, total, mean)


def _ciede2000_weights(
    l_mean: Tensor, c_mean: Tensor, hue_mean: Tensor
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """S_L, S_C, S_H and the rotation term R_T of Sharma et al. eqs. 15-21 (hue in degrees)."""
    h = torch.deg2rad(hue_mean)
    t = (
        1
        - 0.17 * torch.cos(h - math.radians(30))
        + 0.24 * torch.cos(2 * h)
        + 0.32 * torch.cos(3 * h + math.radians(6))
        - 0.20 * torch.cos(4 * h - math.radians(63))
    )
    delta_theta = 30 * torch.exp(-(((hue_mean - 275) / 25) ** 2))
    r_c = 2 * torch.sqrt(c_mean**7 / (c_mean**7 + CIEDE_25_POW_7))
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / torch.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * c_mean
    s_h = 1 + 0.015 * c_mean * t
    r_t = -torch.sin(torch.deg2rad(2 * delta_theta)) * r_c
    return s_l, s_c, s_h, r_t


def ciede2000_lab(lab_1: Tensor, lab_2: Tensor) -> Tensor:
    """CIEDE2000 colour difference per pixel, kL = kC = kH = 1 (Sharma, Wu & Dalal 2005).

    Args:
        lab_1: ``(*, 3, H, W)`` CIE Lab (L in [0, 100], a and b in about [-110, 110]).
        lab_2: Lab of the same shape.

    Returns:
        ``(*, H, W)`` float64 Delta E00, >= 0 and symmetric in its arguments.
    """
    if lab_1.shape != lab_2.shape or lab_1.dim() < 3 or lab_1.shape[-3] != 3:
        raise ValueError(
            f"expected two Lab tensors of the same shape (*, 3, H, W), got "
            f"{tuple(lab_1.shape)} and {tuple(lab_2.shape)}"
        )
    (l_1, a_1, b_1), (l_2, a_2, b_2) = lab_1.double().unbind(-3), lab_2.double().unbind(-3)
    chroma_mean = (torch.hypot(a_1, b_1) + torch.hypot(a_2, b_2)) / 2
    g_factor = 0.5 * (1 - torch.sqrt(chroma_mean**7 / (chroma_mean**7 + CIEDE_25_POW_7)))
    chroma_1, hue_1 = _prime_chroma_hue(a_1, b_1, g_factor)
    chroma_2, hue_2 = _prime_chroma_hue(a_2, b_2, g_factor)
    delta_hue, hue_mean = _hue_difference_and_mean(hue_1, hue_2, chroma_1 * chroma_2)
    delta_h = 2 * torch.sqrt(chroma_1 * chroma_2) * torch.sin(torch.deg2rad(delta_hue) / 2)
    s_l, s_c, s_h, r_t = _ciede2000_weights((l_1 + l_2) / 2, (chroma_1 + chroma_2) / 2, hue_mean)
    term_l, term_c, term_h = (l_2 - l_1) / s_l, (chroma_2 - chroma_1) / s_c, delta_h / s_h
    return torch.sqrt(term_l**2 + term_c**2 + term_h**2 + r_t * term_c * term_h)


def ciede2000(pred: Tensor, target: Tensor) -> Tensor:
    """Mean CIEDE2000 colour difference of each image (kL = kC = kH = 1).

    Both images are converted with :func:`tinct.color.rgb_to_lab` (D65), Delta E00 is computed
    per pixel (:func:`ciede2000_lab`) and averaged over the image.

    Args:
        pred: ``(B, 3, H, W)`` sRGB in [0, 1].
        target: ``(B, 3, H, W)`` sRGB in [0, 1], same shape.

    Returns:
        ``(B,)`` float64 mean Delta E00, >= 0 (about 1 is a just-noticeable difference).
    """
    pred, target = _check_pair(pred, target)
    return ciede2000_lab(rgb_to_lab(pred), rgb_to_lab(target)).mean(dim=(1, 2))


# |U| or |V| below this is taken as 0 by uv_bin_accuracy: far above the rounding error of a
# neutral pixel (under 1e-7 for 8-bit gray, under 2e-5 after tinct's recombining in float32),
# far below the smallest U or V of a non-neutral 8-bit colour (about 4e-4: V of one level of
# blue off).
NEUTRAL_UV = 1e-4


def uv_bin_accuracy(pred: Tensor, target: Tensor, n_bins: int = DEFAULT_UV_BINS) -> Tensor:
    """Acc_U and Acc_V of Hsu & Shiao: the share of pixels whose U (V) bin matches.

    Both images are converted to YUV (:func:`tinct.color.rgb_to_yuv`) and U and V are each cut
    into ``n_bins`` equal-width bins over their full range
    (:func:`tinct.quantize.uv_bins.encode_uv_bins`). U and V within :data:`NEUTRAL_UV` of 0
    count as 0: with an even number of bins 0 is a bin edge, and a neutral pixel (R = G = B)
    comes out of the conversion a rounding error above or below it depending on its level, so
    gray pixels of the truth and of a prediction would otherwise fall on either side at random.

    Args:
        pred: ``(B, 3, H, W)`` sRGB in [0, 1].
        target: ``(B, 3, H, W)`` sRGB in [0, 1], same shape.
        n_bins: bins per channel, >= 2.

    Returns:
        ``(B, 2)`` float64 in [0, 1]: column 0 is Acc_U, column 1 is Acc_V.
    """
    pred, target = _check_pair(pred, target)
    pred_bins = encode_uv_bins(_neutral_as_zero(rgb_to_yuv(pred)[:, 1:]), n_bins)
    target_bins = encode_uv_bins(_neutral_as_zero(rgb_to_yuv(target)[:, 1:]), n_bins)
    return (pred_bins == target_bins).double().mean(dim=(2, 3))


def _neutral_as_zero(uv: Tensor) -> Tensor:
    return torch.where(uv.abs() < NEUTRAL_UV, torch.zeros_like(uv), uv)


def hsv_saturation(rgb: Tensor) -> Tensor:
    """HSV saturation ``(max - min) / max`` per pixel, 0 where max = 0 (black).

    Args:
        rgb: ``(B, 3, H, W)`` sRGB in [0, 1].

    Returns:
        ``(B, H, W)`` float64 in [0, 1].
    """
    _check_images(rgb, "rgb")
    rgb = rgb.detach().double()
    largest, smallest = rgb.amax(dim=1), rgb.amin(dim=1)
    safe = torch.where(largest > 0, largest, torch.ones_like(largest))
    return torch.where(largest > 0, (largest - smallest) / safe, torch.zeros_like(largest))


SATURATION_FLOOR = 0.01  # mean HSV saturation below which a target counts as gray


def saturation_difference(pred: Tensor, target: Tensor) -> Tensor:
    """Relative saturation difference of Hsu & Shiao, kept finite.

    ``|sum S_pred - sum S_target| / max(sum S_target, 0.01 N)``, where S is HSV saturation
    (:func:`hsv_saturation`), the sums run over the N pixels of each image, and the floor (a mean
    saturation of 1 %) keeps a gray or nearly gray target from dividing by zero or by noise.

    Args:
        pred: ``(B, 3, H, W)`` sRGB in [0, 1].
        target: ``(B, 3, H, W)`` sRGB in [0, 1], same shape.

    Returns:
        ``(B,)`` float64, finite, >= 0 (0.1 means total saturation is off by 10 %); at most 100
        (a fully saturated prediction of a gray target).
    """
    pred, target = _check_pair(pred, target)
    total_pred = hsv_saturation(pred).sum(dim=(1, 2))
    total_target = hsv_saturation(target).sum(dim=(1, 2))
    floor = SATURATION_FLOOR * pred.shape[-2] * pred.shape[-1]
    return (total_pred - total_target).abs() / total_target.clamp(min=floor)
