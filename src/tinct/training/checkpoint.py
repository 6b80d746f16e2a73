"""Self-describing, atomically written training checkpoints, and the exported weights."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save
from torch import nn

from tinct import __version__
from tinct.errors import FileProblem
from tinct.io.atomic import atomic_write
from tinct.weights.colorizer_weights import TINCT_WEIGHTS_FORMAT

CHECKPOINT_NAME = "checkpoint.pt"
WEIGHTS_NAME = "model.safetensors"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` (tensors, numbers, strings, containers); a kill never leaves half a file."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    with atomic_write(path, overwrite=True) as handle:
        handle.write(buffer.getvalue())


def load_checkpoint(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a damaged file can raise many types
        raise FileProblem(
            path, f"cannot read checkpoint ({type(error).__name__}: {error})"
        ) from error


def export_weights(path: Path, model: nn.Module, model_name: str, recipe_json: str) -> None:
    """Final weights as safetensors, with the model name and recipe in the metadata."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    metadata = {
        "format": TINCT_WEIGHTS_FORMAT,
        "model": model_name,
        "recipe": recipe_json,
        "tinct_version": __version__,
    }
    json.loads(recipe_json)  # refuse to write metadata that is not JSON
    with atomic_write(path, overwrite=True) as handle:
        handle.write(save(tensors, metadata=metadata))
