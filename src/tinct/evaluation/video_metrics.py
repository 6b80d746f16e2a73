"""Temporal consistency metrics of colorized video: CDC, flow warp error, per-frame PSNR, and
the colour drift of a fixed camera's static background.

Frames are ``(T, 3, H, W)`` sRGB tensors in [0, 1], in display order. Lower CDC and warp error
mean more stable colour; both are 0 for a static clip.

CDC (colour distribution consistency) follows Liu et al., "Temporally Consistent Video
Colorization with Deep Feature Propagation and Self-regularization Learning" (TCVC, 2021): the
Jensen-Shannon divergence between per-channel RGB histograms of frames ``t`` and ``t + d``,
averaged over frames, channels and the frame distances ``d`` = 1, 2, 4. TCVC uses 256 bins (one
per 8-bit level); pass ``bins=256`` to compare with numbers reported in that line of work.

The warp error follows Lai et al., "Learning Blind Video Temporal Consistency" (ECCV 2018), with
an L1 distance: frame ``t`` is warped onto frame ``t + 1`` by optical flow and compared where
the flow is reliable. The flow is computed on the luminance of the *ground-truth or input gray*
frames (OpenCV DIS, medium preset), never on the colours being judged, so every method is
measured with the same correspondences.

The static drift (:func:`static_colour_drift`) is for fixed cameras: over the pixels whose input
lightness stays put for the whole clip (exposure changes of the camera aside), the mean ab of
each frame; the drift is the largest ab distance between two frames' means. It is 0 when the
background keeps one colour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from tinct.color.lab import rgb_to_lab
from tinct.evaluation.metrics import psnr

CDC_DISTANCES = (1, 2, 4)
CDC_BINS = 32

# Forward-backward consistency test of Sundaram et al. (ECCV 2010), as used by Lai et al.:
# |w_b + w_f(x + w_b)|^2 < ALPHA (|w_b|^2 + |w_f(x + w_b)|^2) + BETA.
CONSISTENCY_ALPHA = 0.01
CONSISTENCY_BETA = 0.5
LIGHTNESS_TO_UINT8 = 255.0 / 100.0


def _check_frames(frames: Tensor, channels: int, name: str) -> None:
    if not isinstance(frames, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(frames).__name__}")
    if frames.dim() != 4 or frames.shape[1] != channels:
        raise ValueError(f"{name} must have shape (T, {channels}, H, W), got {tuple(frames.shape)}")
    if frames.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 frames, got {frames.shape[0]}")


def channel_histograms(frames: Tensor, bins: int = CDC_BINS) -> Tensor:
    """Normalised histogram of each frame's R, G and B values.

    Bin ``k`` holds values in ``[k / bins, (k + 1) / bins)``; 1.0 falls in the last bin. With
    ``bins=256`` and frames that came from 8-bit files, bin k is exactly the 8-bit level k.

    Args:
        frames: ``(T, 3, H, W)`` sRGB in [0, 1] (values outside are clamped).
        bins: bins per channel, >= 2.

    Returns:
        ``(T, 3, bins)`` float64; each histogram sums to 1.
    """
    if bins < 2:
        raise ValueError(f"bins must be >= 2, got {bins}")
    # Frame by frame: the bin indices of a whole clip at once take 8 bytes per value.
    return torch.stack([_frame_histograms(frame, bins) for frame in frames.detach()])


def _frame_histograms(frame: Tensor, bins: int) -> Tensor:
    """``(C, H, W)`` in [0, 1] -> ``(C, bins)`` float64 normalised histograms."""
    channels = frame.shape[0]
    index = (frame.double().clamp(0, 1) * bins).floor().long().clamp(max=bins - 1)
    offsets = torch.arange(channels, device=index.device).view(channels, 1, 1)
    counts = torch.bincount((index + offsets * bins).flatten(), minlength=channels * bins)
    return counts.double().view(channels, bins) / (frame.shape[1] * frame.shape[2])


def jensen_shannon(p: Tensor, q: Tensor) -> Tensor:
    """Jensen-Shannon divergence (natural log, so in [0, ln 2]) over the last dimension.

    Args:
        p: ``(*, K)`` probability vectors (non-negative, summing to 1).
        q: same shape.

    Returns:
        ``(*)`` float64, 0 where p = q, symmetric.
    """
    p, q = p.double(), q.double()
    middle = (p + q) / 2

    def _kl_to_middle(x: Tensor) -> Tensor:
        # 0 log 0 = 0; where x > 0, middle > 0 too.
        ratio = torch.where(x > 0, x / torch.where(middle > 0, middle, 1.0), 1.0)
        return (x * ratio.log()).sum(dim=-1)

    return 0.5 * _kl_to_middle(p) + 0.5 * _kl_to_middle(q)


def color_distribution_consistency(
    frames: Tensor, distances: Sequence[int] = CDC_DISTANCES, bins: int = CDC_BINS
) -> float:
    """Colour distribution consistency (CDC) of a clip; lower is more stable.

    ``CDC = mean over d of [ mean over t = 0 .. T-1-d and c in {R, G, B} of
    JS(hist_c(frame t), hist_c(frame t + d)) ]``, with the histograms of
    :func:`channel_histograms` and the divergence of :func:`jensen_shannon` (natural log).
    Distances not shorter than the clip (``d >= T``) are left out of the mean over d.

    Args:
        frames: ``(T, 3, H, W)`` sRGB in [0, 1], T >= 2.
        distances: frame distances d, positive; TCVC's (1, 2, 4) by default.
        bins: histogram bins per channel (TCVC: 256).

    Returns:
        CDC in [0, ln 2]; 0 for a clip whose frames all have the same colour histograms.
    """
    _check_frames(frames, 3, "frames")
    if not distances or any(int(d) < 1 for d in distances):
        raise ValueError(f"distances must be positive frame counts, got {tuple(distances)}")
    histograms = channel_histograms(frames, bins)
    count = frames.shape[0]
    per_distance = [
        jensen_shannon(histograms[:-d], histograms[d:]).mean()
        for d in (int(d) for d in distances)
        if d < count
    ]
    if not per_distance:
        raise ValueError(f"a clip of {count} frames is shorter than every distance {distances}")
    return float(torch.stack(per_distance).mean())


def _luminance_to_uint8(luminance: Tensor) -> np.ndarray:
    """``(T, 1, H, W)`` L in [0, 100] -> ``(T, H, W)`` uint8 for OpenCV."""
    scaled = (luminance.detach().double()[:, 0] * LIGHTNESS_TO_UINT8).round().clamp(0, 255)
    return scaled.to(torch.uint8).cpu().numpy()


def _remap(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Sample ``image`` (H, W[, C]) float32 at ``x + flow(x)`` (bilinear, edges replicated)."""
    import cv2

    height, width = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height))
    map_x = grid_x + flow[..., 0]
    map_y = grid_y.astype(np.float32) + flow[..., 1]
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def reliable_flow_mask(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Pixels of frame t+1 whose flow to frame t passes the forward-backward check.

    Args:
        backward: ``(H, W, 2)`` float32 flow from frame t+1 to frame t (x, y in pixels).
        forward: ``(H, W, 2)`` float32 flow from frame t to frame t+1.

    Returns:
        ``(H, W)`` bool: True where the flow lands inside frame t and the forward flow at the
        landing point undoes it (Sundaram et al. 2010: not occluded, not on a motion boundary).
    """
    height, width = backward.shape[:2]
    forward_there = _remap(forward, backward)
    loop = backward + forward_there
    magnitude = (backward**2).sum(-1) + (forward_there**2).sum(-1)
    consistent = (loop**2).sum(-1) < CONSISTENCY_ALPHA * magnitude + CONSISTENCY_BETA
    grid_x, grid_y = np.meshgrid(np.arange(width), np.arange(height))
    land_x, land_y = grid_x + backward[..., 0], grid_y + backward[..., 1]
    inside = (land_x >= 0) & (land_x <= width - 1) & (land_y >= 0) & (land_y <= height - 1)
    return consistent & inside


def _frame_pair_error(
    previous: np.ndarray, current: np.ndarray, luma_previous: np.ndarray, luma_current: np.ndarray
) -> float:
    """Masked L1 between ``current`` and ``previous`` warped onto it; NaN if nothing is reliable."""
    import cv2

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)  # type: ignore[attr-defined]
    backward = dis.calc(luma_current, luma_previous, None)
    forward = dis.calc(luma_previous, luma_current, None)
    mask = reliable_flow_mask(backward, forward)
    if not mask.any():
        return math.nan
    warped = _remap(previous, backward)
    return float(np.abs(current - warped)[mask].mean())


def warp_error(frames: Tensor, luminance: Tensor) -> float:
    """Mean flow-compensated colour change between consecutive frames; lower is more stable.

    For each t, optical flow between frames t and t+1 is computed with OpenCV DIS (medium
    preset) on ``luminance`` in both directions; frame t of ``frames`` is warped onto frame t+1
    with the backward flow (bilinear), and the mean absolute RGB difference is taken over the
    pixels that pass the forward-backward check (:func:`reliable_flow_mask`) and all three
    channels. The result is the mean of these per-pair errors (pairs with no reliable pixel,
    which should not happen in real footage, are left out).

    Args:
        frames: ``(T, 3, H, W)`` sRGB in [0, 1], the colorized clip being judged, T >= 2.
        luminance: ``(T, 1, H, W)`` CIE L in [0, 100] of the ground-truth or input gray frames
            (e.g. :func:`tinct.color.rgb_to_lightness` of the ground truth), same T, H, W.

    Returns:
        Warp error in RGB units of [0, 1] (multiply by 255 for 8-bit units); NaN only if no
        pair has a reliable pixel.
    """
    _check_frames(frames, 3, "frames")
    _check_frames(luminance, 1, "luminance")
    if frames.shape[0] != luminance.shape[0] or frames.shape[2:] != luminance.shape[2:]:
        raise ValueError(
            f"frames and luminance must share T, H and W, got frames {tuple(frames.shape)} "
            f"and luminance {tuple(luminance.shape)}"
        )
    rgb = frames.detach().float().permute(0, 2, 3, 1).contiguous().cpu().numpy()
    luma = _luminance_to_uint8(luminance)
    errors = [
        _frame_pair_error(rgb[t], rgb[t + 1], luma[t], luma[t + 1]) for t in range(len(rgb) - 1)
    ]
    finite = [error for error in errors if math.isfinite(error)]
    return sum(finite) / len(finite) if finite else math.nan


def per_frame_psnr(frames: Tensor, reference: Tensor) -> Tensor:
    """PSNR of each frame against its ground truth (:func:`tinct.evaluation.metrics.psnr`).

    Args:
        frames: ``(T, 3, H, W)`` sRGB in [0, 1].
        reference: ``(T, 3, H, W)`` ground-truth sRGB in [0, 1], same shape.

    Returns:
        ``(T,)`` float64 in dB; +inf for a frame identical to its reference.
    """
    return psnr(frames, reference)


# Static-background colour drift. A pixel is static when its *input* lightness, once the
# camera's exposure changes are taken out, barely varies over the clip: compression noise on a
# fixed camera moves L by well under 1 unit, a person walking through moves it by tens.
STATIC_MAX_STD = 1.5  # L units (of 100): largest temporal std of lightness of a static pixel
STATIC_ERODE = 2  # pixels: static area shrunk by this much, dropping the rims of moving objects


@dataclass(frozen=True)
class StaticDrift:
    """Colour drift of a clip's static background (:func:`static_colour_drift`).

    Attributes:
        drift: the largest ab distance between the static-region mean colours of any two
            frames, in ab units (>= 0); NaN when no pixel is static.
        means: ``(T, 2)`` float64 mean a and mean b of the static region, per frame.
        static_share: share of the frame, in [0, 1], that counts as static.
    """

    drift: float
    means: Tensor
    static_share: float


def exposure_compensated(lightness: Tensor) -> Tensor:
    """Lightness with each frame's global exposure shift taken out.

    Fixed cameras adjust their exposure: when a white car drives in, the whole frame darkens by
    up to 15 L, though nothing in the background changed. Each frame is shifted by the median,
    over its pixels, of its difference from the clip's per-pixel temporal median (a median, so
    that moving objects, a minority of the pixels, do not count).

    Args:
        lightness: ``(T, 1, H, W)`` CIE L in [0, 100].

    Returns:
        ``(T, H, W)`` float64, L shifted per frame (may leave [0, 100] slightly).
    """
    values = lightness.detach().double()[:, 0]
    typical = values.median(dim=0).values
    shift = (values - typical).flatten(1).median(dim=1).values
    return values - shift[:, None, None]


def static_mask(
    lightness: Tensor, max_std: float = STATIC_MAX_STD, erode: int = STATIC_ERODE
) -> Tensor:
    """Pixels that stay static over a whole clip, judged on its input lightness.

    Args:
        lightness: ``(T, 1, H, W)`` CIE L in [0, 100] of the input (gray) frames, T >= 2.
        max_std: a pixel is static when the standard deviation over time of its
            :func:`exposure_compensated` L is at most this (L units).
        erode: the static area is then eroded by this many pixels (a square of side
            ``2 * erode + 1``): pixels next to a moving object get its colour bled onto them by
            any colorizer, so they are not background colour.

    Returns:
        ``(H, W)`` bool, True where the pixel is static.
    """
    _check_frames(lightness, 1, "lightness")
    if max_std < 0 or erode < 0:
        raise ValueError(f"max_std and erode must be >= 0, got {max_std} and {erode}")
    still = exposure_compensated(lightness).std(dim=0) <= max_std
    if erode == 0:
        return still
    moving = (~still).double()[None, None]
    grown = torch.nn.functional.max_pool2d(moving, 2 * erode + 1, stride=1, padding=erode)
    return grown[0, 0] == 0


def static_colour_drift(
    frames: Tensor,
    lightness: Tensor,
    max_std: float = STATIC_MAX_STD,
    erode: int = STATIC_ERODE,
) -> StaticDrift:
    """How far the colour of a clip's static background wanders over time; lower is steadier.

    The static region is :func:`static_mask` of the *input* lightness (the same for every
    method judged, and for the ground truth). Per frame t, ``m_t = (mean a, mean b)`` over that
    region, in CIE Lab of ``frames``; the drift is ``max over s, t of |m_s - m_t|`` (Euclidean,
    ab units): the diameter of the path the background's mean colour takes.

    Why the diameter: it says directly "the background went from this colour to that one" (the
    asphalt of a car clip going from b* -5.5 to b* +8.6 is a drift of 14.1), needs no reference
    colour, and is the stricter of the usual choices (the largest distance from the clip's mean
    colour is at most the diameter and at least half of it). Means over the region, not
    per-pixel changes, so that flicker of single pixels (caught by the warp error) does not count
    and a slow change of the whole background (which the warp error misses) does. Run it on the
    ground truth too: a real change of lighting drifts there as well.

    Args:
        frames: ``(T, 3, H, W)`` sRGB in [0, 1], T >= 2.
        lightness: ``(T, 1, H, W)`` CIE L in [0, 100] of the input frames, same T, H, W.
        max_std, erode: see :func:`static_mask`.

    Returns:
        :class:`StaticDrift`; drift NaN (and means NaN) when no pixel is static.
    """
    _check_frames(frames, 3, "frames")
    if frames.shape[0] != lightness.shape[0] or frames.shape[2:] != lightness.shape[2:]:
        raise ValueError(
            f"frames and lightness must share T, H and W, got frames {tuple(frames.shape)} "
            f"and lightness {tuple(lightness.shape)}"
        )
    mask = static_mask(lightness, max_std, erode)
    if not mask.any():
        return StaticDrift(
            math.nan, torch.full((len(frames), 2), math.nan, dtype=torch.float64), 0.0
        )
    # Frame by frame: Lab of a whole clip at once would hold several copies of it in memory.
    means = torch.stack(
        [rgb_to_lab(frame.float())[1:, mask].double().mean(dim=-1) for frame in frames.detach()]
    )
    drift = float(torch.cdist(means, means).max())
    return StaticDrift(drift, means, float(mask.double().mean()))
