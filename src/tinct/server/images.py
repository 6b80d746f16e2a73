"""Uploaded images in and PNG results out, at the server's edge.

Uploads are decoded by :func:`tinct.io.image_file.read_image` (the same reader as ``tinct
colorize``: EXIF orientation, 16-bit, alpha, pixel limit checked from the header before decoding),
from a private temporary file, and results are encoded by :func:`~tinct.io.image_file.write_image`,
so a download is the same file the command line would write.
"""

from __future__ import annotations

import io
import struct
import tempfile
import warnings
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np
from PIL import Image
from torch import Tensor

from tinct.color.recombine import RgbStrips
from tinct.data.transforms import fit_within, resize
from tinct.errors import ImageReadError
from tinct.io.image_file import ImageFile, read_image, write_image
from tinct.server.errors import RequestProblem

try:  # ISA-L's deflate: the same zlib stream format, several times faster than zlib's level 1
    from isal import isal_zlib as preview_deflate
except ImportError:  # pragma: no cover - isal is a dependency; zlib is the fallback
    preview_deflate = zlib  # type: ignore[assignment,misc]

PREVIEW_PNG_COMPRESSION = 1  # deflate level of the previews (rgb8_png)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_FILTER_UP = 2
PNG_COLOUR_RGB = 2
FULL_PNG_COMPRESSION = 3  # a full-resolution download: half the time of level 6, ~20% larger
# What Pillow raises on a header it cannot parse (read_image then says what is wrong).
_HEADER_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError)


@dataclass(frozen=True, eq=False)
class DecodedUpload:
    """An uploaded image, decoded.

    Attributes:
        image: the decoded file (``rgb (3, H, W)`` upright, alpha, bit depth, EXIF, ICC).
        lightness: ``(1, 1, H, W)`` L in [0, 100] at full resolution.
        filename: the name the client gave, for messages and downloads.
    """

    image: ImageFile
    lightness: Tensor
    filename: str

    @property
    def height(self) -> int:
        return int(self.lightness.shape[-2])

    @property
    def width(self) -> int:
        return int(self.lightness.shape[-1])


def decode_upload(data: bytes, filename: str, max_pixels: int) -> DecodedUpload:
    """Decode the bytes of an uploaded image file.

    Raises:
        RequestProblem: empty, not an image, corrupt (422) or more pixels than ``max_pixels`` (413);
            the message names the upload and the problem.
    """
    if not data:
        raise RequestProblem(f"upload {filename!r} is empty (0 bytes), not an image")
    _refuse_too_many_pixels(data, filename, max_pixels)
    with tempfile.TemporaryDirectory(prefix="tinct-upload-") as folder:
        path = Path(folder) / "upload"
        path.write_bytes(data)
        try:
            image = read_image(path, max_pixels=max_pixels)
        except ImageReadError as error:
            raise RequestProblem(f"upload {filename!r} {error.problem}") from None
    lightness = image.lightness().unsqueeze(0)
    return DecodedUpload(image=image, lightness=lightness, filename=filename)


def _header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from an upload's header, None when the header cannot be read; raises
    Pillow's DecompressionBombError for a size it will not even describe."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                return image.size
    except _HEADER_ERRORS:
        return None


def declared_pixels(data: bytes) -> int:
    """Width x height from an upload's header (0 when it cannot be read: decoding then says
    why), for the work gate's pixel budget."""
    try:
        size = _header_size(data)
    except Image.DecompressionBombError:
        return 0
    return 0 if size is None else size[0] * size[1]


def _refuse_too_many_pixels(data: bytes, filename: str, max_pixels: int) -> None:
    """413 from the header alone when the image is too big; other problems are left to
    ``read_image``, which names them."""
    try:
        size = _header_size(data)
    except Image.DecompressionBombError:
        raise RequestProblem(
            f"upload {filename!r} has too many pixels to decode safely (limit {max_pixels:,})", 413
        ) from None
    if size is not None and size[0] * size[1] > max_pixels:
        width, height = size
        raise RequestProblem(
            f"upload {filename!r} has {width}x{height} = {width * height:,} pixels, more than "
            f"the server's limit of {max_pixels:,}; send a smaller image",
            413,
        )


