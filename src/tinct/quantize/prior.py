"""The empirical ab prior of a data set and the class-rebalancing weights derived from it.

Rebalancing (Zhang et al. 2016): ``w = ((1 - lambda) * p_smooth + lambda / Q) ** -1``, scaled so
that ``sum(p_smooth * w) == 1`` (expectation 1 under the prior), where ``p_smooth`` is the prior
smoothed by a Gaussian of sigma 5 ab units. Rare, saturated colours then weigh as much in the loss
as the common desaturated ones, which keeps the model from collapsing to gray.
"""

from __future__ import annotations

import torch
from torch import Tensor

from tinct.quantize.encoding import encode_ab_hard

PRIOR_SMOOTHING_SIGMA = 5.0
UNIFORM_MIX = 0.5
GRAY_CHROMA_THRESHOLD = 5.0
GRAY_MIN_COLOURFUL_FRACTION = 0.01


def colourful_mask(
    ab: Tensor,
    chroma_threshold: float = GRAY_CHROMA_THRESHOLD,
    min_fraction: float = GRAY_MIN_COLOURFUL_FRACTION,
) -> Tensor:
    """Which images are not (near) gray, to exclude gray ones from priors and losses.

    An image counts as colourful when more than ``min_fraction`` of its pixels have chroma
    ``sqrt(a**2 + b**2)`` above ``chroma_threshold``. Zhang et al. use "any pixel above 5"; a small
    fraction instead of one pixel keeps JPEG noise on a gray photo from counting as colour.

    Args:
        ab: ``(B, 2, H, W)`` chroma.

    Returns:
        ``(B,)`` bool.
    """
    chroma = torch.linalg.vector_norm(ab, dim=1)
    return (chroma > chroma_threshold).float().mean(dim=(1, 2)) > min_fraction


def ab_bin_counts(ab: Tensor, bins: Tensor) -> Tensor:
    """How many pixels fall nearest to each bin: ``(B, 2, H, W)`` -> ``(Q,)`` float64 counts."""
    indices = encode_ab_hard(ab, bins).flatten()
    return torch.bincount(indices, minlength=bins.shape[0]).double()


def counts_for_bins(source_bins: Tensor, counts: Tensor, bins: Tensor) -> Tensor:
    """Re-index counts measured over ``source_bins`` onto ``bins`` (absent bins get 0)."""
    position = {tuple(p): i for i, p in enumerate(source_bins.round().int().tolist())}
    index = [position.get(tuple(p)) for p in bins.round().int().tolist()]
    return torch.tensor(
        [counts[i].item() if i is not None else 0.0 for i in index], dtype=torch.float64
    )


def normalise_counts(counts: Tensor) -> Tensor:
    """Counts -> probabilities summing to 1. Raises ValueError when all counts are zero."""
    total = counts.sum()
    if total <= 0:
        raise ValueError("cannot make a prior from zero counts: no colourful pixels were seen")
    return counts / total


def smooth_prior(prior: Tensor, bins: Tensor, sigma: float = PRIOR_SMOOTHING_SIGMA) -> Tensor:
    """Gaussian-smooth a prior over bin centres (sigma in ab units); result sums to 1."""
    centres = bins.double()
    kernel = torch.exp(-(torch.cdist(centres, centres) ** 2) / (2 * sigma**2))
    smoothed = kernel @ prior.double()
    return (smoothed / smoothed.sum()).to(prior.dtype)


def rebalancing_weights(
    prior: Tensor,
    bins: Tensor,
    sigma: float = PRIOR_SMOOTHING_SIGMA,
    uniform_mix: float = UNIFORM_MIX,
) -> Tensor:
    """Per-bin class-rebalancing weights ``(Q,)`` with expectation 1 under the smoothed prior.

    Args:
        prior: ``(Q,)`` empirical probabilities of the bins (sum 1).
        bins: ``(Q, 2)`` bin centres.
        sigma: Gaussian smoothing of the prior, ab units (0 disables smoothing).
        uniform_mix: lambda in [0, 1]: 0 = fully rebalance (inverse prior), 1 = no rebalancing.
    """
    if not 0.0 <= uniform_mix <= 1.0:
        raise ValueError(f"uniform_mix must be in [0, 1], got {uniform_mix}")
    smoothed = smooth_prior(prior, bins, sigma) if sigma > 0 else prior / prior.sum()
    mixed = (1 - uniform_mix) * smoothed + uniform_mix / prior.shape[0]
    weights = 1.0 / mixed.clamp(min=1e-12)
    # (computed in the dtype of the prior: float64 priors give float64 weights)
    return weights / (smoothed * weights).sum()


def pixel_rebalancing_weights(ab: Tensor, bins: Tensor, bin_weights: Tensor) -> Tensor:
    """Weight of each pixel: that of its nearest bin. ``(B, 2, H, W)`` -> ``(B, 1, H, W)``."""
    return bin_weights.to(ab.device)[encode_ab_hard(ab, bins)].unsqueeze(1).to(ab.dtype)


def check_colour_boost(boost: float) -> None:
    """ValueError unless ``boost`` is a number in [0, 1] (NaN is refused too)."""
    if not 0.0 <= boost <= 1.0:
        raise ValueError(f"colour boost must be in [0, 1], got {boost}")


def colour_boost_bias(prior: Tensor, bins: Tensor, boost: float) -> Tensor:
    """Per-bin logit offsets ``(Q,)`` that decode a model as if it had been trained with class
    rebalancing of strength ``boost``.

    A classifier trained with per-class loss weights ``w`` learns, at its optimum, posteriors
    proportional to ``w * p`` where ``p`` is the posterior of the unweighted loss. So a model
    trained *without* rebalancing, decoded from ``logits + log w``, approximates one trained with
    it; doing it at decoding time makes the strength a setting instead of a training run. ``w``
    are :func:`rebalancing_weights` with ``uniform_mix = 1 - boost / 2``: ``boost`` 0 is no
    change, 1 is Zhang et al.'s rebalancing (lambda 0.5), which over-saturates.

    Args:
        prior: ``(Q,)`` empirical ab prior of the training set (sums to 1).
        bins: ``(Q, 2)`` bin centres.
        boost: strength in [0, 1].

    Raises:
        ValueError: ``boost`` is outside [0, 1] or ``prior`` does not match ``bins``.
    """
    check_colour_boost(boost)
    if prior.shape != bins.shape[:1]:
        raise ValueError(f"prior has {tuple(prior.shape)} values for {bins.shape[0]} bins")
    weights = rebalancing_weights(prior.double(), bins.double(), uniform_mix=1.0 - boost / 2)
    return weights.log().to(torch.float32)
