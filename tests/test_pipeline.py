"""The Colorizer and tinct.load: lightness kept exactly, sizes, hints, honesty about training."""

from __future__ import annotations

import pytest
import torch

import tinct
from tinct.api import UntrainedModelWarning
from tinct.color import rgb_to_lab
from tinct.models import create_model
from tinct.pipeline.colorizer import Colorizer, working_size
from tinct.quantize import gamut_ab_bins


@pytest.fixture(scope="module")
def colorizer() -> Colorizer:
    return Colorizer(
        create_model("tinct-lite_tiny"), gamut_ab_bins(), "tinct-lite_tiny", trained=False
    )


def test_working_size_keeps_aspect_in_multiples_of_32() -> None:
    assert working_size(1000, 500, 256) == (256, 128)
    assert working_size(480, 854, 256) == (128, 256)  # 143.9 rounds to 4 x 32
    assert working_size(10, 10, 256) == (256, 256)
    with pytest.raises(ValueError, match="at least 32"):
        working_size(100, 100, 16)


def test_output_has_input_size_and_exact_lightness(colorizer: Colorizer) -> None:
    rgb = torch.rand(1, 3, 75, 130, dtype=torch.float64)
    result = colorizer.colorize_rgb(rgb)
    assert result.shape == rgb.shape and result.dtype == torch.float64
    assert torch.allclose(rgb_to_lab(result)[:, 0], rgb_to_lab(rgb)[:, 0], atol=1e-6)
    assert result.min() >= 0 and result.max() <= 1


def test_temperature_zero_gives_bin_centres(colorizer: Colorizer) -> None:
    colorizer.temperature = 0.0
    try:
        ab = colorizer.predict_ab(torch.rand(1, 1, 64, 64) * 100)
    finally:
        colorizer.temperature = 0.38
    bins = {tuple(p) for p in gamut_ab_bins().tolist()}
    assert all(tuple(p) in bins for p in ab.permute(0, 2, 3, 1).reshape(-1, 2).tolist())


def test_load_warns_that_a_model_is_untrained_and_is_deterministic() -> None:
    with pytest.warns(UntrainedModelWarning, match="no trained weights") as record:
        first = tinct.load("guided_tiny")
    # a test model has no recipe of its own to point to
    assert "tinct train" not in str(record[0].message) and "for tests" in str(record[0].message)
    with pytest.warns(UntrainedModelWarning):
        second = tinct.load("guided_tiny")
    assert first.trained is False
    lightness = torch.rand(1, 1, 64, 64) * 100
    assert torch.equal(first.predict_ab(lightness), second.predict_ab(lightness))


def test_import_is_lazy() -> None:
    import subprocess
    import sys

    code = "import sys, tinct; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.shared_data
def test_default_model_ships_trained_weights_that_beat_gray_on_real_photos() -> None:
    import warnings

    from tinct.color.recombine import recombine_lightness_ab
    from tinct.evaluation.metrics import colourfulness, psnr
    from tinct.evaluation.protocols import apply_protocol
    from tinct.io import read_image

    from .conftest import SHARED_DATA, require_shared

    folder = require_shared(SHARED_DATA / "val" / "sun-hays80")
    photos = [
        apply_protocol(read_image(p).rgb, "center256") for p in sorted(folder.glob("*.jpg"))[:16]
    ]
    truth = torch.stack(photos)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UntrainedModelWarning)
        colorizer = tinct.load()
    assert colorizer.trained is True
    lightness = rgb_to_lab(truth)[:, :1]
    result = colorizer.colorize_lightness(lightness)
    gray = recombine_lightness_ab(lightness, torch.zeros_like(lightness).expand(-1, 2, -1, -1))
    assert psnr(result, truth).mean() > psnr(gray, truth).mean() + 1.0  # measured: +2 dB
    assert colourfulness(result).mean() > 15
