"""Even out colour blotches inside regions of flat lightness: an edge-aware post-step on ab.

A model that predicts chroma per pixel can paint a flat backdrop or a sky in soft patches of
different colour (green here, beige there) where the photo had one. Lightness says where one
region ends and the next begins, so the predicted ab is smoothed with the weighted-least-squares
filter of :func:`tinct.guidance.spread.smooth_edge_aware` (the hint-spreading solver with every
pixel holding its own colour): neighbours of similar lightness are pulled to one colour, and a
colour step that sits on a lightness edge stays. It runs on the model's chroma grid (1/4 of the
working side for tinct-lite), guided by the working lightness averaged down to that grid, after
the model and decoding (so the same for the PyTorch and ONNX Runtime backends) and before hint
colours are spread, so that hints keep their colour. Lightness is never touched.

``strength`` is the smoothing distance in pixels of the working resolution: colour differences
inside a region of flat lightness that are shorter than about ``strength`` working pixels are
evened out; 0 leaves ab unchanged. ``EDGE_SIGMA`` was chosen with the default strength of each
weight set by ``benchmarks/chroma_smoothing_sweep.py`` on training photos; the default strength
is recorded per weight set in the weight table (``chroma_smoothing`` in its config; see
:func:`tinct.api.recommended_chroma_smoothing`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from tinct.guidance.hint_maps import check_hint_map
from tinct.guidance.spread import smooth_edge_aware

EDGE_SIGMA = 2.0  # L units: neighbours this different in lightness are only weakly pulled
HOLD_WEIGHT = 1e3  # data weight of hinted cells: they keep their colour
MIN_ITERATIONS = 8
ITERATIONS_PER_PIXEL = 3  # conjugate-gradient iterations per chroma pixel of smoothing distance


def check_strength(strength: float) -> None:
    """ValueError unless ``strength`` is a finite number >= 0."""
    if not (isinstance(strength, (int, float)) and math.isfinite(strength) and strength >= 0):
        raise ValueError(
            f"chroma smoothing strength must be a finite number >= 0 (working pixels; 0 = off), "
            f"got {strength!r}"
        )


def smooth_chroma(
    lightness: Tensor,
    ab: Tensor,
    strength: float,
    hints: Tensor | None = None,
    sigma: float = EDGE_SIGMA,
) -> Tensor:
    """``ab`` with blotches inside regions of flat lightness evened out (see the module docs).

    Args:
        lightness: ``(B, 1, h, w)`` L in [0, 100] at the working resolution.
        ab: ``(B, 2, h', w')`` predicted chroma (ab units) on the model's grid, ``h' <= h``.
        strength: smoothing distance in working pixels (>= 0; 0 returns ``ab`` itself).
        hints: optional ``(B, 4, h, w)`` hint map at the working resolution: hinted cells keep
            their predicted colour and drawn boundaries stop the smoothing.
        sigma: lightness difference (L units) over which the pull between neighbours falls to
            exp(-1/2).

    Returns:
        ``(B, 2, h', w')`` chroma, same dtype and device as ``ab``.

    Raises:
        ValueError: a bad strength, or shapes that do not fit.
    """
    check_strength(strength)
    _check_shapes(lightness, ab)
    if strength == 0:
        return ab
    grid = tuple(ab.shape[-2:])
    distance = strength * grid[1] / lightness.shape[-1]  # in chroma pixels
    guide = F.adaptive_avg_pool2d(lightness.to(ab.dtype), grid)
    weight = torch.full_like(guide, 1.0 / distance**2)
    boundary = None
    if hints is not None:
        check_hint_map(hints, tuple(lightness.shape[-2:]))
        hinted = F.adaptive_max_pool2d(hints[:, 2:3].to(ab.dtype), grid) > 0
        weight = torch.where(hinted, torch.full_like(weight, HOLD_WEIGHT), weight)
        boundary = (F.adaptive_max_pool2d(hints[:, 3:4].to(ab.dtype), grid) > 0).to(ab.dtype)
    iterations = max(MIN_ITERATIONS, math.ceil(ITERATIONS_PER_PIXEL * distance))
    return smooth_edge_aware(guide, ab, weight, sigma, iterations, boundary)


def _check_shapes(lightness: Tensor, ab: Tensor) -> None:
    if lightness.dim() != 4 or lightness.shape[1] != 1:
        raise ValueError(f"lightness must have shape (B, 1, h, w), got {tuple(lightness.shape)}")
    if ab.dim() != 4 or ab.shape[1] != 2 or ab.shape[0] != lightness.shape[0]:
        raise ValueError(
            f"ab must have shape (B, 2, h', w') with the batch of lightness "
            f"{tuple(lightness.shape)}, got {tuple(ab.shape)}"
        )
    if ab.shape[-2] > lightness.shape[-2] or ab.shape[-1] > lightness.shape[-1]:
        raise ValueError(
            f"ab {tuple(ab.shape[-2:])} must not be larger than lightness "
            f"{tuple(lightness.shape[-2:])}"
        )
