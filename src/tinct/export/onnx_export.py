"""Export a colorization model to ONNX (in memory) and check the graph against PyTorch.

The exported graph takes lightness ``(B, 1, H, W)`` in [0, 100], a hint map ``(B, 4, H, W)``
(models that take hints) and a scalar ``temperature`` (``ab_bins`` models), with dynamic batch
and spatial size (H and W multiples of 32, the model contract). Its outputs:

- ``logits``: the model's raw output (bin logits for ``ab_bins`` models);
- ``ab`` (``ab_bins`` models only): the annealed mean ``softmax(logits / T) @ bins``, written
  as a 1x1 convolution so that decoding runs inside the graph too. T must be > 0 there; T = 0
  (the mode) is decoded from ``logits`` by the caller.

Two parts of the PyTorch models do not trace to a size-independent graph, so the export swaps
them for equivalents that are exact on the sizes the contract allows:

- TF "same" padding (:class:`~tinct.models.backbones.efficientnet_lite.Conv2dSame`) is
  computed from the input size at run time; on sizes divisible by the stride it is a constant,
  which a copy of the model uses instead;
- adaptive average pooling (hint maps resized to feature grids) has no ONNX operator; when the
  input size is a multiple of the output size it is a reshape and a mean, exported as such.

No file I/O here: the graph is returned as bytes.
"""

from __future__ import annotations

import copy
import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tinct.errors import TinctError
from tinct.export.optional import require_onnx_packages
from tinct.model_outputs import model_output
from tinct.models.backbones.efficientnet_lite import Conv2dSame
from tinct.models.registry import ModelSpec
from tinct.quantize.decoding import decode_annealed_mean

DEFAULT_OPSET = 17
MIN_OPSET = 13  # Softmax over one axis (not "all following axes") from opset 13
MAX_OPSET = 20  # the highest the TorchScript exporter writes
DEFAULT_TOLERANCE = 1e-3  # max abs logit difference accepted between ONNX Runtime and PyTorch

INPUT_LIGHTNESS = "lightness"
INPUT_HINTS = "hints"
INPUT_TEMPERATURE = "temperature"
OUTPUT_LOGITS = "logits"
OUTPUT_AB = "ab"

# Traced at this size; other sizes exercise the dynamic axes in the parity check.
EXAMPLE_SHAPE = (2, 64, 96)
PARITY_SHAPES = ((1, 64, 64), (2, 96, 160))


class ExportError(TinctError):
    """The model could not be exported, or the exported graph disagrees with PyTorch."""


@dataclass(frozen=True)
class GraphSignature:
    """Names of the exported graph's inputs and outputs, in order."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    @property
    def takes_hints(self) -> bool:
        return INPUT_HINTS in self.inputs

    @property
    def decodes_ab(self) -> bool:
        return OUTPUT_AB in self.outputs


def graph_signature(spec: ModelSpec) -> GraphSignature:
    """The inputs and outputs the export of a model with ``spec`` has."""
    inputs = (INPUT_LIGHTNESS, INPUT_HINTS) if spec.takes_hints else (INPUT_LIGHTNESS,)
    decodes = model_output(spec.output).over_ab_bins
    outputs = (OUTPUT_LOGITS, OUTPUT_AB) if decodes else (OUTPUT_LOGITS,)
    if decodes:
        inputs = (*inputs, INPUT_TEMPERATURE)
    return GraphSignature(inputs, outputs)


class EvenSizeConv2dSame(nn.Conv2d):
    """:class:`Conv2dSame` with its padding fixed for inputs whose size the stride divides.

    TF "same" padding adds ``max(kernel - stride, 0)`` pixels when the stride divides the size,
    the extra one bottom/right; a constant, so the traced graph holds for every such size.
    """

    @classmethod
    def from_conv(cls, conv: Conv2dSame) -> EvenSizeConv2dSame:
        new = cls(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,  # type: ignore[arg-type]
            conv.stride,  # type: ignore[arg-type]
            padding=0,
            groups=conv.groups,
            bias=False,
        )
        new.weight = conv.weight
        pads: list[int] = []  # F.pad order: left, right, top, bottom
        for kernel, stride in zip(conv.kernel_size[::-1], conv.stride[::-1], strict=True):
            total = max(kernel - stride, 0)
            pads += [total // 2, total - total // 2]
        if pads[0] == pads[1] and pads[2] == pads[3]:  # symmetric: the convolution pads itself
            new.padding, new.extra_pads = (pads[2], pads[0]), None
        else:
            new.extra_pads = pads
        return new

    extra_pads: list[int] | None = None

    def forward(self, x: Tensor) -> Tensor:
        if self.extra_pads is not None:
            x = F.pad(x, self.extra_pads)
        return super().forward(x)


def with_static_padding(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose :class:`Conv2dSame` layers pad by a constant (see above)."""
    model = copy.deepcopy(model)
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, Conv2dSame):
                setattr(parent, name, EvenSizeConv2dSame.from_conv(child))
    return model


