"""The ONNX Runtime backend of the still colorizer: a model backend of the pipeline
(:class:`~tinct.pipeline.colorizer.ModelBackend`).

``tinct.load(name, backend="onnx")`` builds the PyTorch colorizer and gives it an
:class:`OnnxBackend` (:func:`onnx_backend`): the model (and, for ``ab_bins`` models, the
annealed-mean decoding) then runs in ONNX Runtime from a graph exported once into the cache
(:mod:`tinct.export.onnx_cache`); resizing to the working resolution, hint handling and
recombination with the full-resolution lightness stay the colorizer's own code, so the two
backends give the same pictures up to float rounding. This module never imports
:mod:`tinct.api`.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from tinct.export.onnx_cache import cached_onnx_graph
from tinct.export.onnx_export import DEFAULT_OPSET, graph_signature
from tinct.export.onnx_runtime import OnnxSession
from tinct.export.optional import MissingPackageError, require_onnx_packages
from tinct.models import get_model_spec
from tinct.pipeline.colorizer import Colorizer
from tinct.weights.store import find_weights
from tinct.weights.table import weight_set
from tinct.weights.verify import sha256_of_file

log = logging.getLogger(__name__)


@dataclass
class OnnxBackend:
    """Runs a colorizer's model in ONNX Runtime on the CPU.

    Attributes:
        session: the ONNX Runtime session over the exported graph (see :func:`onnx_backend`).
        bin_bias: the ``(Q,)`` logit offsets the graph adds (the colorizer's ``bin_bias``), or
            None.
    """

    session: OnnxSession
    bin_bias: Tensor | None = None

    def logits(self, small: Tensor, small_hints: Tensor | None) -> Tensor:
        """As :meth:`Colorizer.run_model`, computed by ONNX Runtime (whose graph holds the
        logit offsets, taken out again here)."""
        logits = self.session.predict(small, small_hints, 1.0, decode=False)
        if self.bin_bias is None:
            return logits
        return logits - self.bin_bias.to(logits).view(1, -1, 1, 1)

    def decoded_ab(
        self, small: Tensor, small_hints: Tensor | None, temperature: float
    ) -> Tensor | None:
        """The annealed mean (T > 0) decoded in the graph, logit offsets included; None where
        the graph does not decode (other output kinds, T = 0)."""
        if self.session.signature.decodes_ab and temperature > 0:
            return self.session.predict(small, small_hints, temperature, decode=True)
        return None


def check_onnx_backend(device: str | torch.device) -> None:
    """Fail before anything is loaded when the ONNX backend cannot serve.

    Raises:
        ValueError: a device other than the CPU.
        MissingPackageError: onnxruntime or onnx is not installed (the message says how to
            get it).
    """
    if torch.device(device).type != "cpu":
        raise ValueError(f"the onnx backend runs on the CPU, got device {device!r}; use torch")
    require_onnx_packages("the ONNX backend")


class OffsetLogits(nn.Module):
    """A model whose logits get fixed per-bin offsets, so that the graph decodes them."""

    def __init__(self, model: nn.Module, offsets: Tensor) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("offsets", offsets.detach().float().clone())

    def forward(self, *inputs: Tensor | None) -> Tensor:
        return self.model(*inputs) + self.offsets.view(1, -1, 1, 1)


def graph_model(colorizer: Colorizer, digest: str) -> tuple[nn.Module, str]:
    """The module to export for ``colorizer`` and the digest that identifies it."""
    if colorizer.bin_bias is None:
        return colorizer.model, digest
    offsets = colorizer.bin_bias.detach().cpu().float().contiguous()
    combined = hashlib.sha256(digest.encode() + offsets.numpy().tobytes()).hexdigest()
    return OffsetLogits(colorizer.model, offsets).eval(), combined


def state_dict_sha256(model: nn.Module) -> str:
    """sha256 over a model's state dict (names, dtypes, shapes and values, in key order)."""
    digest = hashlib.sha256()
    for key, tensor in sorted(model.state_dict().items()):
        value = tensor.detach().cpu().contiguous()
        digest.update(f"{key}:{value.dtype}:{tuple(value.shape)};".encode())
        digest.update(value.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def weights_sha256(name: str, weights: str | Path | None, model: nn.Module) -> str:
    """sha256 identifying the weights of ``model``: of the weight set named (``weights``, else
    ``name``'s default), of the file given, or (untrained models, no file) of the state dict."""
    entry = weight_set(name, weights)
    if entry is None and weights is not None:
        return sha256_of_file(weights)
    if entry is None:
        return state_dict_sha256(model)
    if entry.sha256_is_prefix:
        return sha256_of_file(find_weights(entry.name))
    return entry.sha256


def _open_session(colorizer: Colorizer, digest: str, opset: int) -> OnnxSession:
    """Session over the cached graph; a cached file ONNX Runtime cannot load is exported again."""
    spec = get_model_spec(colorizer.name)
    signature = graph_signature(spec)
    bins = colorizer.bins.cpu()
    model, digest = graph_model(colorizer, digest)
    path = cached_onnx_graph(model, spec, bins, digest, opset)
    try:
        return OnnxSession(path, signature)
    except MissingPackageError:
        raise
    except Exception as error:  # onnxruntime raises its own types for a damaged file
        log.warning("%s: unreadable (%s); exporting again", path, error)
        path = cached_onnx_graph(model, spec, bins, digest, opset, refresh=True)
        return OnnxSession(path, signature)


def onnx_backend(
    colorizer: Colorizer, weights: str | Path | None, opset: int = DEFAULT_OPSET
) -> OnnxBackend:
    """The ONNX Runtime backend for ``colorizer`` (built by PyTorch, on the CPU), whose weights
    ``weights`` names as :func:`tinct.load` took them.

    The graph is exported, checked against PyTorch and cached on first use; later calls read
    it from the cache (key: weights sha256, model name, tinct version, opset).

    Raises:
        MissingPackageError: onnxruntime or onnx is not installed.
        tinct.export.onnx_export.ExportError: the export failed or disagrees with PyTorch.
    """
    digest = weights_sha256(colorizer.name, weights, colorizer.model)
    return OnnxBackend(_open_session(colorizer, digest, opset), colorizer.bin_bias)
