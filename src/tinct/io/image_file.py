"""Reading and writing image files: the only place where PIL, numpy, OpenCV and integers live.

Inside tinct an image is a float32 ``(3, H, W)`` RGB tensor in [0, 1]. :func:`read_image` turns a
file into an :class:`ImageFile`, which keeps the decoded pixels in their own integer type (a
100-megapixel 8-bit gray scan is 100 MB, not the 1.2 GB of float RGB) and gives the float RGB,
the alpha and the CIE lightness on demand, plus what is needed to write a result "of the same
kind" (bit depth, EXIF, ICC profile). :func:`write_image` turns a float image, whole or as
:class:`~tinct.color.recombine.RgbStrips`, back into a file, atomically.

Pillow reads and writes everything except 16-bit colour (48/64-bit RGB/RGBA), which it reduces to
8 bits per channel; those PNG and TIFF files go through OpenCV instead (BGR order, no metadata
support, so PNG metadata chunks are added here by hand).
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import BinaryIO, NamedTuple

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from tinct.color.lab import gray_to_lightness, lightness_from_linear, lightness_of_levels
from tinct.color.recombine import RgbStrips
from tinct.errors import ALREADY_EXISTS, FileProblem, ImageReadError, ImageWriteError
from tinct.io.atomic import atomic_write

WRITABLE_FORMATS: dict[str, str] = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
    ".bmp": "BMP",
}
FORMATS_WITH_ALPHA = frozenset({"PNG", "TIFF", "WEBP"})
FORMATS_WITH_16_BIT = frozenset({"PNG", "TIFF"})
FORMATS_WITH_METADATA = frozenset({"JPEG", "PNG", "TIFF", "WEBP"})
DEFAULT_MAX_PIXELS = 100_000_000
JPEG_QUALITY = 95
# Pillow's limit for the single APP1 marker that holds EXIF in a JPEG.
JPEG_MAX_EXIF_BYTES = 65533
EXIF_ORIENTATION_TAG = 0x0112

_HIGH_BIT_GRAY_MODES = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
_GRAY_MODES = frozenset({"1", "L", "LA", "La"}) | _HIGH_BIT_GRAY_MODES
_ALPHA_MODES = frozenset({"LA", "La", "PA", "RGBA", "RGBa"})
# Pillow modes that hide 16-bit samples read as 8 bits (LA;16 PNG opens as RGBA).
_REDUCED_16_BIT_MODES = frozenset({"RGB", "RGBA", "LA"})
_TIFF_BITS_PER_SAMPLE_TAG = 258
_TIFF_PHOTOMETRIC_TAG = 262
_TIFF_PHOTOMETRIC_GRAY = 1
_TIFF_PHOTOMETRIC_RGB = 2
_PNG_GRAY_COLOUR_TYPES = (0, 4)
_PNG_IHDR_END = 33  # 8-byte signature + 4 length + 4 type + 13 data + 4 CRC
_OPENCV_EXTENSIONS = {"PNG": ".png", "TIFF": ".tiff"}

# What Pillow's plugins raise for malformed, truncated or unsupported files.
_PILLOW_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
)
# What broken metadata (EXIF) raises; metadata is best effort and never fails a read.
_METADATA_ERRORS = (*_PILLOW_DECODE_ERRORS, TypeError)

_ORIENTATION_TRANSFORMS = {
    # EXIF Orientation -> what makes stored (H, W, C) pixels upright, as ImageOps.exif_transpose.
    2: lambda x: x[:, ::-1],
    3: lambda x: x[::-1, ::-1],
    4: lambda x: x[::-1],
    5: lambda x: x.transpose(1, 0, 2),
    6: lambda x: np.rot90(x, -1),
    7: lambda x: x.transpose(1, 0, 2)[::-1, ::-1],
    8: lambda x: np.rot90(x, 1),
}
# Rows of colour pixels turned into lightness at a time (bounds the float temporaries).
_LIGHTNESS_STRIP_PIXELS = 1 << 20


@dataclass(frozen=True, eq=False)
class ImageFile:
    """An image read from a file, with what is needed to write a result of the same kind.

    Attributes:
        pixels: ``(H, W, C)`` upright (EXIF orientation applied) as decoded, in the source's own
            type: uint8 (8-bit sources), uint16 (16-bit) or float32 in [0, 1] (32-bit gray).
            C is 1 (gray), 2 (gray, alpha), 3 (RGB) or 4 (RGB, alpha); palette and CMYK
            sources are converted to RGB.
        bit_depth: bits per channel of the source, 8 or 16 (sources above 8 bits report 16).
        is_gray: the source had no colour channels (modes 1, L, LA, I;16, I, F).
        format: Pillow's name of the source format ("JPEG", "PNG", ...), or None.
        exif: the source's EXIF with Orientation reset to 1 (the pixels are already upright), or
            None.
        icc_profile: the source's ICC profile when it describes RGB, else None (a gray or CMYK
            profile would mislabel a colour result).
        path: the file that was read.
    """

    pixels: np.ndarray
    bit_depth: int
    is_gray: bool
    format: str | None
    exif: bytes | None
    icc_profile: bytes | None
    path: Path

    @property
    def size(self) -> tuple[int, int]:
        """(H, W)."""
        return self.pixels.shape[:2]

    @property
    def has_alpha(self) -> bool:
        return self.pixels.shape[2] in (2, 4)

    @property
    def _peak(self) -> float:
        return 1.0 if self.pixels.dtype == np.float32 else float(np.iinfo(self.pixels.dtype).max)

    @property
    def _colour(self) -> np.ndarray:
        """``(H, W, 1 or 3)``: the pixels without alpha."""
        return self.pixels[..., : 3 if self.pixels.shape[2] >= 3 else 1]

    @property
    def rgb(self) -> Tensor:
        """``(3, H, W)`` float32 in [0, 1], made on each access; gray gives three equal channels."""
        unit = _hwc_to_unit_chw(self._colour, self._peak)
        return unit.expand(3, -1, -1).contiguous() if unit.shape[0] == 1 else unit

    @property
    def alpha(self) -> Tensor | None:
        """``(1, H, W)`` float32 in [0, 1] (1 = opaque), or None when the source had none."""
        return _hwc_to_unit_chw(self.pixels[..., -1:], self._peak) if self.has_alpha else None

    def lightness(self) -> Tensor:
        """CIE L ``(1, H, W)`` in [0, 100] of the colour channels, as
        :func:`tinct.color.lab.rgb_to_lightness` of :attr:`rgb` but from tables of the code
        values, without a float copy of the image."""
        colour = self._colour
        if colour.dtype == np.float32:
            return gray_to_lightness(_hwc_to_unit_chw(colour, 1.0))
        linear, gray_lightness = _lightness_tables(int(self._peak))
        if colour.shape[2] == 1:
            return torch.from_numpy(_look_up(gray_lightness, colour[..., 0])).unsqueeze(0)
        result = torch.empty((1, *self.size), dtype=torch.float32)
        rows = max(1, _LIGHTNESS_STRIP_PIXELS // self.size[1])
        for top in range(0, self.size[0], rows):
            strip = colour[top : top + rows]
            planes = (torch.from_numpy(_look_up(linear, strip[..., c])) for c in range(3))
            result[0, top : top + rows] = lightness_from_linear(*planes)
        return result


def _look_up(table: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """``table[levels]``; 8-bit levels through OpenCV's LUT, ten times faster than numpy's."""
    if levels.dtype != np.uint8:
        return table[levels]
    import cv2

    return cv2.LUT(np.ascontiguousarray(levels), table.reshape(1, -1))


@cache
def _lightness_tables(peak: int) -> tuple[np.ndarray, np.ndarray]:
    return tuple(table.numpy() for table in lightness_of_levels(peak))  # type: ignore[return-value]


class _Pixels(NamedTuple):
    pixels: np.ndarray  # (H, W, C) as stored (orientation not applied), see ImageFile
    bit_depth: int
    is_gray: bool


def read_image(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageFile:
    """Read an image file into an upright float RGB tensor.

    Reads what Pillow reads (JPEG, PNG, TIFF, WebP, BMP, GIF, ...): 1/8/16-bit gray, RGB,
    palette (with transparency), CMYK (converted naively to RGB), with or without alpha. 16-bit
    colour PNG/TIFF keep full precision (decoded by OpenCV). Multi-frame files give frame 0.

    Args:
        path: the image file.
        max_pixels: refuse images with more pixels than this (checked from the header, before
            decoding). Pillow's own hard limit (about 179 megapixels) applies as well.

    Returns:
        The :class:`ImageFile`.

    Raises:
        ImageReadError: missing, a directory, empty, not an image, corrupt, truncated, or too big.
        ValueError: ``max_pixels`` is below 1.
    """
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be at least 1, got {max_pixels}")
    path = Path(path)
    data = _read_file_bytes(path)
    image = _decode_with_pillow(path, data, max_pixels)
    bit_depth = 16 if _stored_bits_per_sample(image, data) > 8 else 8
    if _needs_opencv(image, bit_depth):
        pixels = _pixels_from_opencv(path, data, image.size, _stored_is_gray(image, data))
    else:
        pixels = _pixels_from_pillow(image, bit_depth)
    return ImageFile(
        pixels=_apply_exif_orientation(pixels.pixels, _exif_orientation(image)),
        bit_depth=pixels.bit_depth,
        is_gray=pixels.is_gray,
        format=image.format,
        exif=_upright_exif_bytes(image),
        icc_profile=_rgb_icc_profile(image),
        path=path,
    )


def _read_file_bytes(path: Path) -> bytes:
    if path.is_dir():
        raise ImageReadError(path, "is a directory, not an image file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageReadError(path, "no such file") from None
    except OSError as error:
        raise ImageReadError(path, f"cannot be read ({_os_reason(error)})") from None
    if not data:
        raise ImageReadError(path, "is empty (0 bytes), not an image")
    return data


def _decode_with_pillow(path: Path, data: bytes, max_pixels: int) -> Image.Image:
    """Open, check the size from the header, then fully decode (so corruption surfaces here)."""
    try:
        with warnings.catch_warnings():
            # max_pixels, checked next, is the limit: Pillow's lower warning threshold (about
            # 89 megapixels) must not refuse images the caller allowed.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        _check_pixel_count(path, image.size, max_pixels)
        with warnings.catch_warnings():
            # Anything bigger than the header said (another frame, a sub-image) is refused.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageReadError(path, f"has too many pixels to decode safely ({error})") from None
    except Image.UnidentifiedImageError:
        raise ImageReadError(path, "is not an image in a format Pillow reads") from None
    except _PILLOW_DECODE_ERRORS as error:
        raise ImageReadError(path, f"is corrupt or truncated ({error})") from None
    return image


def _check_pixel_count(path: Path, size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise ImageReadError(
            path,
            f"has {width}x{height} = {width * height:,} pixels, more than the limit of "
            f"{max_pixels:,} (raise max_pixels if the file is trusted)",
        )


def _stored_bits_per_sample(image: Image.Image, data: bytes) -> int:
    """Bits per sample in the file itself; Pillow reduces 16-bit colour to 8 bits per channel."""
    if image.format == "PNG":
        return data[24]  # IHDR bit depth; Pillow has checked that IHDR comes first
    if image.format == "TIFF":
        bits = image.tag_v2.get(_TIFF_BITS_PER_SAMPLE_TAG, 8)  # type: ignore[attr-defined]
        return int(max(bits)) if isinstance(bits, tuple) else int(bits)
    return 16 if image.mode in _HIGH_BIT_GRAY_MODES else 8


def _stored_is_gray(image: Image.Image, data: bytes) -> bool:
    if image.format == "PNG":
        return data[25] in _PNG_GRAY_COLOUR_TYPES
    if image.format == "TIFF":
        photometric = image.tag_v2.get(_TIFF_PHOTOMETRIC_TAG)  # type: ignore[attr-defined]
        return photometric == _TIFF_PHOTOMETRIC_GRAY
    return image.mode in _GRAY_MODES


def _needs_opencv(image: Image.Image, bit_depth: int) -> bool:
    """16-bit colour or gray+alpha PNG/TIFF, which Pillow would reduce to 8 bits."""
    if bit_depth != 16 or image.mode not in _REDUCED_16_BIT_MODES:
        return False
    if image.format == "TIFF":
        photometric = image.tag_v2.get(_TIFF_PHOTOMETRIC_TAG)  # type: ignore[attr-defined]
        return photometric in (_TIFF_PHOTOMETRIC_GRAY, _TIFF_PHOTOMETRIC_RGB)
    return image.format == "PNG"


def _pixels_from_pillow(image: Image.Image, bit_depth: int) -> _Pixels:
    if image.mode in _HIGH_BIT_GRAY_MODES:
        if image.mode.startswith("I;16"):
            return _Pixels(np.asarray(image).astype(np.uint16)[..., None], 16, True)
        # 32-bit integer or float gray: scaled to [0, 1] as floats (integers as 16-bit values).
        peak = 1.0 if image.mode == "F" else 65535.0
        gray = np.clip(np.asarray(image, dtype=np.float32) / np.float32(peak), 0.0, 1.0)
        return _Pixels(gray[..., None], 16, True)
    is_gray = image.mode in _GRAY_MODES
    has_alpha = image.mode in _ALPHA_MODES or "transparency" in image.info
    target_mode = ("L" if is_gray else "RGB") + ("A" if has_alpha else "")
    array = np.asarray(image.convert(target_mode))
    return _Pixels(array[..., None] if array.ndim == 2 else array, bit_depth, is_gray)


def _pixels_from_opencv(path: Path, data: bytes, size: tuple[int, int], is_gray: bool) -> _Pixels:
    """Decode 16-bit PNG/TIFF at full precision (``size`` is Pillow's (W, H), for a check)."""
    cv2 = _import_opencv(path, ImageReadError)
    with _quiet_opencv(cv2):
        array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None or array.dtype != np.uint16 or array.shape[1::-1] != size:
        raise ImageReadError(path, "has 16-bit pixel data that OpenCV could not decode")
    if array.ndim == 2:
        array = array[..., None]
    elif array.shape[2] >= 3:
        array = array[..., [2, 1, 0, 3][: array.shape[2]]]  # BGR(A) -> RGB(A)
    return _Pixels(array, 16, is_gray)


def _hwc_to_unit_chw(array: np.ndarray, peak: float) -> Tensor:
    """``(H, W, C)`` values in [0, peak] -> ``(C, H, W)`` float32 in [0, 1]."""
    unit = array.astype(np.float32) / np.float32(peak)
    return torch.from_numpy(unit).permute(2, 0, 1).contiguous()


def _exif_orientation(image: Image.Image) -> int:
    try:
        orientation = image.getexif().get(EXIF_ORIENTATION_TAG, 1)
    except _METADATA_ERRORS:
        return 1
    is_known = isinstance(orientation, int) and orientation in _ORIENTATION_TRANSFORMS
    return orientation if is_known else 1


def _apply_exif_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Make stored ``(H, W, C)`` pixels upright, as ``ImageOps.exif_transpose`` does."""
    transform = _ORIENTATION_TRANSFORMS.get(orientation)
    return pixels if transform is None else np.ascontiguousarray(transform(pixels))


def _upright_exif_bytes(image: Image.Image) -> bytes | None:
    """The source's EXIF with Orientation set to 1; None if absent or unreadable."""
    raw = image.info.get("exif")
    if not raw:
        return None
    try:
        exif = Image.Exif()
        exif.load(raw)
        if EXIF_ORIENTATION_TAG in exif:
            exif[EXIF_ORIENTATION_TAG] = 1
        return exif.tobytes()
    except _METADATA_ERRORS:
        return None


def _rgb_icc_profile(image: Image.Image) -> bytes | None:
    profile = image.info.get("icc_profile")
    # Bytes 16..20 of an ICC header name the colour space of the data it describes.
    if isinstance(profile, bytes) and profile[16:20] == b"RGB ":
        return profile
    return None


def write_image(
    path: str | Path,
    rgb: Tensor | RgbStrips,
    *,
    alpha: Tensor | None = None,
    like: ImageFile | None = None,
    bit_depth: int | None = None,
    force: bool = False,
    png_compress_level: int = 6,
) -> Path:
    """Write an RGB tensor to an image file, atomically.

    The format comes from the extension (see ``WRITABLE_FORMATS``). The file is written to a
    temporary file beside ``path`` and moved into place, so ``path`` never holds a half-written
    image; missing parent directories are created. Values are clamped to [0, 1] and rounded.

    JPEG is written at quality 95 with 4:4:4 chroma (no chroma subsampling), WebP losslessly
    (lossy WebP always subsamples chroma), TIFF with LZW compression. Alpha is kept in PNG, TIFF
    and WebP and silently dropped for JPEG and BMP. 16-bit output exists for PNG and TIFF only;
    other formats get 8 bits. EXIF and ICC profile of ``like`` go into JPEG, PNG, WebP and 8-bit
    TIFF (not BMP, not 16-bit TIFF, which OpenCV writes without metadata).

    Args:
        path: output file; its extension picks the format.
        rgb: ``(3, H, W)`` float tensor, RGB in [0, 1] (any device), or a full-resolution
            result as :class:`~tinct.color.recombine.RgbStrips`, quantized strip by strip.
        alpha: ``(1, H, W)`` float tensor in [0, 1], same H and W as ``rgb``, or None.
        like: the :class:`ImageFile` the result comes from: its bit depth, EXIF and ICC profile
            are carried over.
        bit_depth: 8 or 16; default ``like.bit_depth``, or 8 without ``like``.
        force: overwrite an existing file.
        png_compress_level: zlib level of an 8-bit PNG, 0-9 (Pillow's default 6; 3 writes a
            25 MP photo about twice as fast for a file about 20% larger).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        TypeError: ``rgb`` or ``alpha`` is not a float tensor.
        ValueError: wrong shape, non-finite values, or ``bit_depth`` not 8 or 16.
        ImageWriteError: unknown extension, the file exists without ``force``, or writing failed.
    """
    target = Path(path)
    file_format = _format_for_suffix(target)
    if not isinstance(rgb, RgbStrips):
        _check_image_tensor("rgb", rgb, channels=3)
    size = rgb.size if isinstance(rgb, RgbStrips) else tuple(rgb.shape[1:])
    if alpha is not None:
        _check_image_tensor("alpha", alpha, channels=1, size=size)
    bits = _output_bit_depth(file_format, bit_depth, like)
    _refuse_unwanted_target(target, force)
    kept_alpha = alpha if file_format in FORMATS_WITH_ALPHA else None
    array = _quantize_to_hwc(rgb, kept_alpha, bits)
    try:
        with atomic_write(target, overwrite=force) as file:
            _encode(file, target, file_format, array, like, png_compress_level)
    except FileExistsError:
        raise ImageWriteError(target, ALREADY_EXISTS) from None
    except (OSError, ValueError) as error:
        raise ImageWriteError(target, f"could not be written ({_os_reason(error)})") from None
    return target


def _format_for_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in WRITABLE_FORMATS:
        allowed = ", ".join(WRITABLE_FORMATS)
        got = repr(suffix) if suffix else "no extension"
        raise ImageWriteError(path, f"cannot choose an image format from {got}; use {allowed}")
    return WRITABLE_FORMATS[suffix]


def _check_image_tensor(
    name: str, tensor: object, channels: int, size: tuple[int, ...] | None = None
) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    if not tensor.is_floating_point():
        raise TypeError(f"{name} must be a float tensor with values in [0, 1], got {tensor.dtype}")
    if tensor.ndim != 3 or tensor.shape[0] != channels or tensor.numel() == 0:
        got = tuple(tensor.shape)
        raise ValueError(f"{name} must have shape ({channels}, H, W) with H, W >= 1, got {got}")
    if size is not None and tuple(tensor.shape[1:]) != size:
        got = tuple(tensor.shape[1:])
        raise ValueError(f"{name} must have the same H, W as rgb, {size}, got {got}")
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} contains NaN or infinite values")


