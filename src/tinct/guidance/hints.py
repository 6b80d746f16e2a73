"""Colour hints a person gives, in parsed form (the JSON form is in :mod:`hints_file`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tinct.errors import TinctError

HINTS_VERSION = 1
DEFAULT_POINT_RADIUS = 2.0
DEFAULT_STROKE_WIDTH = 4.0
DEFAULT_BOUNDARY_WIDTH = 2.0

Position = tuple[float, float]
AB = tuple[float, float]


class HintsError(TinctError):
    """Hints are malformed or do not fit the image; the message names the source and entry."""


@dataclass(frozen=True)
class HintPoint:
    """A disc of colour ``ab`` (ab units) centred on ``(x, y)`` (pixels), ``radius`` px."""

    x: float
    y: float
    ab: AB
    radius: float = DEFAULT_POINT_RADIUS
    label: str = "points[0]"


@dataclass(frozen=True)
class HintStroke:
    """A line of colour ``ab`` through ``points`` (pixels), ``width`` px wide."""

    points: tuple[Position, ...]
    ab: AB
    width: float = DEFAULT_STROKE_WIDTH
    label: str = "strokes[0]"


@dataclass(frozen=True)
class HintBoundary:
    """A line through ``points`` (pixels) that colour must not cross, ``width`` px wide."""

    points: tuple[Position, ...]
    width: float = DEFAULT_BOUNDARY_WIDTH
    label: str = "boundaries[0]"


@dataclass(frozen=True)
class Hints:
    """The hints for one image. ``source`` names where they came from, for messages."""

    points: tuple[HintPoint, ...] = ()
    strokes: tuple[HintStroke, ...] = ()
    boundaries: tuple[HintBoundary, ...] = ()
    source: str = "hints"

    def __bool__(self) -> bool:
        return bool(self.points or self.strokes or self.boundaries)

    def to_json(self) -> dict[str, object]:
        """The JSON object of these hints; colours written as Lab chroma ``{"a", "b"}``."""
        return {
            "version": HINTS_VERSION,
            "points": [
                {"x": p.x, "y": p.y, "color": _ab_json(p.ab), "radius": p.radius}
                for p in self.points
            ],
            "strokes": [
                {"points": _positions_json(s.points), "color": _ab_json(s.ab), "width": s.width}
                for s in self.strokes
            ],
            "boundaries": [
                {"points": _positions_json(b.points), "width": b.width} for b in self.boundaries
            ],
        }


@dataclass(frozen=True)
class VideoHints:
    """Hints keyed by frame index, or by time in seconds (resolved with the frame rate)."""

    by_frame: dict[int, Hints] = field(default_factory=dict)
    by_time: dict[float, Hints] = field(default_factory=dict)
    source: str = "hints"

    def resolve(self, frames_per_second: float) -> dict[int, Hints]:
        """Hints per frame index; a time entry goes to the frame nearest to it.

        Raises:
            HintsError: two entries fall on the same frame.
        """
        if not frames_per_second > 0:
            raise ValueError(f"frames_per_second must be > 0, got {frames_per_second}")
        resolved = dict(self.by_frame)
        for time, hints in self.by_time.items():
            index = round(time * frames_per_second)
            if index in resolved:
                raise HintsError(
                    f"{self.source}: the entry for time {time} s falls on frame {index}, which "
                    "already has hints; merge the two entries"
                )
            resolved[index] = hints
        return resolved

    def entries_past(self, frame_count: int, frames_per_second: float) -> list[str]:
        """The entries that fall on no frame of a video of ``frame_count`` frames, described
        (``frame 500``, ``time 20 s (frame 500)``): a run cannot use them."""
        late = [f"frame {index}" for index in sorted(self.by_frame) if index >= frame_count]
        for time in sorted(self.by_time):
            index = round(time * frames_per_second)
            if index >= frame_count:
                late.append(f"time {time:g} s (frame {index})")
        return late


def _ab_json(ab: AB) -> dict[str, float]:
    return {"a": round(ab[0], 4), "b": round(ab[1], 4)}


def _positions_json(points: tuple[Position, ...]) -> list[list[float]]:
    return [[x, y] for x, y in points]
