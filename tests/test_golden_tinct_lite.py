"""Golden output of the shipped weights: a frozen slice of what ``tinct.load()`` predicts.

``tinct-lite`` with its default weight set (shipped in the package, so this runs in CI without
``../shared``) colorizes a synthetic lightness image made here; a small slice of the predicted
ab, with and without a colour hint, must equal the numbers in ``golden/tinct_lite.json``. Both
backends are checked: PyTorch (``tinct.load()``'s default) and, when installed, ONNX Runtime
(the command line's default).

The tolerance, 0.05 ab units, is about 300 times the largest difference seen between PyTorch
and ONNX Runtime, or between 1 and 2 threads (0.00017 ab: float rounding, which is what other
CPUs change), and 35 times smaller than what the smallest real change tried moves
(temperature 0.5 -> 0.45: 1.9 ab; the previous weight set, tinct-lite-v2: 31 ab;
:func:`test_the_tolerance_catches_a_changed_decoding` keeps that true).

After a deliberate change of the default weights or of decoding, regenerate the file with
``TINCT_UPDATE_GOLDEN=1 pytest tests/test_golden_tinct_lite.py`` and review its diff.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path

import pytest
import torch

import tinct
from tinct.api import PhotoColorizer
from tinct.guidance.hints import HintPoint, Hints
from tinct.weights.table import default_weights_for

GOLDEN = Path(__file__).parent / "golden" / "tinct_lite.json"
UPDATE = os.environ.get("TINCT_UPDATE_GOLDEN") == "1"
HAVE_ONNX = all(importlib.util.find_spec(p) is not None for p in ("onnx", "onnxruntime"))
MODEL = "tinct-lite"
AB_TOLERANCE = 0.05  # ab units; see the module docstring
HINT = Hints(points=(HintPoint(x=60.0, y=60.0, ab=(30.0, 40.0)),))
# ab grid cells compared (the model's grid is 48 x 64 for the 160 x 224 input): spread over
# the image without hints; around the hint (at cell 17, 17) with it.
AUTOMATIC_CELLS = (slice(6, None, 12), slice(8, None, 16))
HINTED_CELLS = (slice(11, 24, 4), slice(11, 24, 4))


def golden_lightness(height: int = 160, width: int = 224) -> torch.Tensor:
    """``(1, 1, H, W)`` L in [0, 100]: smooth waves, a bright disk and a dark box (edges and flat
    regions, no random numbers)."""
    y = torch.linspace(0.0, 1.0, height).view(height, 1)
    x = torch.linspace(0.0, 1.0, width).view(1, width)
    lightness = 55 + 25 * torch.sin(9 * x + 2) * torch.cos(6 * y) - 20 * y
    disk = (x - 0.3) ** 2 + (y - 0.4) ** 2 < 0.04
    box = (x > 0.6) & (x < 0.85) & (y > 0.55) & (y < 0.9)
    lightness = torch.where(disk, torch.full_like(lightness, 85.0), lightness)
    lightness = torch.where(box, torch.full_like(lightness, 20.0), lightness)
    return lightness.clamp(0, 100).view(1, 1, height, width)


def golden_slices(colorizer: PhotoColorizer) -> dict[str, torch.Tensor]:
    """The compared ab ``(2, 4, 4)`` per case. The hinted case leaves hint spreading off, so
    that it checks how the weights answer a hint (spreading is tested on its own)."""
    lightness = golden_lightness()
    automatic = colorizer.predict_ab(lightness)[0]
    spread, colorizer.spread_hints = colorizer.spread_hints, False
    try:
        hinted = colorizer.predict_ab(lightness, HINT)[0]
    finally:
        colorizer.spread_hints = spread
    return {
        "automatic": automatic[(slice(None), *AUTOMATIC_CELLS)],
        "one_hint": hinted[(slice(None), *HINTED_CELLS)],
    }


def largest_differences(colorizer: PhotoColorizer, golden: dict) -> dict[str, float]:
    """Per case, the largest absolute difference (ab units) from the golden numbers."""
    return {
        case: float((got - torch.tensor(golden["cases"][case])).abs().max())
        for case, got in golden_slices(colorizer).items()
    }


def write_golden(colorizer: PhotoColorizer) -> None:
    entry = default_weights_for(MODEL)
    assert entry is not None
    cases = {
        case: [[[round(value, 4) for value in row] for row in plane] for plane in got.tolist()]
        for case, got in golden_slices(colorizer).items()
    }
    record = {
        "model": MODEL,
        "weights": entry.name,
        "weights_sha256": entry.sha256,
        "input": "tests/test_golden_tinct_lite.py: golden_lightness(), 160 x 224",
        "cases": cases,
    }
    text = json.dumps(record, indent=1)
    rows = re.compile(r"\[\s*(-?[\d.]+(?:,\s*-?[\d.]+)*)\s*\]")  # a row of numbers: one line
    GOLDEN.write_text(rows.sub(lambda m: "[" + re.sub(r"\s+", " ", m[1]) + "]", text) + "\n")


@pytest.fixture(scope="module")
def torch_colorizer() -> PhotoColorizer:
    return tinct.load(MODEL)


@pytest.fixture(scope="module")
def golden(torch_colorizer: PhotoColorizer) -> dict:
    if UPDATE:  # from PyTorch, tinct.load()'s default backend
        write_golden(torch_colorizer)
    return json.loads(GOLDEN.read_text())


def test_the_golden_file_is_of_the_default_weights(golden: dict) -> None:
    entry = default_weights_for(MODEL)
    assert entry is not None
    assert (golden["weights"], golden["weights_sha256"]) == (entry.name, entry.sha256), (
        "the default weights changed: regenerate tests/golden/tinct_lite.json "
        "(TINCT_UPDATE_GOLDEN=1) and review the new numbers"
    )


def test_pytorch_output_matches_the_golden_slice(
    torch_colorizer: PhotoColorizer, golden: dict
) -> None:
    assert torch_colorizer.trained and torch_colorizer.backend is None
    differences = largest_differences(torch_colorizer, golden)
    assert all(d <= AB_TOLERANCE for d in differences.values()), differences


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_ONNX, reason="onnx and onnxruntime are not installed")
def test_onnx_runtime_output_matches_the_golden_slice(
    golden: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINCT_CACHE_DIR", str(tmp_path))  # exported afresh, as in a new install
    colorizer = tinct.load(MODEL, backend="onnx")
    assert colorizer.backend is not None
    differences = largest_differences(colorizer, golden)
    assert all(d <= AB_TOLERANCE for d in differences.values()), differences


@pytest.mark.slow
def test_the_tolerance_catches_a_changed_decoding(
    torch_colorizer: PhotoColorizer, golden: dict
) -> None:
    colorizer = tinct.load(MODEL, temperature=torch_colorizer.temperature - 0.05)
    differences = largest_differences(colorizer, golden)
    assert all(d > 10 * AB_TOLERANCE for d in differences.values()), differences