def _output_bit_depth(file_format: str, bit_depth: int | None, like: ImageFile | None) -> int:
    if like is not None and not isinstance(like, ImageFile):
        raise TypeError(f"like must be an ImageFile from read_image, got {type(like).__name__}")
    if bit_depth is None:
        bit_depth = like.bit_depth if like is not None else 8
    if bit_depth not in (8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth!r}")
    return bit_depth if file_format in FORMATS_WITH_16_BIT else 8


def _refuse_unwanted_target(target: Path, force: bool) -> None:
    if target.is_dir():
        raise ImageWriteError(target, "is a directory; give an output file name")
    if target.exists() and not force:
        raise ImageWriteError(target, ALREADY_EXISTS)


def _quantize_to_hwc(rgb: Tensor | RgbStrips, alpha: Tensor | None, bits: int) -> np.ndarray:
    """``(3, H, W)`` floats or strips (+ ``(1, H, W)``) -> ``(H, W, 3 or 4)`` uint8/uint16,
    rounded, filled strip by strip."""
    height, width = rgb.size if isinstance(rgb, RgbStrips) else rgb.shape[1:]
    channels = 3 if alpha is None else 4
    array = np.empty((height, width, channels), np.uint16 if bits == 16 else np.uint8)
    # Tensors were checked for NaN and infinity before; RgbStrips check their inputs themselves.
    for top, strip in rgb if isinstance(rgb, RgbStrips) else [(0, rgb)]:
        _quantize_into(array[top : top + strip.shape[1], :, :3], strip, bits)
    if alpha is not None:
        _quantize_into(array[..., 3:], alpha, bits)
    return array


