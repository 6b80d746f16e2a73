"""Every recipe in recipes/ parses and names a registered model; defaults are sane."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinct.models import get_model_spec
from tinct.training.recipe import load_recipe

from .conftest import PROJECT_ROOT

RECIPES = sorted((PROJECT_ROOT / "recipes").glob("*.toml"))


def test_there_is_a_recipe_for_every_full_model() -> None:
    from tinct.models import list_models

    full = {name for name in list_models() if not name.endswith("_tiny")}
    assert full <= {path.stem for path in RECIPES}


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_recipe_is_valid(path: Path) -> None:
    recipe = load_recipe(path)
    spec = get_model_spec(recipe.model)
    assert path.stem.split("-finetune")[0] == recipe.model
    assert recipe.data.train_dirs and all("val" not in d for d in recipe.data.train_dirs)
    assert recipe.data.crop_size % spec.input_multiple == 0
    if recipe.loss.gradient_prior:
        assert spec.output == "ab_bins"
