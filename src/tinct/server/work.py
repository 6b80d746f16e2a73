"""The blocking jobs behind the endpoints (run in the work gate's threads, never on the loop).

Hints arrive in pixels of the original image. They are drawn straight at the model's working size
(:func:`tinct.guidance.hints_file.rasterize_hints` with ``size``), so a hint update never builds a
full-resolution hint map, whatever the photo's size.

An upload kept for hint updates is encoded once (:func:`decode_and_encode`; the encoder's output
stays in the store beside the preview), so that each hint update and suggestion runs only the
part of the model after the hints enter (:class:`tinct.pipeline.predictor.Predictor`).
"""

from __future__ import annotations

import dataclasses
from functools import cache

from torch import Tensor

from tinct.export.onnx_runtime import default_threads
from tinct.guidance.hints_file import (
    Hints,
    HintsError,
    decode_hints_json,
    parse_hints,
    rasterize_hints,
)
from tinct.model_outputs import model_output
from tinct.pipeline.colorizer import SIZE_MULTIPLE, Colorizer, ImageEncoding, working_size
from tinct.pipeline.predictor import Predictor
from tinct.pipeline.suggest import Suggestion
from tinct.server.errors import RequestProblem
from tinct.server.images import (
    DecodedUpload,
    decode_upload,
    encode_full_png,
    encode_preview_png,
    preview_lightness,
)
from tinct.server.limits import ServerLimits, one_torch_thread, stop_if_cancelled


def hints_from_form(text: str | None, limits: ServerLimits) -> Hints | None:
    """Hints from a multipart form field holding JSON text; None when absent or blank.

    Raises:
        HintsError: not JSON, or a bad entry (named), or too many entries or points.
    """
    if text is None or not text.strip():
        return None
    return hints_from_json(decode_hints_json(text, "hints"), limits)


def hints_from_json(data: object, limits: ServerLimits) -> Hints | None:
    """Parsed hints from decoded JSON (None for null); HintsError names a bad entry, or says
    the document holds more positions than ``limits.max_hint_points`` (counted before parsing,
    so a huge document costs little) or more entries than ``limits.max_hint_entries``."""
    if data is None:
        return None
    positions = count_positions(data)
    if positions > limits.max_hint_points:
        raise HintsError(
            f"hints: {positions} positions in points, strokes and boundaries, more than the "
            f"server's limit of {limits.max_hint_points}"
        )
    hints = parse_hints(data, source="hints")
    entries = len(hints.points) + len(hints.strokes) + len(hints.boundaries)
    if entries > limits.max_hint_entries:
        raise HintsError(
            f"hints: {entries} points, strokes and boundaries, more than the server's limit "
            f"of {limits.max_hint_entries}"
        )
    return hints


def count_positions(data: object) -> int:
    """How many positions a hints document holds (a point 1, a line its points); parts of the
    wrong shape count 0 here and are reported by the parser."""
    if not isinstance(data, dict):
        return 0
    count = 0
    for key in ("points", "strokes", "boundaries"):
        items = data.get(key)
        for item in items if isinstance(items, list) else ():
            line = item.get("points") if isinstance(item, dict) and key != "points" else None
            count += len(line) if isinstance(line, list) else 1
    return count


def with_temperature(colorizer: Colorizer, temperature: float | None) -> Colorizer:
    """``colorizer`` decoding at ``temperature`` (the same model; the original is not changed)."""
    if temperature is None or temperature == colorizer.temperature:
        return colorizer
    return dataclasses.replace(colorizer, temperature=temperature)


def hint_map_for(
    colorizer: Colorizer,
    hints: Hints | None,
    image_size: tuple[int, int],
    lightness_size: tuple[int, int],
) -> Tensor | None:
    """The ``(1, 4, h, w)`` hint map at the working size the model uses for ``lightness_size``.

    Args:
        hints: in pixels of an image of ``image_size`` (H, W).
        lightness_size: (H', W') of the lightness that will be colorized (same aspect).

    Raises:
        HintsError: a hint lies outside the image, or the model does not take hints.
    """
    if hints is None or not hints:
        return None
    if not colorizer.takes_hints:
        raise HintsError(
            f"hints: model {colorizer.name} does not take hints; serve tinct-lite or guided"
        )
    size = working_size(*lightness_size, colorizer.working_side)
    return rasterize_hints(hints, *image_size, size=size)


def colorize_full(colorizer: Colorizer, upload: DecodedUpload, hints: Hints | None) -> bytes:
    """The full-resolution result of ``upload`` as PNG bytes (alpha, bit depth, EXIF kept)."""
    size = (upload.height, upload.width)
    hint_map = hint_map_for(colorizer, hints, size, size)
    stop_if_cancelled()
    rgb = colorizer.colorize_strips(upload.lightness[0], hint_map)
    stop_if_cancelled()
    return encode_full_png(upload, rgb)


