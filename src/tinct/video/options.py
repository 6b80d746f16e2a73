"""Options of the video colour core (defaults chosen with ``benchmarks/video_eval.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from tinct.video.flow import DIS_PRESETS
from tinct.video.surveillance import BACKGROUND_COLOURS

MODES = ("film", "surveillance")


@dataclass(frozen=True)
class VideoOptions:
    """How video is colorized (defaults chosen with ``benchmarks/video_eval.py``).

    Attributes:
        keyframe_every: maximum keyframe spacing in frames (>= 1). 24 had the best PSNR of 8,
            16, 24 and 48 on the DAVIS training sequences
            (``benchmarks/results/video_eval_tune_spacing.md``).
        per_frame: naive baseline: the still model on every frame, no propagation.
        mode: ``"film"`` or ``"surveillance"`` (fixed camera: a background colour memory that
            persists across the shot, :mod:`tinct.video.surveillance`).
        flow_preset: DIS preset (``ultrafast``, ``fast``, ``medium``).
        cut_threshold: luma-histogram distance in (0, 1] above which a shot cut is declared.
        min_shot_length: frames a shot lasts at least.
        bidirectional: blend colour carried back from the next keyframe (buffers a segment).
        keyframe_memory: at a keyframe inside a shot, weight in [0, 1] of the colour carried
            from the previous keyframe (times its confidence) against the still model's; the
            rest is the still model's. Does not apply to keyframes with hints.
        fallback_area: share of the frame that must be unreliable before the still model is
            run on an in-between frame; below it the unreliable pixels get a cheap spread.
        unreliable_below: confidence under which a pixel counts as unreliable (0.5 and 0.2
            scored alike on the training sequences).
        max_step: largest change of ab per frame (ab units) where the flow is reliable.
        background_colour: surveillance mode: ``"once"`` (the static background is coloured
            once, and again only where it changes for good) or ``"mean"`` (the running mean of
            the still model's colour of it at every keyframe); see
            :class:`tinct.video.surveillance.BackgroundColourMemory`.
        refiner: optional learned module ``(lightness, warped_ab, confidence, fallback_ab) ->
            ab``, all ``(B, C, h, w)``, used instead of the closed-form confidence blend.
    """

    keyframe_every: int = 24
    per_frame: bool = False
    mode: str = "film"
    flow_preset: str = "ultrafast"
    cut_threshold: float = 0.4
    min_shot_length: int = 6
    bidirectional: bool = True
    keyframe_memory: float = 0.5
    fallback_area: float = 0.25
    unreliable_below: float = 0.5
    max_step: float = 3.0
    background_colour: str = "once"
    refiner: nn.Module | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.keyframe_every < 1:
            raise ValueError(f"keyframe_every must be >= 1, got {self.keyframe_every}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.flow_preset not in DIS_PRESETS:
            raise ValueError(
                f"flow_preset must be one of {tuple(DIS_PRESETS)}, got {self.flow_preset!r}"
            )
        for name in ("keyframe_memory", "fallback_area", "unreliable_below"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.background_colour not in BACKGROUND_COLOURS:
            raise ValueError(
                f"background_colour must be one of {BACKGROUND_COLOURS}, "
                f"got {self.background_colour!r}"
            )
        if self.max_step <= 0:
            raise ValueError(f"max_step must be > 0, got {self.max_step}")
