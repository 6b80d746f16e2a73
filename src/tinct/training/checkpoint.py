"""Self-describing, atomically written training checkpoints, and the exported weights."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tinct.errors import FileProblem
from tinct.io.atomic import atomic_write
from tinct.weights.tinct_file import write_tinct_weights

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
    """Final weights as a tinct weight file, with the model name and recipe in the metadata."""
    json.loads(recipe_json)  # refuse to write metadata that is not JSON
    write_tinct_weights(path, model.state_dict(), model_name, {"recipe": recipe_json})
