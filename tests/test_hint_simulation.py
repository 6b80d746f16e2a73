"""Simulated hints: reproducible, distributed as configured, and faithful to the ground truth."""

from __future__ import annotations

import pytest
import torch

from tinct.guidance.simulate import (
    HintSimulation,
    _draw_point_counts,
    colour_boundaries,
    random_hint_points,
    sample_hints_at_points,
    simulate_hints,
)
from tinct.losses import gradient_magnitude

ONE_POINT = HintSimulation(zero_hint_probability=0.0, points_p=1.0, boundary_probability=0.0)


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _smooth_ab(batch: int = 4, size: int = 32) -> torch.Tensor:
    """Random but spatially varying ab in about [-60, 60]."""
    coarse = torch.randn(batch, 2, size // 8, size // 8, generator=_generator(7)) * 30
    return torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear")


def _step_ab(size: int = 64, height: float = 60.0) -> torch.Tensor:
    """a = 0 on the left half, ``height`` on the right half; b = 0."""
    ab = torch.zeros(1, 2, size, size)
    ab[:, 0, :, size // 2 :] = height
    return ab


def test_same_seed_gives_the_same_hints_and_another_seed_others() -> None:
    ab = _smooth_ab()
    config = HintSimulation(boundary_probability=0.5)
    first = simulate_hints(ab, _generator(1), config)
    assert torch.equal(first, simulate_hints(ab, _generator(1), config))
    assert not torch.equal(first, simulate_hints(ab, _generator(2), config))


def test_shape_dtype_and_channel_values() -> None:
    ab = _smooth_ab().double()
    hints = simulate_hints(ab, _generator(), HintSimulation(boundary_probability=1.0))
    assert hints.shape == (4, 4, 32, 32) and hints.dtype == torch.float64
    mask, boundary = hints[:, 2], hints[:, 3]
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    assert set(boundary.unique().tolist()) <= {0.0, 1.0}
    assert (hints[:, :2].abs().sum(1)[mask == 0] == 0).all()  # no colour without a mask


def test_fraction_of_images_without_hints_matches_the_config() -> None:
    ab = torch.full((2000, 2, 16, 16), 20.0)
    config = HintSimulation(zero_hint_probability=0.3, boundary_probability=0.0)
    hints = simulate_hints(ab, _generator(), config)
    empty = (hints[:, 2].sum((1, 2)) == 0).double().mean()
    assert abs(empty - 0.3) < 0.03  # 4 standard deviations of a binomial of 2000


def test_number_of_points_is_geometric_with_mean_one_over_p() -> None:
    counts = _draw_point_counts(20_000, _generator(), HintSimulation(zero_hint_probability=0.0))
    assert counts.min() == 1 and counts.max() <= 64
    assert abs(counts.double().mean() - 8.0) < 0.2  # truncation at 64 takes off only 0.02
    assert abs((counts == 1).double().mean() - 1 / 8) < 0.01


def test_a_hint_is_a_square_patch_holding_the_mean_ground_truth_colour() -> None:
    ab = _smooth_ab(batch=16)
    hints = simulate_hints(ab, _generator(3), ONE_POINT)
    for image in range(16):
        rows, cols = hints[image, 2].nonzero(as_tuple=True)
        top, left = int(rows.min()), int(cols.min())
        side = int(rows.max()) - top + 1
        assert 1 <= side <= 9 and int(cols.max()) - left + 1 == side
        assert len(rows) == side * side  # the whole square, nothing else
        patch = ab[image, :, top : top + side, left : left + side]
        expected = patch.mean((1, 2))[:, None]
        assert torch.allclose(hints[image, :2, rows, cols], expected.expand(-1, len(rows)))


def test_patch_sizes_cover_the_configured_range() -> None:
    hints = simulate_hints(_smooth_ab(batch=300), _generator(), ONE_POINT)
    sides = hints[:, 2].sum((1, 2)).sqrt().round().long()
    assert sides.min() == 1 and sides.max() == 9
    assert len(sides.unique()) == 9


def test_centre_sampling_puts_points_nearer_the_middle() -> None:
    ab = torch.zeros(500, 2, 64, 64)
    distances = []
    for centre_probability in (0.0, 1.0):
        config = HintSimulation(
            zero_hint_probability=0.0,
            points_p=1.0,
            patch_sizes=(1, 1),
            centre_probability=centre_probability,
            boundary_probability=0.0,
        )
        mask = simulate_hints(ab, _generator(), config)[:, 2]
        _, rows, cols = mask.nonzero(as_tuple=True)
        distances.append(((rows - 31.5).abs() + (cols - 31.5).abs()).double().mean())
    uniform, centred = distances
    assert centred < 0.85 * uniform


def test_no_hints_and_no_boundary_give_an_empty_map() -> None:
    config = HintSimulation(zero_hint_probability=1.0, boundary_probability=0.0)
    assert (simulate_hints(_smooth_ab(), _generator(), config) == 0).all()


def test_boundary_lies_exactly_where_the_colour_steps() -> None:
    config = HintSimulation(
        zero_hint_probability=1.0, boundary_probability=1.0, boundary_keep=(1.0, 1.0)
    )
    boundary = simulate_hints(_step_ab(), _generator(), config)[0, 3]
    assert (boundary[:, 31:33] == 1).all()  # the two columns beside the step, every row
    assert boundary.sum() == 2 * 64


def test_weak_colour_changes_give_no_boundary() -> None:
    config = HintSimulation(
        zero_hint_probability=1.0, boundary_probability=1.0, boundary_keep=(1.0, 1.0)
    )
    ramp = torch.linspace(-60, 60, 64).expand(1, 2, 64, 64).contiguous()  # ~1.9 ab/px
    assert simulate_hints(ramp, _generator(), config)[:, 3].sum() == 0
    small_step = _step_ab(height=15.0)  # 7.5 ab/px beside the step, under 10
    assert simulate_hints(small_step, _generator(), config)[:, 3].sum() == 0


def test_boundary_is_dropped_in_pieces_and_never_added() -> None:
    ab = _step_ab(size=128).expand(64, -1, -1, -1)
    config = HintSimulation(
        zero_hint_probability=1.0, boundary_probability=1.0, boundary_keep=(0.5, 0.5)
    )
    boundary = simulate_hints(ab, _generator(), config)[:, 3]
    full = colour_boundaries(ab, 10.0)[:, 0]
    assert (boundary <= full).all()
    kept = boundary.sum() / full.sum()
    assert 0.4 < kept < 0.6
    edge = boundary[:, :, 63:65].transpose(1, 2)  # (64 images, 2 columns, 128 rows)
    assert edge.sum() == boundary.sum()
    piece_sums = edge.reshape(64, 2, 8, 16).sum(-1)  # 16-pixel pieces along each column
    assert ((piece_sums == 0) | (piece_sums == 16)).all()


def test_boundary_probability_selects_whole_images() -> None:
    ab = _step_ab().expand(1000, -1, -1, -1)
    config = HintSimulation(
        zero_hint_probability=1.0, boundary_probability=0.3, boundary_keep=(1.0, 1.0)
    )
    shown = (simulate_hints(ab, _generator(), config)[:, 3].sum((1, 2)) > 0).double().mean()
    assert abs(shown - 0.3) < 0.06


def test_colour_boundaries_use_the_sobel_magnitude_of_the_gradient_prior() -> None:
    ab = _smooth_ab() * 3
    a_magnitude = gradient_magnitude(ab[:, :1])
    b_magnitude = gradient_magnitude(ab[:, 1:])
    magnitude = (a_magnitude.square() + b_magnitude.square()).sqrt()
    threshold = float(magnitude.median())
    expected = (magnitude >= threshold).float()
    disagree = (colour_boundaries(ab, threshold) != expected).float().mean()
    assert disagree < 1e-3  # only rounding at the threshold


def test_bad_inputs_are_refused() -> None:
    generator = _generator()
    with pytest.raises(ValueError, match=r"\(B, 2, H, W\)"):
        simulate_hints(torch.zeros(2, 3, 16, 16), generator)
    with pytest.raises(TypeError, match="floating-point"):
        simulate_hints(torch.zeros(2, 2, 16, 16, dtype=torch.long), generator)
    with pytest.raises(ValueError, match="smaller than the largest patch"):
        simulate_hints(torch.zeros(1, 2, 8, 64), generator)
    with pytest.raises(TypeError, match="torch.Generator"):
        simulate_hints(torch.zeros(1, 2, 16, 16), 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="zero_hint_probability"):
        HintSimulation(zero_hint_probability=1.5)
    with pytest.raises(ValueError, match="patch_sizes"):
        HintSimulation(patch_sizes=(0, 9))
    with pytest.raises(ValueError, match="points_p"):
        HintSimulation(points_p=0.0)
    with pytest.raises(ValueError, match="threshold"):
        colour_boundaries(torch.zeros(1, 2, 4, 4), 0.0)


def test_config_accepts_lists_from_recipes() -> None:
    config = HintSimulation(patch_sizes=[1, 5], boundary_keep=[0.5, 1.0])  # type: ignore[arg-type]
    assert config.patch_sizes == (1, 5) and hash(config)


def test_random_hint_points_are_distinct_inside_and_reproducible() -> None:
    points = random_hint_points(16, 24, 100, _generator(5))
    assert points.shape == (100, 2) and points.dtype == torch.int64
    assert (points[:, 0] < 16).all() and (points[:, 1] < 24).all() and (points >= 0).all()
    assert len({tuple(p) for p in points.tolist()}) == 100
    assert torch.equal(points, random_hint_points(16, 24, 100, _generator(5)))
    assert random_hint_points(16, 24, 0, _generator()).shape == (0, 2)
    with pytest.raises(ValueError, match="n must be in"):
        random_hint_points(4, 4, 17, _generator())


def test_hints_at_points_reveal_the_ground_truth_there() -> None:
    ab = _smooth_ab(batch=2)
    points = torch.tensor([[5, 7], [20, 3]])
    hints = sample_hints_at_points(ab, points, radius=0)
    assert hints.shape == (2, 4, 32, 32)
    assert hints[:, 2].sum() == 4 and hints[:, 3].sum() == 0
    assert torch.allclose(hints[:, :2, 5, 7], ab[:, :, 5, 7])
    assert torch.allclose(hints[:, :2, 20, 3], ab[:, :, 20, 3])


def test_hints_at_points_average_a_square_clipped_to_the_image() -> None:
    ab = _smooth_ab(batch=1)
    hints = sample_hints_at_points(ab, torch.tensor([[0, 10]]), radius=2)
    assert hints[0, 2].sum() == 3 * 5  # rows 0..2 (clipped), columns 8..12
    expected = ab[0, :, 0:3, 8:13].mean((1, 2))
    assert torch.allclose(hints[0, :2, 1, 10], expected)


def test_hints_at_points_per_image_and_none() -> None:
    ab = _smooth_ab(batch=2)
    points = torch.tensor([[[1, 1]], [[30, 30]]])
    hints = sample_hints_at_points(ab, points, radius=0)
    assert hints[0, 2, 1, 1] == 1 and hints[0, 2, 30, 30] == 0
    assert hints[1, 2, 30, 30] == 1 and hints[1, 2, 1, 1] == 0
    empty = sample_hints_at_points(ab, torch.zeros(0, 2, dtype=torch.long))
    assert (empty == 0).all()


def test_hints_at_points_refuse_bad_points() -> None:
    ab = _smooth_ab(batch=2)
    with pytest.raises(ValueError, match="inside the 32x32 image"):
        sample_hints_at_points(ab, torch.tensor([[32, 0]]))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        sample_hints_at_points(ab, torch.tensor([1, 2, 3]))
    with pytest.raises(TypeError, match="integer"):
        sample_hints_at_points(ab, torch.tensor([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="radius"):
        sample_hints_at_points(ab, torch.tensor([[1, 2]]), radius=-1)
