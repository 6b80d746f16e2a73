"""Accumulate the empirical ab prior and gradient histogram of a data set, one image at a time."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from tinct.losses.gradient_prior import GRADIENT_BINS, gradient_histogram
from tinct.quantize.prior import ab_bin_counts, colourful_mask, normalise_counts


@dataclass
class PriorAccumulator:
    """Running counts over images; gray images are counted but excluded from the prior.

    Attributes:
        bins: ``(Q, 2)`` ab bin centres.
        ab_counts: ``(Q,)`` float64 pixel counts per bin (colourful images only).
        gradient_counts: ``(K,)`` float64 counts of luminance gradient magnitudes (all images).
    """

    bins: Tensor
    ab_counts: Tensor = field(init=False)
    gradient_counts: Tensor = field(init=False)
    images_used: int = 0
    images_gray: int = 0

    def __post_init__(self) -> None:
        self.ab_counts = torch.zeros(self.bins.shape[0], dtype=torch.float64)
        self.gradient_counts = torch.zeros(GRADIENT_BINS, dtype=torch.float64)

    def add(self, lab: Tensor) -> bool:
        """Add one ``(3, H, W)`` Lab image; False when it was gray and left out of the prior."""
        if lab.dim() != 3 or lab.shape[0] != 3:
            raise ValueError(f"lab must have shape (3, H, W), got {tuple(lab.shape)}")
        lab = lab.unsqueeze(0)
        self.gradient_counts += gradient_histogram(lab[:, :1], GRADIENT_BINS)
        if not colourful_mask(lab[:, 1:]).item():
            self.images_gray += 1
            return False
        self.ab_counts += ab_bin_counts(lab[:, 1:], self.bins)
        self.images_used += 1
        return True

    def ab_prior(self) -> Tensor:
        """``(Q,)`` probabilities; ValueError when no colourful image was added."""
        return normalise_counts(self.ab_counts)