class ExportedColorizer(nn.Module):
    """What the graph computes: the model, then (``ab_bins``) the annealed mean over the bins.

    Args:
        model: a registered model in eval mode (see the registry's model contract).
        spec: its registry spec.
        bins: ``(Q, 2)`` ab bin centres, for ``ab_bins`` models.
    """

    def __init__(self, model: nn.Module, spec: ModelSpec, bins: Tensor | None) -> None:
        super().__init__()
        self.model = model
        self.signature = graph_signature(spec)
        if self.signature.decodes_ab:
            if bins is None:
                raise ValueError(f"{spec.name} outputs ab bins: pass its bins")
            # softmax(z / T) @ bins as one 1x1 convolution of exp(z / T - max) with the bins
            # and a row of ones (numerator and normaliser): ONNX Runtime's Softmax over the
            # channel axis of NCHW transposes and was 40% of the graph's time.
            moments = torch.cat((bins.float().t(), torch.ones(1, bins.shape[0])), dim=0)
            self.register_buffer("bin_moments", moments[:, :, None, None].contiguous())

    def forward(self, *inputs: Tensor) -> tuple[Tensor, ...]:
        """``(lightness[, hints][, temperature])`` -> ``(logits[, ab])`` (see the module doc)."""
        hints = inputs[1] if self.signature.takes_hints else None
        return self.with_ab(self.model(inputs[0], hints), inputs[-1])

    def with_ab(self, logits: Tensor, temperature: Tensor) -> tuple[Tensor, ...]:
        """``(logits, ab)`` for ``ab_bins`` models, ``(logits,)`` for the others."""
        if not self.signature.decodes_ab:
            return (logits,)
        scaled = logits / temperature
        weights = torch.exp(scaled - channel_maximum(scaled))  # the largest is 1
        bin_moments: Tensor = self.bin_moments  # type: ignore[assignment]
        moments = F.conv2d(weights, bin_moments)
        return logits, moments[:, :2] / moments[:, 2:]


def channel_maximum(planes: Tensor) -> Tensor:
    """``planes.amax(dim=1, keepdim=True)`` of ``(B, C, H, W)``, as a tree of elementwise
    maxima of the two halves of the channels (overlapping by one when C is odd): the same
    values, and in ONNX Runtime Slice and Max nodes over whole planes instead of a ReduceMax
    over the channel axis of NCHW, which took 12 of the decoder graph's 70 ms."""
    while planes.shape[1] > 1:
        half = planes.shape[1] // 2
        planes = torch.maximum(planes[:, : planes.shape[1] - half], planes[:, half:])
    return planes


def _adaptive_avg_pool2d_divisible(opset: int):  # type: ignore[no-untyped-def]
    """Symbolic for ``aten::adaptive_avg_pool2d`` with a run-time output size that divides the
    input size: reshape ``(B, C, h, H/h, w, W/w)`` and average over the two factor axes."""
    from torch.onnx import symbolic_helper as helper

    def first(g, vector, index):  # type: ignore[no-untyped-def]
        return helper._slice_helper(g, vector, axes=[0], starts=[index], ends=[index + 1])

    def symbolic(g, x, output_size):  # type: ignore[no-untyped-def]
        if helper._is_packed_list(output_size):
            parts = [helper._unsqueeze_helper(g, v, [0]) for v in helper._unpack_list(output_size)]
            out = g.op("Concat", *parts, axis_i=0)
        else:
            sizes = helper._maybe_get_const(output_size, "is")
            out = g.op("Constant", value_t=torch.tensor(sizes, dtype=torch.int64))
        shape = g.op("Shape", x)
        lead = helper._slice_helper(g, shape, axes=[0], starts=[0], ends=[2])
        factor = g.op("Div", helper._slice_helper(g, shape, axes=[0], starts=[2], ends=[4]), out)
        split = g.op(
            "Concat",
            *(lead, first(g, out, 0), first(g, factor, 0), first(g, out, 1), first(g, factor, 1)),
            axis_i=0,
        )
        blocks = g.op("Reshape", x, split)
        if opset >= 18:  # axes became an input in opset 18
            axes = g.op("Constant", value_t=torch.tensor([3, 5], dtype=torch.int64))
            return g.op("ReduceMean", blocks, axes, keepdims_i=0)
        return g.op("ReduceMean", blocks, axes_i=[3, 5], keepdims_i=0)

    return symbolic


@contextmanager
def _divisible_adaptive_pooling(opset: int) -> Iterator[None]:
    name = "aten::adaptive_avg_pool2d"
    torch.onnx.register_custom_op_symbolic(name, _adaptive_avg_pool2d_divisible(opset), opset)
    try:
        yield
    finally:
        torch.onnx.unregister_custom_op_symbolic(name, opset)


def check_opset(opset: int) -> int:
    """``opset`` if this exporter writes it; ValueError saying the range otherwise."""
    if not isinstance(opset, int) or not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f"opset must be an integer in [{MIN_OPSET}, {MAX_OPSET}], got {opset!r}")
    return opset


