"""Image metrics: hand-computed cases, frozen reference values, shapes and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from tinct.evaluation.metrics import (
    ciede2000,
    ciede2000_lab,
    colourfulness,
    delta_cf_of_means,
    hsv_saturation,
    mean_abs_delta_cf,
    mean_delta_cf,
    psnr,
    rmse,
    saturation_difference,
    ssim,
    uv_bin_accuracy,
)

from .conftest import SHARED_DATA, require_shared

PAIRWISE = (rmse, psnr, ssim, ciede2000, uv_bin_accuracy, saturation_difference)

# Sharma, Wu & Dalal (2005), Table 1: L1 a1 b1 L2 a2 b2 and Delta E00 (all 34 pairs).
SHARMA_PAIRS = """
50.0000 2.6772 -79.7751 50.0000 0.0000 -82.7485 2.0425
50.0000 3.1571 -77.2803 50.0000 0.0000 -82.7485 2.8615
50.0000 2.8361 -74.0200 50.0000 0.0000 -82.7485 3.4412
50.0000 -1.3802 -84.2814 50.0000 0.0000 -82.7485 1.0000
50.0000 -1.1848 -84.8006 50.0000 0.0000 -82.7485 1.0000
50.0000 -0.9009 -85.5211 50.0000 0.0000 -82.7485 1.0000
50.0000 0.0000 0.0000 50.0000 -1.0000 2.0000 2.3669
50.0000 -1.0000 2.0000 50.0000 0.0000 0.0000 2.3669
50.0000 2.4900 -0.0010 50.0000 -2.4900 0.0009 7.1792
50.0000 2.4900 -0.0010 50.0000 -2.4900 0.0010 7.1792
50.0000 2.4900 -0.0010 50.0000 -2.4900 0.0011 7.2195
50.0000 2.4900 -0.0010 50.0000 -2.4900 0.0012 7.2195
50.0000 -0.0010 2.4900 50.0000 0.0009 -2.4900 4.8045
50.0000 -0.0010 2.4900 50.0000 0.0010 -2.4900 4.8045
50.0000 -0.0010 2.4900 50.0000 0.0011 -2.4900 4.7461
50.0000 2.5000 0.0000 50.0000 0.0000 -2.5000 4.3065
50.0000 2.5000 0.0000 73.0000 25.0000 -18.0000 27.1492
50.0000 2.5000 0.0000 61.0000 -5.0000 29.0000 22.8977
50.0000 2.5000 0.0000 56.0000 -27.0000 -3.0000 31.9030
50.0000 2.5000 0.0000 58.0000 24.0000 15.0000 19.4535
50.0000 2.5000 0.0000 50.0000 3.1736 0.5854 1.0000
50.0000 2.5000 0.0000 50.0000 3.2972 0.0000 1.0000
50.0000 2.5000 0.0000 50.0000 1.8634 0.5757 1.0000
50.0000 2.5000 0.0000 50.0000 3.2592 0.3350 1.0000
60.2574 -34.0099 36.2677 60.4626 -34.1751 39.4387 1.2644
63.0109 -31.0961 -5.8663 62.8187 -29.7946 -4.0864 1.2630
61.2901 3.7196 -5.3901 61.4292 2.2480 -4.9620 1.8731
35.0831 -44.1164 3.7933 35.0232 -40.0716 1.5901 1.8645
22.7233 20.0904 -46.6940 23.0331 14.9730 -42.5619 2.0373
36.4612 47.8580 18.3852 36.2715 50.5065 21.2231 1.4146
90.8027 -2.0831 1.4410 91.1528 -1.6435 0.0447 1.4441
90.9257 -0.5406 -0.9208 88.6381 -0.8985 -0.7239 1.5381
6.7747 -0.2908 -2.4247 5.8714 -0.0985 -2.2286 0.6377
2.0776 0.0795 -1.1350 0.9033 -0.0636 -0.5514 0.9082
"""

# Computed once with scikit-image 0.26 in float64 and frozen here:
# structural_similarity(pred[i], target[i], channel_axis=0, gaussian_weights=True, sigma=1.5,
# use_sample_covariance=False, data_range=1) and
# deltaE_ciede2000(rgb2lab(pred[i]), rgb2lab(target[i])).mean(), for the cases of _cases().
SKIMAGE_SSIM = {
    "noisy": (0.96393193, 0.96309866),
    "gradient": (0.50430904,),
    "minimal": (-0.18662044,),
}
SKIMAGE_CIEDE2000 = {
    "noisy": (9.14280967, 9.10619270),
    "gradient": (44.64878813,),
    "minimal": (46.94083799,),
}

# Mean CF of the 100 BSDS500 val photos at full resolution (decoded by Pillow). With the
# center256 evaluation protocol (short side 256, central crop) the mean is about 35.6.
BSDS500_VAL_MEAN_CF = 35.3824


def _cases() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Named (pred, target) float32 pairs behind the frozen scikit-image values."""
    generator = torch.Generator().manual_seed(0)
    clean = torch.rand(2, 3, 32, 40, generator=generator)
    noisy = (clean + 0.2 * torch.rand(2, 3, 32, 40, generator=generator)).clamp(0, 1)
    y, x = torch.meshgrid(torch.linspace(0, 1, 24), torch.linspace(0, 1, 30), indexing="ij")
    gradient = torch.stack((x, y, (x + y) / 2)).unsqueeze(0)
    minimal = (
        torch.rand(1, 3, 11, 17, generator=generator),
        torch.rand(1, 3, 11, 17, generator=generator),
    )
    return {
        "noisy": (noisy, clean),
        "gradient": (0.7 * gradient.roll(1, dims=1) + 0.2, gradient),
        "minimal": minimal,
    }


