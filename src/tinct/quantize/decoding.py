"""Turn per-pixel distributions over ab bins into ab values.

The annealed mean of Zhang et al. 2016 (``V`` in the surveillance paper): re-sharpen the predicted
distribution, ``softmax(log p / T)``, then take its expectation over bin centres. T = 1 is the
plain mean (desaturated, since the mean of a multimodal distribution falls between modes), T -> 0
is the mode (vivid but patchy); T = 0.38 is the paper's compromise. Because
``log softmax(z) = z - const``, ``softmax(log p / T) == softmax(z / T)`` for logits z.
"""

from __future__ import annotations

import torch
from torch import Tensor

DEFAULT_TEMPERATURE = 0.38


def _check_logits_and_bins(logits: Tensor, bins: Tensor) -> None:
    if logits.dim() != 4:
        raise ValueError(f"logits must have shape (B, Q, H, W), got {tuple(logits.shape)}")
    if bins.dim() != 2 or bins.shape[0] != logits.shape[1]:
        raise ValueError(
            f"bins must have shape ({logits.shape[1]}, C) to match the logits, "
            f"got {tuple(bins.shape)}"
        )


def expectation_over_bins(probabilities: Tensor, bins: Tensor) -> Tensor:
    """Mean bin centre under a distribution: ``(B, Q, H, W)``, ``(Q, C)`` -> ``(B, C, H, W)``."""
    _check_logits_and_bins(probabilities, bins)
    centres = bins.to(dtype=probabilities.dtype, device=probabilities.device)
    return torch.einsum("bqhw,qc->bchw", probabilities, centres)


def annealed_probabilities(logits: Tensor, temperature: float = DEFAULT_TEMPERATURE) -> Tensor:
    """``softmax(logits / T)`` over dim 1, i.e. the predicted distribution re-sharpened by T > 0."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0 here, got {temperature}")
    return torch.softmax(logits / temperature, dim=1)


def decode_mode(logits: Tensor, bins: Tensor) -> Tensor:
    """Centre of the most likely bin: ``(B, Q, H, W)`` -> ``(B, C, H, W)``."""
    _check_logits_and_bins(logits, bins)
    centres = bins.to(dtype=logits.dtype, device=logits.device)
    return centres[logits.argmax(dim=1)].permute(0, 3, 1, 2)


def decode_annealed_mean(
    logits: Tensor, bins: Tensor, temperature: float = DEFAULT_TEMPERATURE
) -> Tensor:
    """Annealed-mean point estimate of ab (or any per-bin value) from bin logits.

    Args:
        logits: ``(B, Q, H, W)`` unnormalised log-probabilities over Q bins.
        bins: ``(Q, C)`` bin centres (C = 2 for ab).
        temperature: T >= 0. T = 1 gives the mean, T = 0 the mode; default 0.38.

    Returns:
        ``(B, C, H, W)`` decoded values in the units of ``bins``.
    """
    if not isinstance(temperature, (int, float)) or temperature < 0:
        raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
    if temperature == 0:
        return decode_mode(logits, bins)
    return expectation_over_bins(annealed_probabilities(logits, temperature), bins)
