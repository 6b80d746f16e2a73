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

import functools
import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from tinct.export.onnx_cache import cached_onnx_graph, cached_split_graphs
from tinct.export.onnx_export import DEFAULT_OPSET, graph_signature
from tinct.export.onnx_runtime import OnnxSession
from tinct.export.onnx_split import encoding_parts, split_signatures
from tinct.export.optional import MissingPackageError, require_onnx_packages
from tinct.models import get_model_spec
from tinct.models.registry import encodes_once
from tinct.pipeline.colorizer import Colorizer
from tinct.weights.store import find_weights
from tinct.weights.table import weight_set
from tinct.weights.verify import sha256_of_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SplitSessions:
    """Sessions over the encoder and decoder graphs of a model that encodes once."""

    encoder: OnnxSession
    decoder: OnnxSession


class OnnxBackend:
    """Runs a colorizer's model in ONNX Runtime on the CPU.

    Args:
        session: the ONNX Runtime session over the whole model's graph (see
            :func:`onnx_backend`).
        bin_bias: the ``(Q,)`` logit offsets the graphs add (the colorizer's ``bin_bias``), or
            None.
        open_split: opens the sessions over the encoder and decoder graphs, for a model that
            encodes once (called on the first :meth:`encode`, since a run over whole images
            never needs them); None: the model runs only whole.
    """

    def __init__(
        self,
        session: OnnxSession,
        bin_bias: Tensor | None = None,
        open_split: Callable[[], SplitSessions] | None = None,
    ) -> None:
        self.session = session
        self.bin_bias = bin_bias
        self._open_split = open_split
        self._split: SplitSessions | None = None
        self._lock = threading.Lock()  # server threads may encode their first image together

    def split_sessions(self) -> SplitSessions | None:
        """The encoder and decoder sessions (exported and opened on first use), or None."""
        if self._open_split is None:
            return None
        with self._lock:
            if self._split is None:
                self._split = self._open_split()
            return self._split

    def encode(self, small: Tensor) -> tuple[Tensor, ...] | None:
        """The encoder graph's outputs for ``small``; None for a model that runs only whole."""
        split = self.split_sessions()
        return None if split is None else tuple(split.encoder.run((small,)))

    def _session(self, features: tuple[Tensor, ...] | None) -> OnnxSession:
        if features is None:
            return self.session
        split = self.split_sessions()
        if split is None:
            raise ValueError("this model runs only whole in ONNX Runtime; pass features=None")
        return split.decoder

    def logits(
        self, small: Tensor, small_hints: Tensor | None, features: tuple[Tensor, ...] | None = None
    ) -> Tensor:
        """As :meth:`Colorizer.run_model`, computed by ONNX Runtime (whose graph holds the
        logit offsets, taken out again here)."""
        session = self._session(features)
        logits = session.predict(small, small_hints, 1.0, decode=False, features=features)
        if self.bin_bias is None:
            return logits
        return logits - self.bin_bias.to(logits).view(1, -1, 1, 1)

    def decoded_ab(
        self,
        small: Tensor,
        small_hints: Tensor | None,
        temperature: float,
        features: tuple[Tensor, ...] | None = None,
    ) -> Tensor | None:
        """The annealed mean (T > 0) decoded in the graph, logit offsets included; None where
        the graph does not decode (other output kinds, T = 0)."""
        session = self._session(features)
        if session.signature.decodes_ab and temperature > 0:
            return session.predict(small, small_hints, temperature, decode=True, features=features)
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


class OffsetSplitLogits(OffsetLogits):
    """:class:`OffsetLogits` of a model that encodes once, keeping its encode/decode split."""

    def encode(self, lightness: Tensor) -> tuple[Tensor, ...]:
        return self.model.encode(lightness)  # type: ignore[operator]

    def decode(self, encoding: tuple[Tensor, ...], hints: Tensor | None = None) -> Tensor:
        logits = self.model.decode(encoding, hints)  # type: ignore[operator]
        offsets: Tensor = self.offsets  # type: ignore[assignment]
        return logits + offsets.view(1, -1, 1, 1)


def graph_model(colorizer: Colorizer, digest: str) -> tuple[nn.Module, str]:
    """The module to export for ``colorizer`` and the digest that identifies it."""
    if colorizer.bin_bias is None:
        return colorizer.model, digest
    offsets = colorizer.bin_bias.detach().cpu().float().contiguous()
    combined = hashlib.sha256(digest.encode() + offsets.numpy().tobytes()).hexdigest()
    wrapper = OffsetSplitLogits if encodes_once(colorizer.model) else OffsetLogits
    return wrapper(colorizer.model, offsets).eval(), combined


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


def _open_split_sessions(colorizer: Colorizer, digest: str, opset: int) -> SplitSessions:
    """Sessions over the cached encoder and decoder graphs (exported again when unreadable)."""
    spec = get_model_spec(colorizer.name)
    model, digest = graph_model(colorizer, digest)
    signatures = split_signatures(spec, encoding_parts(model, spec))
    bins = colorizer.bins.cpu()
    paths = cached_split_graphs(model, spec, bins, digest, opset)
    try:
        return SplitSessions(
            OnnxSession(paths[0], signatures.encoder), OnnxSession(paths[1], signatures.decoder)
        )
    except MissingPackageError:
        raise
    except Exception as error:  # onnxruntime raises its own types for a damaged file
        log.warning("%s: unreadable (%s); exporting again", paths, error)
        paths = cached_split_graphs(model, spec, bins, digest, opset, refresh=True)
        return SplitSessions(
            OnnxSession(paths[0], signatures.encoder), OnnxSession(paths[1], signatures.decoder)
        )


def onnx_backend(
    colorizer: Colorizer, weights: str | Path | None, opset: int = DEFAULT_OPSET
) -> OnnxBackend:
    """The ONNX Runtime backend for ``colorizer`` (built by PyTorch, on the CPU), whose weights
    ``weights`` names as :func:`tinct.load` took them.

    The graph is exported, checked against PyTorch and cached on first use; later calls read
    it from the cache (key: weights sha256, model name, tinct version, opset). For a model that
    encodes once, the encoder and decoder graphs are too, when the first image is encoded.

    Raises:
        MissingPackageError: onnxruntime or onnx is not installed.
        tinct.export.onnx_export.ExportError: the export failed or disagrees with PyTorch.
    """
    digest = weights_sha256(colorizer.name, weights, colorizer.model)
    session = _open_session(colorizer, digest, opset)
    open_split = None
    if encodes_once(colorizer.model):
        open_split = functools.partial(_open_split_sessions, colorizer, digest, opset)
    return OnnxBackend(session, colorizer.bin_bias, open_split)
