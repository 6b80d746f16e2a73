"""The video networks train with ``tinct train`` like every other model, to the same weights,
bit for bit, as their former entry points (``python -m tinct.training.clip_refiner`` and
``python -m tinct.training.clip_train``) on the same seed and data order.

Each test trains a tiny recipe for a few steps both ways (the former code in this process, the
new one through the ``tinct`` command) and compares every exported tensor exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tinct.models.temporal.propagation_refiner import RefinerConfig, load_propagation_refiner
from tinct.weights.tinct_file import read_tinct_weights

from .helpers.cli import tinct
from .helpers.training import make_smooth_photos
from .helpers.video import make_clip

pytestmark = pytest.mark.slow  # a few seconds of training each way

# what every run folder holds, whatever it trains
RUN_FILES = ["checkpoint.pt", "metrics.csv", "metrics.json", "model.safetensors", "recipe.json"]


def _tensors(path: Path) -> dict[str, torch.Tensor]:
    return read_tinct_weights(path).tensors


def _assert_same_tensors(new: Path, old: Path) -> None:
    new_tensors, old_tensors = _tensors(new), _tensors(old)
    assert new_tensors.keys() == old_tensors.keys()
    different = [k for k, v in new_tensors.items() if not torch.equal(v, old_tensors[k])]
    assert different == []


def _train(recipe: Path, out: Path, cache: Path) -> None:
    result = tinct("train", recipe, "--out", out, "--cache-dir", cache)
    assert result.returncode == 0, result.stderr


# -- the propagation refiner ---------------------------------------------------------------------

REFINER_RECIPE = """
model = "propagation-refiner"

[model_config]
width = 4
scale = 2

[data]
davis_dir = "{davis}"
photo_dirs = ["{photos}"]
davis_clips = 1
synthetic_clips = 2
frames = 3
synthetic_size = 48
still_keyframe_fraction = 0.5
val_clips = 1

[optim]
lr = 2e-3
batch_size = 3
steps = 6
steps_per_epoch = 3
crop = 32
huber_delta = 2.0
chroma_weight = 0.5

[run]
seed = 3
checkpoint_every = 2
device = "cpu"
"""


def _refiner_data(root: Path) -> dict[str, Path]:
    davis = root / "davis"
    make_clip(davis / "drift.mp4", frames=5, size=(64, 48))
    return {"davis": davis, "photos": make_smooth_photos(root / "photos", count=4)}


def _old_refiner_run(data: dict[str, Path], out: Path) -> Path:
    """The former ``python -m tinct.training.clip_refiner`` on the same tiny recipe."""
    from tinct.training.clip_refiner import (
        RefinerData,
        RefinerOptim,
        RefinerRecipe,
        train_refiner,
    )

    recipe = RefinerRecipe(
        width=4,
        scale=2,
        seed=3,
        data=RefinerData(
            davis_dir=str(data["davis"]),
            photo_dirs=(str(data["photos"]),),
            davis_clips=1,
            synthetic_clips=2,
            frames=3,
            synthetic_size=48,
            still_keyframe_fraction=0.5,
        ),
        optim=RefinerOptim(
            lr=2e-3,
            batch_size=3,
            steps=6,
            crop=32,
            huber_delta=2.0,
            chroma_weight=0.5,
            checkpoint_every=2,
        ),
    )
    train_refiner(recipe, out, out / "cache")
    return out / "propagation-refiner.safetensors"


def test_tinct_train_trains_the_refiner_to_the_former_weights(tmp_path: Path) -> None:
    data = _refiner_data(tmp_path)
    recipe = tmp_path / "refiner.toml"
    recipe.write_text(REFINER_RECIPE.format(**data))
    _train(recipe, tmp_path / "new", tmp_path / "cache")
    _assert_same_tensors(
        tmp_path / "new" / "model.safetensors", _old_refiner_run(data, tmp_path / "old")
    )
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == RUN_FILES
    history = json.loads((tmp_path / "new" / "metrics.json").read_text())
    assert [record["step"] for record in history] == [3, 6]
    assert all(record["val_loss"] > 0 for record in history)
    refiner = load_propagation_refiner(tmp_path / "new" / "model.safetensors")
    assert refiner is not None and refiner.config == RefinerConfig(width=4, scale=2)


def test_refiner_training_resumes_bit_exactly(tmp_path: Path) -> None:
    from tinct.training.trainers import build_trainer

    recipe = tmp_path / "refiner.toml"
    recipe.write_text(REFINER_RECIPE.format(**_refiner_data(tmp_path)))

    def trainer(out: str):
        return build_trainer(recipe, [], tmp_path / out, tmp_path / "cache", show_progress=False)

    whole = trainer("whole")
    whole.run()
    trainer("paused").run(stop_after_steps=4)  # mid-epoch, past a checkpoint
    resumed = trainer("paused")
    resumed.run()
    assert resumed.progress.step == 6
    expected = whole.model.state_dict()
    assert all(torch.equal(v, expected[k]) for k, v in resumed.model.state_dict().items())
    measured = ("step", "train_loss", "val_loss", "lr")  # not the clock's figures
    assert [[r[k] for k in measured] for r in resumed.progress.history] == [
        [r[k] for k in measured] for r in whole.progress.history
    ]


def test_a_bad_refiner_recipe_is_refused_naming_the_key(tmp_path: Path) -> None:
    recipe = tmp_path / "refiner.toml"
    recipe.write_text('model = "propagation-refiner"\n[optim]\nstep = 10\n')
    result = tinct("train", recipe, "--out", tmp_path / "run")
    assert result.returncode != 0 and "[optim]" in result.stderr and "'step'" in result.stderr
    recipe.write_text('model = "propagation-refiner"\n[run]\ninit_weights = "x"\n')
    result = tinct("train", recipe, "--out", tmp_path / "run")
    assert result.returncode != 0 and "init_weights" in result.stderr


# -- the recurrent colorizer ---------------------------------------------------------------------

CLIP_RECIPE = """
model = "tinct-lite-recurrent_tiny"

