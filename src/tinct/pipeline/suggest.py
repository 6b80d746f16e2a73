"""Colour suggestions at a point: the top colours of the model's predicted distribution there.

The model predicts, for each cell of its output grid, a probability over the ab bins. At the
clicked pixel the distribution (mean over the 3x3 cells around it, at temperature 1) is reduced
to a few distinct colours: bins are taken in order of probability, and a bin closer than
``MERGE_DISTANCE`` ab units to a colour already chosen adds its mass to that colour instead of
becoming a near-duplicate swatch. Each colour is shown at the pixel's own lightness, brought
into the sRGB gamut (before the comparison: bins far apart can clip to one colour), so that the
swatch looks like what the photo will get.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from tinct.color.gamut import clip_ab_to_gamut
from tinct.color.lab import lab_to_rgb
from tinct.guidance.hints import Hints
from tinct.model_outputs import model_output
from tinct.pipeline.colorizer import Colorizer, ImageEncoding

DEFAULT_COUNT = 6
MERGE_DISTANCE = 20.0  # ab units: closer bins are one suggestion
LIGHTNESS_PATCH = 2  # the swatch's L is the mean over a (2 * 2 + 1)**2 pixel patch


@dataclass(frozen=True)
class Suggestion:
    """A suggested colour: ``hex`` sRGB, ``lab`` at the point's lightness, and its probability
    (the mass of the bins it stands for)."""

    hex: str
    lab: tuple[float, float, float]
    probability: float


def suggest_colors(
    colorizer: Colorizer,
    image: Tensor | ImageEncoding,
    x: float,
    y: float,
    hints: Hints | Tensor | None = None,
    count: int = DEFAULT_COUNT,
) -> list[Suggestion]:
    """The ``count`` most likely distinct colours at pixel ``(x, y)``, most likely first.

    Args:
        colorizer: a colorizer whose model predicts ab bins (``tinct-lite``, ``eccv16``, ...).
        image: ``(1, 1, H, W)`` L of the image, in [0, 100]; or the image encoded by
            :meth:`Colorizer.encode_image` (one image), and then only the part of the model
            after the encoding runs.
        x: column, in pixels of the image (the pixel holding it is ``floor(x)``).
        y: row, in pixels of the image.
        hints: the hints already placed, which change the distribution.

    Raises:
        ValueError: the point lies outside the image, ``count`` < 1, or the model does not
            predict ab bins.
    """
    lightness = image if isinstance(image, Tensor) else image.lightness
    _check_request(colorizer, lightness, x, y, count)
    encoded = colorizer.unencoded(image) if isinstance(image, Tensor) else image
    column, row = int(x // 1), int(y // 1)
    logits, _ = colorizer.encoded_logits(encoded, hints)
    height, width = lightness.shape[-2:]
    distribution = _distribution_at(logits, row / height, column / width)
    point_lightness = _patch_lightness(lightness, row, column)
    shown = _bins_in_gamut(colorizer.bins.to(distribution), point_lightness)
    ab = _distinct_colours(distribution, shown, count)
    return [_render(ab_value, mass, point_lightness) for ab_value, mass in ab]


def _check_request(colorizer: Colorizer, lightness: Tensor, x: float, y: float, count: int) -> None:
    height, width = lightness.shape[-2:]
    column, row = int(x // 1), int(y // 1)
    if lightness.dim() != 4 or lightness.shape[:2] != (1, 1):
        raise ValueError(f"lightness must have shape (1, 1, H, W), got {tuple(lightness.shape)}")
    if not (0 <= column < width and 0 <= row < height):
        raise ValueError(f"point ({x:g}, {y:g}) lies outside the {width}x{height} image")
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if not model_output(colorizer.output_kind).over_ab_bins:
        raise ValueError(f"model {colorizer.name} does not predict a colour distribution")


def _distribution_at(logits: Tensor, row_fraction: float, column_fraction: float) -> Tensor:
    """``(Q,)`` probabilities at a relative position, averaged over the 3x3 cells around it."""
    probabilities = F.softmax(logits[0].float(), dim=0)
    cells_y, cells_x = probabilities.shape[-2:]
    cy, cx = int(row_fraction * cells_y), int(column_fraction * cells_x)
    window = probabilities[:, max(0, cy - 1) : cy + 2, max(0, cx - 1) : cx + 2]
    return window.mean(dim=(1, 2))


def _distinct_colours(distribution: Tensor, bins: Tensor, count: int) -> list[tuple[Tensor, float]]:
    """Up to ``count`` (ab, mass) pairs; near-duplicate bins merge into the chosen colour."""
    chosen: list[Tensor] = []
    mass: list[float] = []
    for index in torch.argsort(distribution, descending=True).tolist():
        probability = float(distribution[index])
        if chosen:
            distances = torch.linalg.vector_norm(torch.stack(chosen) - bins[index], dim=1)
            nearest = int(distances.argmin())
            if float(distances[nearest]) < MERGE_DISTANCE:
                mass[nearest] += probability
                continue
        if len(chosen) < count:
            chosen.append(bins[index])
            mass.append(probability)
    order = sorted(range(len(chosen)), key=lambda i: -mass[i])
    return [(chosen[i], mass[i]) for i in order]


def _bins_in_gamut(bins: Tensor, lightness: float) -> Tensor:
    """``(Q, 2)`` bin colours as they can be shown at ``lightness`` (chroma reduced, hue kept):
    distinctness is judged on these, since bins far apart can clip to the same colour."""
    ab = bins.to(torch.float64).T.reshape(1, 2, -1, 1)
    clipped = clip_ab_to_gamut(torch.full_like(ab[:, :1], lightness), ab)
    return clipped.reshape(2, -1).T.to(bins.dtype)


def _patch_lightness(lightness: Tensor, row: int, column: int) -> float:
    patch = lightness[
        0,
        0,
        max(0, row - LIGHTNESS_PATCH) : row + LIGHTNESS_PATCH + 1,
        max(0, column - LIGHTNESS_PATCH) : column + LIGHTNESS_PATCH + 1,
    ]
    return float(patch.float().mean())


def _render(ab: Tensor, probability: float, lightness: float) -> Suggestion:
    l_value = torch.tensor([[[lightness]]], dtype=torch.float64)
    ab_value = clip_ab_to_gamut(l_value, ab.to(torch.float64).view(2, 1, 1))  # float32 rounding
    lab = torch.cat((l_value, ab_value))
    rgb = lab_to_rgb(lab).flatten()
    hex_value = "#" + "".join(f"{round(float(c) * 255):02x}" for c in rgb)
    a, b = (float(v) for v in ab_value.flatten())
    return Suggestion(hex=hex_value, lab=(lightness, a, b), probability=probability)
