"""``tinct serve`` encodes an upload once: hint updates and suggestions run only the decoder, the
encoding is kept in the store with the photo, counted in its memory budget and dropped with it."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
import torch
from PIL import Image
from torch import Tensor

from tinct.api import PhotoColorizer, UntrainedModelWarning, load
from tinct.guidance.hints_file import parse_hints
from tinct.server import work
from tinct.server.app import create_app
from tinct.server.background import BackgroundServer
from tinct.server.limits import ServerLimits
from tinct.server.store import ImageStore, UnknownImage

PREVIEW_SIDE = 128
HINTS = {
    "points": [{"x": 40, "y": 30, "color": "#c0392b", "radius": 3}],
    "boundaries": [{"points": [[0, 60], [159, 60]], "width": 2}],
}


class CallCounts:
    """Counts the model's encoder and decoder runs (wrapping the instance's methods)."""

    def __init__(self, colorizer: PhotoColorizer) -> None:
        self.encode = self.decode = 0
        model = colorizer.model
        encode, decode = model.encode, model.decode

        def counted_encode(lightness: Tensor) -> tuple[Tensor, ...]:
            self.encode += 1
            return encode(lightness)

        def counted_decode(encoding: tuple[Tensor, ...], hints: Tensor | None = None) -> Tensor:
            self.decode += 1
            return decode(encoding, hints)

        model.encode, model.decode = counted_encode, counted_decode  # type: ignore[method-assign]


def gray_png(width: int = 160, height: int = 120) -> bytes:
    yy, xx = np.mgrid[0:height, 0:width]
    gray = (60 + 120 * xx / width + 40 * np.sin(yy / 12)).clip(0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(gray, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def colorizer() -> PhotoColorizer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        return load("tinct-lite_tiny")


@pytest.fixture
def served(colorizer: PhotoColorizer) -> Iterator[tuple[httpx.Client, CallCounts, object]]:
    counts = CallCounts(colorizer)
    app = create_app(colorizer, ServerLimits(preview_side=PREVIEW_SIDE))
    try:
        with BackgroundServer(app) as running, httpx.Client(base_url=running.url) as client:
            yield client, counts, app.state.tinct
    finally:
        del colorizer.model.encode, colorizer.model.decode


def test_hint_updates_and_suggestions_reuse_the_uploads_encoding(
    served: tuple[httpx.Client, CallCounts, object], colorizer: PhotoColorizer
) -> None:
    client, counts, _ = served
    png = gray_png()
    image_id = client.post("/api/images", files={"image": ("p.png", png)}).json()["id"]
    assert (counts.encode, counts.decode) == (1, 0)
    previews = []
    for body in ({}, {"hints": HINTS}, {"hints": HINTS, "temperature": 0.2}):
        response = client.post(f"/api/images/{image_id}/preview", json=body)
        assert response.status_code == 200, response.text
        previews.append(np.asarray(Image.open(io.BytesIO(response.content)), dtype=np.int16))
    body = {"x": 40, "y": 30, "hints": HINTS, "count": 3}
    assert client.post(f"/api/images/{image_id}/suggest", json=body).status_code == 200
    assert (counts.encode, counts.decode) == (1, 4)  # one encoding, a decoder run per request

    # the same pictures as a full run of the model on the preview
    size, preview = work.decode_for_store(png, "p.png", 10**8, PREVIEW_SIDE)
    full = work.colorize_preview(colorizer, colorizer.unencoded(preview), size, parse_hints(HINTS))
    expected = np.asarray(Image.open(io.BytesIO(full)), dtype=np.int16)
    assert np.abs(previews[1] - expected).max() <= 1


def test_the_store_counts_the_encoding_and_drops_it_with_the_photo(
    served: tuple[httpx.Client, CallCounts, object],
) -> None:
    client, _, state = served
    store: ImageStore = state.store  # type: ignore[attr-defined]
    before = store.nbytes
    png = gray_png()
    image_id = client.post("/api/images", files={"image": ("p.png", png)}).json()["id"]
    stored = store.get(image_id)
    assert stored.encoding is not None and stored.encoding.lightness is stored.preview
    preview_bytes = stored.preview.numel() * 4
    assert stored.encoding.nbytes > 0
    assert store.nbytes - before == len(png) + preview_bytes + stored.encoding.nbytes
    assert client.delete(f"/api/images/{image_id}").status_code == 204
    assert store.nbytes == before


def test_eviction_takes_the_encoding_with_the_photo(colorizer: PhotoColorizer) -> None:
    previews = [torch.rand(1, 1, 48, 64) * 100 for _ in range(3)]
    encodings = [colorizer.encode_image(p) for p in previews]
    entry = 10 + previews[0].numel() * 4 + encodings[0].nbytes
    store = ImageStore(capacity_bytes=2 * entry, ttl_s=60)
    first = store.add("a", bytes(10), 48, 64, previews[0], encodings[0])
    second = store.add("b", bytes(10), 48, 64, previews[1], encodings[1])
    assert store.nbytes == 2 * entry
    third = store.add("c", bytes(10), 48, 64, previews[2], encodings[2])  # first must go
    with pytest.raises(UnknownImage):
        store.get(first.id)
    assert store.nbytes == 2 * entry and store.get(second.id) and store.get(third.id)
    with pytest.raises(ValueError, match="encoding of preview"):
        store.add("d", b"", 48, 64, previews[0], encodings[1])


@pytest.mark.parametrize("size", [(1, 1), (3, 5), (120, 160), (17, 1)])
def test_preview_png_decodes_to_the_exact_pixels(size: tuple[int, int]) -> None:
    from tinct.server.images import encode_preview_png, rgb8_png

    pixels = np.random.default_rng(sum(size)).integers(0, 256, (*size, 3), dtype=np.uint8)
    image = Image.open(io.BytesIO(rgb8_png(pixels)))
    image.load()
    assert image.mode == "RGB" and np.array_equal(np.asarray(image), pixels)
    rgb = torch.from_numpy(pixels).permute(2, 0, 1).float() / 255.0
    again = Image.open(io.BytesIO(encode_preview_png([(0, rgb)])))
    assert np.array_equal(np.asarray(again), pixels)
    if size[0] > 1:
        middle = size[0] // 2
        halves = [(0, rgb[:, :middle]), (middle, rgb[:, middle:])]
        assert encode_preview_png(halves) == encode_preview_png([(0, rgb)])
    with pytest.raises(ValueError, match="uint8"):
        rgb8_png(pixels.astype(np.uint16))


def test_preview_png_rounds_like_torch() -> None:
    from tinct.server.images import encode_preview_png

    # Halves round to even (0.5 -> 0, 1.5 -> 2); above 1 saturates (strips are never below 0).
    values = torch.tensor([0.5, 1.5, 2.5, 127.5, 254.5, 255.0, 300.0, 0.2]) / 255.0
    rgb = values.view(1, 1, -1).expand(3, 2, -1)
    decoded = np.asarray(Image.open(io.BytesIO(encode_preview_png([(0, rgb)]))))
    expected = rgb.clamp(0.0, 1.0).mul(255.0).round().byte().permute(1, 2, 0).numpy()
    assert np.array_equal(decoded, expected)


def test_warming_up_runs_a_hint_update_and_builds_the_compiled_code(
    colorizer: PhotoColorizer,
) -> None:
    from tinct.color import gamut_kernel
    from tinct.guidance import stencil_kernel

    counts = CallCounts(colorizer)
    try:
        work.warm_up(colorizer)
    finally:
        del colorizer.model.encode, colorizer.model.decode
    assert (counts.encode, counts.decode) == (1, 1)
    assert gamut_kernel.srgb_in_gamut.signatures  # compiled or loaded from the cache
    assert stencil_kernel.conjugate_gradient.signatures  # the hint was spread