def _flat(rgb: tuple[float, float, float], height: int = 4, width: int = 6) -> torch.Tensor:
    """``(1, 3, height, width)`` image of one colour."""
    return torch.tensor(rgb, dtype=torch.float64).view(1, 3, 1, 1).expand(1, 3, height, width)


def _pixels(colours: list[tuple[float, float, float]]) -> torch.Tensor:
    """``(1, 3, 1, N)`` image whose pixels are the given colours."""
    return torch.tensor(colours, dtype=torch.float64).T.reshape(1, 3, 1, -1)


def test_rmse_and_psnr_of_a_constant_offset() -> None:
    target = torch.rand(2, 3, 8, 8) * 0.8
    pred = target + 0.1
    assert torch.allclose(rmse(pred, target), torch.full((2,), 25.5, dtype=torch.float64))
    assert torch.allclose(psnr(pred, target), torch.full((2,), 20.0, dtype=torch.float64))
    one_level = rmse(target + 1 / 255, target)
    assert torch.allclose(one_level, torch.ones(2, dtype=torch.float64))


def test_psnr_of_identical_images_is_infinite() -> None:
    images = torch.rand(3, 3, 5, 5)
    assert torch.equal(psnr(images, images), torch.full((3,), math.inf, dtype=torch.float64))
    assert torch.equal(rmse(images, images), torch.zeros(3, dtype=torch.float64))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_psnr_and_rmse_agree(seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    pred, target = torch.rand(2, 2, 3, 6, 7, generator=generator)
    expected = 20 * torch.log10(255 / rmse(pred, target))
    assert torch.allclose(psnr(pred, target), expected)


@pytest.mark.parametrize("name", sorted(SKIMAGE_SSIM))
def test_ssim_matches_scikit_image(name: str) -> None:
    pred, target = _cases()[name]
    expected = torch.tensor(SKIMAGE_SSIM[name], dtype=torch.float64)
    assert torch.allclose(ssim(pred, target), expected, atol=1e-4, rtol=0)


def test_ssim_of_identical_images_is_one_and_symmetric() -> None:
    pred, target = _cases()["noisy"]
    assert torch.allclose(ssim(target, target), torch.ones(2, dtype=torch.float64))
    assert torch.allclose(ssim(pred, target), ssim(target, pred))


def test_ssim_needs_a_whole_window() -> None:
    with pytest.raises(ValueError, match="at least 11"):
        ssim(torch.rand(1, 3, 10, 30), torch.rand(1, 3, 10, 30))


def test_colourfulness_of_flat_and_two_colour_images() -> None:
    assert torch.equal(colourfulness(_flat((0.4, 0.4, 0.4))), torch.zeros(1, dtype=torch.float64))
    # Flat red: rg = 255 and yb = 127.5 everywhere, no spread: CF = 0.3 * sqrt(255^2 + 127.5^2).
    red = 0.3 * 127.5 * math.sqrt(5)
    assert colourfulness(_flat((1.0, 0.0, 0.0))).item() == pytest.approx(red)
    # Half red, half black: rg in {255, 0} (mean 127.5, std 127.5), yb in {127.5, 0}
    # (mean 63.75, std 63.75), so CF = (1 + 0.3) * sqrt(127.5^2 + 63.75^2).
    half = torch.cat((_flat((1.0, 0.0, 0.0), 4, 3), _flat((0.0, 0.0, 0.0), 4, 3)), dim=3)
    assert colourfulness(half).item() == pytest.approx(1.3 * 63.75 * math.sqrt(5))


@pytest.mark.shared_data
def test_colourfulness_of_bsds500_val() -> None:
    folder = require_shared(SHARED_DATA / "val" / "bsds500-val")
    values = []
    for path in sorted(folder.glob("*.jpg")):
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
        values.append(colourfulness(torch.from_numpy(pixels).permute(2, 0, 1)[None]))
    assert len(values) == 100
    assert torch.cat(values).mean().item() == pytest.approx(BSDS500_VAL_MEAN_CF, abs=0.01)


def test_delta_cf_conventions() -> None:
    pred, target = torch.tensor([10.0, 20.0]), torch.tensor([15.0, 5.0])
    assert delta_cf_of_means(pred, target) == pytest.approx(5.0)
    assert mean_delta_cf(pred, target) == pytest.approx(5.0)
    assert mean_abs_delta_cf(pred, target) == pytest.approx(10.0)
    # Sets of different sizes only have a difference of means.
    assert delta_cf_of_means(torch.tensor([30.0]), target) == pytest.approx(20.0)
    with pytest.raises(ValueError, match=r"pred_cf \(1,\) and target_cf \(2,\)"):
        mean_abs_delta_cf(torch.tensor([30.0]), target)
    with pytest.raises(ValueError, match="empty"):
        delta_cf_of_means(torch.tensor([]), target)


def test_ciede2000_matches_sharma_test_data() -> None:
    rows = torch.tensor(
        [[float(v) for v in line.split()] for line in SHARMA_PAIRS.strip().splitlines()],
        dtype=torch.float64,
    )
    assert rows.shape == (34, 7)
    lab_1 = rows[:, 0:3].T.reshape(3, 1, -1)
    lab_2 = rows[:, 3:6].T.reshape(3, 1, -1)
    assert torch.allclose(ciede2000_lab(lab_1, lab_2)[0], rows[:, 6], atol=1e-4, rtol=0)
    assert torch.allclose(ciede2000_lab(lab_2, lab_1)[0], rows[:, 6], atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", sorted(SKIMAGE_CIEDE2000))
def test_ciede2000_of_images_matches_scikit_image(name: str) -> None:
    pred, target = _cases()[name]
    expected = torch.tensor(SKIMAGE_CIEDE2000[name], dtype=torch.float64)
    assert torch.allclose(ciede2000(pred, target), expected, atol=1e-4, rtol=0)


def test_ciede2000_of_identical_images_is_zero() -> None:
    images = torch.rand(2, 3, 4, 4)
    assert torch.allclose(ciede2000(images, images), torch.zeros(2, dtype=torch.float64))


def test_uv_bin_accuracy() -> None:
    images = torch.rand(2, 3, 6, 6)
    assert torch.equal(uv_bin_accuracy(images, images), torch.ones(2, 2, dtype=torch.float64))
    # Gray has U = V = 0 (the edge of bins 15 and 16 of 32); pure blue has U = U_MAX (bin 31)
    # and V = -0.100 (bin 13): half the pixels differ in both channels.
    gray = _flat((0.5, 0.5, 0.5), 2, 4)
    half_blue = torch.cat((_flat((0.0, 0.0, 1.0), 2, 2), _flat((0.5, 0.5, 0.5), 2, 2)), dim=3)
    accuracy = uv_bin_accuracy(half_blue, gray)
    assert accuracy.shape == (1, 2) and accuracy.dtype == torch.float64
    assert torch.equal(accuracy, torch.tensor([[0.5, 0.5]], dtype=torch.float64))
    # A slight red tint (U = -0.003) stays in gray's bin when five wide bins put gray in the
    # middle of bin 2, but crosses the bin edge at U = 0 with 32 bins.
    tinted = _flat((0.52, 0.5, 0.5), 2, 4)
    assert torch.equal(uv_bin_accuracy(tinted, gray, n_bins=5), torch.ones(1, 2).double())
    assert uv_bin_accuracy(tinted, gray, n_bins=32)[0, 0].item() == 0.0


def test_uv_bin_accuracy_puts_every_neutral_pixel_in_one_bin() -> None:
    # R = G = B converts to U and V a rounding error either side of 0, the edge of bins 15 and
    # 16: every 8-bit gray level, and the same levels nudged as float32 recombining nudges them,
    # must still match each other, while one 8-bit level of red off neutral is a colour.
    levels = torch.arange(256, dtype=torch.float32) / 255
    gray = levels.view(1, 1, 1, 256).expand(1, 3, 1, 256).contiguous()
    nudged = gray + torch.tensor([3e-5, -2e-5, 1e-5]).view(1, 3, 1, 1)
    reversed_gray = gray.flip(3)
    assert torch.equal(uv_bin_accuracy(gray, reversed_gray), torch.ones(1, 2).double())
    assert torch.equal(uv_bin_accuracy(nudged.clamp(0, 1), gray), torch.ones(1, 2).double())
    below_white = gray[..., :255]
    redder = below_white + torch.tensor([1 / 255, 0.0, 0.0]).view(1, 3, 1, 1)
    accuracy = uv_bin_accuracy(redder, below_white)
    assert accuracy[0, 0].item() == 0.0  # U of one level of red, -0.0006: the bin below 0


def test_saturation_difference_of_known_hsv_values() -> None:
    # S = (max - min) / max: 0.5, 0.25, 0 for black, 0.75.
    saturation = hsv_saturation(
        _pixels([(1, 0.5, 0.5), (0.4, 0.3, 0.3), (0, 0, 0), (0.8, 0.2, 0.4)])
    )
    assert torch.allclose(saturation, torch.tensor([[[0.5, 0.25, 0.0, 0.75]]], dtype=torch.float64))
    target = _pixels([(1.0, 0.5, 0.5), (0.4, 0.3, 0.3)])  # sum S = 0.75
    pred = _pixels([(0.8, 0.2, 0.4), (0.8, 0.4, 0.2)])  # sum S = 1.5
    assert saturation_difference(pred, target).item() == pytest.approx(1.0)
    assert saturation_difference(target, pred).item() == pytest.approx(0.5)


def test_saturation_difference_against_a_gray_target_stays_finite() -> None:
    gray = _flat((0.3, 0.3, 0.3))
    assert saturation_difference(gray * 2, gray).item() == 0.0
    # S = 1/3 everywhere against a floor of 0.01 per pixel: 33.3, not infinity
    assert saturation_difference(_flat((0.3, 0.2, 0.3)), gray).item() == pytest.approx(100 / 3)
    nearly_gray = _flat((0.3, 0.3, 0.2999))  # noise: S = 0.0003, below the floor
    assert saturation_difference(_flat((0.3, 0.2, 0.3)), nearly_gray).item() < 34
    assert saturation_difference(_flat((1.0, 0.0, 0.0)), gray).item() == pytest.approx(100)


def test_gray_truths_are_left_out_of_the_colour_means_and_counted() -> None:
    from tinct.evaluation.summary import summarize

    def row(cf: float, cf_gt: float, saturation: float) -> dict[str, object]:
        values = {"psnr": 20.0, "cf": cf, "cf_gt": cf_gt, "saturation_diff": saturation}
        return {"model": "m", "hints": 0, "acc_u": 0.5, "acc_v": 0.5, **values}

    (summary,) = summarize([row(30, 40, 0.2), row(20, 30, 0.4), row(25, 0.5, 40.0)])
    assert summary["images"] == 3 and summary["gray_truths"] == 1
    assert summary["saturation_diff"] == pytest.approx(0.3)
    assert summary["cf"] == pytest.approx(25) and summary["cf_gt"] == pytest.approx(35)
    assert summary["delta_cf_of_means"] == pytest.approx(-10)
    assert summary["psnr"] == pytest.approx(20)  # all three: a gray truth has a PSNR too


@pytest.mark.parametrize("metric", PAIRWISE)
def test_per_image_values_do_not_depend_on_the_batch(metric) -> None:
    pred, target = torch.rand(2, 3, 3, 12, 14)
    together = metric(pred, target)
    alone = torch.cat([metric(pred[i : i + 1], target[i : i + 1]) for i in range(3)])
    assert together.shape[0] == 3 and together.dtype == torch.float64
    assert torch.allclose(together, alone)


@pytest.mark.parametrize("metric", PAIRWISE)
def test_shape_mismatch_names_both_shapes(metric) -> None:
    with pytest.raises(ValueError, match=r"pred \(1, 3, 12, 12\) and target \(1, 3, 12, 14\)"):
        metric(torch.rand(1, 3, 12, 12), torch.rand(1, 3, 12, 14))


@pytest.mark.parametrize("metric", PAIRWISE)
def test_bad_images_are_refused(metric) -> None:
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\), got \(3, 12, 12\)"):
        metric(torch.rand(3, 12, 12), torch.rand(3, 12, 12))
    with pytest.raises(TypeError, match="floating-point"):
        metric(torch.ones(1, 3, 12, 12, dtype=torch.uint8), torch.ones(1, 3, 12, 12))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\), got \(1, 1, 12, 12\)"):
        colourfulness(torch.rand(1, 1, 12, 12))
