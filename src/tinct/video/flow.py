"""Dense optical flow between consecutive low-resolution frames and how far to trust it.

OpenCV's DIS flow (Kroeger et al. 2016) runs on the 8-bit luma of the working grid. Flow is a
``(h, w, 2)`` float32 array of (dx, dy) in pixels: ``backward`` maps each pixel of frame t to
where it was in frame t-1, so warping anything of frame t-1 onto frame t samples it there.

Confidence in [0, 1] per pixel of frame t combines the forward-backward check of Sundaram et
al. (2010) (a pixel whose backward flow is not undone by the forward flow where it lands is
occluded or on a motion boundary) with luminance agreement (the warped luma of frame t-1 must
match frame t), both as linear ramps between "passes" (1) and "fails" (0), so that confidence
does not flicker, and so that it stays exactly 1 on reliably tracked pixels: confidences
multiply along chains of frames, and a soft factor below 1 everywhere would decay to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
# Forward-backward test (Sundaram et al.): |loop|^2 against ALPHA (|w_b|^2 + |w_f|^2) + BETA.
CONSISTENCY_ALPHA = 0.01
CONSISTENCY_BETA = 0.5
# Luminance agreement is full up to LUMA_AGREE L units of mismatch (resampling and noise on
# the small grid), none beyond LUMA_DISAGREE.
LUMA_AGREE = 6.0
LUMA_DISAGREE = 18.0
# The consistency ratio |loop|^2 / allowed is fine up to 1 (the hard test) and fails at 3.
RATIO_PASS = 1.0
RATIO_FAIL = 3.0


@dataclass(frozen=True)
class PairFlow:
    """Flow between frame t-1 and frame t of the working grid, and its confidence.

    Attributes:
        backward: ``(h, w, 2)`` float32 flow from frame t to frame t-1.
        forward: ``(h, w, 2)`` float32 flow from frame t-1 to frame t.
        confidence: ``(h, w)`` float32 in [0, 1], per pixel of frame t.
    """

    backward: np.ndarray
    forward: np.ndarray
    confidence: np.ndarray


def _pixel_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    grid_x, grid_y = np.meshgrid(
        np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
    )
    return grid_x, grid_y


def warp(image: np.ndarray, flow: np.ndarray, nearest: bool = False) -> np.ndarray:
    """Sample ``image`` ``(h, w[, C])`` float32 at ``x + flow(x)``, edges replicated."""
    grid_x, grid_y = _pixel_grid(*flow.shape[:2])
    interpolation = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    return cv2.remap(
        image,
        grid_x + flow[..., 0],
        grid_y + flow[..., 1],
        interpolation,
        borderMode=cv2.BORDER_REPLICATE,
    )


def _ramp_down(value: np.ndarray, start: float, stop: float) -> np.ndarray:
    """1 up to ``start``, 0 from ``stop``, linear between."""
    return np.clip((stop - value) / (stop - start), 0.0, 1.0).astype(np.float32)


def consistency_confidence(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Soft forward-backward check ``(h, w)`` in [0, 1]; 0 where the flow leaves the frame."""
    height, width = backward.shape[:2]
    forward_there = warp(forward, backward)
    loop = ((backward + forward_there) ** 2).sum(-1)
    allowed = CONSISTENCY_ALPHA * ((backward**2).sum(-1) + (forward_there**2).sum(-1))
    confidence = _ramp_down(loop / (allowed + CONSISTENCY_BETA), RATIO_PASS, RATIO_FAIL)
    grid_x, grid_y = _pixel_grid(height, width)
    land_x, land_y = grid_x + backward[..., 0], grid_y + backward[..., 1]
    inside = (land_x >= 0) & (land_x <= width - 1) & (land_y >= 0) & (land_y <= height - 1)
    return (confidence * inside).astype(np.float32)


def luminance_confidence(
    lightness: np.ndarray, previous_lightness: np.ndarray, backward: np.ndarray
) -> np.ndarray:
    """``(h, w)`` in [0, 1]: how well frame t-1's L warped by ``backward`` matches frame t."""
    mismatch = warp(previous_lightness, backward) - lightness
    return _ramp_down(np.abs(mismatch), LUMA_AGREE, LUMA_DISAGREE)


class FlowEstimator:
    """DIS optical flow on the working grid, both directions, with confidence."""

    def __init__(self, preset: str = "ultrafast") -> None:
        if preset not in DIS_PRESETS:
            raise ValueError(f"flow preset must be one of {tuple(DIS_PRESETS)}, got {preset!r}")
        self._dis = cv2.DISOpticalFlow_create(DIS_PRESETS[preset])

    def pair(
        self,
        previous_luma: np.ndarray,
        luma: np.ndarray,
        previous_lightness: np.ndarray,
        lightness: np.ndarray,
    ) -> PairFlow:
        """Flow between two consecutive frames (uint8 luma and float L, ``(h, w)`` each)."""
        backward = self._dis.calc(luma, previous_luma, None)
        forward = self._dis.calc(previous_luma, luma, None)
        confidence = consistency_confidence(backward, forward) * luminance_confidence(
            lightness, previous_lightness, backward
        )
        return PairFlow(backward, forward, confidence)
