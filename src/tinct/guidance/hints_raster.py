"""Draw parsed hints into a hint map, the tensor that guided models take (see hint_maps)."""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np
import torch
from torch import Tensor

from tinct.guidance.hints import HintBoundary, HintPoint, Hints, HintsError, HintStroke, Position


def rasterize_hints(
    hints: Hints, height: int, width: int, size: tuple[int, int] | None = None
) -> Tensor:
    """The ``(1, 4, h, w)`` float32 hint map of ``hints`` for an image of ``height x width``.

    A position (x, y) falls in the pixel of column ``floor(x)`` and row ``floor(y)``. Strokes are
    drawn first, then points, each over the earlier ones; boundaries go to their own channel.

    Args:
        hints: parsed hints, in pixels of the ``height x width`` image.
        size: (h, w) to draw at, e.g. a model's working size: positions, radii and widths are
            scaled, and nothing thinner than one pixel is lost. Default: the image's size.

    Raises:
        HintsError: a point lies outside the image, or a stroke or boundary misses it entirely
            (the message names the entry).
    """
    if height < 1 or width < 1:
        raise ValueError(f"height and width must be >= 1, got {height} and {width}")
    _check_inside(hints, height, width)
    out_height, out_width = size or (height, width)
    hints = _scaled(hints, out_height / height, out_width / width)
    colour = np.zeros((out_height, out_width, 3), np.float32)  # a, b, mask
    boundary = np.zeros((out_height, out_width), np.float32)
    for stroke in hints.strokes:
        _draw_stroke(colour, stroke, hints.source)
    for point in hints.points:
        _draw_point(colour, point)
    for line in hints.boundaries:
        _draw_boundary(boundary, line, hints.source)
    planes = np.concatenate((colour, boundary[..., None]), axis=2)
    return torch.from_numpy(planes).permute(2, 0, 1).unsqueeze(0).contiguous()


def _check_inside(hints: Hints, height: int, width: int) -> None:
    for point in hints.points:
        if not _inside(_pixel((point.x, point.y)), height, width):
            raise HintsError(
                f"{hints.source}: {point.label}: ({point.x:g}, {point.y:g}) lies outside the "
                f"{width}x{height} image"
            )


def _scaled(hints: Hints, sy: float, sx: float) -> Hints:
    """``hints`` in the pixels of an image scaled by ``sy`` (rows) and ``sx`` (columns)."""
    if sy == 1 and sx == 1:
        return hints
    mean = math.sqrt(sx * sy)

    def line(points: tuple[Position, ...]) -> tuple[Position, ...]:
        return tuple((x * sx, y * sy) for x, y in points)

    return replace(
        hints,
        points=tuple(
            replace(p, x=p.x * sx, y=p.y * sy, radius=p.radius * mean) for p in hints.points
        ),
        strokes=tuple(
            replace(s, points=line(s.points), width=s.width * mean) for s in hints.strokes
        ),
        boundaries=tuple(
            replace(b, points=line(b.points), width=b.width * mean) for b in hints.boundaries
        ),
    )


def _pixel(position: Position) -> tuple[int, int]:
    """(column, row) of the pixel holding ``position``, as OpenCV wants it."""
    return math.floor(position[0]), math.floor(position[1])


def _inside(pixel: tuple[int, int], height: int, width: int) -> bool:
    return 0 <= pixel[0] < width and 0 <= pixel[1] < height


def _draw_point(colour: np.ndarray, point: HintPoint) -> None:
    height, width = colour.shape[:2]
    column, row = _pixel((point.x, point.y))
    centre = (min(column, width - 1), min(row, height - 1))  # scaling may round onto the edge
    value = (point.ab[0], point.ab[1], 1.0)
    cv2.circle(colour, centre, round(point.radius), value, thickness=-1)


def _polyline(points: tuple[Position, ...]) -> list[np.ndarray]:
    return [np.array([_pixel(p) for p in points], np.int32).reshape(-1, 1, 2)]


MAX_THICKNESS = 32767  # OpenCV's limit on a line's thickness, in pixels


def _thickness(width: float) -> int:
    """OpenCV's thickness for a line ``width`` px wide: a stroke widened by scaling a small image
    up to the working size may exceed OpenCV's limit; half the limit still reaches 16,383 px
    from the line, far past any image it is drawn on."""
    return min(max(1, round(width)), MAX_THICKNESS)


def _draw_stroke(colour: np.ndarray, stroke: HintStroke, source: str) -> None:
    height, width = colour.shape[:2]
    stamp = np.zeros((height, width), np.uint8)
    _draw_line(stamp, stroke.points, stroke.width)
    if not stamp.any():
        raise HintsError(f"{source}: {stroke.label}: lies outside the {width}x{height} image")
    covered = stamp.astype(bool)
    colour[covered] = (stroke.ab[0], stroke.ab[1], 1.0)


def _draw_boundary(boundary: np.ndarray, line: HintBoundary, source: str) -> None:
    height, width = boundary.shape
    stamp = np.zeros((height, width), np.uint8)
    _draw_line(stamp, line.points, line.width)
    if not stamp.any():
        raise HintsError(f"{source}: {line.label}: lies outside the {width}x{height} image")
    boundary[stamp.astype(bool)] = 1.0


def _draw_line(stamp: np.ndarray, points: tuple[Position, ...], width: float) -> None:
    """Mark the pixels of a polyline ``width`` px wide (a dot for a single point)."""
    thickness = _thickness(width)
    if len(points) == 1:
        cv2.circle(stamp, _pixel(points[0]), max(0, thickness // 2), 1, thickness=-1)
        return
    cv2.polylines(stamp, _polyline(points), isClosed=False, color=1, thickness=thickness)
