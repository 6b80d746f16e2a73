"""The training loss of each model output kind: the losses of the papers, as pure tensor code.

- ``ab_bins``: cross-entropy against soft targets (5 nearest bins, sigma 5), weighted per pixel
  by class rebalancing and optionally the gradient prior; gray images get weight 0.
- ``uv_bins``: cross-entropy per channel over equal-width U and V bins (Hwang & Zhou).
- ``uv``: L2 on U and V (Dahl).

Targets are made at the model's output resolution by area-averaging the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor

from tinct.color.yuv import rgb_to_yuv
from tinct.losses.gradient_prior import gradient_prior_weights
from tinct.quantize.encoding import encode_ab_soft_sparse
from tinct.quantize.prior import colourful_mask
from tinct.quantize.uv_bins import encode_uv_bins


@dataclass(frozen=True)
class Weighting:
    """Per-pixel weighting of the bin cross-entropy."""

    bins: Tensor  # (Q, 2)
    bin_weights: Tensor | None  # (Q,) class rebalancing, None = off
    gradient_bin_weights: Tensor | None  # (K,) gradient prior, None = off
    gradient_spatial_sigma: float = 2.0


def soft_cross_entropy(logits: Tensor, indices: Tensor, weights: Tensor) -> Tensor:
    """Per-pixel ``-sum_k w_k log p[idx_k]``.

    Args:
        logits: ``(B, Q, h, w)``.
        indices: ``(B, k, h, w)`` bins of the sparse soft target.
        weights: ``(B, k, h, w)`` their weights, summing to 1 over k.
    """
    return -(weights * F.log_softmax(logits, dim=1).gather(1, indices)).sum(dim=1)


def pixel_weights(lab: Tensor, nearest: Tensor, weighting: Weighting) -> Tensor:
    """``(B, h, w)`` weights: rebalancing x gradient prior x colourful-image mask.

    Args:
        lab: ``(B, 3, H, W)`` ground truth at input resolution.
        nearest: ``(B, h, w)`` nearest bin of each output pixel's ground-truth ab.
        weighting: the weights in use.
    """
    batch, height, width = nearest.shape
    weights = lab.new_ones(batch, height, width)
    if weighting.bin_weights is not None:
        weights = weights * weighting.bin_weights.to(lab)[nearest]
    if weighting.gradient_bin_weights is not None:
        full = gradient_prior_weights(
            lab[:, :1], weighting.gradient_bin_weights, weighting.gradient_spatial_sigma
        )
        weights = weights * F.adaptive_avg_pool2d(full, (height, width))[:, 0]
    return weights * colourful_mask(lab[:, 1:]).to(weights).view(-1, 1, 1)


def ab_bins_loss(logits: Tensor, lab: Tensor, weighting: Weighting) -> Tensor:
    ab_small = F.adaptive_avg_pool2d(lab[:, 1:], logits.shape[-2:])
    indices, soft = encode_ab_soft_sparse(ab_small, weighting.bins.to(ab_small))
    weights = pixel_weights(lab, indices[:, 0], weighting)  # soft indices are nearest first
    return (soft_cross_entropy(logits, indices, soft) * weights).sum() / weights.numel()


def uv_bins_loss(logits: Tensor, rgb: Tensor) -> Tensor:
    n_bins = logits.shape[1] // 2
    uv = F.adaptive_avg_pool2d(rgb_to_yuv(rgb)[:, 1:], logits.shape[-2:])
    target = encode_uv_bins(uv, n_bins)
    return (
        F.cross_entropy(logits[:, :n_bins], target[:, 0])
        + F.cross_entropy(logits[:, n_bins:], target[:, 1])
    ) / 2


def uv_loss(prediction: Tensor, rgb: Tensor) -> Tensor:
    uv = F.adaptive_avg_pool2d(rgb_to_yuv(rgb)[:, 1:], prediction.shape[-2:])
    return F.mse_loss(prediction, uv)