def preview_lightness(lightness: Tensor, side: int) -> Tensor:
    """``(1, 1, H, W)`` lightness shrunk so that its longer side is at most ``side``."""
    return resize(lightness, fit_within(lightness.shape[-2], lightness.shape[-1], side))


def encode_full_png(upload: DecodedUpload, rgb: Tensor | RgbStrips) -> bytes:
    """The full-resolution result as the PNG ``tinct colorize`` would write.

    Args:
        upload: the source (its alpha, bit depth, EXIF and ICC profile are carried over).
        rgb: ``(3, H, W)`` sRGB in [0, 1] at the source's size, whole or as strips.
    """
    with tempfile.TemporaryDirectory(prefix="tinct-result-") as folder:
        path = write_image(
            Path(folder) / "result.png",
            rgb,
            alpha=upload.image.alpha,
            like=upload.image,
            png_compress_level=FULL_PNG_COMPRESSION,
        )
        return path.read_bytes()


def encode_preview_png(image: Iterable[tuple[int, Tensor]]) -> bytes:
    """A quick 8-bit PNG (for the page, no metadata) of a result given as strips from the top,
    ``(top, (3, rows, w) sRGB in [0, 1])``, as :class:`~tinct.color.recombine.RgbStrips` yields
    them: each strip is rounded to 8 bits in its own channels-last memory."""
    rows = [_rgb8(strip) for _, strip in image]
    return rgb8_png(rows[0] if len(rows) == 1 else np.concatenate(rows))


def _rgb8(strip: Tensor) -> np.ndarray:
    """``(rows, w, 3)`` uint8 of a ``(3, rows, w)`` sRGB strip in [0, 1] (never below 0, as
    recombination makes them; OpenCV would take the absolute value): OpenCV's saturating
    ``round(255 x)`` in one pass (half to even, as ``torch.round``: the same bytes as
    ``clamp``, ``mul``, ``round`` and ``byte``, which take four passes and a transposing copy).
    On the CPU a strip is a view of OpenCV's channels-last result, so nothing is copied."""
    import cv2

    channels_last = np.ascontiguousarray(strip.detach().permute(1, 2, 0).float().cpu().numpy())
    return cv2.convertScaleAbs(channels_last, alpha=255.0)  # abs: a no-op on [0, 1]


def rgb8_png(array: np.ndarray) -> bytes:
    """PNG bytes of an ``(h, w, 3)`` uint8 RGB array, written for speed.

    Every row gets PNG's "up" filter (its difference to the row above, one vectorised
    subtraction), and ISA-L's deflate (``isal``) compresses at level 1: on a 512 px preview of
    a photo 3 ms and 482 kB, against 35 ms and 466 kB for zlib's level 1 (used when ``isal``
    is missing) and 40 ms for Pillow's encoder at level 1, whose
    per-row choice among the five filters costs more than compressing (2-core development VM).
    """
    height, width, channels = array.shape
    if array.dtype != np.uint8 or channels != 3:
        raise ValueError(f"expected an (h, w, 3) uint8 array, got {array.shape} {array.dtype}")
    rows = array.reshape(height, width * 3)
    filtered = np.empty((height, width * 3 + 1), np.uint8)
    filtered[:, 0] = PNG_FILTER_UP
    filtered[0, 1:] = rows[0]  # the row above the first is zeros
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])  # modulo 256, as PNG defines it
    data = preview_deflate.compress(filtered.tobytes(), PREVIEW_PNG_COMPRESSION)
    header = struct.pack(">IIBBBBB", width, height, 8, PNG_COLOUR_RGB, 0, 0, 0)
    return PNG_SIGNATURE + b"".join(
        _png_chunk(kind, body)
        for kind, body in ((b"IHDR", header), (b"IDAT", data), (b"IEND", b""))
    )


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def attachment_name(filename: str, suffix: str) -> str:
    """``photo.jpg`` -> ``photo.colorized.png``: letters and digits of any script kept, other
    characters replaced by ``_`` (no quotes, slashes or control characters)."""
    stem = Path(filename).stem or "image"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:100]
    return f"{safe}{suffix}"


def content_disposition(name: str) -> str:
    """A ``Content-Disposition: attachment`` value for ``name`` (RFC 6266): an ASCII
    ``filename`` for old clients and the exact UTF-8 name in ``filename*``, since header values
    must be Latin-1 and names like ``фото.colorized.png`` are not."""
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
