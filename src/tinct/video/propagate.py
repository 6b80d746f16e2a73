"""Carry chroma from keyframes to the frames between them, and keep it steady over time.

All arrays live on the working grid: ab ``(h, w, 2)`` float32 in ab units, confidence
``(h, w)`` float32 in [0, 1]. The functions are closed-form; a learned refiner can replace
:func:`blend_with_fallback` (see :mod:`tinct.video.pipeline`).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from tinct.video.flow import PairFlow, warp

FILL_BLUR_SIGMA = 6.0  # grid pixels over which reliable colour spreads into unreliable areas
_TINY = 1e-4


def carry(
    ab: np.ndarray, confidence: np.ndarray, flow: np.ndarray, pair_confidence: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Warp ab and its confidence one frame along ``flow``; confidence multiplies along chains.

    Args:
        ab: ``(h, w, 2)`` chroma of the source frame.
        confidence: ``(h, w)`` confidence of the source frame's chroma.
        flow: ``(h, w, 2)`` flow from the target frame to the source frame.
        pair_confidence: ``(h, w)`` confidence of that flow, per target pixel.

    Returns:
        ``(ab, confidence)`` on the target frame.
    """
    # Bilinear sampling averages neighbouring colours, and a mean of different hues is greyer:
    # chained over a segment that fades the picture. The chroma is warped on its own and put
    # back, so only the hue is averaged.
    warped = warp(ab, flow)
    chroma = warp(_length(ab)[..., 0], flow)[..., None]
    kept = warped * (chroma / np.maximum(_length(warped), _TINY))
    return kept.astype(np.float32), warp(confidence, flow) * pair_confidence


Carried = tuple[np.ndarray, np.ndarray]
# repair(position, ab, confidence) -> (ab, confidence): replaces unreliable colour on one frame.
Repair = Callable[[int, np.ndarray, np.ndarray], Carried]


def carry_forward(key_ab: np.ndarray, pairs: list[PairFlow], repair: Repair) -> list[Carried]:
    """Chain ``key_ab`` frame by frame through ``pairs`` (pair i: frame i -> i+1 after the
    keyframe), repairing each frame before it is carried on, so that an occlusion costs
    colour once instead of in every later frame. Entry i is frame i+1."""
    ab, confidence = key_ab, np.ones(key_ab.shape[:2], np.float32)
    carried = []
    for position, pair in enumerate(pairs, start=1):
        ab, confidence = repair(position, *carry(ab, confidence, pair.backward, pair.confidence))
        carried.append((ab, confidence))
    return carried


def carry_backward(key_ab: np.ndarray, pairs: list[PairFlow], repair: Repair) -> list[Carried]:
    """Chain ``key_ab`` of the frame after ``pairs[-1]`` back through ``pairs``.

    Pair i joins frame i and frame i+1 of the segment (frame 0 being the previous keyframe);
    entry i of the result is frame i, in forward order.
    """
    ab, confidence = key_ab, np.ones(key_ab.shape[:2], np.float32)
    carried = []
    for position in range(len(pairs) - 1, -1, -1):
        pair = pairs[position]
        # Confidence of the forward flow, per pixel of the earlier frame, is that of the
        # backward flow seen from where the pixel lands.
        step = carry(ab, confidence, pair.forward, warp(pair.confidence, pair.forward))
        ab, confidence = repair(position, *step) if position > 0 else step
        carried.append((ab, confidence))
    return carried[::-1]


