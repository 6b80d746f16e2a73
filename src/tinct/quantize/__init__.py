"""The classification formulation: ab bins, soft encoding, priors, rebalancing and decoding."""

from tinct.quantize.ab_bins import derive_gamut_ab_bins, gamut_ab_bins
from tinct.quantize.decoding import (
    DEFAULT_TEMPERATURE,
    annealed_probabilities,
    decode_annealed_mean,
    decode_mode,
    expectation_over_bins,
)
from tinct.quantize.encoding import (
    encode_ab_hard,
    encode_ab_soft,
    encode_ab_soft_sparse,
    nearest_bins,
)
from tinct.quantize.prior import (
    ab_bin_counts,
    colourful_mask,
    normalise_counts,
    pixel_rebalancing_weights,
    rebalancing_weights,
    smooth_prior,
)
from tinct.quantize.uv_bins import decode_uv_bins, decode_uv_logits, encode_uv_bins, uv_bin_centres

__all__ = [
    "DEFAULT_TEMPERATURE",
    "ab_bin_counts",
    "annealed_probabilities",
    "colourful_mask",
    "decode_annealed_mean",
    "decode_mode",
    "decode_uv_bins",
    "decode_uv_logits",
    "derive_gamut_ab_bins",
    "encode_ab_hard",
    "encode_ab_soft",
    "encode_ab_soft_sparse",
    "encode_uv_bins",
    "expectation_over_bins",
    "gamut_ab_bins",
    "nearest_bins",
    "normalise_counts",
    "pixel_rebalancing_weights",
    "rebalancing_weights",
    "smooth_prior",
    "uv_bin_centres",
]
