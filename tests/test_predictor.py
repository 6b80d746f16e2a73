"""Encode once, decode per hint set: the models' encode/decode split, the predictor of the Python
API, and the ONNX Runtime encoder and decoder graphs, each against the full run."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import Tensor

from tinct.api import PhotoColorizer, PhotoPredictor, UntrainedModelWarning, load
from tinct.color.lab import rgb_to_lightness
from tinct.guidance.hints import HintBoundary, HintPoint, Hints
from tinct.guidance.spread import SpreadGuide, spread_hint_colours
from tinct.io.in_memory import from_pil
from tinct.models import create_model, get_model_spec
from tinct.models.registry import encodes_once
from tinct.pipeline.predictor import Predictor
from tinct.pipeline.suggest import suggest_colors

TINY = "tinct-lite_tiny"
HAVE_ONNX = all(importlib.util.find_spec(p) is not None for p in ("onnx", "onnxruntime"))
needs_onnx = pytest.mark.skipif(
    not HAVE_ONNX, reason="onnx and onnxruntime are not installed (pip install 'tinct[onnx]')"
)
HINTS = Hints(
    points=(
        HintPoint(x=30.0, y=20.0, ab=(40.0, -30.0), radius=3.0),
        HintPoint(90.0, 60.0, (-20.0, 50.0)),
    ),
    boundaries=(HintBoundary(points=((0.0, 45.0), (119.0, 45.0))),),
)


def _load(name: str, **options: object) -> PhotoColorizer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        return load(name, **options)  # type: ignore[arg-type]


def hint_map(batch: int, height: int, width: int) -> Tensor:
    """A hint patch of a reddish colour and a boundary line."""
    hints = torch.zeros(batch, 4, height, width)
    hints[:, 2, 8:12, 8:16] = 1.0
    hints[:, 0, 8:12, 8:16], hints[:, 1, 8:12, 8:16] = 40.0, 20.0
    hints[:, 3, height // 2, :] = 1.0
    return hints


def photo(width: int = 120, height: int = 90) -> Image.Image:
    """A gray 'photo' with smooth shading and a darker block."""
    yy, xx = np.mgrid[0:height, 0:width]
    gray = 60 + 120 * xx / width + 30 * np.sin(yy / 9)
    gray[height // 3 : height // 2, width // 4 : width // 2] -= 40
    return Image.fromarray(gray.clip(0, 255).astype(np.uint8), mode="L")


# ---- the models' split ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tinct-lite_tiny", "tinct-lite-recurrent_tiny"])
def test_decode_of_encode_equals_the_forward_pass(name: str) -> None:
    model = create_model(name).eval()
    lightness = torch.rand(2, 1, 64, 96) * 100
    with torch.inference_mode():
        encoding = model.encode(lightness)
        for hints in (None, hint_map(2, 64, 96)):
            torch.testing.assert_close(
                model.decode(encoding, hints), model(lightness, hints), rtol=0, atol=1e-6
            )


def test_shipped_tinct_lite_splits_with_the_same_logits() -> None:
    colorizer = load()  # the shipped weights
    assert encodes_once(colorizer.model)
    lightness = torch.rand(1, 1, 96, 128) * 100
    with torch.inference_mode():
        split = colorizer.model.decode(colorizer.model.encode(lightness), hint_map(1, 96, 128))
        whole = colorizer.model(lightness, hint_map(1, 96, 128))
    torch.testing.assert_close(split, whole, rtol=0, atol=1e-4)


def test_decode_refuses_a_hint_map_of_another_size() -> None:
    model = create_model(TINY).eval()
    encoding = model.encode(torch.rand(1, 1, 64, 64) * 100)
    with pytest.raises(ValueError, match=r"spatial size \(64, 64\)"):
        model.decode(encoding, hint_map(1, 32, 64))


def test_models_whose_hints_enter_at_the_input_do_not_split() -> None:
    assert not encodes_once(create_model("guided_tiny"))
    assert not encodes_once(create_model("eccv16_tiny"))
    assert encodes_once(create_model(TINY))


# ---- the predictor ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> PhotoColorizer:
    return load()


@pytest.mark.parametrize("hints", [None, HINTS], ids=["automatic", "hints"])
def test_predictor_colorizes_like_the_colorizer(shipped: PhotoColorizer, hints: Hints) -> None:
    image = photo()
    predictor = shipped.predictor()
    predictor.set_image(image)
    assert predictor.encodes_once
    got = np.asarray(predictor.colorize(hints), dtype=np.int16)
    expected = np.asarray(shipped(image, hints), dtype=np.int16)
    assert got.shape == expected.shape == (90, 120, 3)
    assert np.abs(got - expected).max() <= 1


def test_predictor_strips_equal_its_whole_result(shipped: PhotoColorizer) -> None:
    lightness = rgb_to_lightness(from_pil(photo())[0])
    predictor = Predictor(shipped, shipped.encode_image(lightness))
    whole = predictor.colorize_lightness(HINTS)[0]
    strips = list(predictor.colorize_strips(HINTS))
    assert torch.equal(torch.cat([strip for _, strip in strips], dim=-2), whole)


def test_predictor_answers_many_hint_sets_from_one_encoding(shipped: PhotoColorizer) -> None:
    calls = {"encode": 0, "decode": 0}
    model = shipped.model
    original_encode, original_decode = model.encode, model.decode

    def encode(lightness: Tensor) -> tuple[Tensor, ...]:
        calls["encode"] += 1
        return original_encode(lightness)

    def decode(encoding: tuple[Tensor, ...], hints: Tensor | None = None) -> Tensor:
        calls["decode"] += 1
        return original_decode(encoding, hints)

    model.encode, model.decode = encode, decode  # type: ignore[method-assign]
    try:
        predictor = shipped.predictor()
        predictor.set_image(photo())
        for count in range(1, 4):
            predictor.colorize(Hints(points=HINTS.points[:count]))
        predictor.suggest(30, 20, 4)
    finally:
        del model.encode, model.decode
    assert calls == {"encode": 1, "decode": 4}


def test_predictor_suggests_like_suggest_colors(shipped: PhotoColorizer) -> None:
    lightness = torch.rand(1, 1, 90, 120) * 100
    predictor = Predictor(shipped)
    predictor.set_lightness(lightness)
    for hints in (None, HINTS):
        assert predictor.suggest(30, 20, 4, hints) == suggest_colors(
            shipped, lightness, 30, 20, hints, 4
        )
    with pytest.raises(ValueError, match="outside"):
        predictor.suggest(120, 20)


def test_predictor_falls_back_to_the_whole_model_when_hints_enter_at_the_input() -> None:
    guided = _load("guided_tiny")
    image = np.asarray(photo(64, 48).convert("RGB"))
    predictor = guided.predictor()
    predictor.set_image(image)
    assert not predictor.encodes_once and predictor.encoding.features is None
    hints = Hints(points=(HintPoint(10.0, 10.0, (30.0, 30.0)),))
    got, expected = predictor.colorize(hints), guided(image, hints)
    assert isinstance(got, np.ndarray) and got.dtype == np.uint8
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1  # type: ignore[union-attr]


def test_predictor_returns_the_kind_it_was_given_with_alpha() -> None:
    tiny = _load(TINY)
    rgba = photo(40, 30).convert("RGBA")
    rgba.putalpha(77)
    predictor = tiny.predictor()
    predictor.set_image(rgba)
    result = predictor.colorize()
    assert isinstance(result, Image.Image) and result.mode == "RGBA" and result.size == (40, 30)
    assert np.all(np.asarray(result)[..., 3] == 77)
    predictor.set_lightness(torch.rand(2, 1, 30, 40) * 100)  # a batch of tensors
    assert predictor.colorize().shape == (2, 3, 30, 40)  # type: ignore[union-attr]


def test_predictor_without_an_image_says_what_to_do() -> None:
    predictor = PhotoPredictor(_load(TINY))
    assert not predictor.is_image_set
    with pytest.raises(RuntimeError, match="set_lightness"):
        predictor.colorize()
    predictor.set_image(photo(40, 30))
    predictor.reset_image()
    with pytest.raises(RuntimeError, match="no image is set"):
        predictor.suggest(1, 1)


def test_encoding_counts_the_memory_it_adds() -> None:
    tiny = _load(TINY)
    lightness = torch.rand(1, 1, 120, 160) * 100
    encoding = tiny.encode_image(lightness)
    assert encoding.lightness is lightness and encoding.image_size == (120, 160)
    assert encoding.features is not None and len(encoding.features) == 4
    assert encoding.spread_guide is not None  # tiny spreads hint colours
    sizes = [encoding.small.numel(), *(f.numel() for f in encoding.features)]
    guide = encoding.spread_guide.nbytes
    assert guide > 4 * 6 * encoding.small.numel()  # affinities and taps at the working side
    assert encoding.nbytes == 4 * sum(sizes) + guide  # the caller's lightness not counted


def test_a_kept_spreading_guide_gives_the_same_colours() -> None:
    lightness = torch.rand(1, 1, 48, 64) * 100
    hints = torch.zeros(1, 4, 48, 64)
    hints[:, 0, 10, 10], hints[:, 1, 10, 10], hints[:, 2, 10, 10] = 40.0, -20.0, 1.0
    hints[:, 3, 30, :] = 1.0
    ab = torch.randn(1, 2, 48, 64)
    guide = SpreadGuide.of(lightness)
    kept = spread_hint_colours(lightness, ab, hints, guide=guide)
    assert torch.equal(kept, spread_hint_colours(lightness, ab, hints))
    with pytest.raises(ValueError, match="made for lightness"):
        spread_hint_colours(lightness[..., :32], ab[..., :32], hints[..., :32], guide=guide)


# ---- ONNX Runtime: the encoder and decoder graphs ---------------------------------------------


@pytest.fixture
def onnx_graphs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder of cached ONNX graphs in a fresh, empty cache (``TINCT_CACHE_DIR``)."""
    monkeypatch.setenv("TINCT_CACHE_DIR", str(tmp_path))
    return tmp_path / "onnx"


