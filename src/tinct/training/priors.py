"""Loss weights of a training run: from a `tinct prior` file, or measured on the training images."""

from __future__ import annotations

import random
from pathlib import Path

from torch import Tensor

from tinct.color.lab import rgb_to_lab
from tinct.data.image_folder import LabelledFile
from tinct.data.transforms import resize_to_fit
from tinct.errors import ImageReadError
from tinct.io.image_file import read_image
from tinct.io.prior_file import load_prior
from tinct.losses.gradient_prior import gradient_bin_weights
from tinct.quantize.ab_bins import gamut_ab_bins
from tinct.quantize.prior import counts_for_bins, normalise_counts, rebalancing_weights
from tinct.quantize.prior_accumulator import PriorAccumulator

MEASURE_IMAGES = 400
MEASURE_SIDE = 128


def measure_counts(files: list[LabelledFile], seed: int) -> tuple[Tensor, Tensor, Tensor]:
    """(bins, ab counts, gradient counts) over a seeded sample of training files."""
    sample = random.Random(seed).sample(files, min(MEASURE_IMAGES, len(files)))
    accumulator = PriorAccumulator(gamut_ab_bins())
    for item in sample:
        try:
            rgb = read_image(item.path).rgb
        except ImageReadError:
            continue  # the data loader reports unreadable files
        accumulator.add(rgb_to_lab(resize_to_fit(rgb, MEASURE_SIDE)))
    return accumulator.bins, accumulator.ab_counts, accumulator.gradient_counts


def loss_weights(
    prior_file: str | None, files: list[LabelledFile], bins: Tensor, uniform_mix: float, seed: int
) -> tuple[Tensor, Tensor]:
    """(rebalancing weights over ``bins``, gradient-prior bin weights)."""
    if prior_file is not None:
        prior = load_prior(Path(prior_file))
        source_bins, ab_counts, gradient_counts = (
            prior.ab_bins,
            prior.ab_counts,
            prior.gradient_counts,
        )
    else:
        source_bins, ab_counts, gradient_counts = measure_counts(files, seed)
    counts = counts_for_bins(source_bins, ab_counts, bins)
    rebalance = rebalancing_weights(normalise_counts(counts), bins, uniform_mix=uniform_mix)
    return rebalance.float(), gradient_bin_weights(gradient_counts).float()
