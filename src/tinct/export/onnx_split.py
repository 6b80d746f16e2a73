"""Export a model that encodes once (the registry's ``encode``/``decode`` split, e.g.
``tinct-lite``) as two ONNX graphs, so that ONNX Runtime too runs only the decoder per hint set.

- the encoder graph: ``lightness`` ``(B, 1, H, W)`` -> ``encoding_0`` ... ``encoding_{n-1}``,
  the tensors of the model's ``encode`` (for tinct-lite the bottleneck at stride 32 and the
  encoder's features at strides 16, 8 and 4), each with dynamic batch and size;
- the decoder graph: ``encoding_0`` ... ``encoding_{n-1}``, ``hints`` ``(B, 4, H, W)`` and
  ``temperature`` -> ``logits`` and ``ab``, as the whole model's graph
  (:mod:`tinct.export.onnx_export`) gives them.

Both are traced with the whole graph's substitutions (static "same" padding, divisible adaptive
pooling) and checked together, the encoder's outputs fed to the decoder in ONNX Runtime, against
the PyTorch model's full forward pass. No file I/O here: the graphs are returned as bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from tinct.export.onnx_export import (
    EXAMPLE_SHAPE,
    INPUT_HINTS,
    INPUT_LIGHTNESS,
    PARITY_SHAPES,
    ExportedColorizer,
    GraphSignature,
    ParityReport,
    check_opset,
    example_inputs,
    graph_signature,
    trace_to_onnx,
    with_static_padding,
)
from tinct.export.optional import require_onnx_packages
from tinct.models.registry import ModelSpec
from tinct.quantize.decoding import decode_annealed_mean

FEATURE_PREFIX = "encoding_"
ENCODER = "encoder"
DECODER = "decoder"

RunGraph = Callable[[tuple[Tensor, ...]], list[Tensor]]


@dataclass(frozen=True)
class SplitSignatures:
    """Inputs and outputs of the encoder graph and of the decoder graph."""

    encoder: GraphSignature
    decoder: GraphSignature


def split_signatures(spec: ModelSpec, parts: int) -> SplitSignatures:
    """The two graphs' names for a model whose ``encode`` returns ``parts`` tensors."""
    features = tuple(f"{FEATURE_PREFIX}{i}" for i in range(parts))
    whole = graph_signature(spec)  # (lightness, hints[, temperature]) -> (logits[, ab])
    decoder_inputs = tuple(name for name in whole.inputs if name != INPUT_LIGHTNESS)
    return SplitSignatures(
        encoder=GraphSignature((INPUT_LIGHTNESS,), features),
        decoder=GraphSignature((*features, *decoder_inputs), whole.outputs),
    )


def encoding_parts(model: nn.Module, spec: ModelSpec) -> int:
    """How many tensors ``model.encode`` returns (run once on the smallest allowed input)."""
    side = spec.input_multiple
    with torch.inference_mode():
        return len(model.encode(torch.zeros(1, 1, side, side)))  # type: ignore[operator]


class ExportedEncoder(nn.Module):
    """What the encoder graph computes: the model's ``encode``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, lightness: Tensor) -> tuple[Tensor, ...]:
        return tuple(self.model.encode(lightness))  # type: ignore[operator]


class ExportedDecoder(ExportedColorizer):
    """What the decoder graph computes: the model's ``decode``, then (``ab_bins``) the annealed
    mean, as :class:`ExportedColorizer` does after the whole model."""

    def __init__(self, model: nn.Module, spec: ModelSpec, bins: Tensor | None, parts: int) -> None:
        super().__init__(model, spec, bins)
        self.parts = parts
        self.signature = split_signatures(spec, parts).decoder

    def forward(self, *inputs: Tensor) -> tuple[Tensor, ...]:
        """``(encoding_0, ..., hints[, temperature])`` -> ``(logits[, ab])``."""
        features, hints = inputs[: self.parts], inputs[self.parts]
        logits = self.model.decode(features, hints)  # type: ignore[operator]
        return self.with_ab(logits, inputs[-1])


def _axes(names: tuple[str, ...], suffix: str) -> dict[str, dict[int, str]]:
    return {
        name: {0: "batch", 2: f"{name}{suffix}_height", 3: f"{name}{suffix}_width"}
        for name in names
    }


def export_split_onnx_bytes(
    model: nn.Module, spec: ModelSpec, bins: Tensor | None, opset: int
) -> tuple[bytes, bytes]:
    """The serialized encoder and decoder graphs of ``model`` (see the module docstring).

    Raises:
        MissingPackageError: the ``onnx`` package is not installed.
        ValueError: an opset this exporter cannot write.
        ExportError: the exporter failed on the model.
    """
    check_opset(opset)
    require_onnx_packages("ONNX export")
    static = with_static_padding(model).eval()
    signatures = split_signatures(spec, encoding_parts(static, spec))
    whole_example = example_inputs(graph_signature(spec), *EXAMPLE_SHAPE)
    encoder = ExportedEncoder(static).eval()
    with torch.no_grad():
        features = encoder(whole_example[0])
    encoder_axes = _axes((INPUT_LIGHTNESS,), "") | _axes(signatures.encoder.outputs, "")
    encoder_graph = trace_to_onnx(
        encoder, whole_example[:1], signatures.encoder, encoder_axes, opset, f"{spec.name} encoder"
    )
    decoder = ExportedDecoder(static, spec, bins, len(features)).eval()
    image_inputs = tuple(n for n in signatures.decoder.inputs if n == INPUT_HINTS)
    decoder_axes = (
        _axes(signatures.encoder.outputs, "")
        | _axes(image_inputs, "")
        | _axes(signatures.decoder.outputs, "_out")
    )
    decoder_graph = trace_to_onnx(
        decoder,
        (*features, *whole_example[1:]),
        signatures.decoder,
        decoder_axes,
        opset,
        f"{spec.name} decoder",
    )
    return encoder_graph, decoder_graph


def compare_split_with_torch(
    run_encoder: RunGraph,
    run_decoder: RunGraph,
    model: nn.Module,
    spec: ModelSpec,
    bins: Tensor | None,
    shapes: tuple[tuple[int, int, int], ...] = PARITY_SHAPES,
) -> ParityReport:
    """Run the encoder graph, then the decoder graph on its outputs, and the PyTorch model's
    full forward pass with the pipeline's decoding, on random inputs of ``shapes``
    ``(B, H, W)``; the largest differences (as
    :func:`tinct.export.onnx_export.compare_with_torch`)."""
    whole = graph_signature(spec)
    logit_gap, ab_gap = 0.0, 0.0
    for shape in shapes:
        inputs = example_inputs(whole, *shape)
        with torch.inference_mode():
            logits = model(inputs[0], inputs[1])
        got = run_decoder((*run_encoder(inputs[:1]), *inputs[1:]))
        logit_gap = max(logit_gap, (got[0] - logits).abs().max().item())
        if whole.decodes_ab and bins is not None:
            ab = decode_annealed_mean(logits, bins, inputs[-1].item())
            ab_gap = max(ab_gap, (got[1] - ab).abs().max().item())
    return ParityReport(logit_gap, ab_gap if whole.decodes_ab else None, tuple(shapes))