def decode_and_colorize_full(
    colorizer: Colorizer, data: bytes, filename: str, max_pixels: int, hints: Hints | None
) -> bytes:
    """Decode an upload and return its full-resolution result as PNG bytes (stopping between
    stages once the request has timed out)."""
    return colorize_full(colorizer, decode_upload(data, filename, max_pixels), hints)


def colorize_preview(
    colorizer: Colorizer, preview: ImageEncoding, image_size: tuple[int, int], hints: Hints | None
) -> bytes:
    """The result at preview size as PNG bytes (the page's quick update): only the part of the
    model after the encoding runs, with PyTorch on one thread (:func:`one_torch_thread`).

    Args:
        preview: the image's lightness at preview size, encoded by ``colorizer.encode_image``
            (kept in the store since the upload).
        image_size: (H, W) of the original image, whose pixels ``hints`` are in.
    """
    with one_torch_thread():
        hint_map = hint_map_for(colorizer, hints, image_size, preview.image_size)
        result = Predictor(colorizer, preview).colorize_strips(hint_map, preview_workers())
        return encode_preview_png(result)


def warm_up(colorizer: Colorizer) -> None:
    """One hint update on a small gray image: the ONNX backend exports (first run only) and opens
    its graphs, and the compiled colour and spreading code is built (first run after an install,
    seconds) or loaded, before the server answers rather than during its first upload."""
    import torch

    side = SIZE_MULTIPLE
    encoding = colorizer.encode_image(torch.full((1, 1, side, side), 50.0))
    hint = {"x": side / 2, "y": side / 2, "color": "#c83c28", "radius": 2}
    colorize_preview(
        colorizer, encoding, (side, side), parse_hints({"version": 1, "points": [hint]})
    )


@cache
def preview_workers() -> int:
    """Threads for a preview's gamut search, which runs each on its own block of rows: one per
    core (the job's PyTorch runs on one thread, so the others would stay idle)."""
    return default_threads()


def decode_for_store(
    data: bytes, filename: str, max_pixels: int, side: int
) -> tuple[tuple[int, int], Tensor]:
    """Decode an upload: its (H, W) and its ``(1, 1, h, w)`` lightness at preview size (longer
    side at most ``side``; the full-resolution pixels are not kept)."""
    upload = decode_upload(data, filename, max_pixels)
    return (upload.height, upload.width), preview_lightness(upload.lightness, side).clone()


def decode_and_encode(
    colorizer: Colorizer, data: bytes, filename: str, max_pixels: int, side: int
) -> tuple[tuple[int, int], ImageEncoding]:
    """:func:`decode_for_store`, then the preview encoded once (``colorizer.encode_image``) for
    the hint updates and suggestions that follow: the upload's (H, W) and the encoding."""
    size, preview = decode_for_store(data, filename, max_pixels, side)
    stop_if_cancelled()
    return size, colorizer.encode_image(preview)


def scaled_point(
    x: float, y: float, image_size: tuple[int, int], target_size: tuple[int, int]
) -> tuple[float, float]:
    """(x, y) in pixels of an ``image_size`` image -> pixels of a ``target_size`` one."""
    return x * target_size[1] / image_size[1], y * target_size[0] / image_size[0]


def check_inside(x: float, y: float, height: int, width: int) -> None:
    """RequestProblem unless (x, y) lies in a ``width x height`` image (pixel coordinates)."""
    if not (0 <= x < width and 0 <= y < height):
        raise RequestProblem(
            f"point ({x:g}, {y:g}) lies outside the {width}x{height} image; x must be in "
            f"[0, {width}) and y in [0, {height})"
        )


def suggest_at(
    colorizer: Colorizer,
    preview: ImageEncoding,
    image_size: tuple[int, int],
    point: tuple[float, float],
    hints: Hints | None,
    count: int,
) -> list[Suggestion]:
    """Suggested colours at ``point`` (pixels of the ``image_size`` image), predicted from the
    encoded preview (as for :func:`colorize_preview`) with ``hints`` drawn at the model's
    working size."""
    if not model_output(colorizer.output_kind).over_ab_bins:
        raise RequestProblem(
            f"model {colorizer.name} predicts no colour distribution, so it has no suggestions"
        )
    x, y = scaled_point(*point, image_size, preview.image_size)
    with one_torch_thread():
        hint_map = hint_map_for(colorizer, hints, image_size, preview.image_size)
        return Predictor(colorizer, preview).suggest(x, y, count, hints=hint_map)