def _quantize_into(target: np.ndarray, values: Tensor, bits: int) -> None:
    """Round ``(C, h, W)`` floats in [0, 1] into the ``(h, W, C)`` integer view ``target``."""
    peak = (1 << bits) - 1
    channels_last = values.detach().to("cpu", torch.float32).permute(1, 2, 0)
    # Values are in [0, peak] after the clamp, so adding 0.5 and truncating rounds them.
    torch.from_numpy(target).copy_(channels_last.clamp(0.0, 1.0).mul_(peak).add_(0.5))


def _encode(
    file: BinaryIO,
    target: Path,
    file_format: str,
    array: np.ndarray,
    like: ImageFile | None,
    png_compress_level: int,
) -> None:
    exif = like.exif if like is not None and file_format in FORMATS_WITH_METADATA else None
    icc = like.icc_profile if like is not None and file_format in FORMATS_WITH_METADATA else None
    if array.dtype == np.uint16:
        file.write(_encode_16_bit_with_opencv(target, file_format, array, exif, icc))
        return
    options = _pillow_save_options(file_format, exif, icc)
    if file_format == "PNG":
        options["compress_level"] = png_compress_level
    Image.fromarray(array).save(file, format=file_format, **options)


def _pillow_save_options(file_format: str, exif: bytes | None, icc: bytes | None) -> dict:
    options: dict[str, object] = {}
    if exif and not (file_format == "JPEG" and len(exif) > JPEG_MAX_EXIF_BYTES):
        options["exif"] = exif
    if icc:
        options["icc_profile"] = icc
    if file_format == "JPEG":
        options.update(quality=JPEG_QUALITY, subsampling=0)  # 0 = 4:4:4, full-resolution chroma
    elif file_format == "WEBP":
        options.update(lossless=True, exact=True)  # exact: keep RGB under transparent pixels
    elif file_format == "TIFF":
        options.update(compression="tiff_lzw")
    return options


