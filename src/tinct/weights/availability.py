"""Where a model's trained weights come from, in one line for ``tinct models``.

A model has weights shipped in the package (its default set in the weight table), published
weights to download (the official ECCV16 release), or none yet: then the line says how to train
them and what the 30-minute CPU budget run scored (:mod:`tinct.weights.budget_runs`).
"""

from __future__ import annotations

from tinct.weights.budget_runs import budget_run_summary
from tinct.weights.table import default_weights_for, published_weights_for

RECIPE_FOLDERS = {"tinct-lite-recurrent": "recipes/video"}  # else recipes/


def training_recipe(model: str) -> str:
    """The repository path of the recipe that trains ``model`` at full size."""
    return f"{RECIPE_FOLDERS.get(model, 'recipes')}/{model}.toml"


def weights_status(model: str) -> str:
    """One line: the weights ``model`` uses by default, or how to get or train them."""
    default = default_weights_for(model)
    if default is not None:
        where = "shipped in the package" if default.urls == () else "downloaded on first use"
        return f"trained weights {default.name}, {where}"
    published = published_weights_for(model)
    lines = []
    if published is not None:
        lines.append(f"not shipped; the published weights: {published.how_to_get()}")
    else:
        lines.append("no trained weights shipped (its colours are untrained)")
    lines.append(f"train: tinct train {training_recipe(model)} (in the tinct repository)")
    budget = budget_run_summary(model)
    if budget:
        lines.append(budget)
    return "; ".join(lines)
