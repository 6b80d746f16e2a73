"""The gradient prior: larger on edges than flat regions, normalised, well defined."""

from __future__ import annotations

import pytest
import torch

from tinct.losses import (
    gradient_bin_weights,
    gradient_histogram,
    gradient_magnitude,
    gradient_prior_weights,
)


def _step_image() -> torch.Tensor:
    lightness = torch.full((1, 1, 64, 64), 30.0)
    lightness[..., 32:] = 70.0
    return lightness


def test_sobel_magnitude_is_half_the_step_height_at_the_edge() -> None:
    magnitude = gradient_magnitude(_step_image())
    assert torch.allclose(magnitude[0, 0, 10, 31:33], torch.tensor([20.0, 20.0]))
    assert magnitude[0, 0, :, :30].abs().max() == 0


def test_gradient_prior_is_larger_on_edges_than_on_flat_regions() -> None:
    weights = gradient_prior_weights(_step_image())
    edge = weights[0, 0, :, 31:33].mean()
    flat = torch.cat((weights[0, 0, :, :20], weights[0, 0, :, 44:]), 1).mean()
    assert edge > 3 * flat
    assert torch.isclose(weights.mean(), torch.tensor(1.0), atol=1e-5)


def test_spatial_blur_spreads_weight_to_both_sides_of_the_boundary() -> None:
    sharp = gradient_prior_weights(_step_image(), spatial_sigma=0)
    blurred = gradient_prior_weights(_step_image(), spatial_sigma=2.0)
    assert blurred[0, 0, 10, 29] > sharp[0, 0, 10, 29]
    assert blurred[0, 0, 10, 34] > sharp[0, 0, 10, 34]


def test_dataset_bin_weights_are_inverse_frequency_with_expectation_one() -> None:
    counts = gradient_histogram(torch.rand(4, 1, 32, 32) * 100)
    weights = gradient_bin_weights(counts, histogram_sigma=0)
    p = counts / counts.sum()
    assert torch.isclose((p * weights).sum(), torch.tensor(1.0, dtype=weights.dtype))
    common, rare = p.argmax(), p[p > 0].argmin()
    assert weights[common] < weights[torch.nonzero(p > 0)[rare]]


def test_flat_image_gets_uniform_weight() -> None:
    weights = gradient_prior_weights(torch.full((2, 1, 16, 16), 50.0))
    assert torch.allclose(weights, torch.ones_like(weights))


def test_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        gradient_magnitude(torch.rand(3, 16, 16))
