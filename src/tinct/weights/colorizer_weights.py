"""Load trained colorization weights into a registered model, strictly and verified.

Accepted files: tinct's own exports (safetensors whose metadata names the model), and, for
``eccv16``, the official Zhang et al. release (a torch file).
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from tinct.weights.table import published_weights_for
from tinct.weights.tinct_file import read_tinct_weights
from tinct.weights.verify import WeightsError, load_state_dict_exact


def _load_tinct_export(model: nn.Module, model_name: str, path: Path) -> None:
    found = read_tinct_weights(path, model_name)
    load_state_dict_exact(model, found.tensors, source=str(path))


def load_colorizer_weights(model: nn.Module, model_name: str, path: Path) -> None:
    """Fill ``model`` (the registered architecture ``model_name``) from the file ``path``.

    Raises:
        WeightsError: missing or unreadable file, weights of another model, keys that do not fit.
    """
    path = Path(path)
    if not path.is_file():
        published = published_weights_for(model_name)
        hint = f"; download {model_name}'s published weights, {published.how_to_get()}"
        raise WeightsError(f"{path}: no such weights file" + (hint if published else ""))
    if path.suffix == ".safetensors":
        _load_tinct_export(model, model_name, path)
    elif model_name == "eccv16":
        from tinct.weights.eccv16_release import load_eccv16_release

        load_eccv16_release(model, path, sha256_prefix=None)
    else:
        raise WeightsError(
            f"{path}: {model_name} weights must be a .safetensors file from tinct train"
        )
