"""The video colour core: a stream of luma frames in, chroma planes out (no file I/O).

``colorize_luma_stream`` takes frames with ``.index``, ``.time`` (seconds) and ``.luma`` (the Y
plane of yuv420p, uint8 ``(H, W)``) and yields ``(index, U, V)`` in input order, with U and V
uint8 ``((H+1)//2, (W+1)//2)`` in the same colour range. All per-pixel work happens on a small
working grid (the still model's input size); the full-resolution Y plane is only shrunk.

Keyframes (the first frame, shot cuts, frames with hints, and at most ``keyframe_every`` frames
apart) are colorized by the still model. The frames between two keyframes are buffered on the
working grid, and their chroma is carried from both keyframes along chained optical flow and
blended by temporal distance and flow confidence; where propagation is unreliable the still
model's colour (or, for small areas, a spread of the reliable colour) takes over. A last stage
bounds how fast colour may change where the motion is reliably known.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tinct.pipeline.colorizer import Colorizer
from tinct.video.chroma_planes import check_color_range
from tinct.video.grid import (
    ChromaFrame,
    HintsForFrame,
    LumaFrame,
    LumaFrameLike,
    chroma_planes_for,
    grid_frame,
    predict_still_ab,
)
from tinct.video.options import VideoOptions
from tinct.video.propagator import Propagator

__all__ = ["LumaFrame", "LumaFrameLike", "VideoOptions", "colorize_luma_stream"]


def colorize_luma_stream(
    frames: Iterable[LumaFrameLike],
    still: Colorizer,
    options: VideoOptions,
    color_range: str = "tv",
    hints_for_frame: HintsForFrame | None = None,
) -> Iterator[ChromaFrame]:
    """Colorize a stream of luma frames; yield ``(frame index, U, V)`` in input order.

    Memory is bounded: at most ``options.keyframe_every`` frames are buffered, on the working
    grid. The first frame is always a keyframe.

    Args:
        frames: objects with ``.index``, ``.time`` and ``.luma`` (``(H, W)`` uint8 Y plane).
        still: the still-image colorizer for keyframes (and every frame when ``per_frame``).
        options: see :class:`VideoOptions`.
        color_range: ``"tv"`` (limited) or ``"pc"`` (full), for both Y in and U, V out.
        hints_for_frame: ``(index, time) -> (1, 4, H, W)`` hint map (full resolution) or None.
            A frame with hints is a keyframe; its hinted colours persist until the next cut.

    Yields:
        ``(index, U, V)`` with U, V uint8 of shape ``((H+1)//2, (W+1)//2)``.
    """
    check_color_range(color_range)
    if options.per_frame:
        for frame in frames:
            small = grid_frame(frame, still.working_side, color_range, hints_for_frame)
            ab = predict_still_ab(still, small, small.hints)
            yield chroma_planes_for(small, ab, color_range)
        return
    propagator = Propagator(still, options, color_range)
    for frame in frames:
        small = grid_frame(frame, still.working_side, color_range, hints_for_frame)
        yield from propagator.push(small)
    yield from propagator.finish()