[data]
train_dirs = ["{photos}", "{davis}"]
crop_size = 32
val_fraction = 0.25

[loss]
rebalance = false
hints = false

[optim]
lr = 3e-3
encoder_lr_scale = 0.0
batch_size = 2
max_steps = 3
warmup_steps = 1

[run]
seed = 5
checkpoint_every = 2
device = "cpu"

[clips]
frames = 3
davis_fraction = 0.5
clips_per_epoch = 8
val_clips = 2
recurrent_lr_scale = 10.0
"""


def _old_clip_run(data: dict[str, Path], out: Path) -> Path:
    """The former ``python -m tinct.training.clip_train`` on the same tiny recipe."""
    from tinct.training.clip_train import ClipSettings, ClipTrainer
    from tinct.training.recipe import recipe_from_dict

    recipe = recipe_from_dict(
        {
            "model": "tinct-lite-recurrent_tiny",
            "data": {
                "train_dirs": [str(data["photos"]), str(data["davis"])],
                "crop_size": 32,
                "val_fraction": 0.25,
            },
            "loss": {"rebalance": False, "hints": False},
            "optim": {
                "lr": 3e-3,
                "encoder_lr_scale": 0.0,
                "batch_size": 2,
                "max_steps": 3,
                "warmup_steps": 1,
            },
            "run": {"seed": 5, "checkpoint_every": 2, "device": "cpu"},
        }
    )
    settings = ClipSettings(frames=3, clips_per_epoch=8, val_clips=2)
    ClipTrainer(recipe, out, settings, cache_dir=out / "cache", show_progress=False).run()
    return out / "model.safetensors"


def test_tinct_train_trains_the_recurrent_colorizer_to_the_former_weights(
    tmp_path: Path,
) -> None:
    data = _refiner_data(tmp_path)
    recipe = tmp_path / "recurrent.toml"
    recipe.write_text(CLIP_RECIPE.format(**data))
    _train(recipe, tmp_path / "new", tmp_path / "cache")
    _assert_same_tensors(
        tmp_path / "new" / "model.safetensors", _old_clip_run(data, tmp_path / "old")
    )
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == RUN_FILES
