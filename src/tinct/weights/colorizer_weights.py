"""Load trained colorization weights into a registered model, strictly and verified.

Accepted files: tinct's own exports (safetensors whose metadata names the model), and, for
``eccv16``, the official Zhang et al. release (a torch file).
"""

from __future__ import annotations

from pathlib import Path

from safetensors import SafetensorError, safe_open
from torch import nn

from tinct.weights.table import published_weights_for
from tinct.weights.verify import WeightsError, load_state_dict_exact

TINCT_WEIGHTS_FORMAT = "tinct-weights/1"


def _load_tinct_export(model: nn.Module, model_name: str, path: Path) -> None:
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    except (SafetensorError, OSError) as error:
        raise WeightsError(f"{path}: not a readable safetensors file ({error})") from error
    if metadata.get("format") != TINCT_WEIGHTS_FORMAT:
        raise WeightsError(f"{path}: not a tinct weights file (format {metadata.get('format')!r})")
    if metadata.get("model") != model_name:
        raise WeightsError(
            f"{path}: holds weights of {metadata.get('model')!r}, not of {model_name!r}"
        )
    load_state_dict_exact(model, tensors, source=str(path))


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
