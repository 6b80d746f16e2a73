"""tinct.load()(image): PIL, numpy and tensors in, the same kind out, alpha and size kept."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import tinct
from tinct.color import rgb_to_lab


@pytest.fixture(scope="module")
def colorizer():
    return tinct.load()


def _gray_array(height: int = 70, width: int = 90) -> np.ndarray:
    rng = np.random.default_rng(0)
    small = rng.random((height // 10, width // 10)) * 255
    return np.asarray(Image.fromarray(small.astype(np.uint8)).resize((width, height)))


def test_pil_gray_in_rgb_out_same_size_and_lightness(colorizer) -> None:
    gray = Image.fromarray(_gray_array())
    result = colorizer(gray)
    assert isinstance(result, Image.Image) and result.mode == "RGB" and result.size == gray.size
    lightness_in = rgb_to_lab(
        torch.from_numpy(np.array(gray.convert("RGB"))).permute(2, 0, 1) / 255.0
    )[0]
    lightness_out = rgb_to_lab(torch.from_numpy(np.array(result)).permute(2, 0, 1) / 255.0)[0]
    assert (lightness_in - lightness_out).abs().max() < 1.0  # 8-bit rounding only


def test_pil_alpha_is_carried_through(colorizer) -> None:
    rgba = Image.fromarray(_gray_array()).convert("RGBA")
    rgba.putalpha(Image.fromarray(np.full((70, 90), 77, dtype=np.uint8)))
    result = colorizer(rgba)
    assert result.mode == "RGBA" and np.all(np.asarray(result)[..., 3] == 77)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_numpy_keeps_dtype_and_shape(colorizer, dtype) -> None:
    gray = _gray_array().astype(np.float32) / 255.0
    array = (gray * {np.uint8: 255, np.uint16: 65535, np.float32: 1}[dtype]).astype(dtype)
    result = colorizer(array)
    assert isinstance(result, np.ndarray) and result.dtype == dtype and result.shape == (70, 90, 3)


def test_tensor_keeps_rank(colorizer) -> None:
    single = torch.rand(3, 64, 64)
    batch = torch.rand(2, 1, 64, 64)
    assert colorizer(single).shape == (3, 64, 64)
    assert colorizer(batch).shape == (2, 3, 64, 64)


def test_other_kinds_are_refused_clearly(colorizer) -> None:
    with pytest.raises(TypeError, match="PIL image, numpy array or torch tensor"):
        colorizer([[0, 1]])
    with pytest.raises(TypeError, match="uint8, uint16 or float"):
        colorizer(np.zeros((8, 8), dtype=np.int64))
