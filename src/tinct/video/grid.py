"""Frames on the working grid: what the video core keeps of each decoded frame, and the
conversions between it, the still model and the output chroma planes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
import torch
from torch import Tensor

from tinct.guidance.hint_maps import check_hint_map, resize_hint_map
from tinct.pipeline.colorizer import Colorizer, working_size
from tinct.video.chroma_planes import (
    ab_to_chroma_planes,
    chroma_plane_size,
    luma_code_to_lightness,
    shrink_luma,
)
from tinct.video.flow import PairFlow

HintsForFrame = Callable[[int, float], Tensor | None]
ChromaFrame = tuple[int, np.ndarray, np.ndarray]


class LumaFrameLike(Protocol):
    """What the core needs of a decoded frame."""

    @property
    def index(self) -> int: ...
    @property
    def time(self) -> float: ...
    @property
    def luma(self) -> np.ndarray: ...


@dataclass(frozen=True)
class LumaFrame:
    """A decoded frame: its index, presentation time (s) and ``(H, W)`` uint8 Y plane."""

    index: int
    time: float
    luma: np.ndarray


@dataclass
class GridFrame:
    """A frame on the working grid, as the core buffers it (no full-resolution data).

    Attributes:
        index, time: from the input frame.
        full_size: (H, W) of the input luma.
        luma: ``(h, w)`` uint8 shrunk Y plane (for flow and cut detection).
        lightness: ``(h, w)`` float32 L in [0, 100].
        hints: user hint map on the grid ``(1, 4, h, w)``, or None.
        cut: whether the frame starts a shot.
        pair: flow from the previous frame (None at a cut).
    """

    index: int
    time: float
    full_size: tuple[int, int]
    luma: np.ndarray
    lightness: np.ndarray
    hints: Tensor | None = None
    cut: bool = False
    pair: PairFlow | None = None

    def lightness_tensor(self) -> Tensor:
        """``(1, 1, h, w)`` float32 L."""
        return torch.from_numpy(self.lightness).view(1, 1, *self.lightness.shape)


def grid_frame(
    frame: LumaFrameLike,
    grid_side: int,
    color_range: str,
    hints_for_frame: HintsForFrame | None,
) -> GridFrame:
    """Shrink a decoded frame to the working grid (and its hints, if any)."""
    luma = np.asarray(frame.luma)
    if luma.ndim != 2 or luma.dtype != np.uint8 or min(luma.shape) < 1:
        raise ValueError(
            f"frame {frame.index}: luma must be (H, W) uint8, got {luma.dtype} {luma.shape}"
        )
    grid = working_size(*luma.shape, grid_side)
    small = shrink_luma(luma, grid)
    hints = None if hints_for_frame is None else hints_for_frame(frame.index, frame.time)
    if hints is not None:
        check_hint_map(hints)
        hints = resize_hint_map(hints.detach().to("cpu", torch.float32), grid)
    return GridFrame(
        index=int(frame.index),
        time=float(frame.time),
        full_size=luma.shape,
        luma=small,
        lightness=luma_code_to_lightness(color_range)[small],
        hints=hints,
    )


def predict_still_ab(still: Colorizer, frame: GridFrame, hints: Tensor | None = None) -> np.ndarray:
    """The still model's chroma for a grid frame, resized to the grid: ``(h, w, 2)`` float32."""
    ab = still.predict_ab(frame.lightness_tensor(), hints)[0].to("cpu", torch.float32)
    ab = ab.permute(1, 2, 0).contiguous().numpy()
    height, width = frame.lightness.shape
    if ab.shape[:2] != (height, width):
        ab = cv2.resize(ab, (width, height), interpolation=cv2.INTER_LINEAR)
    return ab


def chroma_planes_for(frame: GridFrame, ab: np.ndarray, color_range: str) -> ChromaFrame:
    """``(index, U, V)`` of a grid frame coloured with ``ab`` ``(h, w, 2)``."""
    tensor_ab = torch.from_numpy(np.ascontiguousarray(ab)).permute(2, 0, 1).unsqueeze(0)
    u, v = ab_to_chroma_planes(
        frame.lightness_tensor(), tensor_ab, chroma_plane_size(*frame.full_size), color_range
    )
    return frame.index, u, v
