"""Recombine the original full-resolution lightness with predicted (low-resolution) chroma.

Chroma is predicted at a working resolution of about 256 pixels; the result has the size of the
original. It is made strip by strip of rows (:func:`recombine_strips`): the chroma is upsampled
in width once, each strip's rows are interpolated from it (an image of one strip, such as a
preview, is upsampled in one pass), and each strip goes through the gamut
search and the conversion to sRGB on its own, so that a 100-megapixel photo never holds more
than a strip of float intermediates. :class:`RgbStrips` hands such a result to a writer lazily.

On the CPU (float32, no gradients) a strip is converted pixel by pixel in compiled code, each
colour's gamut search started from a table of in-gamut chroma
(:mod:`tinct.color.gamut_tables`); elsewhere (a GPU, float64, autograd) by the tensor functions
of :mod:`tinct.color.gamut`. Both give the same colours to a tenth of an 8-bit level.

A caller that runs PyTorch on fewer threads than the machine has cores (the server's hint
updates run on one, :func:`tinct.server.limits.one_torch_thread`) can ask for ``workers``: the
conversion of a strip is then split into blocks of rows converted on that many threads at once.
Each thread runs its own block from start to end (no step waits for the others, as the steps of
a PyTorch operation split over threads do), so on a busy machine it costs no more than one
thread would.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import torch
import torch.nn.functional as F
from torch import Tensor

from tinct.color.gamut import lab_to_rgb_in_gamut
from tinct.color.gamut_tables import lab_planes_to_srgb_in_gamut
from tinct.compiled import runs_compiled

# About a megapixel per strip: its float temporaries (some tens of MB) stay small beside the
# image, and strips stay wide enough for the per-call overheads to vanish.
STRIP_PIXELS = 1 << 20
MAX_WORKERS = 4  # threads for one strip's conversion
BLOCK_PIXELS = 1 << 15  # fewer pixels per block: the per-call overheads outweigh the threads


def upsample_ab(ab: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinearly resize ``(B, 2, h, w)`` chroma to ``size`` = (H, W)."""
    if tuple(ab.shape[-2:]) == tuple(size):
        return ab
    return F.interpolate(ab, size=size, mode="bilinear", align_corners=False)


def _upsampled_rows(wide: Tensor, height: int, top: int, bottom: int) -> Tensor:
    """Rows ``top:bottom`` of ``wide`` ``(B, 2, h, W)`` bilinearly resized to ``height`` rows,
    with the sampling of ``F.interpolate(..., align_corners=False)``."""
    source_height = wide.shape[-2]
    if source_height == height:
        return wide[..., top:bottom, :]
    rows = torch.arange(top, bottom, dtype=torch.float64)
    source = ((rows + 0.5) * (source_height / height) - 0.5).clamp(min=0.0)
    first = source.floor().long().clamp(max=source_height - 1)
    second = (first + 1).clamp(max=source_height - 1)
    weight = (source - first).to(wide.dtype).view(1, 1, -1, 1)
    return wide[..., first, :] * (1.0 - weight) + wide[..., second, :] * weight


