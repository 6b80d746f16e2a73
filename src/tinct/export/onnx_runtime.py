"""Run an exported colorizer graph with ONNX Runtime on the CPU.

``onnxruntime`` is an optional dependency (``pip install 'tinct[onnx]'``); everything here
imports it on first use and says which package is missing when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from tinct.export.onnx_export import INPUT_TEMPERATURE, OUTPUT_AB, OUTPUT_LOGITS, GraphSignature
from tinct.export.optional import import_optional
from tinct.guidance.hint_maps import HINT_CHANNELS


def physical_cores() -> int:
    """Physical CPU cores this process may use (hyper-threads not counted); at least 1.

    Linux: distinct (package, core) pairs in /proc/cpuinfo among the CPUs in the affinity mask;
    elsewhere, or when that cannot be read, the number of usable logical CPUs.
    """
    usable = (
        sorted(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else list(range(os.cpu_count() or 1))
    )
    try:
        cores = _cores_from_cpuinfo(Path("/proc/cpuinfo").read_text(), set(usable))
    except OSError:
        cores = 0
    return max(1, cores or len(usable))


def default_threads() -> int:
    """Intra-op threads when none are asked for: ``OMP_NUM_THREADS`` when it is set to a
    positive number (PyTorch reads it too, and Ray sets it for its workers), else
    :func:`physical_cores`."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else physical_cores()


def _cores_from_cpuinfo(text: str, usable: set[int]) -> int:
    """Distinct (physical id, core id) pairs of the ``usable`` processors in /proc/cpuinfo."""
    cores: set[tuple[str, str]] = set()
    for block in text.strip().split("\n\n"):
        fields = dict(
            (key.strip(), value.strip())
            for key, _, value in (line.partition(":") for line in block.splitlines())
        )
        if "core id" not in fields or int(fields.get("processor", -1)) not in usable:
            continue
        cores.add((fields.get("physical id", "0"), fields["core id"]))
    return len(cores)


class OnnxSession:
    """An ONNX Runtime session over an exported colorizer graph.

    Args:
        model: the serialized graph, or the path of an ``.onnx`` file.
        signature: the graph's inputs and outputs (:func:`tinct.export.graph_signature`).
        threads: intra-op threads; None uses :func:`default_threads`.

    Raises:
        MissingPackageError: onnxruntime is not installed.
    """

    def __init__(
        self, model: bytes | Path, signature: GraphSignature, threads: int | None = None
    ) -> None:
        ort = import_optional("onnxruntime", "the ONNX backend")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle ORT threads would otherwise spin after each run, taking the cores from the
        # PyTorch code that resizes and recombines right after it (and from other processes).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        source = model if isinstance(model, bytes) else str(model)
        self.session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
        self.signature = signature
        self.threads = options.intra_op_num_threads

    def run(
        self, inputs: tuple[Tensor, ...], outputs: tuple[str, ...] | None = None
    ) -> list[Tensor]:
        """Run the graph on ``(lightness[, hints][, temperature])`` tensors; output tensors in the
        order of ``outputs`` (default: all of the signature's)."""
        names = list(outputs or self.signature.outputs)
        feed = {
            name: np.ascontiguousarray(value.detach().cpu().float().numpy())
            for name, value in zip(self.signature.inputs, inputs, strict=True)
        }
        return [torch.from_numpy(array) for array in self.session.run(names, feed)]

    def predict(
        self,
        lightness: Tensor,
        hints: Tensor | None,
        temperature: float,
        decode: bool,
        features: tuple[Tensor, ...] | None = None,
    ) -> Tensor:
        """``ab`` ``(B, 2, h, w)`` decoded in the graph at ``temperature`` > 0 (``decode``), or
        the model's raw output, for lightness ``(B, 1, H, W)`` and an optional hint map; a
        decoder graph (:mod:`tinct.export.onnx_split`) is given ``features``, the encoder
        graph's outputs for ``lightness``, instead of it."""
        inputs: list[Tensor] = [lightness] if features is None else list(features)
        if self.signature.takes_hints:
            if hints is None:
                batch, _, height, width = lightness.shape
                hints = lightness.new_zeros(batch, HINT_CHANNELS, height, width)
            inputs.append(hints)
        elif hints is not None:
            raise ValueError("this model takes no hints; pass hints=None")
        if INPUT_TEMPERATURE in self.signature.inputs:
            inputs.append(torch.tensor(float(temperature) if decode else 1.0))
        (result,) = self.run(tuple(inputs), (OUTPUT_AB if decode else OUTPUT_LOGITS,))
        return result
