"""tinct's own weight files: safetensors whose metadata says ``format: tinct-weights/1``.

Every network tinct trains is exported in this format (``tinct train``'s ``model.safetensors``,
the propagation refiner); the metadata names the model and carries the recipe it was trained
with, and may add settings the architecture needs to be rebuilt (the refiner's ``width`` and
``scale``). Values in the metadata are strings, as safetensors requires.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from safetensors import SafetensorError, safe_open
from torch import Tensor

from tinct.weights.verify import WeightsError

TINCT_WEIGHTS_FORMAT = "tinct-weights/1"


@dataclass(frozen=True)
class TinctWeights:
    """The tensors and metadata of a tinct weight file (``metadata["model"]``: whose)."""

    tensors: dict[str, Tensor]
    metadata: dict[str, str]


def read_tinct_weights(path: str | Path, model_name: str | None = None) -> TinctWeights:
    """Tensors and metadata of the tinct weight file ``path``.

    Args:
        model_name: the model the file must hold weights of; None accepts any.

    Raises:
        WeightsError: the file is missing or not readable safetensors, is not in the
            ``tinct-weights/1`` format, or holds weights of another model than ``model_name``.
    """
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    except (SafetensorError, OSError) as error:
        raise WeightsError(f"{path}: not a readable safetensors file ({error})") from error
    if metadata.get("format") != TINCT_WEIGHTS_FORMAT:
        raise WeightsError(f"{path}: not a tinct weights file (format {metadata.get('format')!r})")
    if model_name is not None and metadata.get("model") != model_name:
        raise WeightsError(
            f"{path}: holds weights of {metadata.get('model')!r}, not of {model_name!r}"
        )
    return TinctWeights(tensors, metadata)
