"""Parse hints from decoded JSON, with errors that name the bad entry (format: hints_file)."""

from __future__ import annotations

import math
import re
from functools import lru_cache

import torch

from tinct.color.lab import rgb_to_lab
from tinct.guidance.hints import (
    AB,
    DEFAULT_BOUNDARY_WIDTH,
    DEFAULT_POINT_RADIUS,
    DEFAULT_STROKE_WIDTH,
    HINTS_VERSION,
    HintBoundary,
    HintPoint,
    Hints,
    HintsError,
    HintStroke,
    Position,
    VideoHints,
)

MAX_ENTRIES = 10_000  # per list: hints are drawn by a person
MAX_LINE_POINTS = 10_000
MAX_SIZE = 4096.0  # largest radius or width, in pixels
MAX_COORDINATE = 1e6
AB_LIMIT = 128.0
HEX_COLOUR = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
PHOTO_KEYS = {"version", "points", "strokes", "boundaries"}
HEX_CACHE_SIZE = 4096  # distinct hint colours remembered


class _Entry:
    """Where in the document a value sits, for error messages: ``points[2].color``."""

    def __init__(self, source: str, path: str = "") -> None:
        self.source = source
        self.path = path

    def child(self, name: str | int) -> _Entry:
        if isinstance(name, int):
            return _Entry(self.source, f"{self.path}[{name}]")
        return _Entry(self.source, f"{self.path}.{name}" if self.path else name)

    def error(self, problem: str) -> HintsError:
        where = f"{self.source}: {self.path}" if self.path else self.source
        return HintsError(f"{where}: {problem}")


def parse_hints(data: object, source: str = "hints") -> Hints:
    """Hints of one image from a decoded JSON object (see :mod:`tinct.guidance.hints_file`).

    Raises:
        HintsError: the message names ``source`` and the bad entry.
    """
    return _parse_photo(data, _Entry(source), PHOTO_KEYS)


def parse_video_hints(data: object, source: str = "hints") -> VideoHints:
    """Video hints: an object with a ``frames`` list of photo hints with ``frame`` or ``time``."""
    root = _Entry(source)
    document = _object(data, root, {"version", "frames"})
    _check_version(document, root)
    frames = _list(document.get("frames"), root.child("frames"))
    by_frame: dict[int, Hints] = {}
    by_time: dict[float, Hints] = {}
    for index, item in enumerate(frames):
        entry = root.child("frames").child(index)
        hints = _parse_photo(item, entry, PHOTO_KEYS | {"frame", "time"}, nested=True)
        frame, time = _frame_key(item, entry)
        table, key = (by_frame, frame) if frame is not None else (by_time, time)
        if key in table:
            kind = "frame" if frame is not None else "time"
            raise entry.error(f"a second entry for {kind} {key}")
        table[key] = hints  # type: ignore[index]
    return VideoHints(by_frame=by_frame, by_time=by_time, source=source)


def _frame_key(item: dict[str, object], entry: _Entry) -> tuple[int | None, float | None]:
    has_frame, has_time = "frame" in item, "time" in item
    if has_frame == has_time:
        raise entry.error('needs exactly one of "frame" (index) or "time" (seconds)')
    if has_frame:
        frame = item["frame"]
        if not (isinstance(frame, int) and not isinstance(frame, bool)) or frame < 0:
            raise entry.child("frame").error(f"{frame!r} is not a frame index (an integer >= 0)")
        return frame, None
    return None, _number(item["time"], entry.child("time"), low=0.0, high=1e7)


def _parse_photo(data: object, entry: _Entry, keys: set[str], nested: bool = False) -> Hints:
    document = _object(data, entry, keys)
    if not nested:
        _check_version(document, entry)
    points = tuple(
        _point(item, entry.child("points").child(i))
        for i, item in enumerate(_list(document.get("points", []), entry.child("points")))
    )
    strokes = tuple(
        _stroke(item, entry.child("strokes").child(i))
        for i, item in enumerate(_list(document.get("strokes", []), entry.child("strokes")))
    )
    boundaries = tuple(
        _boundary(item, entry.child("boundaries").child(i))
        for i, item in enumerate(_list(document.get("boundaries", []), entry.child("boundaries")))
    )
    return Hints(points, strokes, boundaries, source=entry.source)


def _check_version(document: dict[str, object], entry: _Entry) -> None:
    version = document.get("version", HINTS_VERSION)
    if version != HINTS_VERSION:
        raise entry.child("version").error(
            f"version {version!r} is not supported (this tinct reads version {HINTS_VERSION})"
        )


def _object(data: object, entry: _Entry, keys: set[str]) -> dict[str, object]:
    if not isinstance(data, dict):
        raise entry.error(f"expected a JSON object, got {_kind(data)}")
    unknown = sorted(set(data) - keys)
    if unknown:
        raise entry.error(
            f"unknown key {unknown[0]!r} (expected {', '.join(repr(k) for k in sorted(keys))})"
        )
    return data


