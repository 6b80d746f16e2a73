"""The output-kind objects: one per kind every registered model names, each decoding to ab and
giving a loss that trains."""

from __future__ import annotations

import pytest
import torch

from tinct.model_outputs import MODEL_OUTPUTS, OUTPUT_KINDS, Weighting, model_output
from tinct.models import get_model_spec, list_models


def test_every_registered_model_names_a_kind_with_an_object() -> None:
    assert OUTPUT_KINDS == tuple(MODEL_OUTPUTS) == ("ab_bins", "uv_bins", "uv")
    for name in list_models():
        assert model_output(get_model_spec(name).output).kind == get_model_spec(name).output


def test_an_unknown_kind_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="ab_bins, uv_bins, uv"):
        model_output("rgb")


@pytest.mark.parametrize(("kind", "channels"), [("ab_bins", 309), ("uv_bins", 64), ("uv", 2)])
def test_each_kind_decodes_to_ab_and_has_a_loss_with_a_gradient(kind: str, channels: int) -> None:
    output = model_output(kind)
    bins = get_model_spec("tinct-lite").bins()
    prediction = torch.randn(2, channels, 4, 4, requires_grad=True)
    rgb = torch.rand(2, 3, 16, 16)
    lab = torch.cat((torch.full((2, 1, 16, 16), 50.0), torch.randn(2, 2, 16, 16) * 30), dim=1)
    ab = output.decode(prediction, lab[:, :1], bins, 0.38)
    assert ab.shape == (2, 2, 4, 4) and torch.isfinite(ab).all()
    loss = output.loss(prediction, rgb, lab, Weighting(bins, None, None))
    loss.backward()
    assert loss.dim() == 0 and prediction.grad is not None
    assert output.over_ab_bins == (kind == "ab_bins")