def example_inputs(signature: GraphSignature, batch: int, height: int, width: int) -> tuple:
    """Random inputs for the graph: lightness in [0, 100], a few hints, temperature 0.5 (the
    inputs ``signature`` has, in its order)."""
    generator = torch.Generator().manual_seed(batch * 1000 + height + width)
    lightness = torch.rand(batch, 1, height, width, generator=generator) * 100.0
    inputs: list[Tensor] = [lightness]
    if signature.takes_hints:
        hints = torch.zeros(batch, 4, height, width)
        hints[:, 2, 8:12, 8:16] = 1.0  # one hint patch of a reddish colour
        hints[:, 0, 8:12, 8:16] = 40.0
        hints[:, 1, 8:12, 8:16] = 20.0
        hints[:, 3, height // 2, :] = 1.0  # a boundary line
        inputs.append(hints)
    if INPUT_TEMPERATURE in signature.inputs:
        inputs.append(torch.tensor(0.5))
    return tuple(inputs)


def export_onnx_bytes(
    model: nn.Module, spec: ModelSpec, bins: Tensor | None, opset: int = DEFAULT_OPSET
) -> bytes:
    """Serialized ONNX graph of ``model`` (see the module docstring for its inputs/outputs).

    Raises:
        MissingPackageError: the ``onnx`` package (which the exporter uses) is not installed.
        ValueError: an opset this exporter cannot write.
        ExportError: the exporter failed on the model.
    """
    check_opset(opset)
    require_onnx_packages("ONNX export")
    wrapper = ExportedColorizer(with_static_padding(model).eval(), spec, bins).eval()
    signature = wrapper.signature
    spatial = {0: "batch", 2: "height", 3: "width"}
    dynamic_axes = {name: spatial for name in signature.inputs if name != INPUT_TEMPERATURE}
    dynamic_axes |= {
        name: {0: "batch", 2: "out_height", 3: "out_width"} for name in signature.outputs
    }
    example = example_inputs(signature, *EXAMPLE_SHAPE)
    return trace_to_onnx(wrapper, example, signature, dynamic_axes, opset, spec.name)


def trace_to_onnx(
    wrapper: nn.Module,
    example: tuple[Tensor, ...],
    signature: GraphSignature,
    dynamic_axes: dict[str, dict[int, str]],
    opset: int,
    name: str,
) -> bytes:
    """``wrapper`` traced on ``example`` into a serialized graph with ``signature``'s names.

    Raises:
        ExportError: the exporter failed (``name`` says which model).
    """
    buffer = io.BytesIO()
    try:
        with _divisible_adaptive_pooling(opset), warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer warnings about shapes turned into constants
            torch.onnx.export(
                wrapper,
                example,
                buffer,  # type: ignore[arg-type]  # the TorchScript exporter writes to files too
                dynamo=False,
                opset_version=opset,
                input_names=list(signature.inputs),
                output_names=list(signature.outputs),
                dynamic_axes=dynamic_axes,
            )
    except Exception as error:  # the exporter raises many types
        raise ExportError(
            f"cannot export {name} to ONNX ({type(error).__name__}: {error})"
        ) from error
    return buffer.getvalue()


@dataclass(frozen=True)
class ParityReport:
    """Largest absolute differences between ONNX Runtime and PyTorch over the checked inputs."""

    max_logit_difference: float
    max_ab_difference: float | None
    shapes: tuple[tuple[int, int, int], ...]

    def summary(self) -> str:
        ab = "" if self.max_ab_difference is None else f", ab {self.max_ab_difference:.2e}"
        sizes = ", ".join(f"{b}x{h}x{w}" for b, h, w in self.shapes)
        return f"max abs difference: logits {self.max_logit_difference:.2e}{ab} (on {sizes})"


def compare_with_torch(
    run_graph,  # type: ignore[no-untyped-def]
    model: nn.Module,
    spec: ModelSpec,
    bins: Tensor | None,
    shapes: tuple[tuple[int, int, int], ...] = PARITY_SHAPES,
) -> ParityReport:
    """Run the exported graph (``run_graph(inputs) -> outputs``, tensors in and out) and the
    PyTorch model with the pipeline's decoding (:func:`decode_annealed_mean`) on random inputs
    of ``shapes`` ``(B, H, W)``; the largest differences."""
    signature = graph_signature(spec)
    logit_gap, ab_gap = 0.0, 0.0
    for shape in shapes:
        inputs = example_inputs(signature, *shape)
        with torch.inference_mode():
            logits = model(inputs[0], inputs[1] if signature.takes_hints else None)
        got = run_graph(inputs)
        logit_gap = max(logit_gap, (got[0] - logits).abs().max().item())
        if signature.decodes_ab and bins is not None:
            ab = decode_annealed_mean(logits, bins, inputs[-1].item())
            ab_gap = max(ab_gap, (got[1] - ab).abs().max().item())
    return ParityReport(logit_gap, ab_gap if signature.decodes_ab else None, tuple(shapes))


def check_parity(report: ParityReport, name: str, tolerance: float = DEFAULT_TOLERANCE) -> None:
    """ExportError when the graph's logits differ from PyTorch's by more than ``tolerance``."""
    if not report.max_logit_difference <= tolerance:  # also catches NaN
        raise ExportError(
            f"the ONNX export of {name} disagrees with PyTorch: {report.summary()}, more than "
            f"the tolerance {tolerance:g}"
        )
