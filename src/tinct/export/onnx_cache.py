"""Exported ONNX graphs kept in the cache, keyed by what determines their content.

A graph depends on the weights (their sha256), the architecture (model name), the code that
traced it (tinct version, and :data:`GRAPH_LAYOUT` for the inputs/outputs the wrapper has) and
the opset. A model that encodes once also has its encoder and decoder graphs
(:mod:`tinct.export.onnx_split`), cached beside it under the same key with the part's name. Files
live in ``onnx/`` under :func:`tinct.weights.store.cache_dir`
(``TINCT_CACHE_DIR`` when set) and are written atomically, so concurrent first runs are safe.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

from torch import Tensor, nn

import tinct
from tinct.export.onnx_export import (
    DEFAULT_TOLERANCE,
    ParityReport,
    check_opset,
    check_parity,
    compare_with_torch,
    export_onnx_bytes,
    graph_signature,
)
from tinct.export.onnx_split import (
    DECODER,
    ENCODER,
    compare_split_with_torch,
    encoding_parts,
    export_split_onnx_bytes,
    split_signatures,
)
from tinct.io.atomic import atomic_write
from tinct.models.registry import ModelSpec
from tinct.weights.store import cache_dir

log = logging.getLogger(__name__)

GRAPH_LAYOUT = 4  # bump when ExportedColorizer's inputs, outputs or graph change
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def onnx_cache_key(
    model_name: str, weights_sha256: str, opset: int, version: str, part: str = ""
) -> str:
    """File name of the graph for these weights, model, tinct version and opset.

    Args:
        model_name: registered model name.
        weights_sha256: full hex sha256 of the weights (of the state dict for untrained models).
        opset: ONNX opset of the graph.
        version: tinct version that exported it.
        part: ``""`` for the whole model, ``"encoder"`` or ``"decoder"`` for the two graphs of
            a model that encodes once (:mod:`tinct.export.onnx_split`).

    Raises:
        ValueError: ``weights_sha256`` is not a 64-digit lowercase hex digest.
    """
    if not _HEX_DIGEST.fullmatch(weights_sha256):
        raise ValueError(f"weights_sha256 must be 64 lowercase hex digits, got {weights_sha256!r}")
    check_opset(opset)
    name = _SAFE_NAME.sub("_", model_name)
    release = _SAFE_NAME.sub("_", version)
    part = f"-{_SAFE_NAME.sub('_', part)}" if part else ""
    return (
        f"{name}-{weights_sha256[:16]}-tinct{release}-layout{GRAPH_LAYOUT}{part}-opset{opset}.onnx"
    )


def onnx_cache_dir() -> Path:
    """Folder of cached ONNX graphs."""
    return cache_dir() / "onnx"


def verified_onnx_bytes(
    model: nn.Module,
    spec: ModelSpec,
    bins: Tensor | None,
    opset: int,
    tolerance: float = DEFAULT_TOLERANCE,
) -> tuple[bytes, ParityReport]:
    """Export ``model`` and check the graph with ONNX Runtime against PyTorch.

    Raises:
        MissingPackageError: onnxruntime (needed for the check) is not installed.
        ExportError: export failed, or the logits differ by more than ``tolerance``.
    """
    from tinct.export.onnx_runtime import OnnxSession

    graph = export_onnx_bytes(model, spec, bins, opset)
    session = OnnxSession(graph, graph_signature(spec))
    report = compare_with_torch(session.run, model, spec, bins)
    check_parity(report, spec.name, tolerance)
    return graph, report


def cached_onnx_graph(
    model: nn.Module,
    spec: ModelSpec,
    bins: Tensor | None,
    weights_sha256: str,
    opset: int,
    refresh: bool = False,
) -> Path:
    """Path of the cached graph of ``model``, exported and checked on first use.

    Args:
        refresh: export again even when a cached file exists (a damaged cache file).
    """

    def export() -> tuple[bytes]:
        graph, _ = verified_onnx_bytes(model, spec, bins, opset)
        return (graph,)

    (path,) = _cached_graphs(spec.name, weights_sha256, opset, ("",), export, refresh)
    return path


def _cached_graphs(
    model_name: str,
    weights_sha256: str,
    opset: int,
    parts: tuple[str, ...],
    export: Callable[[], tuple[bytes, ...]],
    refresh: bool,
) -> tuple[Path, ...]:
    """Cache paths of the graphs ``parts`` of a model (``""``: the whole model; see
    :func:`onnx_cache_key`), all written from ``export()`` (one graph a part, in order) when
    any is missing or with ``refresh``; atomically, so concurrent first runs are safe."""
    version = tinct.__version__
    paths = tuple(
        onnx_cache_dir() / onnx_cache_key(model_name, weights_sha256, opset, version, part)
        for part in parts
    )
    if all(path.is_file() for path in paths) and not refresh:
        return paths
    whole = parts == ("",)
    what = model_name if whole else f"{model_name}'s {' and '.join(parts)}"
    log.info("exporting %s to ONNX once, into %s", what, paths[0] if whole else onnx_cache_dir())
    for path, graph in zip(paths, export(), strict=True):
        with atomic_write(path, overwrite=True) as out:
            out.write(graph)
    return paths


def verified_split_onnx_bytes(
    model: nn.Module,
    spec: ModelSpec,
    bins: Tensor | None,
    opset: int,
    tolerance: float = DEFAULT_TOLERANCE,
) -> tuple[bytes, bytes, ParityReport]:
    """Export ``model``'s encoder and decoder graphs and check them, chained in ONNX Runtime,
    against the PyTorch model's full forward pass.

    Raises:
        MissingPackageError: onnxruntime (needed for the check) is not installed.
        ExportError: export failed, or the logits differ by more than ``tolerance``.
    """
    from tinct.export.onnx_runtime import OnnxSession

    encoder_graph, decoder_graph = export_split_onnx_bytes(model, spec, bins, opset)
    signatures = split_signatures(spec, encoding_parts(model, spec))
    encoder = OnnxSession(encoder_graph, signatures.encoder)
    decoder = OnnxSession(decoder_graph, signatures.decoder)
    report = compare_split_with_torch(encoder.run, decoder.run, model, spec, bins)
    check_parity(report, f"{spec.name} (encoder and decoder)", tolerance)
    return encoder_graph, decoder_graph, report


def cached_split_graphs(
    model: nn.Module,
    spec: ModelSpec,
    bins: Tensor | None,
    weights_sha256: str,
    opset: int,
    refresh: bool = False,
) -> tuple[Path, Path]:
    """Paths of the cached encoder and decoder graphs of ``model``, both exported and checked
    on first use (or when either is missing, or with ``refresh``)."""

    def export() -> tuple[bytes, bytes]:
        encoder_graph, decoder_graph, _ = verified_split_onnx_bytes(model, spec, bins, opset)
        return encoder_graph, decoder_graph

    parts = (ENCODER, DECODER)
    encoder_path, decoder_path = _cached_graphs(
        spec.name, weights_sha256, opset, parts, export, refresh
    )
    return encoder_path, decoder_path
