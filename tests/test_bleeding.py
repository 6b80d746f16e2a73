"""The colour-bleeding measure: chroma error next to lightness edges, and away from them."""

from __future__ import annotations

import math

import pytest
import torch

from tinct.color.lab import lab_to_rgb
from tinct.evaluation.bleeding import EDGE_BAND, chroma_error_near_edges, edge_band


def two_objects(bleed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Ground truth: a dark red left half and a light blue right half, as sRGB (1, 3, 32, 32);
    and a prediction whose red reaches ``bleed`` px over the edge into the blue half."""
    lab = torch.zeros(1, 3, 32, 32, dtype=torch.float64)
    lab[:, 0, :, :16], lab[:, 0, :, 16:] = 40.0, 70.0
    lab[:, 1:, :, :16] = torch.tensor([40.0, 25.0]).view(1, 2, 1, 1)
    lab[:, 1:, :, 16:] = torch.tensor([-5.0, -30.0]).view(1, 2, 1, 1)
    pred = lab.clone()
    pred[:, 1:, :, 16 : 16 + bleed] = lab[:, 1:, :, :1]
    return lab_to_rgb(pred), lab_to_rgb(lab)


def test_the_band_lies_along_the_edge() -> None:
    lightness = torch.zeros(1, 1, 8, 20)
    lightness[..., 10:] = 60.0
    band = edge_band(lightness)[0, 0]
    columns = band.any(dim=0).nonzero().flatten().tolist()
    assert columns == list(range(9 - EDGE_BAND, 11 + EDGE_BAND))
    assert band[:, columns].all()


def test_bleeding_raises_the_edge_error_only() -> None:
    clean, target = two_objects(bleed=0)
    bled, _ = two_objects(bleed=2)
    edge_clean, flat_clean = chroma_error_near_edges(clean, target)
    edge_bled, flat_bled = chroma_error_near_edges(bled, target)
    assert edge_clean.item() == pytest.approx(0.0, abs=0.5)
    distance = math.hypot(45.0, 55.0)  # red over blue, in ab
    assert edge_bled.item() == pytest.approx(distance * 2 / (2 + 2 * EDGE_BAND), rel=0.05)
    assert flat_bled.item() == pytest.approx(flat_clean.item(), abs=0.5)


def test_an_image_without_edges_has_no_edge_error() -> None:
    flat = torch.full((1, 3, 16, 16), 0.5)
    edge, rest = chroma_error_near_edges(flat, flat)
    assert math.isnan(edge.item()) and rest.item() == pytest.approx(0.0, abs=1e-4)