def blend_directions(
    forward: tuple[np.ndarray, np.ndarray],
    backward: tuple[np.ndarray, np.ndarray] | None,
    position: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Mix the colours carried from the previous and the next keyframe.

    Args:
        forward: ``(ab, confidence)`` carried from the previous keyframe.
        backward: the same from the next keyframe, or None when there is none (end of shot).
        position: temporal position between the keyframes in (0, 1) (0 = previous).

    Returns:
        ``(ab, confidence)``: weights are confidence times temporal closeness; the confidence is
        the larger of the two directions' confidences.
    """
    if backward is None:
        return forward
    (ab_f, conf_f), (ab_b, conf_b) = forward, backward
    weight_f = conf_f * (1.0 - position) + _TINY * (1.0 - position)
    weight_b = conf_b * position + _TINY * position
    share_b = weight_b / (weight_f + weight_b)
    return mix_keeping_chroma(ab_f, ab_b, share_b), np.maximum(conf_f, conf_b)


def _length(ab: np.ndarray) -> np.ndarray:
    """``(h, w, 1)`` chroma ``|ab|`` of ``(h, w, 2)`` ab."""
    return np.hypot(ab[..., :1], ab[..., 1:])


def mix_keeping_chroma(ab_0: np.ndarray, ab_1: np.ndarray, share_1: np.ndarray) -> np.ndarray:
    """``(1 - s) ab_0 + s ab_1`` rescaled to chroma ``(1 - s)|ab_0| + s|ab_1|``.

    A plain mean of two different hues is greyer than either (red and green average to grey),
    so blending the colours of two keyframes, or of propagation and the still model, would fade
    the frames between keyframes; mixing direction and chroma separately keeps saturation.
    """
    share = share_1[..., None]
    mixed = (1.0 - share) * ab_0 + share * ab_1
    chroma = (1.0 - share) * _length(ab_0) + share * _length(ab_1)
    length = _length(mixed)
    return (mixed * (chroma / np.maximum(length, _TINY))).astype(np.float32)


def fill_from_reliable(ab: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """Cheap guess for unreliable pixels: reliable colour spread by normalised convolution."""
    weight = cv2.GaussianBlur(confidence, (0, 0), FILL_BLUR_SIGMA) + _TINY
    spread = cv2.GaussianBlur(ab * confidence[..., None], (0, 0), FILL_BLUR_SIGMA)
    return (spread / weight[..., None]).astype(np.float32)


def blend_with_fallback(
    ab: np.ndarray, confidence: np.ndarray, fallback_ab: np.ndarray
) -> np.ndarray:
    """Confidence-weighted mix of propagated ab and a fallback (still model or cheap fill)."""
    return mix_keeping_chroma(fallback_ab, ab, confidence)


def repair_closed_form(
    ab: np.ndarray, confidence: np.ndarray, fallback_ab: np.ndarray, unreliable_below: float
) -> np.ndarray:
    """The video core's repair without a learned refiner: pixels at least ``unreliable_below``
    sure keep their carried colour whole (mixing in a little of the fallback on every frame
    would blur and grey them over a segment); below it the fallback takes over linearly."""
    trust = np.clip(confidence / max(unreliable_below, 1e-6), 0.0, 1.0)
    return blend_with_fallback(ab, trust, fallback_ab)


def limit_change(
    ab: np.ndarray,
    previous_ab: np.ndarray,
    reliability: np.ndarray,
    max_step: float,
) -> np.ndarray:
    """Bound the per-frame change of chroma where the motion is reliably known.

    Args:
        ab: ``(h, w, 2)`` chroma proposed for frame t.
        previous_ab: ``(h, w, 2)`` chroma shown for frame t-1, warped onto frame t.
        reliability: ``(h, w)`` in [0, 1], confidence of that warp.
        max_step: largest change of ab (Euclidean, ab units) per frame where reliability is 1.

    Returns:
        ``(h, w, 2)``: unchanged where reliability is 0; where it is 1, moved towards ``ab`` by
        at most ``max_step``.
    """
    delta = ab - previous_ab
    size = np.sqrt((delta**2).sum(-1))
    shrink = np.minimum(1.0, max_step / np.maximum(size, _TINY))
    scale = reliability * shrink + (1.0 - reliability)
    return (previous_ab + delta * scale[..., None]).astype(np.float32)