@pytest.mark.slow
@needs_onnx
def test_onnx_encoder_and_decoder_graphs_equal_the_full_run(
    onnx_graphs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinct.export import onnx_cache
    from tinct.export.onnx_backend import graph_model
    from tinct.export.onnx_split import compare_split_with_torch, split_signatures

    torch_colorizer = _load(TINY, colour_boost=0.5)
    colorizer = _load(TINY, backend="onnx", colour_boost=0.5)
    assert len(list(onnx_graphs.glob("*.onnx"))) == 1  # split graphs: on first encode

    lightness = torch.rand(1, 1, 50, 75) * 100  # not a multiple of 32: resized like torch
    encoding = colorizer.encode_image(lightness)
    names = sorted(p.name for p in onnx_graphs.glob("*.onnx"))
    assert len(names) == 3 and sum("-encoder-" in n for n in names) == 1
    assert sum("-decoder-" in n for n in names) == 1
    backend = colorizer.backend
    split = backend.split_sessions()  # type: ignore[union-attr]
    assert split is not None
    assert split.encoder.signature == split_signatures(get_model_spec(TINY), 4).encoder
    hints = Hints(points=(HintPoint(x=30.0, y=15.0, ab=(40.0, -30.0)),))
    for colour_hints in (None, hints):
        logits, _ = colorizer.encoded_logits(encoding, colour_hints)
        expected_logits, _ = torch_colorizer.predict_logits(lightness, colour_hints)
        torch.testing.assert_close(logits, expected_logits, rtol=0, atol=1e-4)
        got = colorizer.colorize_encoded(encoding, colour_hints)
        expected = torch_colorizer.colorize_lightness(lightness, colour_hints)
        torch.testing.assert_close(got, expected, rtol=0, atol=1 / 255)

    boosted, _ = graph_model(torch_colorizer, "0" * 64)  # the offsets are in the graphs
    report = compare_split_with_torch(
        split.encoder.run, split.decoder.run, boosted, get_model_spec(TINY), torch_colorizer.bins
    )
    assert report.max_logit_difference < 1e-4
    assert report.max_ab_difference is not None and report.max_ab_difference < 1e-3

    def no_export(*args: object, **kwargs: object) -> None:
        raise AssertionError("exported again although the graphs are cached")

    monkeypatch.setattr(onnx_cache, "verified_split_onnx_bytes", no_export)
    again = _load(TINY, backend="onnx", colour_boost=0.5)
    again.encode_image(lightness)  # both graphs from the cache


@pytest.mark.slow
@needs_onnx
def test_a_split_export_that_disagrees_with_pytorch_is_refused(
    onnx_graphs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinct.export import onnx_cache
    from tinct.export.onnx_export import ExportError, ParityReport

    monkeypatch.setattr(
        onnx_cache, "compare_split_with_torch", lambda *a, **k: ParityReport(0.5, 0.1, ())
    )
    colorizer = _load(TINY, backend="onnx")
    with pytest.raises(ExportError, match="encoder and decoder"):
        colorizer.encode_image(torch.rand(1, 1, 64, 64) * 100)
    assert not list(onnx_graphs.glob("*-encoder-*"))  # nothing cached
