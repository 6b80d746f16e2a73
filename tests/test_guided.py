"""The guided model: trains on CPU, follows the model contract and really reads its hints."""

from __future__ import annotations

import pytest
import torch

from tinct.guidance.hint_maps import empty_hint_map
from tinct.model_outputs import OUTPUT_AB_BINS
from tinct.models.guided import SPECS, GuidedColorizer, GuidedConfig, build_guided
from tinct.models.registry import ModelSpec

SPEC_BY_NAME = {spec.name: spec for spec in SPECS}


def _tiny() -> GuidedColorizer:
    spec = SPEC_BY_NAME["guided_tiny"]
    return spec.builder(**spec.defaults)  # type: ignore[return-value]


def _hint_at(size: int, row: int, col: int, ab: tuple[float, float] = (60.0, 40.0)) -> torch.Tensor:
    hints = torch.zeros(1, 4, size, size)
    hints[0, :3, row, col] = torch.tensor([*ab, 1.0])
    return hints


def test_specs_follow_the_model_contract() -> None:
    assert set(SPEC_BY_NAME) == {"guided", "guided_tiny"}
    for spec in SPECS:
        assert isinstance(spec, ModelSpec)
        assert spec.output == OUTPUT_AB_BINS and spec.takes_hints and spec.input_multiple == 8
        model = spec.builder(**spec.defaults)
        assert isinstance(model, GuidedColorizer)
        assert model.config.num_bins == spec.bins().shape[0]


def test_tiny_runs_forward_and_backward_with_and_without_hints() -> None:
    model = _tiny().train()
    lightness = torch.rand(2, 1, 64, 96) * 100
    hints = torch.zeros(2, 4, 64, 96)
    hints[:, :3, 10, 20] = torch.tensor([30.0, -20.0, 1.0])
    hints[:, 3, :, 50] = 1.0
    for given in (None, hints):
        model.zero_grad()
        logits = model(lightness, given)
        assert logits.shape == (2, 309, 16, 24) and logits.dtype == torch.float32
        logits.logsumexp(1).mean().backward()
        grads = [p.grad for p in model.parameters()]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_an_all_zero_hint_map_is_the_same_as_no_hints() -> None:
    model = _tiny().eval()
    lightness = torch.rand(2, 1, 32, 32) * 100
    with torch.no_grad():
        automatic = model(lightness)
        zero = model(lightness, empty_hint_map(2, 32, 32, like=lightness))
    assert torch.equal(automatic, zero)


def test_a_hint_changes_the_prediction_most_near_the_hint() -> None:
    model = _tiny().eval()
    lightness = torch.rand(1, 1, 128, 128) * 100
    with torch.no_grad():
        change = (model(lightness, _hint_at(128, 9, 9)) - model(lightness)).abs().sum(1)[0]
    assert change[2, 2] > 0  # the output cell (stride 4) that holds the hint
    near = change[:5, :5].mean()
    far = change[16:, 16:].mean()
    assert near > 3 * far


def test_hint_colour_matters() -> None:
    model = _tiny().eval()
    lightness = torch.rand(1, 1, 32, 32) * 100
    with torch.no_grad():
        red = model(lightness, _hint_at(32, 16, 16, (60.0, 40.0)))
        blue = model(lightness, _hint_at(32, 16, 16, (10.0, -50.0)))
    assert (red - blue)[0, :, 4, 4].abs().max() > 1e-4


def test_the_boundary_channel_is_consumed() -> None:
    model = _tiny().eval()
    lightness = torch.rand(1, 1, 32, 32) * 100
    hints = _hint_at(32, 8, 8)
    with_boundary = hints.clone()
    with_boundary[0, 3, :, 16] = 1.0  # a vertical line, no colour
    with torch.no_grad():
        change = (model(lightness, with_boundary) - model(lightness, hints)).abs()
    assert change.sum(1)[0, :, 4].min() > 0  # every output cell along the line


def test_inputs_of_the_wrong_shape_are_refused() -> None:
    model = _tiny()
    with pytest.raises(ValueError, match="multiples of 8"):
        model(torch.rand(1, 1, 60, 64))
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        model(torch.rand(1, 3, 64, 64))
    with pytest.raises(ValueError, match="hints must have shape"):
        model(torch.rand(1, 1, 64, 64), torch.zeros(1, 3, 64, 64))
    with pytest.raises(ValueError, match="spatial size"):
        model(torch.rand(1, 1, 64, 64), torch.zeros(1, 4, 32, 32))
    with pytest.raises(TypeError, match="torch.Tensor"):
        model([[0.0]])  # type: ignore[arg-type]


def test_config_is_validated_and_accepts_lists() -> None:
    assert GuidedConfig(widths=[8, 8, 16, 16]).widths == (8, 8, 16, 16)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="widths must be 4 positive ints"):
        GuidedConfig(widths=(8, 8, 16))
    with pytest.raises(ValueError, match="num_bins"):
        build_guided(num_bins=1)


def test_full_model_stays_light_enough_for_cpu() -> None:
    model = build_guided()
    assert model.config.widths == (32, 64, 128, 256)
    assert 5_000_000 < sum(p.numel() for p in model.parameters()) < 7_000_000
