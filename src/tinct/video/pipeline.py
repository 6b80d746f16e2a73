"""The video colour core: a stream of luma frames in, chroma planes out (no file I/O).

``colorize_luma_stream`` takes frames with ``.index``, ``.time`` (seconds) and ``.luma`` (the Y
plane of yuv420p, uint8 ``(H, W)``) and yields ``(index, U, V)`` in input order, with U and V
uint8 ``((H+1)//2, (W+1)//2)`` in the same colour range. All per-pixel work happens on a small
working grid (the still model's input size); the full-resolution Y plane is only shrunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from tinct.pipeline.colorizer import Colorizer, working_size
from tinct.video.chroma_planes import (
    ab_to_chroma_planes,
    check_color_range,
    chroma_plane_size,
    luma_to_lightness,
)

HintsForFrame = Callable[[int, float], Tensor | None]
MODES = ("film", "surveillance")


class LumaFrameLike(Protocol):
    """What the core needs of a decoded frame."""

    index: int
    time: float
    luma: np.ndarray


@dataclass(frozen=True)
class LumaFrame:
    """A decoded frame: its index, presentation time (s) and ``(H, W)`` uint8 Y plane."""

    index: int
    time: float
    luma: np.ndarray


@dataclass(frozen=True)
class VideoOptions:
    """How video is colorized.

    Attributes:
        keyframe_every: maximum keyframe spacing in frames (>= 1).
        per_frame: naive baseline: the still model on every frame, no propagation.
        mode: ``"film"`` or ``"surveillance"`` (fixed camera).
    """

    keyframe_every: int = 24
    per_frame: bool = False
    mode: str = "film"

    def __post_init__(self) -> None:
        if self.keyframe_every < 1:
            raise ValueError(f"keyframe_every must be >= 1, got {self.keyframe_every}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")


def predict_still_ab(still: Colorizer, lightness: Tensor, hints: Tensor | None = None) -> Tensor:
    """The still model's ab for ``(1, 1, h, w)`` lightness, resized to the same grid."""
    ab = still.predict_ab(lightness, hints).to("cpu", torch.float32)
    if ab.shape[-2:] != lightness.shape[-2:]:
        ab = F.interpolate(ab, size=lightness.shape[-2:], mode="bilinear", align_corners=False)
    return ab


def colorize_luma_stream(
    frames: Iterable[LumaFrameLike],
    still: Colorizer,
    options: VideoOptions,
    color_range: str = "tv",
    hints_for_frame: HintsForFrame | None = None,
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Colorize a stream of luma frames; yield ``(frame index, U, V)`` in input order.

    Args:
        frames: objects with ``.index``, ``.time`` and ``.luma`` (``(H, W)`` uint8 Y plane).
        still: the still-image colorizer for keyframes (and every frame when ``per_frame``).
        options: see :class:`VideoOptions`.
        color_range: ``"tv"`` (limited) or ``"pc"`` (full), for both Y in and U, V out.
        hints_for_frame: ``(index, time) -> (1, 4, H, W)`` hint map or None.

    Yields:
        ``(index, U, V)`` with U, V uint8 of shape ``((H+1)//2, (W+1)//2)``.
    """
    check_color_range(color_range)
    for frame in frames:
        height, width = frame.luma.shape
        grid = working_size(height, width, still.working_side)
        lightness = luma_to_lightness(frame.luma, grid, color_range)
        hints = None if hints_for_frame is None else hints_for_frame(frame.index, frame.time)
        ab = predict_still_ab(still, lightness, hints)
        u, v = ab_to_chroma_planes(lightness, ab, chroma_plane_size(height, width), color_range)
        yield frame.index, u, v
