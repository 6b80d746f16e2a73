"""Which trainer a recipe file asks for: one entry point, ``tinct train RECIPE``, for every model.

- ``model = "propagation-refiner"``: the video core's propagation refiner
  (:class:`tinct.training.refiner_trainer.RefinerTrainer`, e.g.
  ``recipes/video/propagation-refiner.toml``);
- a ``[clips]`` section: a recurrent colorizer trained on video clips
  (:class:`tinct.training.clip_trainer.ClipTrainer`, e.g.
  ``recipes/video/tinct-lite-recurrent.toml``);
- otherwise: a registered colorizer trained on photos (:class:`tinct.training.loop.Trainer`).

All of them write the same files into the run folder (``checkpoint.pt``, ``recipe.json``,
``metrics.json``, ``metrics.csv``, ``model.safetensors``) and resume from its checkpoint.
"""

from __future__ import annotations

from pathlib import Path

from tinct.models.temporal.propagation_refiner import REFINER_MODEL_NAME
from tinct.training.recipe import build_section, read_recipe_values, recipe_from_dict
from tinct.training.resumable import ResumableTrainer


def build_trainer(
    recipe_path: Path,
    overrides: list[str],
    out_dir: Path,
    cache_dir: Path | None = None,
    show_progress: bool = True,
) -> ResumableTrainer:
    """The trainer of a recipe file (see the module docstring), ready to :meth:`run`.

    Args:
        recipe_path: a TOML recipe.
        overrides: ``section.key=value`` overrides (:func:`tinct.training.recipe.apply_overrides`).
        out_dir: the run folder.
        cache_dir: where video recipes keep decoded DAVIS sequences and the refiner's computed
            examples (None: not kept); photo recipes do not use it.
        show_progress: a progress bar on stderr.

    Raises:
        ValueError: the recipe cannot be read or has unknown or bad keys (naming the file).
    """
    values = read_recipe_values(recipe_path, overrides)
    where = str(recipe_path)
    if values.get("model") == REFINER_MODEL_NAME:
        from tinct.training.refiner_trainer import RefinerTrainer, refiner_recipe_from_dict

        recipe = refiner_recipe_from_dict(values, where)
        return RefinerTrainer(recipe, out_dir, cache_dir, show_progress)
    if "clips" in values:
        from tinct.training.clip_trainer import ClipConfig, ClipTrainer

        clips = build_section(ClipConfig, values.pop("clips"), f"{where} [clips]")
        return ClipTrainer(
            recipe_from_dict(values, where), out_dir, clips, cache_dir, show_progress
        )
    from tinct.training.loop import Trainer

    return Trainer(recipe_from_dict(values, where), out_dir, show_progress)