def recombine_strips(
    lightness: Tensor, ab: Tensor, strip_pixels: int = STRIP_PIXELS, workers: int = 1
) -> Iterator[tuple[int, Tensor]]:
    """The colour image of :func:`recombine_lightness_ab`, strip by strip from the top.

    Args:
        workers: threads for each strip's conversion on the CPU (at most ``MAX_WORKERS``;
            see the module): for callers that run PyTorch on fewer threads than there are
            cores. The colours do not depend on it.

    Yields:
        ``(top, rgb)``: the strip's first row and its ``(B, 3, rows, W)`` sRGB in [0, 1] (on the
        CPU a channels-last view).
    """
    _check_shapes(lightness, ab)
    height, width = lightness.shape[-2:]
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    ab = ab.to(lightness.dtype)
    if runs_compiled(lightness, ab):
        blocks = min(workers, MAX_WORKERS)

        def convert(strip_lightness: Tensor, strip_ab: Tensor) -> Tensor:
            return _compiled_strip(strip_lightness, strip_ab, blocks)
    else:
        convert = _tensor_strip
    rows = max(1, strip_pixels // width)
    if rows >= height:  # one strip (a preview): upsampled in one pass, a fifth of the time
        yield 0, convert(lightness, upsample_ab(ab, (height, width)))
        return
    wide = upsample_ab(ab, (ab.shape[-2], width))  # width only, once
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        strip_ab = _upsampled_rows(wide, height, top, bottom)
        yield top, convert(lightness[..., top:bottom, :], strip_ab)


def _tensor_strip(lightness: Tensor, ab: Tensor) -> Tensor:
    return lab_to_rgb_in_gamut(lightness, ab)


def _compiled_strip(lightness: Tensor, ab: Tensor, workers: int = 1) -> Tensor:
    """``(B, 3, rows, W)`` channels-last sRGB of float32 CPU strips."""
    batch, _, rows, width = lightness.shape
    result = lightness.new_empty((batch, rows, width, 3))
    for item_lightness, item_ab, item_result in zip(lightness[:, 0], ab, result, strict=True):
        a, b = item_ab.unbind(0)
        _convert_in_blocks(item_lightness.clamp(0.0, 100.0), a, b, item_result, workers)
    return result.permute(0, 3, 1, 2)


def _convert_in_blocks(lightness: Tensor, a: Tensor, b: Tensor, out: Tensor, workers: int) -> None:
    """:func:`lab_planes_to_srgb_in_gamut` of ``(rows, W)`` planes into ``out`` in up to
    ``workers`` blocks at once, the first on the calling thread and the others on the pool's.
    Block ``k`` of ``n`` takes every ``n``-th row from row ``k``: neighbouring rows hold much
    the same colours, so the blocks cost alike (halves of the image would not: the colours out
    of gamut, which cost the most, gather in parts of it)."""
    rows = lightness.shape[0]
    blocks = max(1, min(workers, rows, lightness.numel() // BLOCK_PIXELS))
    views = [
        tuple(plane[first::blocks] for plane in (lightness, a, b, out)) for first in range(blocks)
    ]
    others = [_pool().submit(lab_planes_to_srgb_in_gamut, *view) for view in views[1:]]
    lab_planes_to_srgb_in_gamut(*views[0])
    for other in others:
        other.result()


@cache
def _pool() -> ThreadPoolExecutor:
    """The threads that convert the blocks after the first (the compiled conversion releases
    the GIL: :mod:`tinct.color.gamut_kernel`)."""
    return ThreadPoolExecutor(MAX_WORKERS - 1, thread_name_prefix="tinct-gamut")


def recombine_lightness_ab(lightness: Tensor, ab: Tensor) -> Tensor:
    """Colour image from the original L and predicted ab, never altering L.

    Chroma is predicted at a working resolution; here it is upsampled to the size of the original
    lightness, reduced in chroma where needed to stay in the sRGB gamut, and converted to sRGB.

    Args:
        lightness: ``(B, 1, H, W)`` L in [0, 100] at full resolution.
        ab: ``(B, 2, h, w)`` chroma in about [-110, 110], any resolution.

    Returns:
        ``(B, 3, H, W)`` sRGB in [0, 1].
    """
    _check_shapes(lightness, ab)
    batch, _, height, width = lightness.shape
    result = lightness.new_empty((batch, 3, height, width))
    for top, strip in recombine_strips(lightness, ab):
        result[..., top : top + strip.shape[-2], :] = strip
    return result


def _check_shapes(lightness: Tensor, ab: Tensor) -> None:
    if lightness.dim() != 4 or ab.dim() != 4 or lightness.shape[0] != ab.shape[0]:
        raise ValueError(
            f"expected lightness (B, 1, H, W) and ab (B, 2, h, w), "
            f"got {tuple(lightness.shape)} and {tuple(ab.shape)}"
        )


@dataclass(frozen=True)
class RgbStrips:
    """A full-resolution colour result that is computed strip by strip when it is read.

    Holds only the lightness and the working-resolution chroma; iterating yields ``(top, rgb)``
    with ``rgb`` the ``(3, rows, W)`` sRGB in [0, 1] of rows ``top:top + rows`` (each iteration
    computes them anew). Writers quantize strip by strip (:func:`tinct.io.image_file.write_image`),
    so the result never exists as a whole float image.

    Attributes:
        lightness: ``(1, H, W)`` L in [0, 100].
        ab: ``(2, h, w)`` predicted chroma, any resolution.
        workers: threads for each strip's conversion (:func:`recombine_strips`).
    """

    lightness: Tensor
    ab: Tensor
    workers: int = 1

    def __post_init__(self) -> None:
        _check_shapes(self.lightness.unsqueeze(0), self.ab.unsqueeze(0))
        if not (bool(torch.isfinite(self.ab).all()) and bool(torch.isfinite(self.lightness).all())):
            raise ValueError("lightness and chroma must be finite (no NaN or infinity)")

    @property
    def size(self) -> tuple[int, int]:
        """(H, W)."""
        return tuple(self.lightness.shape[-2:])  # type: ignore[return-value]

    def __iter__(self) -> Iterator[tuple[int, Tensor]]:
        strips = recombine_strips(
            self.lightness.unsqueeze(0), self.ab.unsqueeze(0), workers=self.workers
        )
        for top, strip in strips:
            yield top, strip[0]

    def to_tensor(self) -> Tensor:
        """The whole ``(3, H, W)`` sRGB image."""
        return recombine_lightness_ab(self.lightness.unsqueeze(0), self.ab.unsqueeze(0))[0]
