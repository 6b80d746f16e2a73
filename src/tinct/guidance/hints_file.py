"""The hints file: colour hints a person gives, as JSON, and their parsed form.

A photo's hints (``tinct colorize --hints``, the HTTP API, the web page)::

    {
      "version": 1,
      "points": [{"x": 120, "y": 80, "color": "#c0392b", "radius": 3}],
      "strokes": [{"points": [[10, 10], [50, 60]], "color": {"a": 40, "b": 20}, "width": 4}],
      "boundaries": [{"points": [[0, 100], [300, 100]], "width": 2}]
    }

- Coordinates are pixels of the original image: x to the right, y down, origin at the top-left
  corner of the top-left pixel (the centre of that pixel is (0.5, 0.5); integers are accepted as
  they come). Every list is optional; an empty object means "no hints".
- ``color`` is ``"#rrggbb"``/``"#rgb"`` (sRGB), or CIE Lab as ``{"L": .., "a": .., "b": ..}`` or
  ``{"a": .., "b": ..}``. Only the chroma (a, b) is used: the photo keeps its own lightness.
- A point paints a disc of ``radius`` pixels (default 2) with its colour; a stroke paints a line
  of ``width`` pixels (default 4) along its points; a boundary is a line (default width 2) that
  colour must not cross: the model is told that colour changes there.

Video hints (``tinct video --hints``) key photo hints by frame index or by time in seconds::

    {"version": 1, "frames": [{"frame": 0, "points": [...]}, {"time": 12.5, "strokes": [...]}]}

Errors name the entry: ``hints.json: points[2].color: '#12345' is not a colour``.
"""

from __future__ import annotations

import json
from pathlib import Path

from tinct.guidance.hints import (
    HintBoundary,
    HintPoint,
    Hints,
    HintsError,
    HintStroke,
    VideoHints,
)
from tinct.guidance.hints_parsing import parse_colour, parse_hints, parse_video_hints
from tinct.guidance.hints_raster import rasterize_hints

MAX_HINTS_FILE_BYTES = 16 * 1024 * 1024

__all__ = [
    "HintBoundary",
    "HintPoint",
    "Hints",
    "HintsError",
    "HintStroke",
    "VideoHints",
    "load_hints",
    "load_video_hints",
    "decode_hints_json",
    "parse_colour",
    "parse_hints",
    "parse_video_hints",
    "rasterize_hints",
]


def load_hints(path: str | Path) -> Hints:
    """A photo's hints file.

    Raises:
        HintsError: naming the file and, for a malformed entry, the entry.
    """
    return parse_hints(_read_json(Path(path)), source=str(path))


def load_video_hints(path: str | Path) -> VideoHints:
    """A video's hints file (a ``frames`` list), or a photo's hints file, applied to frame 0."""
    data = _read_json(Path(path))
    if isinstance(data, dict) and "frames" not in data:
        return VideoHints(by_frame={0: parse_hints(data, source=str(path))}, source=str(path))
    return parse_video_hints(data, source=str(path))


def _read_json(path: Path) -> object:
    try:
        if path.stat().st_size > MAX_HINTS_FILE_BYTES:
            limit = MAX_HINTS_FILE_BYTES >> 20
            raise HintsError(f"{path}: larger than {limit} MB, so not a hints file")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HintsError(f"{path}: no such hints file") from None
    except IsADirectoryError:
        raise HintsError(f"{path}: is a folder, not a hints file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise HintsError(f"{path}: cannot read the hints file ({error})") from None
    return decode_hints_json(text, str(path))


def decode_hints_json(text: str, source: str) -> object:
    """JSON text of hints, decoded; any text that is not usable JSON is a HintsError naming
    ``source``, never another exception (nesting too deep, an integer too long to convert).

    Raises:
        HintsError: not valid JSON, or JSON Python will not decode.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise HintsError(
            f"{source}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except RecursionError:
        raise HintsError(f"{source}: JSON nested too deeply to be hints") from None
    except ValueError:  # the only other ValueError: an integer of more than 4300 digits
        raise HintsError(f"{source}: a number in the JSON has thousands of digits") from None
