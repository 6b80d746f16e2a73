"""The colour boost: class rebalancing applied at decoding time, as a setting."""

from __future__ import annotations

import importlib.util
import warnings

import pytest
import torch

from tinct.api import UntrainedModelWarning, load
from tinct.quantize.ab_bins import gamut_ab_bins
from tinct.quantize.decoding import decode_annealed_mean
from tinct.quantize.prior import colour_boost_bias, rebalancing_weights

from .helpers.cli import tinct

HAVE_ONNX = all(importlib.util.find_spec(p) is not None for p in ("onnx", "onnxruntime"))


def gray_heavy_prior(bins: torch.Tensor) -> torch.Tensor:
    """A prior like real photos': most mass near gray, falling off with chroma."""
    prior = torch.exp(-bins.double().norm(dim=1) / 15.0)
    return prior / prior.sum()


def test_no_boost_leaves_the_decoded_colours_unchanged() -> None:
    bins = gamut_ab_bins()
    bias = colour_boost_bias(gray_heavy_prior(bins), bins, 0.0)
    logits = torch.randn(2, bins.shape[0], 4, 4, generator=torch.Generator().manual_seed(0))
    plain = decode_annealed_mean(logits, bins, 0.5)
    boosted = decode_annealed_mean(logits + bias.view(1, -1, 1, 1), bins, 0.5)
    assert torch.allclose(plain, boosted, atol=1e-4)


def test_boost_reweights_the_distribution_by_the_rebalancing_weights() -> None:
    bins = gamut_ab_bins()
    prior = gray_heavy_prior(bins)
    probabilities = torch.softmax(torch.randn(bins.shape[0], dtype=torch.float64), 0)
    bias = colour_boost_bias(prior, bins, 0.6).double()
    weights = rebalancing_weights(prior, bins, uniform_mix=0.7)
    expected = probabilities * weights / (probabilities * weights).sum()
    assert torch.allclose(torch.softmax(probabilities.log() + bias, 0), expected, atol=1e-9)


def test_stronger_boost_gives_more_chroma() -> None:
    bins = gamut_ab_bins()
    prior = gray_heavy_prior(bins)
    logits = prior.log().float().view(1, -1, 1, 1)  # a model that predicts the prior everywhere
    chroma = [
        decode_annealed_mean(logits + colour_boost_bias(prior, bins, b).view(1, -1, 1, 1), bins)
        .norm(dim=1)
        .mean()
        for b in (0.0, 0.3, 0.6, 1.0)
    ]
    assert all(a < b for a, b in zip(chroma, chroma[1:], strict=False))


@pytest.mark.parametrize("boost", [-0.1, 1.5, float("nan")])
def test_boost_outside_zero_to_one_is_refused(boost: float) -> None:
    bins = gamut_ab_bins()
    with pytest.raises(ValueError, match="colour boost must be in"):
        colour_boost_bias(gray_heavy_prior(bins), bins, boost)


def test_a_bias_that_does_not_fit_the_bins_is_refused() -> None:
    colorizer = _tiny()
    with pytest.raises(ValueError, match="one value per bin"):
        type(colorizer)(
            model=colorizer.model,
            bins=colorizer.bins,
            name=colorizer.name,
            trained=False,
            bin_bias=torch.zeros(7),
        )


def _tiny(**options: object):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedModelWarning)
        return load("tinct-lite_tiny", **options)


def test_load_with_a_boost_uses_the_shipped_training_prior() -> None:
    torch.manual_seed(0)
    lightness = torch.rand(1, 1, 64, 64) * 100
    plain = _tiny(colour_boost=0.0)
    boosted = _tiny(colour_boost=0.8)
    assert plain.bin_bias is None and boosted.bin_bias is not None
    chroma = [c.predict_ab(lightness).norm(dim=1).mean() for c in (plain, boosted)]
    assert chroma[1] > chroma[0]


@pytest.mark.skipif(not HAVE_ONNX, reason="onnx and onnxruntime are not installed")
def test_onnx_runtime_applies_the_boost_like_pytorch() -> None:
    torch.manual_seed(0)
    lightness = torch.rand(1, 1, 64, 64) * 100
    torch_ab = _tiny(colour_boost=0.5).predict_ab(lightness)
    onnx_ab = _tiny(colour_boost=0.5, backend="onnx").predict_ab(lightness)
    assert torch.allclose(torch_ab, onnx_ab, atol=0.05)


def test_cli_refuses_a_boost_outside_zero_to_one(tmp_path) -> None:
    result = tinct(
        "colorize", "examples/astronaut_gray.jpg", "-o", tmp_path / "x.png", "--colour-boost", "2"
    )
    assert result.returncode == 2
    assert "colour boost must be a number in [0, 1]" in result.stderr