def _encode_16_bit_with_opencv(
    target: Path, file_format: str, array: np.ndarray, exif: bytes | None, icc: bytes | None
) -> bytes:
    """Pillow cannot write 48/64-bit RGB(A); OpenCV can, in BGR(A) order."""
    cv2 = _import_opencv(target, ImageWriteError)
    bgr = array[..., [2, 1, 0, 3][: array.shape[2]]]
    with _quiet_opencv(cv2):
        ok, encoded = cv2.imencode(_OPENCV_EXTENSIONS[file_format], bgr)
    if not ok:
        raise OSError(f"OpenCV could not encode a 16-bit {file_format}")
    data = encoded.tobytes()
    return _add_png_metadata(data, exif, icc) if file_format == "PNG" else data


def _add_png_metadata(png: bytes, exif: bytes | None, icc: bytes | None) -> bytes:
    """Insert iCCP and eXIf chunks right after IHDR (OpenCV writes neither)."""
    chunks = b""
    if icc:
        chunks += _png_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc))
    if exif:
        chunks += _png_chunk(b"eXIf", exif.removeprefix(b"Exif\x00\x00"))
    return png[:_PNG_IHDR_END] + chunks + png[_PNG_IHDR_END:]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _import_opencv(path: Path, error_class: type[FileProblem]) -> ModuleType:
    try:
        import cv2
    except ImportError:
        problem = "16-bit colour PNG/TIFF needs OpenCV: pip install opencv-python-headless"
        raise error_class(path, problem) from None
    return cv2


@contextmanager
def _quiet_opencv(cv2: ModuleType) -> Iterator[None]:
    """Keep OpenCV's warnings (e.g. on TIFF ExtraSamples) off stderr during one call."""
    logging = cv2.utils.logging
    previous = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        logging.setLogLevel(previous)


def _os_reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error)
