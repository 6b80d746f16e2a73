"""Load trained colorization weights into a registered model, strictly and verified.

Accepted files: tinct's own exports (safetensors whose metadata names the model), and, for
``eccv16``, the official Zhang et al. release (a torch file).

An export also says which architecture its tensors are of: the recipe in its metadata holds the
``model_config`` the model was built with (``create_model(model, **model_config)``), read by
:func:`declared_model_config`. Files that hold no recipe, or a recipe without ``model_config``
(older exports), declare the registry's defaults.
"""

from __future__ import annotations

import json
from pathlib import Path

from torch import nn

from tinct.weights.table import published_weights_for
from tinct.weights.tinct_file import read_tinct_metadata, read_tinct_weights
from tinct.weights.verify import WeightsError, load_state_dict_exact


def declared_model_config(path: Path, model_name: str) -> dict[str, object]:
    """The ``model_config`` that the weights file ``path`` declares for ``model_name``; empty
    (the registry's defaults) for a file that declares none or is not a tinct export (a
    missing file or the official ECCV16 release: :func:`load_colorizer_weights` judges those).

    Raises:
        WeightsError: the file holds weights of another model, or its recipe is not readable
            or is the recipe of another model.
    """
    path = Path(path)
    if path.suffix != ".safetensors" or not path.is_file():
        return {}
    recipe_text = read_tinct_metadata(path, model_name).get("recipe")
    if recipe_text is None:
        return {}
    try:
        recipe = json.loads(recipe_text)
    except json.JSONDecodeError as error:
        raise WeightsError(f"{path}: the recipe in its metadata is not JSON ({error})") from None
    return _model_config_of(path, recipe, model_name)


def _model_config_of(path: Path, recipe: object, model_name: str) -> dict[str, object]:
    if not isinstance(recipe, dict) or not isinstance(recipe.get("model_config", {}), dict):
        raise WeightsError(f"{path}: the recipe in its metadata has no model_config table")
    if recipe.get("model", model_name) != model_name:
        raise WeightsError(
            f"{path}: holds weights of {model_name!r} but the recipe in its metadata is for "
            f"{recipe['model']!r}; re-export the weights from the run that trained them"
        )
    return dict(recipe.get("model_config", {}))


def describe_declared(config: dict[str, object]) -> str:
    """``model_config {...}``, or the registry's defaults, in words for messages."""
    return f"model_config {config}" if config else "no model_config (the registry's defaults)"


def _load_tinct_export(model: nn.Module, model_name: str, path: Path) -> None:
    found = read_tinct_weights(path, model_name)
    try:
        load_state_dict_exact(model, found.tensors, source=str(path))
    except WeightsError as error:
        declared = describe_declared(declared_model_config(path, model_name))
        raise WeightsError(
            f"{error}. The file declares model {model_name!r} with {declared}: build the model "
            "with that model_config (tinct.load and --weights do; in a training recipe, set "
            "[model_config] to it), or, if the file's recipe is not the one its weights were "
            "trained with, re-export them from that run"
        ) from None


def load_colorizer_weights(model: nn.Module, model_name: str, path: Path) -> None:
    """Fill ``model`` (the registered architecture ``model_name``) from the file ``path``.

    Raises:
        WeightsError: missing or unreadable file, weights of another model, keys that do not fit
            (for a tinct export the message names the architecture the file declares).
    """
    path = Path(path)
    if not path.is_file():
        published = published_weights_for(model_name)
        hint = (
            f"; download {model_name}'s published weights, {published.how_to_get()}"
            if published
            else ""
        )
        raise WeightsError(f"{path}: no such weights file{hint}")
    if path.suffix == ".safetensors":
        _load_tinct_export(model, model_name, path)
    elif model_name == "eccv16":
        from tinct.weights.eccv16_release import load_eccv16_release

        load_eccv16_release(model, path, sha256_prefix=None)
    else:
        raise WeightsError(
            f"{path}: {model_name} weights must be a .safetensors file from tinct train"
        )