def _list(data: object, entry: _Entry, limit: int = MAX_ENTRIES) -> list[object]:
    if not isinstance(data, list):
        raise entry.error(f"expected a list, got {_kind(data)}")
    if len(data) > limit:
        raise entry.error(f"has {len(data)} entries; at most {limit} are accepted")
    return data


def _required(item: dict[str, object], key: str, entry: _Entry) -> object:
    if key not in item:
        raise entry.error(f'missing "{key}"')
    return item[key]


def _point(data: object, entry: _Entry) -> HintPoint:
    item = _object(data, entry, {"x", "y", "color", "radius"})
    return HintPoint(
        x=_coordinate(_required(item, "x", entry), entry.child("x")),
        y=_coordinate(_required(item, "y", entry), entry.child("y")),
        ab=parse_colour(_required(item, "color", entry), entry.child("color")),
        radius=_size(item.get("radius", DEFAULT_POINT_RADIUS), entry.child("radius"), zero=True),
        label=entry.path,
    )


def _stroke(data: object, entry: _Entry) -> HintStroke:
    item = _object(data, entry, {"points", "color", "width"})
    return HintStroke(
        points=_line(_required(item, "points", entry), entry.child("points"), minimum=1),
        ab=parse_colour(_required(item, "color", entry), entry.child("color")),
        width=_size(item.get("width", DEFAULT_STROKE_WIDTH), entry.child("width")),
        label=entry.path,
    )


def _boundary(data: object, entry: _Entry) -> HintBoundary:
    item = _object(data, entry, {"points", "width"})
    return HintBoundary(
        points=_line(_required(item, "points", entry), entry.child("points"), minimum=2),
        width=_size(item.get("width", DEFAULT_BOUNDARY_WIDTH), entry.child("width")),
        label=entry.path,
    )


def _line(data: object, entry: _Entry, minimum: int) -> tuple[Position, ...]:
    items = _list(data, entry, MAX_LINE_POINTS)
    if len(items) < minimum:
        raise entry.error(f"needs at least {minimum} point{'s' if minimum > 1 else ''} [x, y]")
    line = []
    for index, pair in enumerate(items):
        where = entry.child(index)
        if not isinstance(pair, list) or len(pair) != 2:
            raise where.error(f"expected a point [x, y], got {_short(pair)}")
        line.append((_coordinate(pair[0], where), _coordinate(pair[1], where)))
    return tuple(line)


def _number(value: object, entry: _Entry, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise entry.error(f"expected a number, got {_short(value)}")
    if not (math.isfinite(value) and low <= value <= high):
        raise entry.error(f"{value!r} is out of range [{low:g}, {high:g}]")
    return float(value)


def _coordinate(value: object, entry: _Entry) -> float:
    return _number(value, entry, -MAX_COORDINATE, MAX_COORDINATE)


def _size(value: object, entry: _Entry, zero: bool = False) -> float:
    size = _number(value, entry, 0.0, MAX_SIZE)
    if size == 0 and not zero:
        raise entry.error("must be > 0 pixels")
    return size


def parse_colour(value: object, entry: _Entry | str = "color") -> AB:
    """ab of a hint colour: ``"#rrggbb"``/``"#rgb"`` sRGB, or Lab ``{"L"?, "a", "b"}``.

    Raises:
        HintsError: naming the entry (``entry`` may be a plain name for messages).
    """
    where = entry if isinstance(entry, _Entry) else _Entry("hints", entry)
    if isinstance(value, str):
        match = HEX_COLOUR.fullmatch(value.strip())
        if match is None:
            raise where.error(f"{value!r} is not a colour (use '#rrggbb' or Lab {{a, b}})")
        return hex_to_ab(match.group(1))
    if isinstance(value, dict):
        item = _object(value, where, {"L", "a", "b"})
        if "L" in item:
            _number(item["L"], where.child("L"), 0.0, 100.0)
        a = _number(_required(item, "a", where), where.child("a"), -AB_LIMIT, AB_LIMIT)
        b = _number(_required(item, "b", where), where.child("b"), -AB_LIMIT, AB_LIMIT)
        return (a, b)
    raise where.error(f"expected a colour ('#rrggbb' or a Lab object), got {_short(value)}")


def hex_to_ab(digits: str) -> AB:
    """ab of an sRGB colour given as 3 or 6 hex digits (no '#')."""
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return _srgb8_to_ab(digits.lower())


@lru_cache(maxsize=HEX_CACHE_SIZE)
def _srgb8_to_ab(digits: str) -> AB:
    """ab of ``rrggbb``. Cached: the page sends every hint again with each update, and one
    conversion (some thirty tensor operations on one pixel) takes half a millisecond: ten
    hints cost 5 ms of every update before."""
    rgb = torch.tensor([int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)], dtype=torch.float64)
    lab = rgb_to_lab(rgb.view(3, 1, 1)).flatten()
    return (float(lab[1]), float(lab[2]))


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, (int, float)) else "a value")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
