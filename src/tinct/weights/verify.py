"""Verification of weight files: full sha256, and strict loading that names what does not fit."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from torch import Tensor, nn

from tinct.errors import TinctError


class WeightsError(TinctError):
    """Pretrained weights are missing, have the wrong hash, or do not fit the model."""


def sha256_of_file(path: str | Path) -> str:
    """Full sha256 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _first_few(items: list[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown}, ... ({len(items) - limit} more)"


def load_state_dict_exact(model: nn.Module, state_dict: Mapping[str, Tensor], source: str) -> None:
    """Load weights strictly, naming every missing, unexpected or misshapen key on failure.

    Args:
        model: Module to fill in place.
        state_dict: Tensors keyed like ``model.state_dict()``.
        source: What the weights came from (a file path), quoted in the error.

    Raises:
        WeightsError: The key sets or any shape differ.
    """
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    misshapen = sorted(
        f"{k}: file {tuple(state_dict[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state_dict and state_dict[k].shape != v.shape
    )
    problems = [
        f"{label} ({len(keys)}): {_first_few(keys)}"
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("shape", misshapen))
        if keys
    ]
    if problems:
        raise WeightsError(f"{source}: weights do not fit the model; " + "; ".join(problems))
    model.load_state_dict(state_dict, strict=True)
