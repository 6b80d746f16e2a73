"""Per-pixel loss weights and losses of the colorization models."""

from tinct.losses.gradient_prior import (
    gradient_bin_weights,
    gradient_histogram,
    gradient_magnitude,
    gradient_prior_weights,
)

__all__ = [
    "gradient_bin_weights",
    "gradient_histogram",
    "gradient_magnitude",
    "gradient_prior_weights",
]
