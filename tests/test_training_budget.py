"""The training-time budget (``run.max_train_minutes``): it ends a run as its last step would, and
a resumed run goes on counting from its checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tinct.training.checkpoint import load_checkpoint
from tinct.training.loop import Trainer
from tinct.training.recipe import load_recipe, recipe_from_dict
from tinct.training.resumable import TrainingClock

from .helpers.training import make_image_folder, tiny_recipe

pytestmark = pytest.mark.slow  # training runs: `-m "not slow"` skips them

MINUTES_PER_STEP = 0.5


class ScriptedClock(Trainer):
    """A trainer whose CPU clock advances by exactly MINUTES_PER_STEP per training step."""

    seconds = 0.0

    @classmethod
    def cpu_seconds(cls) -> float:  # type: ignore[override]
        return cls.seconds

    def _train_step(self, batch: object) -> float:
        type(self).seconds += MINUTES_PER_STEP * 60 * torch.get_num_threads()
        return super()._train_step(batch)


def budget_recipe(data: Path, minutes: float) -> dict:
    recipe = tiny_recipe(data, epochs=4)  # 4 steps an epoch, 16 in all
    recipe["run"] = {**recipe["run"], "checkpoint_every": 100, "max_train_minutes": minutes}
    return recipe


def test_the_clock_counts_cpu_minutes_over_the_torch_threads() -> None:
    readings = iter([10.0, 10.0 + 90 * torch.get_num_threads(), 500.0, 500.0 + 60])
    clock = TrainingClock(lambda: next(readings))
    assert clock.lap_minutes() == pytest.approx(1.5)
    clock.restart()  # what ran in between does not count
    assert clock.lap_minutes() == pytest.approx(1.0 / torch.get_num_threads())


def test_a_spent_budget_ends_the_run_as_its_last_step_would(tmp_path: Path) -> None:
    data = make_image_folder(tmp_path / "data")
    recipe = recipe_from_dict(budget_recipe(data, minutes=1.2))
    trainer = ScriptedClock(recipe, tmp_path / "run", show_progress=False)
    history = trainer.run()
    assert trainer.progress.step == 3 < trainer.total_steps  # 1.5 minutes >= 1.2
    assert trainer.progress.out_of_time and trainer.progress.train_minutes == pytest.approx(1.5)
    assert (tmp_path / "run" / "model.safetensors").is_file()  # exported, as at the end
    assert [(row["epoch"], row["step"]) for row in history] == [(1, 3)]  # the cut epoch measured
    assert history[0]["train_minutes"] == pytest.approx(1.5)
    assert json.loads((tmp_path / "run" / "metrics.json").read_text()) == history
    saved = json.loads(load_checkpoint(tmp_path / "run" / "checkpoint.pt")["progress"])
    assert saved["step"] == 3 and saved["out_of_time"]


def test_a_resumed_run_counts_on_from_its_checkpoint(tmp_path: Path) -> None:
    data = make_image_folder(tmp_path / "data")
    recipe = recipe_from_dict(budget_recipe(data, minutes=1.2))
    ScriptedClock(recipe, tmp_path / "run", show_progress=False).run(stop_after_steps=2)
    saved = json.loads(load_checkpoint(tmp_path / "run" / "checkpoint.pt")["progress"])
    assert saved["train_minutes"] == pytest.approx(1.0) and not saved["out_of_time"]
    assert not (tmp_path / "run" / "model.safetensors").exists()
    resumed = ScriptedClock(recipe, tmp_path / "run", show_progress=False)
    resumed.run()
    assert resumed.progress.step == 3  # 1.0 + 0.5 minutes; counting afresh would stop at 5
    assert (tmp_path / "run" / "model.safetensors").is_file()
    again = ScriptedClock(recipe, tmp_path / "run", show_progress=False)
    again.run()  # a finished run trains no further
    assert again.progress.step == 3


def test_the_real_clock_stops_a_run_early(tmp_path: Path) -> None:
    data = make_image_folder(tmp_path / "data")
    recipe = recipe_from_dict(budget_recipe(data, minutes=1e-6))
    trainer = Trainer(recipe, tmp_path / "run", show_progress=False)
    trainer.run()
    assert trainer.progress.step == 1 and trainer.progress.out_of_time
    assert trainer.progress.train_minutes >= 1e-6
    assert (tmp_path / "run" / "model.safetensors").is_file()


def test_a_budget_must_be_positive_and_is_one_recipe_however_written(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text('model = "tinct-lite_tiny"\n[run]\nmax_train_minutes = 0\n')
    with pytest.raises(ValueError, match=r"r.toml \[run\]: max_train_minutes must be a number"):
        load_recipe(path)
    whole = load_recipe(path, ["run.max_train_minutes=30"])
    assert whole.to_json() == load_recipe(path, ["run.max_train_minutes=30.0"]).to_json()
