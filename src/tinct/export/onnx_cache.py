"""Exported ONNX graphs kept in the cache, keyed by what determines their content.

A graph depends on the weights (their sha256), the architecture (model name), the code that
traced it (tinct version, and :data:`GRAPH_LAYOUT` for the inputs/outputs the wrapper has) and
the opset. Files live in ``onnx/`` under :func:`tinct.weights.store.cache_dir`
(``TINCT_CACHE_DIR`` when set) and are written atomically, so concurrent first runs are safe.
"""

from __future__ import annotations

import logging
import re
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
from tinct.io.atomic import atomic_write
from tinct.models.registry import ModelSpec
from tinct.weights.store import cache_dir

log = logging.getLogger(__name__)

GRAPH_LAYOUT = 3  # bump when ExportedColorizer's inputs or outputs change
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def onnx_cache_key(model_name: str, weights_sha256: str, opset: int, version: str) -> str:
    """File name of the graph for these weights, model, tinct version and opset.

    Args:
        model_name: registered model name.
        weights_sha256: full hex sha256 of the weights (of the state dict for untrained models).
        opset: ONNX opset of the graph.
        version: tinct version that exported it.

    Raises:
        ValueError: ``weights_sha256`` is not a 64-digit lowercase hex digest.
    """
    if not _HEX_DIGEST.fullmatch(weights_sha256):
        raise ValueError(f"weights_sha256 must be 64 lowercase hex digits, got {weights_sha256!r}")
    check_opset(opset)
    name = _SAFE_NAME.sub("_", model_name)
    release = _SAFE_NAME.sub("_", version)
    return f"{name}-{weights_sha256[:16]}-tinct{release}-layout{GRAPH_LAYOUT}-opset{opset}.onnx"


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
    path = onnx_cache_dir() / onnx_cache_key(spec.name, weights_sha256, opset, tinct.__version__)
    if path.is_file() and not refresh:
        return path
    log.info("exporting %s to ONNX once, into %s", spec.name, path)
    graph, _ = verified_onnx_bytes(model, spec, bins, opset)
    with atomic_write(path, overwrite=True) as out:
        out.write(graph)
    return path
