"""Reading and writing image files: every kind of source, EXIF orientation, errors, atomicity."""

from __future__ import annotations

import dataclasses
import functools
import io
import math
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import PIL.ImageFile
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageOps, JpegImagePlugin

from tinct.color.lab import rgb_to_lab, rgb_to_lightness
from tinct.color.recombine import RgbStrips
from tinct.errors import ImageReadError, ImageWriteError
from tinct.io import ImageFile, atomic_write, read_image, write_image
from tinct.io.atomic import remove_leftover_temp_files

HEIGHT, WIDTH = 40, 56
MIN_LIGHTNESS_PSNR_DB = 50.0


# ----------------------------------------------------------------------------- helpers


def scene_uint8() -> np.ndarray:
    """A smooth, colourful ``(H, W, 3)`` uint8 test image (smooth so that JPEG stays close)."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    red = x * 255 // (WIDTH - 1)
    green = y * 255 // (HEIGHT - 1)
    blue = 255 - (x + y) * 255 // (WIDTH + HEIGHT - 2)
    return np.stack([red, green, blue], axis=-1).astype(np.uint8)


def scene_uint16() -> np.ndarray:
    """Random ``(H, W, 3)`` uint16: values are not multiples of 257, so not 8-bit in disguise."""
    rng = np.random.default_rng(0)
    return rng.integers(0, 65536, size=(HEIGHT, WIDTH, 3), dtype=np.uint16)


def alpha_uint8() -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    return ((x * 3 + y * 5) % 256).astype(np.uint8)


def to_tensor(array: np.ndarray, peak: float) -> torch.Tensor:
    """``(H, W)`` or ``(H, W, C)`` integers -> ``(C, H, W)`` float in [0, 1]; gray -> 3 channels."""
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    return torch.from_numpy(array.astype(np.float32) / peak).permute(2, 0, 1).contiguous()


def lightness_psnr_db(first: torch.Tensor, second: torch.Tensor) -> float:
    """PSNR of CIE L (peak 100) between two ``(3, H, W)`` RGB images in [0, 1]."""
    mse = float(((rgb_to_lab(first)[0] - rgb_to_lab(second)[0]) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(100.0**2 / mse)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def raw_png_16_bit(array: np.ndarray, colour_type: int) -> bytes:
    """A minimal 16-bit PNG (Pillow cannot write 16-bit LA); ``array`` is ``(H, W, C)`` uint16."""
    height, width = array.shape[:2]
    rows = b"".join(b"\x00" + array[y].astype(">u2").tobytes() for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(rows))
        + png_chunk(b"IEND", b"")
    )


@functools.cache
def srgb_icc_profile() -> bytes:
    """One sRGB profile per run: a new one carries the current time in its header, so two made
    a second apart differ (the source of an old flaky failure)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def exif_with(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TinctTestMaker"
    return exif


# ----------------------------------------------------------------------------- sources


class Source(NamedTuple):
    path: Path
    rgb: torch.Tensor  # what the pixels should decode to
    alpha: torch.Tensor | None
    exact: bool  # lossless source: decoded pixels equal ``rgb`` to float precision
    bit_depth: int
    is_gray: bool


def _pillow_source(
    folder: Path, name: str, image: Image.Image, expected: Image.Image | None, **save: object
) -> Source:
    """Save ``image``; ``expected`` is what it should decode to (None: what Pillow decodes)."""
    path = folder / name
    image.save(path, **save)
    if expected is None:  # GIF re-maps the palette when saving
        with Image.open(path) as saved:
            expected = saved.convert("RGBA")
    has_alpha = expected.mode in ("RGBA", "LA")
    rgb = to_tensor(np.asarray(expected.convert("RGB")), 255.0)
    alpha = to_tensor(np.asarray(expected.getchannel("A")), 255.0)[:1] if has_alpha else None
    is_gray = expected.mode in ("1", "L", "LA")
    exact = path.suffix != ".jpg"
    return Source(path, rgb, alpha, exact, 8, is_gray)


def _palette_image() -> Image.Image:
    palette = scene_uint8()[::5, ::7].reshape(-1, 3)[:16]
    indices = (np.arange(HEIGHT * WIDTH).reshape(HEIGHT, WIDTH) // 7 % 16).astype(np.uint8)
    image = Image.fromarray(indices, mode="P")
    image.putpalette(palette.tobytes())
    image.info["transparency"] = 0  # palette index 0 is fully transparent
    return image


def _source_8_bit(folder: Path, kind: str) -> Source:
    rgb = Image.fromarray(scene_uint8())
    gray = rgb.convert("L")
    rgba = Image.fromarray(np.dstack([scene_uint8(), alpha_uint8()]))
    la = Image.fromarray(np.dstack([np.asarray(gray), alpha_uint8()]))
    cmyk = rgb.convert("CMYK")
    bilevel = gray.point(lambda v: 255 if v > 127 else 0).convert("1")
    gif = _palette_image()
    builders: dict[str, Callable[[], Source]] = {
        "jpeg_rgb": lambda: _pillow_source(folder, "a.jpg", rgb, rgb, quality=95),
        "jpeg_gray": lambda: _pillow_source(folder, "a.jpg", gray, gray, quality=95),
        "jpeg_cmyk": lambda: _pillow_source(folder, "a.jpg", cmyk, cmyk, quality=95),
        "png_bilevel": lambda: _pillow_source(folder, "a.png", bilevel, bilevel),
        "png_gray": lambda: _pillow_source(folder, "a.png", gray, gray),
        "png_rgb": lambda: _pillow_source(folder, "a.png", rgb, rgb),
        "png_rgba": lambda: _pillow_source(folder, "a.png", rgba, rgba),
        "png_la": lambda: _pillow_source(folder, "a.png", la, la),
        "png_palette": lambda: _pillow_source(folder, "a.png", gif, gif.convert("RGBA")),
        "tiff_rgb": lambda: _pillow_source(folder, "a.tif", rgb, rgb),
        "tiff_rgba": lambda: _pillow_source(folder, "a.tif", rgba, rgba),
        "tiff_cmyk": lambda: _pillow_source(folder, "a.tif", cmyk, cmyk),
        "webp_lossless": lambda: _pillow_source(
            folder, "a.webp", rgba, rgba, lossless=True, exact=True
        ),
        "bmp_rgb": lambda: _pillow_source(folder, "a.bmp", rgb, rgb),
        "gif_palette": lambda: _pillow_source(folder, "a.gif", gif, None),
    }
    return builders[kind]()


def _source_16_bit(folder: Path, kind: str) -> Source:
    colour = scene_uint16()
    gray = colour[..., 1]
    alpha = colour[..., 2:3]
    rgba = np.concatenate([colour, alpha], axis=2)
    path = folder / ("a.tif" if kind.startswith("tiff") else "a.png")
    if kind.endswith("gray16"):
        Image.fromarray(gray).save(path)  # Pillow writes 16-bit gray ("I;16") itself
        return Source(path, to_tensor(gray, 65535.0), None, True, 16, True)
    if kind.endswith("la16"):
        path.write_bytes(raw_png_16_bit(np.dstack([gray, alpha[..., 0]]), colour_type=4))
        return Source(path, to_tensor(gray, 65535.0), to_tensor(alpha, 65535.0)[:1], True, 16, True)
    array = rgba if kind.endswith("rgba16") else colour
    ok, encoded = cv2.imencode(path.suffix, array[..., [2, 1, 0, 3][: array.shape[2]]])
    assert ok
    path.write_bytes(encoded.tobytes())
    has_alpha = array.shape[2] == 4
    expected_alpha = to_tensor(alpha, 65535.0)[:1] if has_alpha else None
    return Source(path, to_tensor(colour, 65535.0), expected_alpha, True, 16, False)


SOURCES_8_BIT = [
    "jpeg_rgb",
    "jpeg_gray",
    "jpeg_cmyk",
    "png_bilevel",
    "png_gray",
    "png_rgb",
    "png_rgba",
    "png_la",
    "png_palette",
    "tiff_rgb",
    "tiff_rgba",
    "tiff_cmyk",
    "webp_lossless",
    "bmp_rgb",
    "gif_palette",
]
SOURCES_16_BIT = ["png_gray16", "png_la16", "png_rgb16", "png_rgba16", "tiff_gray16", "tiff_rgb16"]


def make_source(folder: Path, kind: str) -> Source:
    if kind in SOURCES_16_BIT:
        return _source_16_bit(folder, kind)
    return _source_8_bit(folder, kind)


@pytest.fixture
def source_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "sources"
    folder.mkdir()
    return folder


# ----------------------------------------------------------------------------- reading


@pytest.mark.parametrize("kind", SOURCES_8_BIT + SOURCES_16_BIT)
def test_read_gives_the_saved_pixels_in_the_tensor_contract(source_dir: Path, kind: str) -> None:
    source = make_source(source_dir, kind)
    image = read_image(source.path)
    assert image.rgb.shape == (3, HEIGHT, WIDTH)
    assert image.rgb.dtype == torch.float32
    assert float(image.rgb.min()) >= 0.0 and float(image.rgb.max()) <= 1.0
    assert (image.bit_depth, image.is_gray) == (source.bit_depth, source.is_gray)
    assert image.path == source.path
    if source.exact:
        torch.testing.assert_close(image.rgb, source.rgb, atol=1e-6, rtol=0)
    else:
        assert lightness_psnr_db(image.rgb, source.rgb) > 30.0
    if source.alpha is None:
        assert image.alpha is None
    else:
        assert image.alpha is not None
        torch.testing.assert_close(image.alpha, source.alpha, atol=1e-6, rtol=0)


@pytest.mark.parametrize("kind", SOURCES_8_BIT + SOURCES_16_BIT)
def test_pixels_stay_in_their_own_type_and_give_the_lightness_of_rgb(
    source_dir: Path, kind: str
) -> None:
    source = make_source(source_dir, kind)
    image = read_image(source.path)
    assert image.pixels.dtype == (np.uint16 if source.bit_depth == 16 else np.uint8)
    assert image.pixels.shape[:2] == image.size == (HEIGHT, WIDTH)
    assert image.has_alpha == (source.alpha is not None)
    expected = rgb_to_lightness(image.rgb.double()).float()
    torch.testing.assert_close(image.lightness(), expected, atol=2e-4, rtol=0)


def test_float_gray_gives_its_lightness(tmp_path: Path) -> None:
    values = np.linspace(0.0, 1.0, HEIGHT * WIDTH, dtype=np.float32).reshape(HEIGHT, WIDTH)
    Image.fromarray(values, mode="F").save(tmp_path / "float.tif")
    image = read_image(tmp_path / "float.tif")
    assert image.pixels.dtype == np.float32 and image.is_gray
    torch.testing.assert_close(image.lightness(), rgb_to_lightness(image.rgb), atol=1e-4, rtol=0)


def test_a_result_written_strip_by_strip_is_the_whole_result(tmp_path: Path) -> None:
    generator = torch.Generator().manual_seed(0)
    lightness = torch.rand(1, 300, 200, generator=generator) * 100
    ab = (torch.rand(2, 40, 30, generator=generator) - 0.5) * 100
    strips = RgbStrips(lightness, ab)
    whole = write_image(tmp_path / "whole.png", strips.to_tensor())
    stripwise = write_image(tmp_path / "strips.png", strips)
    assert np.array_equal(np.asarray(Image.open(whole)), np.asarray(Image.open(stripwise)))


@pytest.mark.parametrize("kind", SOURCES_8_BIT + SOURCES_16_BIT)
def test_round_trip_through_png_keeps_lightness_alpha_and_depth(
    source_dir: Path, tmp_path: Path, kind: str
) -> None:
    first = read_image(make_source(source_dir, kind).path)
    written = write_image(tmp_path / "out.png", first.rgb, alpha=first.alpha, like=first)
    second = read_image(written)
    assert second.bit_depth == first.bit_depth
    assert lightness_psnr_db(first.rgb, second.rgb) > MIN_LIGHTNESS_PSNR_DB
    if first.alpha is None:
        assert second.alpha is None
    else:
        assert second.alpha is not None
        assert float((first.alpha - second.alpha).abs().max()) <= 1 / 255


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_gray_ramp_keeps_every_level(tmp_path: Path, suffix: str) -> None:
    ramp = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    source = tmp_path / f"ramp{suffix}"
    Image.fromarray(ramp).save(source)
    first = read_image(source)
    levels = (first.rgb[0] * 65535).round().to(torch.int64).numpy()
    np.testing.assert_array_equal(levels, ramp)
    second = read_image(write_image(tmp_path / f"out{suffix}", first.rgb, like=first))
    assert second.bit_depth == 16
    assert float((second.rgb - first.rgb).abs().max()) <= 2 / 65535


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_colour_keeps_precision_and_channel_order(tmp_path: Path, suffix: str) -> None:
    colour = scene_uint16()
    alpha = np.ascontiguousarray(colour[..., :1][::-1])
    rgb_tensor, alpha_tensor = to_tensor(colour, 65535.0), to_tensor(alpha, 65535.0)[:1]
    path = write_image(tmp_path / f"out{suffix}", rgb_tensor, alpha=alpha_tensor, bit_depth=16)
    back = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back[..., [2, 1, 0]], colour)
    image = read_image(path)
    assert image.bit_depth == 16 and image.alpha is not None
    assert float((image.rgb - rgb_tensor).abs().max()) <= 1 / 65535
    assert float((image.alpha - alpha_tensor).abs().max()) <= 1 / 65535


def test_gray_source_is_flagged_and_replicated(source_dir: Path) -> None:
    image = read_image(make_source(source_dir, "png_gray").path)
    assert image.is_gray
    torch.testing.assert_close(image.rgb[0], image.rgb[1])
    torch.testing.assert_close(image.rgb[0], image.rgb[2])


def test_icc_profile_kept_only_when_it_describes_rgb(tmp_path: Path) -> None:
    srgb = srgb_icc_profile()
    fake_gray = srgb[:16] + b"GRAY" + srgb[20:]
    Image.fromarray(scene_uint8()).save(tmp_path / "rgb.png", icc_profile=srgb)
    Image.fromarray(scene_uint8()[..., 0]).save(tmp_path / "gray.png", icc_profile=fake_gray)
    assert read_image(tmp_path / "rgb.png").icc_profile == srgb
    assert read_image(tmp_path / "gray.png").icc_profile is None


def test_read_accepts_a_string_path(source_dir: Path) -> None:
    source = make_source(source_dir, "png_rgb")
    assert read_image(str(source.path)).path == source.path


# ----------------------------------------------------------------------------- orientation


def _corner_marked_image(height: int = 4, width: int = 6) -> np.ndarray:
    """Black ``(H, W, 3)`` uint8 image with red, green and blue in three stored corners."""
    array = np.zeros((height, width, 3), dtype=np.uint8)
    array[0, 0] = (255, 0, 0)
    array[0, -1] = (0, 255, 0)
    array[-1, 0] = (0, 0, 255)
    return array


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillow_exif_transpose(
    tmp_path: Path, orientation: int
) -> None:
    path = tmp_path / "oriented.png"
    Image.fromarray(_corner_marked_image()).save(path, exif=exif_with(orientation))
    expected = ImageOps.exif_transpose(Image.open(path))
    image = read_image(path)
    torch.testing.assert_close(image.rgb, to_tensor(np.asarray(expected.convert("RGB")), 255.0))
    assert image.exif is not None
    exif = Image.Exif()
    exif.load(image.exif)
    assert exif[0x0112] == 1
    assert exif[0x010F] == "TinctTestMaker"


def test_jpeg_orientation_6_comes_back_upright_and_is_written_as_1(tmp_path: Path) -> None:
    stored = np.zeros((32, 48, 3), dtype=np.uint8)
    stored[:8, :8] = (255, 0, 0)  # red block in the stored top-left corner
    source = tmp_path / "rotated.jpg"
    Image.fromarray(stored).save(source, exif=exif_with(6), quality=95)
    image = read_image(source)
    # Orientation 6 means "rotate 90 degrees clockwise to view": H and W swap and the stored
    # top-left corner becomes the top-right one.
    assert image.rgb.shape == (3, 48, 32)
    assert image.rgb[:, 1, -2].tolist() == pytest.approx([1.0, 0.0, 0.0], abs=0.1)
    assert image.rgb[:, -2, 1].tolist() == pytest.approx([0.0, 0.0, 0.0], abs=0.1)
    output = write_image(tmp_path / "out.jpg", image.rgb, like=image)
    with Image.open(output) as written:
        assert written.getexif()[0x0112] == 1
        assert written.getexif()[0x010F] == "TinctTestMaker"
    assert read_image(output).rgb.shape == (3, 48, 32)


def test_orientation_and_metadata_survive_the_16_bit_png_path(tmp_path: Path) -> None:
    colour = to_tensor(scene_uint16(), 65535.0)
    template = read_image(write_image(tmp_path / "plain.png", colour, bit_depth=16))
    like = dataclasses.replace(
        template, exif=exif_with(6).tobytes(), icc_profile=srgb_icc_profile()
    )
    rotated = read_image(write_image(tmp_path / "rotated.png", colour, like=like))
    assert rotated.bit_depth == 16
    assert rotated.icc_profile == srgb_icc_profile()
    torch.testing.assert_close(rotated.rgb, colour.rot90(-1, (-2, -1)), atol=1e-6, rtol=0)


# ----------------------------------------------------------------------------- read errors


def _jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(scene_uint8()).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def _png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(scene_uint8()).save(buffer, "PNG")
    return buffer.getvalue()


def _png_claiming_size(width: int, height: int) -> bytes:
    """A small PNG whose IHDR (CRC fixed up) claims ``width`` x ``height`` pixels."""
    data = bytearray(_png_bytes())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


BAD_FILES: dict[str, tuple[str, bytes | None, str]] = {
    # name -> (file name, content or None for "not created", expected message fragment)
    "missing": ("missing.png", None, "no such file"),
    "zero_bytes": ("empty.png", b"", "empty"),
    "text": ("notes.jpg", b"these are not the pixels you are looking for\n", "not an image"),
    "random_bytes": ("noise.png", np.random.default_rng(1).bytes(4096), "not"),
    "truncated_jpeg": ("half.jpg", _jpeg_bytes()[: len(_jpeg_bytes()) // 2], "truncated"),
    "truncated_png": ("half.png", _png_bytes()[: len(_png_bytes()) // 2], "truncated"),
    "bomb_png": ("bomb.png", _png_claiming_size(30000, 30000), "too many pixels"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_raise_image_read_error_naming_the_file(tmp_path: Path, name: str) -> None:
    file_name, content, fragment = BAD_FILES[name]
    path = tmp_path / file_name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ImageReadError, match=fragment) as caught:
        read_image(path)
    assert str(path) in str(caught.value)
    assert caught.value.path == path
    assert PIL.ImageFile.LOAD_TRUNCATED_IMAGES is False  # the global was left alone


def test_directory_raises_image_read_error(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="is a directory") as caught:
        read_image(tmp_path)
    assert str(tmp_path) in str(caught.value)


def test_max_pixels_is_checked_before_decoding(source_dir: Path) -> None:
    path = make_source(source_dir, "png_rgb").path
    with pytest.raises(ImageReadError, match="more than the limit of 100 ") as caught:
        read_image(path, max_pixels=100)
    assert str(path) in str(caught.value)
    assert read_image(path, max_pixels=HEIGHT * WIDTH).rgb.shape == (3, HEIGHT, WIDTH)


def test_pillow_warning_threshold_does_not_override_max_pixels(tmp_path: Path) -> None:
    # 90 megapixels: above Pillow's warning threshold (89.5M), below our default of 100M. The
    # header is accepted; the file then fails only because it holds no such pixel data.
    path = tmp_path / "large_header.png"
    path.write_bytes(_png_claiming_size(10000, 9000))
    with pytest.raises(ImageReadError, match="truncated"):
        read_image(path)
    with pytest.raises(ImageReadError, match="more than the limit"):
        read_image(path, max_pixels=80_000_000)


def test_invalid_max_pixels_is_a_value_error(source_dir: Path) -> None:
    with pytest.raises(ValueError, match="max_pixels"):
        read_image(make_source(source_dir, "png_rgb").path, max_pixels=0)


def _small_encoded(file_format: str) -> bytes:
    buffer = io.BytesIO()
    image = Image.fromarray(scene_uint8()[:12, :16])
    image = image.convert("P") if file_format == "GIF" else image
    image.save(buffer, file_format)
    return buffer.getvalue()


ENCODED = {name: _small_encoded(name) for name in ("PNG", "JPEG", "TIFF", "WEBP", "BMP", "GIF")}


@pytest.mark.filterwarnings("ignore:.*:UserWarning")  # Pillow warns about damaged TIFF tags
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    file_format=st.sampled_from(sorted(ENCODED)),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), max_size=4),
)
def test_damaged_files_either_read_or_raise_image_read_error(
    tmp_path: Path, file_format: str, cut: float, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(ENCODED[file_format])
    for position, mask in flips:
        data[int(position * (len(data) - 1))] ^= mask
    path = tmp_path / "damaged.img"
    path.write_bytes(bytes(data[: max(1, int(cut * len(data)))]))
    try:
        image = read_image(path)
    except ImageReadError as error:
        assert str(path) in str(error)
    else:
        assert isinstance(image, ImageFile)
        assert image.rgb.ndim == 3 and image.rgb.shape[0] == 3


# ----------------------------------------------------------------------------- writing


@pytest.fixture
def rgb() -> torch.Tensor:
    return to_tensor(scene_uint8(), 255.0)


@pytest.mark.parametrize("suffix", [".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp"])
def test_every_writable_format_reads_back(tmp_path: Path, rgb: torch.Tensor, suffix: str) -> None:
    path = write_image(tmp_path / f"out{suffix.upper()}", rgb)
    image = read_image(path)
    assert image.rgb.shape == rgb.shape and image.bit_depth == 8
    assert lightness_psnr_db(rgb, image.rgb) > (35.0 if "jp" in suffix else MIN_LIGHTNESS_PSNR_DB)


def test_jpeg_is_quality_95_with_full_resolution_chroma(tmp_path: Path, rgb: torch.Tensor) -> None:
    path = write_image(tmp_path / "out.jpg", rgb)
    with Image.open(path) as written:
        assert JpegImagePlugin.get_sampling(written) == 0  # 4:4:4


def test_values_are_rounded_and_clamped(tmp_path: Path) -> None:
    rgb = torch.tensor([100.6 / 255, 100.4 / 255, 1.7]).view(3, 1, 1).expand(3, 2, 2)
    path = write_image(tmp_path / "out.png", rgb)
    with Image.open(path) as written:
        assert written.getpixel((0, 0)) == (101, 100, 255)
    negative = write_image(tmp_path / "neg.png", -rgb)
    with Image.open(negative) as written:
        assert written.getpixel((0, 0)) == (0, 0, 0)


def test_alpha_is_dropped_for_jpeg_and_bmp_without_error(tmp_path: Path, rgb: torch.Tensor) -> None:
    alpha = to_tensor(alpha_uint8(), 255.0)[:1]
    for name in ("out.jpg", "out.bmp"):
        assert read_image(write_image(tmp_path / name, rgb, alpha=alpha)).alpha is None
    kept = read_image(write_image(tmp_path / "out.webp", rgb, alpha=alpha))
    assert kept.alpha is not None
    assert float((kept.alpha - alpha).abs().max()) <= 1 / 255


def test_16_bit_request_gives_8_bit_for_formats_without_it(
    tmp_path: Path, rgb: torch.Tensor
) -> None:
    assert read_image(write_image(tmp_path / "out.jpg", rgb, bit_depth=16)).bit_depth == 8
    assert read_image(write_image(tmp_path / "out.png", rgb, bit_depth=16)).bit_depth == 16
    assert read_image(write_image(tmp_path / "def.png", rgb)).bit_depth == 8


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif"])
def test_exif_and_icc_of_like_are_carried(
    source_dir: Path, tmp_path: Path, rgb: torch.Tensor, suffix: str
) -> None:
    source = source_dir / "a.jpg"
    Image.fromarray(scene_uint8()).save(source, exif=exif_with(1), icc_profile=srgb_icc_profile())
    like = read_image(source)
    with Image.open(write_image(tmp_path / f"out{suffix}", rgb, like=like)) as written:
        assert written.getexif()[0x010F] == "TinctTestMaker"
        assert written.info.get("icc_profile") == srgb_icc_profile()


def test_refuses_to_overwrite_without_force(tmp_path: Path, rgb: torch.Tensor) -> None:
    path = tmp_path / "out.png"
    path.write_bytes(b"precious")
    with pytest.raises(ImageWriteError, match="--force") as caught:
        write_image(path, rgb)
    assert str(path) in str(caught.value)
    assert path.read_bytes() == b"precious"
    assert write_image(path, rgb, force=True) == path
    assert read_image(path).rgb.shape == rgb.shape


def test_creates_missing_parent_directories(tmp_path: Path, rgb: torch.Tensor) -> None:
    path = write_image(str(tmp_path / "a" / "b" / "out.png"), rgb)
    assert path == tmp_path / "a" / "b" / "out.png" and path.is_file()


@pytest.mark.parametrize("name", ["out.gif", "out", "out.png.txt"])
def test_unknown_extension_lists_the_allowed_ones(
    tmp_path: Path, rgb: torch.Tensor, name: str
) -> None:
    with pytest.raises(ImageWriteError, match=r"\.jpg, \.jpeg, \.png") as caught:
        write_image(tmp_path / name, rgb)
    assert str(tmp_path / name) in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_directory_as_target_is_refused_even_with_force(tmp_path: Path, rgb: torch.Tensor) -> None:
    (tmp_path / "out.png").mkdir()
    with pytest.raises(ImageWriteError, match="is a directory"):
        write_image(tmp_path / "out.png", rgb, force=True)


def _failing_save(self: Image.Image, fp: object, *args: object, **kwargs: object) -> None:
    fp.write(b"half an image")  # type: ignore[attr-defined]
    raise OSError("simulated disk failure")


@pytest.mark.parametrize("existing", [False, True])
def test_failed_encode_leaves_no_target_and_no_temp_file(
    tmp_path: Path, rgb: torch.Tensor, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    path = tmp_path / "out.png"
    if existing:
        path.write_bytes(b"previous result")
    monkeypatch.setattr(Image.Image, "save", _failing_save)
    with pytest.raises(ImageWriteError, match="simulated disk failure") as caught:
        write_image(path, rgb, force=True)
    assert str(path) in str(caught.value)
    expected = ["out.png"] if existing else []
    assert sorted(p.name for p in tmp_path.iterdir()) == expected
    if existing:
        assert path.read_bytes() == b"previous result"


def test_interrupt_during_16_bit_encode_leaves_nothing(
    tmp_path: Path, rgb: torch.Tensor, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cv2, "imencode", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_image(tmp_path / "out.tif", rgb, bit_depth=16)
    assert list(tmp_path.iterdir()) == []


def test_opencv_refusal_becomes_image_write_error(
    tmp_path: Path, rgb: torch.Tensor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cv2, "imencode", lambda *args, **kwargs: (False, None))
    with pytest.raises(ImageWriteError, match="OpenCV"):
        write_image(tmp_path / "out.png", rgb, bit_depth=16)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("value", "error", "fragment"),
    [
        (np.zeros((3, 4, 4), dtype=np.float32), TypeError, "torch.Tensor, got ndarray"),
        (torch.zeros(3, 4, 4, dtype=torch.uint8), TypeError, "float tensor"),
        (torch.zeros(4, 4, 4), ValueError, r"\(3, H, W\).*got \(4, 4, 4\)"),
        (torch.zeros(1, 3, 4, 4), ValueError, r"got \(1, 3, 4, 4\)"),
        (torch.zeros(3, 0, 4), ValueError, "H, W >= 1"),
        (torch.full((3, 4, 4), float("nan")), ValueError, "NaN"),
    ],
)
def test_bad_rgb_is_a_caller_error(
    tmp_path: Path, value: object, error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error, match=fragment):
        write_image(tmp_path / "out.png", value)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_bad_alpha_and_bit_depth_are_caller_errors(tmp_path: Path, rgb: torch.Tensor) -> None:
    with pytest.raises(ValueError, match="same H, W as rgb"):
        write_image(tmp_path / "out.png", rgb, alpha=torch.zeros(1, 3, 3))
    with pytest.raises(ValueError, match=r"\(1, H, W\)"):
        write_image(tmp_path / "out.png", rgb, alpha=torch.zeros(2, HEIGHT, WIDTH))
    with pytest.raises(ValueError, match="bit_depth must be 8 or 16, got 12"):
        write_image(tmp_path / "out.png", rgb, bit_depth=12)
    with pytest.raises(TypeError, match="like must be an ImageFile"):
        write_image(tmp_path / "out.png", rgb, like="photo.jpg")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- atomic_write


def test_atomic_write_commits_only_on_success(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "file.bin"
    with atomic_write(path) as file:
        file.write(b"complete")
        assert not path.exists()  # nothing visible at the target until the block ends
    assert path.read_bytes() == b"complete"
    with pytest.raises(RuntimeError), atomic_write(path, overwrite=True) as file:
        file.write(b"partial")
        raise RuntimeError("crash")
    assert path.read_bytes() == b"complete"
    assert [p.name for p in path.parent.iterdir()] == ["file.bin"]


def test_atomic_write_without_overwrite_never_clobbers(tmp_path: Path) -> None:
    path = tmp_path / "file.bin"
    with pytest.raises(FileExistsError), atomic_write(path) as file:
        file.write(b"new")
        path.write_bytes(b"written by someone else meanwhile")
    assert path.read_bytes() == b"written by someone else meanwhile"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_only_the_leftovers_of_the_named_targets_are_removed(tmp_path: Path) -> None:
    leftovers = [".a.png.deadbeef.tmp", ".b.png.0123abcd.tmp"]
    kept = [".a.png.nothex00.tmp", ".a.pngx.deadbeef.tmp", ".c.png.0123abcd.tmp", "a.png"]
    for name in leftovers + kept:
        (tmp_path / name).write_bytes(b"x")
    targets = [tmp_path / "a.png", tmp_path / "b.png", tmp_path / "missing" / "a.png"]
    assert remove_leftover_temp_files(targets) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)


def test_atomic_write_uses_normal_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "file.bin") as file:
            file.write(b"x")
    finally:
        os.umask(umask)
    assert (tmp_path / "file.bin").stat().st_mode & 0o777 == 0o644
