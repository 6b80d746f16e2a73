"""ab bins, soft encoding, decoding, priors, rebalancing and the YUV equal-width bins."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tinct.color import rgb_to_lab, rgb_to_yuv
from tinct.quantize import (
    ab_bin_counts,
    colourful_mask,
    decode_annealed_mean,
    decode_mode,
    decode_uv_bins,
    decode_uv_logits,
    derive_gamut_ab_bins,
    encode_ab_hard,
    encode_ab_soft,
    encode_uv_bins,
    expectation_over_bins,
    gamut_ab_bins,
    normalise_counts,
    pixel_rebalancing_weights,
    rebalancing_weights,
    smooth_prior,
)

from .conftest import SHARED_REFERENCE, require_shared

BINS = gamut_ab_bins()


def _random_ab(batch: int = 2, size: int = 24) -> torch.Tensor:
    return rgb_to_lab(torch.rand(batch, 3, size, size))[:, 1:]


def test_packaged_bins_follow_the_documented_rule() -> None:
    assert BINS.shape == (309, 2)
    assert torch.all(BINS % 10 == 0)
    order = BINS[:, 0] * 1000 + BINS[:, 1]
    assert torch.all(order[1:] > order[:-1])  # sorted by a then b, no duplicates


@pytest.mark.slow
def test_packaged_bins_equal_a_fresh_derivation_from_the_gamut() -> None:
    assert torch.equal(derive_gamut_ab_bins(), BINS)


@pytest.mark.shared_data
def test_bins_cover_the_reference_bins_of_zhang_et_al() -> None:
    reference = np.load(require_shared(SHARED_REFERENCE / "pts_in_hull.npy"))
    ours = {tuple(p) for p in BINS.int().tolist()}
    theirs = {tuple(p) for p in reference.tolist()}
    overlap = len(ours & theirs)
    # Documented in tinct.quantize.ab_bins: 309 of 313 (98.7%), no extra bins.
    assert overlap / len(theirs) >= 0.95
    assert (overlap, len(theirs - ours), len(ours - theirs)) == (309, 4, 0)


def test_every_srgb_colour_has_its_four_grid_corners_as_bins() -> None:
    ab = _random_ab(4, 32).permute(0, 2, 3, 1).reshape(-1, 2)
    low = torch.floor(ab / 10) * 10
    corners = torch.cat([low + torch.tensor(d) for d in ([0, 0], [0, 10], [10, 0], [10, 10])])
    known = {tuple(p) for p in BINS.int().tolist()}
    assert all(tuple(p) in known for p in corners.int().tolist())


def test_hard_encoding_picks_the_nearest_bin() -> None:
    ab = _random_ab()
    index = encode_ab_hard(ab, BINS)
    brute = torch.cdist(ab.permute(0, 2, 3, 1).reshape(-1, 2), BINS).argmin(1)
    assert torch.equal(index.flatten(), brute)


def test_soft_encoding_sums_to_one_over_five_bins() -> None:
    target = encode_ab_soft(_random_ab(), BINS)
    assert target.shape == (2, 309, 24, 24)
    assert torch.allclose(target.sum(1), torch.ones(2, 24, 24), atol=1e-6)
    assert ((target > 0).sum(1) == 5).all()


def test_soft_encoding_mean_decodes_to_within_two_units() -> None:
    corners = torch.cartesian_prod(*[torch.tensor([0.0, 1.0])] * 3).T.reshape(1, 3, 8, 1)
    for ab in (_random_ab(), rgb_to_lab(corners)[:, 1:]):
        decoded = expectation_over_bins(encode_ab_soft(ab, BINS), BINS)
        assert (decoded - ab).norm(dim=1).max() < 2.0


def test_annealed_mean_limits_are_mode_and_mean() -> None:
    logits = torch.randn(2, 309, 6, 6) * 3
    mode = decode_mode(logits, BINS)
    assert torch.allclose(decode_annealed_mean(logits, BINS, 1e-4), mode, atol=1e-3)
    assert torch.equal(decode_annealed_mean(logits, BINS, 0), mode)
    mean = expectation_over_bins(torch.softmax(logits, 1), BINS)
    assert torch.allclose(decode_annealed_mean(logits, BINS, 1.0), mean, atol=1e-5)


def test_lower_temperature_gives_more_saturated_colour() -> None:
    logits = torch.randn(1, 309, 8, 8) * 2
    chroma = [decode_annealed_mean(logits, BINS, t).norm(dim=1).mean() for t in (1.0, 0.38, 0.1)]
    assert chroma[0] < chroma[1] < chroma[2]


def test_decoding_refuses_bad_temperature_and_shapes() -> None:
    logits = torch.randn(1, 309, 2, 2)
    with pytest.raises(ValueError, match="temperature"):
        decode_annealed_mean(logits, BINS, -0.5)
    with pytest.raises(ValueError, match="bins must have shape"):
        decode_annealed_mean(torch.randn(1, 10, 2, 2), BINS)


def test_rebalancing_weights_have_expectation_one_under_the_prior() -> None:
    counts = ab_bin_counts(_random_ab(4, 32), BINS) + 1
    prior = normalise_counts(counts)
    weights = rebalancing_weights(prior, BINS)
    smoothed = smooth_prior(prior, BINS)
    assert torch.isclose((smoothed * weights).sum(), torch.tensor(1.0, dtype=weights.dtype))
    # Rare bins weigh more than common ones.
    assert weights[smoothed.argmin()] > weights[smoothed.argmax()]


def test_rebalancing_is_identity_with_full_uniform_mix() -> None:
    prior = normalise_counts(torch.rand(309, dtype=torch.float64))
    weights = rebalancing_weights(prior, BINS, uniform_mix=1.0)
    assert torch.allclose(weights, torch.ones(309, dtype=weights.dtype))


def test_smoothing_preserves_mass_and_spreads_a_spike() -> None:
    spike = torch.zeros(309, dtype=torch.float64)
    spike[150] = 1.0
    smoothed = smooth_prior(spike, BINS)
    assert torch.isclose(smoothed.sum(), torch.tensor(1.0, dtype=torch.float64))
    neighbours = (BINS - BINS[150]).norm(dim=1) == 10
    assert smoothed[150] < 1 and (smoothed[neighbours] > 0.01).all()


def test_pixel_rebalancing_weights_use_the_nearest_bin() -> None:
    ab = _random_ab()
    bin_weights = torch.arange(309, dtype=torch.float32)
    weights = pixel_rebalancing_weights(ab, BINS, bin_weights)
    assert torch.equal(weights[:, 0], encode_ab_hard(ab, BINS).float())


def test_colourful_mask_separates_gray_from_colour_images() -> None:
    gray = torch.rand(1, 1, 32, 32).expand(1, 3, 32, 32)
    noisy_gray = (gray + torch.randn(1, 3, 32, 32) * 0.002).clamp(0, 1)
    colour = torch.rand(1, 3, 32, 32)
    ab = rgb_to_lab(torch.cat((gray, noisy_gray, colour)))[:, 1:]
    assert colourful_mask(ab).tolist() == [False, False, True]


def test_empty_counts_give_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no colourful pixels"):
        normalise_counts(torch.zeros(309))


def test_uv_bins_round_trip_to_within_half_a_bin() -> None:
    uv = rgb_to_yuv(torch.rand(2, 3, 16, 16))[:, 1:]
    index = encode_uv_bins(uv, 32)
    assert index.min() >= 0 and index.max() < 32
    half_width = torch.tensor([0.43601035, 0.61497538]).view(1, 2, 1, 1) / 32
    assert ((decode_uv_bins(index, 32) - uv).abs() <= half_width + 1e-6).all()


def test_uv_logits_decode_to_the_bin_centres_at_low_temperature() -> None:
    index = torch.randint(0, 16, (1, 2, 4, 4))
    one_hot = torch.cat(
        [torch.nn.functional.one_hot(index[:, c], 16).permute(0, 3, 1, 2) for c in (0, 1)], 1
    )
    decoded = decode_uv_logits(one_hot.float() * 50, temperature=0.1)
    assert torch.allclose(decoded, decode_uv_bins(index, 16), atol=1e-5)


def test_hard_encoding_is_exact_far_outside_the_gamut_too() -> None:
    ab = (torch.rand(1, 2, 40, 40) - 0.5) * 400  # many colours no sRGB pixel can have
    brute = torch.cdist(ab.permute(0, 2, 3, 1).reshape(-1, 2), BINS).argmin(1)
    assert torch.equal(encode_ab_hard(ab, BINS).flatten(), brute)


def test_hard_encoding_works_for_bins_off_the_grid() -> None:
    bins = torch.tensor([[0.0, 0.0], [33.3, -12.5], [-70.1, 40.2]])
    ab = (torch.rand(1, 2, 8, 8) - 0.5) * 200
    brute = torch.cdist(ab.permute(0, 2, 3, 1).reshape(-1, 2), bins).argmin(1)
    assert torch.equal(encode_ab_hard(ab, bins).flatten(), brute)
