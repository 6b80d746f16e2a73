"""One object per kind of model output: how it decodes to ab and what it is trained against.

A model's spec names its output kind (``spec.output``, :mod:`tinct.models.registry`);
:func:`model_output` gives the object for it, which decoding (:class:`tinct.pipeline.Colorizer`)
and training (:mod:`tinct.training.objectives`) both use. A new output kind is one more class
here, added to ``MODEL_OUTPUTS``.
"""

from __future__ import annotations

from typing import Protocol

from torch import Tensor

from tinct.model_outputs.decoding import uv_to_ab
from tinct.model_outputs.objectives import Weighting, ab_bins_loss, uv_bins_loss, uv_loss
from tinct.quantize.decoding import decode_annealed_mean
from tinct.quantize.uv_bins import decode_uv_logits

OUTPUT_AB_BINS = "ab_bins"
OUTPUT_UV_BINS = "uv_bins"
OUTPUT_UV = "uv"


class ModelOutput(Protocol):
    """What one output kind means (one class per kind, without state).

    ``kind``: the name specs give it (``spec.output``). ``over_ab_bins``: the output is logits
    over the ab bins ``spec.bins()``, a colour distribution per cell; only such models have
    colour suggestions, a bin bias, a class-rebalancing prior, validation scores during training
    and the annealed-mean decoding inside their ONNX graph.
    """

    kind: str
    over_ab_bins: bool

    def decode(
        self, prediction: Tensor, lightness: Tensor, bins: Tensor, temperature: float
    ) -> Tensor:
        """ab ``(B, 2, h, w)`` of ``prediction`` for the ``(B, 1, H, W)`` ``lightness`` the
        model saw; ``bins`` are ``spec.bins()``, ``temperature`` that of the annealed mean."""
        ...

    def loss(self, prediction: Tensor, rgb: Tensor, lab: Tensor, weighting: Weighting) -> Tensor:
        """The colour term of the training loss of ``prediction`` against the ``(B, 3, H, W)``
        ground truth, given as sRGB ``rgb`` and as ``lab``."""
        ...


class AbBinsOutput:
    """Logits ``(B, Q, h, w)`` over the ab bins; decoded by the annealed mean, trained with the
    weighted soft-target cross-entropy."""

    kind = OUTPUT_AB_BINS
    over_ab_bins = True

    def decode(
        self, prediction: Tensor, lightness: Tensor, bins: Tensor, temperature: float
    ) -> Tensor:
        return decode_annealed_mean(prediction, bins, temperature)

    def loss(self, prediction: Tensor, rgb: Tensor, lab: Tensor, weighting: Weighting) -> Tensor:
        return ab_bins_loss(prediction, lab, weighting)


class UvBinsOutput:
    """Logits ``(B, 2 * n, h, w)``, n equal-width bins for U then for V; decoded per channel by
    the annealed mean, trained with the cross-entropy per channel."""

    kind = OUTPUT_UV_BINS
    over_ab_bins = False

    def decode(
        self, prediction: Tensor, lightness: Tensor, bins: Tensor, temperature: float
    ) -> Tensor:
        return uv_to_ab(decode_uv_logits(prediction, temperature), lightness)

    def loss(self, prediction: Tensor, rgb: Tensor, lab: Tensor, weighting: Weighting) -> Tensor:
        return uv_bins_loss(prediction, rgb)


class UvOutput:
    """Regressed BT.601 U and V ``(B, 2, h, w)``, trained with L2."""

    kind = OUTPUT_UV
    over_ab_bins = False

    def decode(
        self, prediction: Tensor, lightness: Tensor, bins: Tensor, temperature: float
    ) -> Tensor:
        return uv_to_ab(prediction, lightness)

    def loss(self, prediction: Tensor, rgb: Tensor, lab: Tensor, weighting: Weighting) -> Tensor:
        return uv_loss(prediction, rgb)


MODEL_OUTPUTS: dict[str, ModelOutput] = {
    output.kind: output for output in (AbBinsOutput(), UvBinsOutput(), UvOutput())
}
OUTPUT_KINDS = tuple(MODEL_OUTPUTS)


def model_output(kind: str) -> ModelOutput:
    """The object of output kind ``kind`` (``spec.output``); ValueError when unknown."""
    if kind in MODEL_OUTPUTS:
        return MODEL_OUTPUTS[kind]
    raise ValueError(f"unknown model output kind {kind!r}; known: {', '.join(OUTPUT_KINDS)}")
