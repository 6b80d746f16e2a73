"""The Iizuka-style fusion model: contract, class head, and that the global path reaches far."""

from __future__ import annotations

import pytest
import torch

from tinct.models.fusion import SPECS, FusionColorizer, FusionConfig, build_fusion

SPEC = {spec.name: spec for spec in SPECS}


def _tiny(**overrides: object) -> FusionColorizer:
    spec = SPEC["fusion_tiny"]
    return spec.builder(**{**spec.defaults, **overrides})


def test_specs_follow_the_contract() -> None:
    assert set(SPEC) == {"fusion", "fusion_tiny"}
    for spec in SPECS:
        assert spec.output == "ab_bins" and spec.class_head and not spec.takes_hints
        assert spec.input_multiple == 8
        assert spec.bins().shape == (309, 2)


def test_tiny_runs_forward_and_backward_through_both_heads() -> None:
    model = _tiny().train()
    assert sum(p.numel() for p in model.parameters()) < 100_000
    lightness = torch.rand(2, 1, 64, 96) * 100
    logits, class_logits = model.forward_with_classes(lightness)
    assert logits.shape == (2, 309, 16, 24)  # 1/4 resolution
    assert class_logits.shape == (2, 6)
    loss = logits.logsumexp(1).mean() + torch.nn.functional.cross_entropy(
        class_logits, torch.tensor([0, 5])
    )
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_forward_gives_the_colour_logits_of_forward_with_classes() -> None:
    model = _tiny().eval()
    lightness = torch.rand(1, 1, 32, 40) * 100
    with torch.no_grad():
        assert torch.equal(model(lightness), model.forward_with_classes(lightness)[0])


def test_batch_of_one_trains() -> None:
    model = _tiny().train()  # no BatchNorm on the FC layers, so B = 1 works
    logits, class_logits = model.forward_with_classes(torch.rand(1, 1, 32, 32) * 100)
    assert logits.shape == (1, 309, 8, 8) and class_logits.shape == (1, 6)


def test_resolution_and_class_count_are_configurable() -> None:
    model = _tiny(output_stride=2, num_classes=10, num_bins=313).eval()
    with torch.no_grad():
        logits, class_logits = model.forward_with_classes(torch.rand(1, 1, 64, 64) * 100)
    assert logits.shape == (1, 313, 32, 32)
    assert class_logits.shape == (1, 10)


def _calibrate_batchnorm(model: FusionColorizer, lightness: torch.Tensor) -> None:
    """Set every BatchNorm's running statistics to those of ``lightness``, then eval mode."""
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = None  # cumulative average: one batch gives its own statistics
    with torch.no_grad():
        model.train()(lightness)
    model.eval()


def test_global_path_carries_context_across_the_whole_image() -> None:
    """A change in one corner moves the prediction in the opposite corner, 200 px away.

    The local path's receptive field is about 115 px, so only the global vector can do this.
    """
    model = _tiny()
    lightness = torch.rand(1, 1, 256, 256) * 100
    _calibrate_batchnorm(model, lightness)  # fixed, realistic normalisation for both inputs
    changed = lightness.clone()
    changed[..., :32, :32] = 100.0 - changed[..., :32, :32]
    with torch.no_grad():
        moved = (model(lightness) - model(changed))[..., -8:, -8:].abs().max()
        model.global_vector[0].weight.zero_()  # cut the global path: only local context left
        model.global_vector[0].bias.zero_()
        moved_locally = (model(lightness) - model(changed))[..., -8:, -8:].abs().max()
    assert moved > 1e-2
    assert moved_locally == 0


@pytest.mark.parametrize("size", [(64, 64), (224, 224), (48, 136)])
def test_any_size_multiple_of_8_works(size: tuple[int, int]) -> None:
    model = _tiny(global_size=224).eval()
    with torch.no_grad():
        assert model(torch.rand(1, 1, *size) * 100).shape == (1, 309, size[0] // 4, size[1] // 4)


def test_hints_bad_shapes_and_bad_configs_are_refused() -> None:
    model = _tiny()
    with pytest.raises(ValueError, match="takes no hints"):
        model(torch.rand(1, 1, 32, 32) * 100, torch.zeros(1, 4, 32, 32))
    with pytest.raises(ValueError, match="takes no hints"):
        model.forward_with_classes(torch.rand(1, 1, 32, 32) * 100, torch.zeros(1, 4, 32, 32))
    with pytest.raises(ValueError, match="multiples of 8"):
        model(torch.rand(1, 1, 36, 32) * 100)
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        model(torch.rand(1, 32, 32))
    with pytest.raises(ValueError, match="output_stride"):
        FusionConfig(output_stride=8)
    with pytest.raises(ValueError, match="multiple of 32"):
        FusionConfig(global_size=100)


def test_full_model_has_the_paper_topology() -> None:
    model = build_fusion().eval()
    assert model.global_hidden[0].in_features == 512 * 7 * 7  # 224 px -> 7 x 7 x 512
    assert model.fusion[0].in_channels == 256 + 256  # mid-level map + replicated global vector
    assert 40e6 < sum(p.numel() for p in model.parameters()) < 45e6
    with torch.no_grad():
        logits, class_logits = model.forward_with_classes(torch.rand(1, 1, 32, 32) * 100)
    assert logits.shape == (1, 309, 8, 8) and class_logits.shape == (1, 6)
