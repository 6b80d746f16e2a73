"""The flat-blotch measure: chroma variation where the truth's lightness is flat."""

from __future__ import annotations

import math

import pytest
import torch

from tinct.color.lab import lab_to_rgb
from tinct.evaluation.blotches import (
    FLAT_BAND,
    box_mean,
    flat_chroma_std,
    flat_lightness_mask,
    local_chroma_std,
)
from tinct.evaluation.runner import image_metrics


def flat_backdrop(blotch: float = 0.0, size: int = 64) -> torch.Tensor:
    """sRGB (1, 3, size, size) of flat L 60, beige; a square of ab shifted by ``blotch``
    (green) in the middle, with no change in lightness."""
    lab = torch.zeros(1, 3, size, size, dtype=torch.float64)
    lab[:, 0] = 60.0
    lab[:, 1], lab[:, 2] = 5.0, 15.0
    quarter = size // 4
    lab[:, 1, quarter : 3 * quarter, quarter : 3 * quarter] -= blotch
    return lab_to_rgb(lab)


def test_a_uniform_colour_on_a_flat_image_scores_zero() -> None:
    image = flat_backdrop()
    blotch, truth = flat_chroma_std(image, image)
    assert blotch.item() == pytest.approx(0.0, abs=1e-4)
    assert truth.item() == pytest.approx(0.0, abs=1e-4)


def test_a_blotchy_prediction_scores_higher_than_a_uniform_one() -> None:
    target = flat_backdrop()
    scores = [flat_chroma_std(flat_backdrop(b), target)[0].item() for b in (0.0, 10.0, 20.0)]
    assert scores[0] < 1e-4 < scores[1] < scores[2]
    assert scores[2] == pytest.approx(2 * scores[1], rel=0.02)  # std is linear in the shift


def test_frozen_reference_value() -> None:
    # 7.28961: mean over pixels of np.std of a 20-unit square in its clipped 31 x 31 window,
    # computed by a plain loop over the 64 x 64 pixels (independently of box_mean).
    blotch, truth = flat_chroma_std(flat_backdrop(20.0), flat_backdrop())
    assert blotch.item() == pytest.approx(7.28961, abs=2e-3)
    assert truth.item() == pytest.approx(0.0, abs=1e-4)


def test_a_colour_step_on_a_lightness_edge_is_not_counted() -> None:
    """Two flat halves of different lightness and colour: the step is an edge, not a blotch."""
    lab = torch.zeros(1, 3, 48, 64, dtype=torch.float64)
    lab[:, 0, :, :32], lab[:, 0, :, 32:] = 40.0, 70.0
    lab[:, 1, :, :32], lab[:, 2, :, 32:] = 40.0, -30.0
    image = lab_to_rgb(lab)
    blotch, truth = flat_chroma_std(image, image)
    mask = flat_lightness_mask(lab[:, :1])[0, 0]
    assert not mask[:, 31 - FLAT_BAND : 33 + FLAT_BAND].any() and mask[:, :28].all()
    # windows next to the edge see flat pixels of both sides; most of the image sees one
    assert truth.item() == blotch.item() < 25.0


def test_an_image_without_flat_pixels_is_nan() -> None:
    stripes = torch.zeros(1, 3, 16, 16)
    stripes[..., torch.arange(16) % 4 >= 2] = 1.0  # every pixel next to a step
    blotch, truth = flat_chroma_std(stripes, stripes)
    assert math.isnan(blotch.item()) and math.isnan(truth.item())


def test_box_mean_matches_a_direct_window_mean() -> None:
    values = torch.rand(2, 3, 9, 11, dtype=torch.float64)
    radius = 2
    padded = torch.nn.functional.pad(values, (radius,) * 4)
    ones = torch.nn.functional.pad(torch.ones_like(values), (radius,) * 4)
    direct = torch.nn.functional.avg_pool2d(padded, 2 * radius + 1, stride=1)
    count = torch.nn.functional.avg_pool2d(ones, 2 * radius + 1, stride=1)
    assert torch.allclose(box_mean(values, radius), direct / count)


def test_local_std_ignores_pixels_outside_the_mask() -> None:
    ab = torch.zeros(1, 2, 16, 16)
    ab[..., 8:] = 50.0
    left = torch.zeros(1, 1, 16, 16, dtype=torch.bool)
    left[..., :8] = True
    std = local_chroma_std(ab, left, radius=3)
    assert std[..., :8].abs().max() < 1e-4 and std[..., 12:].abs().max() == 0


def test_bad_shapes_are_named() -> None:
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        flat_chroma_std(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 9))


def test_eval_rows_carry_the_measure_and_the_truths() -> None:
    values = image_metrics(flat_backdrop(20.0).float(), flat_backdrop().float(), lpips=None)
    assert values["flat_chroma_std"] == pytest.approx(7.28961, abs=0.02)
    assert values["flat_chroma_std_gt"] == pytest.approx(0.0, abs=0.01)
