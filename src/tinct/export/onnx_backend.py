"""The ONNX Runtime backend of the still colorizer: ``load_onnx(name)``.

The model (and, for ``ab_bins`` models, the annealed-mean decoding) runs in ONNX Runtime from a
graph exported once into the cache (:mod:`tinct.export.onnx_cache`); resizing to the working
resolution, hint handling and recombination with the full-resolution lightness are the same
code as the PyTorch backend's, so the two give the same pictures up to float rounding.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, fields
from pathlib import Path

import torch
from torch import Tensor, nn

from tinct.api import PhotoColorizer, load
from tinct.export.onnx_cache import cached_onnx_graph
from tinct.export.onnx_export import DEFAULT_OPSET, graph_signature
from tinct.export.onnx_runtime import OnnxSession
from tinct.export.optional import MissingPackageError, require_onnx_packages
from tinct.models import get_model_spec
from tinct.weights.store import find_weights
from tinct.weights.verify import sha256_of_file

log = logging.getLogger(__name__)


@dataclass
class OnnxColorizer(PhotoColorizer):
    """A :class:`~tinct.api.PhotoColorizer` whose model runs in ONNX Runtime on the CPU.

    Attributes:
        session: the ONNX Runtime session over the exported graph (see :func:`load_onnx`).
        (the others as in :class:`~tinct.pipeline.colorizer.Colorizer`; ``model`` is the PyTorch
        model the graph was exported from.)
    """

    session: OnnxSession | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.session is None:
            raise ValueError("an OnnxColorizer needs an OnnxSession; build it with load_onnx")

    def run_model(self, small: Tensor, small_hints: Tensor | None) -> Tensor:
        """As :meth:`Colorizer.run_model`, computed by ONNX Runtime (whose graph holds the
        logit offsets, taken out again here)."""
        assert self.session is not None  # set in __post_init__
        logits = self.session.predict(small, small_hints, 1.0, decode=False)
        if self.bin_bias is None:
            return logits
        return logits - self.bin_bias.to(logits).view(1, -1, 1, 1)

    def decode_ab(self, small: Tensor, small_hints: Tensor | None) -> Tensor:
        """As :meth:`Colorizer.decode_ab`; the annealed mean (T > 0) is decoded in the graph,
        logit offsets (``bin_bias``) included."""
        assert self.session is not None  # set in __post_init__
        if self.session.signature.decodes_ab and self.temperature > 0:
            return self.session.predict(small, small_hints, self.temperature, decode=True)
        return super().decode_ab(small, small_hints)


class OffsetLogits(nn.Module):
    """A model whose logits get fixed per-bin offsets, so that the graph decodes them."""

    def __init__(self, model: nn.Module, offsets: Tensor) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("offsets", offsets.detach().float().clone())

    def forward(self, *inputs: Tensor | None) -> Tensor:
        return self.model(*inputs) + self.offsets.view(1, -1, 1, 1)


def graph_model(colorizer: PhotoColorizer, digest: str) -> tuple[nn.Module, str]:
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
    from tinct.api import weight_set

    entry = weight_set(name, weights)
    if entry is None and weights is not None:
        return sha256_of_file(weights)
    if entry is None:
        return state_dict_sha256(model)
    if entry.sha256_is_prefix:
        return sha256_of_file(find_weights(entry.name))
    return entry.sha256


def _open_session(colorizer: PhotoColorizer, digest: str, opset: int) -> OnnxSession:
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


def load_onnx(
    name: str = "tinct-lite",
    *,
    weights: str | Path | None = None,
    device: str | torch.device = "cpu",
    temperature: float | None = None,
    working_side: int | None = None,
    opset: int = DEFAULT_OPSET,
    chroma_smoothing: float | None = None,
    colour_boost: float | None = None,
) -> OnnxColorizer:
    """Like :func:`tinct.load`, with the model run by ONNX Runtime (CPU only).

    The graph is exported, checked against PyTorch and cached on first use; later loads read
    it from the cache (key: weights sha256, model name, tinct version, opset).

    Raises:
        MissingPackageError: onnxruntime or onnx is not installed (the message says how to
            get it).
        ValueError: a device other than the CPU, or an unknown model name.
        tinct.export.onnx_export.ExportError: the export failed or disagrees with PyTorch.
    """
    if torch.device(device).type != "cpu":
        raise ValueError(f"the onnx backend runs on the CPU, got device {device!r}; use torch")
    require_onnx_packages("the ONNX backend")  # fail before loading anything
    options: dict[str, object] = {
        "weights": weights,
        "temperature": temperature,
        "chroma_smoothing": chroma_smoothing,
        "colour_boost": colour_boost,
    }
    if working_side is not None:
        options["working_side"] = working_side
    colorizer = load(name, **options)  # type: ignore[arg-type]
    session = _open_session(colorizer, weights_sha256(name, weights, colorizer.model), opset)
    values = {f.name: getattr(colorizer, f.name) for f in fields(colorizer)}
    return OnnxColorizer(**values, session=session)
