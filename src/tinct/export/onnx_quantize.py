"""int8 versions of exported graphs: ONNX Runtime's static quantization, calibrated on photos.

The convolutions' weights are quantized per output channel (signed int8) and their activations
per tensor (unsigned int8), with ranges observed on calibration photos run at the working size
(QDQ format: ONNX Runtime fuses each quantize, convolution and dequantize into one integer
kernel). The colour decoding after the logits (softmax and annealed mean, whose sums are a 1x1
convolution) stays in float.
Whether the result keeps the colour and is faster is measured, not assumed:
``benchmarks/int8.py``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from torch import Tensor

from tinct.export.onnx_export import GraphSignature
from tinct.export.optional import import_optional
from tinct.guidance.hint_maps import HINT_CHANNELS

QUANTIZED_OPS = ("Conv", "MatMul", "Gemm")
LOGITS = "logits"


def nodes_after(graph_path: Path, tensor: str) -> list[str]:
    """Names of the nodes that consume ``tensor`` directly or through others (the decoding
    after the logits: its 1x1 convolution sums probabilities and must stay in float)."""
    import onnx

    graph = onnx.load(str(graph_path), load_external_data=False).graph
    reached, names = {tensor}, []
    for node in graph.node:  # ONNX lists nodes in topological order
        if reached.intersection(node.input):
            reached.update(node.output)
            names.append(node.name)
    return names


def calibration_feeds(
    signature: GraphSignature, lightness: Iterable[Tensor], temperature: float
) -> Iterator[dict[str, np.ndarray]]:
    """Graph inputs for each ``(1, 1, h, w)`` working-size lightness: no hints, ``temperature``."""
    for small in lightness:
        feed = {"lightness": small.float().numpy()}
        if signature.takes_hints:
            feed["hints"] = np.zeros((1, HINT_CHANNELS, *small.shape[-2:]), np.float32)
        if "temperature" in signature.inputs:
            feed["temperature"] = np.array(temperature, np.float32)
        yield feed


def quantize_int8(
    fp32_graph: Path, int8_graph: Path, feeds: Iterable[dict[str, np.ndarray]]
) -> Path:
    """Write a statically quantized copy of ``fp32_graph`` calibrated on ``feeds``.

    Raises:
        MissingPackageError: onnxruntime is not installed.
    """
    import_optional("onnxruntime", "int8 quantization")
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Feeds(CalibrationDataReader):
        def __init__(self) -> None:
            self.remaining = iter(feeds)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.remaining, None)

    with tempfile.TemporaryDirectory(prefix="tinct-quantize-") as folder:
        prepared = Path(folder) / "prepared.onnx"
        quant_pre_process(str(fp32_graph), str(prepared), skip_symbolic_shape=True)
        decoding = nodes_after(prepared, LOGITS)
        quantize_static(
            str(prepared),
            str(int8_graph),
            Feeds(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=list(QUANTIZED_OPS),
            nodes_to_exclude=decoding,
        )
    return int8_graph
