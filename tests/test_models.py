"""Model registry and tinct-lite: tiny variants run forward and backward on CPU."""

from __future__ import annotations

import pytest
import torch

from tinct.models import ModelSpec, create_model, get_model_spec, list_models, register_model
from tinct.models.tinct_lite import build_tinct_lite


def test_registry_refuses_duplicate_names() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_model(ModelSpec(name="tinct-lite", description="again", builder=build_tinct_lite))


def test_unknown_name_lists_close_matches() -> None:
    with pytest.raises(ValueError, match="did you mean tinct-lite"):
        get_model_spec("tinctlite")


def _output_channels(name: str) -> int:
    spec = get_model_spec(name)
    if spec.output == "uv":
        return 2
    if spec.output == "uv_bins":
        return 2 * spec.bins().shape[0]  # n bins for U, then n for V
    return spec.bins().shape[0]


@pytest.mark.parametrize("name", [n for n in list_models() if n.endswith("_tiny")])
def test_tiny_variants_run_forward_and_backward(name: str) -> None:
    spec = get_model_spec(name)
    model = create_model(name).train()
    lightness = torch.rand(2, 1, 64, 96) * 100
    if spec.class_head:
        out, class_logits = model.forward_with_classes(lightness)
        loss = class_logits.logsumexp(1).mean()
    else:
        out, loss = model(lightness), 0.0
    stride = 64 // out.shape[-2]
    assert stride in (1, 2, 4, 8)
    assert out.shape == (2, _output_channels(name), 64 // stride, 96 // stride)
    (loss + out.logsumexp(1).mean()).backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_hints_change_the_prediction_near_the_hint() -> None:
    model = create_model("tinct-lite_tiny").eval()
    lightness = torch.rand(1, 1, 64, 64) * 100
    hints = torch.zeros(1, 4, 64, 64)
    hints[0, :3, 8, 8] = torch.tensor([60.0, 40.0, 1.0])
    with torch.no_grad():
        change = (model(lightness, hints) - model(lightness)).abs().sum(1)[0]
    assert change[2, 2] > 0  # output cell (stride 4) holding the hint


def test_inputs_of_the_wrong_shape_are_refused() -> None:
    model = create_model("tinct-lite_tiny")
    with pytest.raises(ValueError, match="multiples of 32"):
        model(torch.rand(1, 1, 50, 64))
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        model(torch.rand(1, 3, 64, 64))
    with pytest.raises(ValueError, match="hints must have shape"):
        model(torch.rand(1, 1, 64, 64), torch.zeros(1, 3, 64, 64))


def test_tinct_lite_loads_the_pretrained_encoder() -> None:
    model = create_model("tinct-lite")
    assert sum(p.numel() for p in model.parameters()) < 6_000_000  # stays light
    stem = model.encoder._conv_stem.weight
    assert stem.abs().sum() > 0 and stem.std() > 0.05  # ImageNet weights, not a fresh init
