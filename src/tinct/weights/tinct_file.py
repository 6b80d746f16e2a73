"""tinct's own weight files: safetensors whose metadata says ``format: tinct-weights/1``.

Every network tinct trains is exported in this format (``tinct train``'s ``model.safetensors``,
the propagation refiner); the metadata names the model, the tinct version that wrote it and the
recipe it was trained with, and may add settings the architecture needs to be rebuilt (the
refiner's ``width`` and ``scale``). Values in the metadata are strings, as safetensors requires.
This module is the one place that writes and reads the format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from safetensors import SafetensorError, safe_open
from safetensors.torch import save
from torch import Tensor

from tinct import __version__
from tinct.io.atomic import atomic_write
from tinct.weights.verify import WeightsError

TINCT_WEIGHTS_FORMAT = "tinct-weights/1"
WRITER_KEYS = ("format", "model", "tinct_version")  # metadata write_tinct_weights sets itself


@dataclass(frozen=True)
class TinctWeights:
    """The tensors and metadata of a tinct weight file (``metadata["model"]``: whose)."""

    tensors: dict[str, Tensor]
    metadata: dict[str, str]

    def metadata_to_pass_on(self) -> dict[str, str]:
        """The metadata other than :data:`WRITER_KEYS` (the recipe, and the like): what a file
        written from these tensors, changed (cast, blended), keeps of this one."""
        return {k: v for k, v in self.metadata.items() if k not in WRITER_KEYS}


def write_tinct_weights(
    path: str | Path,
    state_dict: Mapping[str, Tensor],
    model_name: str,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write ``state_dict`` (e.g. ``model.state_dict()``) as a tinct weight file, atomically (a
    kill never leaves half a file; an existing file is replaced).

    Args:
        model_name: the model the weights are of (``metadata["model"]``).
        metadata: more string entries, e.g. ``recipe`` (JSON); ``format``, ``model`` and
            ``tinct_version`` are set here.
    """
    tensors = {key: value.detach().cpu().contiguous() for key, value in state_dict.items()}
    header = {
        **(metadata or {}),
        "format": TINCT_WEIGHTS_FORMAT,
        "model": model_name,
        "tinct_version": __version__,
    }
    with atomic_write(Path(path), overwrite=True) as handle:
        handle.write(save(tensors, metadata=header))


def read_tinct_weights(path: str | Path, model_name: str | None = None) -> TinctWeights:
    """Tensors and metadata of the tinct weight file ``path``.

    Args:
        model_name: the model the file must hold weights of; None accepts any.

    Raises:
        WeightsError: the file is missing or not readable safetensors, is not in the
            ``tinct-weights/1`` format, or holds weights of another model than ``model_name``.
    """
    return _read(Path(path), model_name, with_tensors=True)


def read_tinct_metadata(path: str | Path, model_name: str | None = None) -> dict[str, str]:
    """The metadata of the tinct weight file ``path``, without reading its tensors; checked and
    raising as :func:`read_tinct_weights`."""
    return _read(Path(path), model_name, with_tensors=False).metadata


def _read(path: Path, model_name: str | None, with_tensors: bool) -> TinctWeights:
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            keys = handle.keys() if with_tensors else []
            tensors = {key: handle.get_tensor(key) for key in keys}
    except (SafetensorError, OSError) as error:
        raise WeightsError(f"{path}: not a readable safetensors file ({error})") from error
    if metadata.get("format") != TINCT_WEIGHTS_FORMAT:
        raise WeightsError(f"{path}: not a tinct weights file (format {metadata.get('format')!r})")
    found = metadata.get("model")
    if model_name is not None and found != model_name:
        raise WeightsError(
            f"{path}: holds weights of {found!r}, not of {model_name!r}; load it as model "
            f"{found!r} (tinct.load({found!r}, weights=...), or --model {found})"
        )
    return TinctWeights(tensors, metadata)
