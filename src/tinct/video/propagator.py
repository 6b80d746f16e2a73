"""The stateful part of the video core: keyframe schedule, segment buffer, propagation.

Frames arrive one at a time on the working grid. Frames between two keyframes are buffered
(at most ``keyframe_every``); when the next keyframe arrives (or the stream ends), the segment
is coloured from both ends and emitted in order. Only the last keyframe's chroma, the last
shown chroma and, in surveillance mode, a background colour memory persist between segments.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import torch
from torch import Tensor

from tinct.pipeline.colorizer import Colorizer
from tinct.video.flow import FlowEstimator, PairFlow, warp
from tinct.video.grid import ChromaFrame, GridFrame, chroma_planes_for, predict_still_ab
from tinct.video.options import VideoOptions
from tinct.video.propagate import (
    Carried,
    Repair,
    blend_directions,
    carry_backward,
    carry_forward,
    fill_from_reliable,
    limit_change,
    mix_keeping_chroma,
    repair_closed_form,
)
from tinct.video.shots import ShotCutDetector
from tinct.video.surveillance import BackgroundColourMemory

REPAIRED_CONFIDENCE = 0.6  # how much a repaired pixel is trusted when carried on
HINT_KEEP_CONFIDENCE = 0.5  # a hint point survives a warp where the flow is at least this sure


def carry_hints(hints: Tensor, pairs: list[PairFlow]) -> Tensor:
    """Move a grid hint map ``(1, 4, h, w)`` along chained flow (nearest neighbour).

    Hint points travel with the content they were placed on and are dropped where the flow is
    unreliable (occluded, left the frame).
    """
    array = hints[0].permute(1, 2, 0).contiguous().numpy()
    for pair in pairs:
        array = warp(array, pair.backward, nearest=True)
        array[..., 2] *= pair.confidence >= HINT_KEEP_CONFIDENCE
        array[..., :2] *= array[..., 2:3]
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).unsqueeze(0)


class Propagator:
    """Colour a stream of :class:`GridFrame` from keyframes; see the module docstring."""

    def __init__(self, still: Colorizer, options: VideoOptions, color_range: str) -> None:
        self.still = still
        self.options = options
        self.color_range = color_range
        self.detector = ShotCutDetector(options.cut_threshold, options.min_shot_length)
        self.flow = FlowEstimator(options.flow_preset)
        self.previous: GridFrame | None = None
        self.key_ab: np.ndarray | None = None  # chroma of the last keyframe
        self.pending: list[GridFrame] = []
        self.active_hints: Tensor | None = None  # hints of the last keyframe, on its grid
        self.shown_ab: np.ndarray | None = None  # chroma emitted for the last frame
        self.background = (
            BackgroundColourMemory(options.background_colour)
            if options.mode == "surveillance"
            else None
        )

    def push(self, frame: GridFrame) -> Iterator[ChromaFrame]:
        """Take the next frame; yield the frames whose colour is now decided."""
        self._link(frame)
        self.previous = frame
        spacing_reached = len(self.pending) + 1 >= self.options.keyframe_every
        if frame.cut or frame.hints is not None or spacing_reached:
            yield from self._close_segment(frame)
        else:
            self.pending.append(frame)

    def finish(self) -> Iterator[ChromaFrame]:
        """End of stream: colour and yield the buffered frames from the last keyframe."""
        yield from self._close_segment(None)

    def _link(self, frame: GridFrame) -> None:
        """Set ``frame.cut`` and, inside a shot, ``frame.pair`` (flow from the previous frame)."""
        previous = self.previous
        resized = previous is None or previous.luma.shape != frame.luma.shape
        frame.cut = self.detector.is_cut(frame.luma) or resized
        if not frame.cut and previous is not None:
            frame.pair = self.flow.pair(
                previous.luma, frame.luma, previous.lightness, frame.lightness
            )

    def _close_segment(self, next_key: GridFrame | None) -> Iterator[ChromaFrame]:
        """Colour the buffered frames between the last keyframe and ``next_key``, emit them
        and ``next_key``, which becomes the last keyframe."""
        pending, self.pending = self.pending, []
        same_shot = next_key is not None and not next_key.cut
        segment: list[GridFrame | None] = [None, *pending] + ([next_key] if same_shot else [])
        pairs = [frame.pair for frame in segment[1:] if frame is not None and frame.pair]
        repair = self._repairer(segment)
        forward = carry_forward(self.key_ab, pairs, repair) if self.key_ab is not None else []
        next_ab = None
        if next_key is not None:
            next_ab = self._keyframe_ab(next_key, forward[-1] if same_shot else None, pairs)
        backward = None
        if same_shot and self.options.bidirectional:
            backward = carry_backward(next_ab, pairs, repair)
        for position, frame in enumerate(pending, start=1):
            ab, _ = blend_directions(
                forward[position - 1],
                None if backward is None else backward[position],
                position / (len(pending) + 1),
            )
            yield self._emit(frame, ab)
        if next_key is not None:
            self.key_ab = next_ab
            hinted = next_key.hints is not None
            yield self._emit(next_key, next_ab, hinted=hinted, keyframe=True)

    def _repairer(self, segment: list[GridFrame | None]) -> Repair:
        """The repair step of :func:`carry_forward` for one segment (``segment[0]`` is the
        previous keyframe, the last entry the next keyframe when it is in the same shot).

        Where much of a frame is unreliable the still model colours it (once per frame, shared
        by both directions); otherwise reliable colour is spread into the unreliable pixels.
        """
        still_ab: dict[int, np.ndarray] = {}
        last = len(segment) - 1

        def repair(position: int, ab: np.ndarray, confidence: np.ndarray) -> Carried:
            frame = segment[position]
            assert frame is not None
            unreliable = float((confidence < self.options.unreliable_below).mean())
            # The next keyframe gets the still model's colour anyway (_keyframe_ab).
            if unreliable > self.options.fallback_area and position != last:
                if position not in still_ab:
                    still_ab[position] = predict_still_ab(self.still, frame, self.active_hints)
                fallback = still_ab[position]
            else:
                fallback = fill_from_reliable(ab, confidence)
            if self.options.refiner is None:
                repaired = repair_closed_form(
                    ab, confidence, fallback, self.options.unreliable_below
                )
            else:
                repaired = self._refine(frame, ab, confidence, fallback)
            return repaired, np.maximum(confidence, REPAIRED_CONFIDENCE)

        return repair

    def _keyframe_ab(
        self,
        frame: GridFrame,
        carried: tuple[np.ndarray, np.ndarray] | None,
        pairs: list[PairFlow],
    ) -> np.ndarray:
        """Chroma of a keyframe: the still model's (with the user's or the carried hints),
        mixed with the colour carried from the previous keyframe inside a shot."""
        if frame.hints is not None:
            self.active_hints = frame.hints
        elif frame.cut:
            self.active_hints = None
        elif self.active_hints is not None:
            self.active_hints = carry_hints(self.active_hints, pairs)
        still_ab = predict_still_ab(self.still, frame, self.active_hints)
        if carried is None or frame.hints is not None:
            return still_ab
        carried_ab, confidence = carried
        return mix_keeping_chroma(still_ab, carried_ab, self.options.keyframe_memory * confidence)

    @torch.inference_mode()
    def _refine(
        self, frame: GridFrame, ab: np.ndarray, confidence: np.ndarray, fallback: np.ndarray
    ) -> np.ndarray:
        """The learned refiner in place of the closed-form blend."""

        def as_tensor(array: np.ndarray) -> Tensor:
            array = array if array.ndim == 3 else array[..., None]
            return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).unsqueeze(0)

        refiner = self.options.refiner
        device = next(refiner.parameters(), torch.empty(0)).device
        inputs = [as_tensor(a).to(device) for a in (ab, confidence, fallback)]
        refined = refiner(frame.lightness_tensor().to(device), *inputs)
        return refined[0].float().permute(1, 2, 0).cpu().numpy()

    def _emit(
        self,
        frame: GridFrame,
        ab: np.ndarray,
        hinted: bool = False,
        keyframe: bool = False,
    ) -> ChromaFrame:
        """Bound the colour change since the last shown frame, apply the background memory
        (which learns at keyframes), then make the chroma planes."""
        if frame.pair is not None and self.shown_ab is not None and not hinted:
            shown_here = warp(self.shown_ab, frame.pair.backward)
            ab = limit_change(ab, shown_here, frame.pair.confidence, self.options.max_step)
        if self.background is not None:
            background_ab = self._background_ab(frame, ab) if keyframe else None
            ab = self.background.apply(frame, ab, background_ab)
        self.shown_ab = ab
        return chroma_planes_for(frame, ab, self.color_range)

    def _background_ab(self, keyframe: GridFrame, key_ab: np.ndarray) -> np.ndarray | None:
        """What the background memory learns at a keyframe: the keyframe's own colour at the
        start of a shot (the still model's, nothing is carried there), else the still model's
        colour of the memory's plate (the scene without its moving objects) when part of the
        background needs a colour, else None."""
        assert self.background is not None
        if self.background.starts_afresh(keyframe):
            return key_ab
        plate = self.background.plate()
        if plate is None:
            return None
        plate_frame = replace(keyframe, lightness=np.clip(plate, 0.0, 100.0))
        return predict_still_ab(self.still, plate_frame, self.active_hints)
