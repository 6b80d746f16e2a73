"""Every recipe in recipes/ parses and names a registered model; defaults are sane."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinct.models import get_model_spec
from tinct.models.temporal.propagation_refiner import REFINER_MODEL_NAME
from tinct.training.clip_trainer import ClipConfig
from tinct.training.recipe import (
    Recipe,
    build_section,
    load_recipe,
    read_recipe_values,
    recipe_from_dict,
)
from tinct.training.refiner_trainer import refiner_recipe_from_dict

from .conftest import PROJECT_ROOT

# recipes/video/ holds the video networks': recurrent colorizers on clips, the refiner
VIDEO_RECIPES = sorted((PROJECT_ROOT / "recipes" / "video").glob("*.toml"))
REFINER_RECIPES = [p for p in VIDEO_RECIPES if read_recipe_values(p)["model"] == REFINER_MODEL_NAME]
RECIPES = sorted((PROJECT_ROOT / "recipes").glob("*.toml")) + [
    p for p in VIDEO_RECIPES if p not in REFINER_RECIPES
]


def colorizer_recipe(path: Path) -> Recipe:
    """The recipe of a colorizer, on photos or (with a ``[clips]`` section) on clips."""
    values = read_recipe_values(path)
    if "clips" in values:
        build_section(ClipConfig, values.pop("clips"), f"{path} [clips]")
    return recipe_from_dict(values, str(path))


def test_there_is_a_recipe_for_every_full_model() -> None:
    from tinct.models import list_models

    full = {name for name in list_models() if not name.endswith("_tiny")}
    assert full <= {path.stem for path in RECIPES}


def test_video_recipes_train_on_clips_and_photo_recipes_on_photos() -> None:
    for path in RECIPES:
        assert ("clips" in read_recipe_values(path)) == (path.parent.name == "video"), path


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_recipe_is_valid(path: Path) -> None:
    from tinct.models import list_models

    recipe = colorizer_recipe(path)
    spec = get_model_spec(recipe.model)
    # named after its model: the longest model name the file name starts with
    named = [m for m in list_models() if path.stem == m or path.stem.startswith(f"{m}-")]
    assert named and max(named, key=len) == recipe.model
    assert recipe.data.train_dirs and all("val" not in d for d in recipe.data.train_dirs)
    assert recipe.data.crop_size % spec.input_multiple == 0
    if recipe.loss.gradient_prior:
        assert spec.output == "ab_bins"


BUDGET_RECIPES = sorted((PROJECT_ROOT / "recipes" / "budget").glob("*.toml"))
BUDGET_MODELS = {"surveillance", "eccv16", "vgg16_regression", "vgg16_bins", "fusion", "guided"}
RECURRENT_PAIR = ("tinct-lite-recurrent", "tinct-lite-recurrent-ablation")  # Xu's experiment
VIDEO_BUDGET_MODELS = {*RECURRENT_PAIR, REFINER_MODEL_NAME}  # and Dubey et al.'s


def test_every_paper_model_has_a_budget_recipe_with_the_same_budget_and_data() -> None:
    recipes = {p.stem: load_recipe(p) for p in BUDGET_RECIPES if p.stem not in VIDEO_BUDGET_MODELS}
    assert set(recipes) == BUDGET_MODELS
    assert {name: r.model for name, r in recipes.items()} == {n: n for n in BUDGET_MODELS}
    assert {r.run.max_train_minutes for r in recipes.values()} == {30.0}
    assert len({(r.data, r.run.seed) for r in recipes.values()}) == 1
    for recipe in recipes.values():
        spec = get_model_spec(recipe.model)
        assert recipe.data.crop_size % spec.input_multiple == 0
        assert recipe.data.workers == 0  # the budget counts the training process's CPU only
        assert recipe.optim.max_steps and recipe.optim.patience is None
        # max_steps, not epochs, ends the schedule (the training set holds over 10,000 photos)
        assert recipe.optim.epochs * 10_000 // recipe.optim.batch_size > recipe.optim.max_steps


def test_the_recurrent_budget_pair_differs_only_in_the_recurrent_layer() -> None:
    folder = PROJECT_ROOT / "recipes" / "budget"
    recurrent, bypassed = (read_recipe_values(folder / f"{n}.toml", []) for n in RECURRENT_PAIR)
    assert recurrent["model_config"] == {"recurrent": True}
    assert bypassed.pop("model_config") == {"recurrent": False}
    recurrent.pop("model_config")
    assert recurrent == bypassed
    assert recurrent["run"]["max_train_minutes"] == 30
    # max_steps, not the epochs, ends the schedule: the first budget pair stopped after one
    # epoch of 400 steps, a tenth of its budget
    optim, clips = recurrent["optim"], recurrent["clips"]
    assert optim["epochs"] * (clips["clips_per_epoch"] // optim["batch_size"]) > optim["max_steps"]


def test_the_refiner_budget_recipe_is_the_shipped_recipe_with_the_budget() -> None:
    budget = read_recipe_values(PROJECT_ROOT / "recipes" / "budget" / "propagation-refiner.toml")
    shipped = read_recipe_values(PROJECT_ROOT / "recipes" / "video" / "propagation-refiner.toml")
    assert budget["run"].pop("max_train_minutes") == 30
    assert budget["optim"].pop("steps") > shipped["optim"].pop("steps")
    assert budget == shipped
    recipe = refiner_recipe_from_dict(
        read_recipe_values(PROJECT_ROOT / "recipes" / "budget" / "propagation-refiner.toml")
    )
    assert recipe.run.max_train_minutes == 30.0
