"""The training loop: recipes, resumable checkpoints (bit-exact), metrics, export, real data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from tinct.training.loop import Trainer
from tinct.training.recipe import load_recipe, recipe_from_dict

from .conftest import SHARED_DATA, require_shared
from .helpers.training import make_image_folder, tiny_recipe

pytestmark = pytest.mark.slow  # training runs: `-m "not slow"` skips them


def test_recipe_errors_name_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('model = "tinct-lite"\n[optim]\nlearning_rate = 1\n')
    with pytest.raises(
        ValueError, match=r"bad.toml \[optim\]: unknown key\(s\) \['learning_rate'\]"
    ):
        load_recipe(path)
    path.write_text("[optim]\nepochs = 1\n")
    with pytest.raises(ValueError, match="missing required key 'model'"):
        load_recipe(path)


def test_an_unknown_precision_is_refused_naming_the_recipe(tmp_path: Path) -> None:
    recipe = tmp_path / "r.toml"
    recipe.write_text('model = "tinct-lite_tiny"\n[run]\nprecision = "fp16"\n')
    with pytest.raises(ValueError, match=r"r.toml \[run\]: precision must be one of"):
        load_recipe(recipe)


def test_overrides_use_toml_values(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text('model = "tinct-lite"\n')
    recipe = load_recipe(
        path, ["optim.epochs=3", "loss.gradient_prior=true", "data.train_dirs=['a','b']"]
    )
    assert recipe.optim.epochs == 3 and recipe.loss.gradient_prior is True
    assert recipe.data.train_dirs == ("a", "b")


def _final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    with safe_open(str(run_dir / "model.safetensors"), framework="pt") as handle:
        return {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118


def test_paused_and_resumed_run_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    data = make_image_folder(tmp_path / "data")
    recipe = recipe_from_dict(tiny_recipe(data))
    Trainer(recipe, tmp_path / "straight", show_progress=False).run()
    Trainer(recipe, tmp_path / "paused", show_progress=False).run(stop_after_steps=3)
    assert not (tmp_path / "paused" / "model.safetensors").exists()  # not done, not exported
    history = Trainer(recipe, tmp_path / "paused", show_progress=False).run()
    straight, resumed = _final_weights(tmp_path / "straight"), _final_weights(tmp_path / "paused")
    assert straight.keys() == resumed.keys()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    assert [row["epoch"] for row in history] == [1, 2]
    assert (
        (tmp_path / "paused" / "metrics.csv")
        .read_text()
        .startswith("epoch,step,train_loss,val_loss")
    )


def test_a_run_killed_mid_training_resumes_to_the_same_weights(tmp_path: Path) -> None:
    data = make_image_folder(tmp_path / "data")
    recipe_path = tmp_path / "tiny.toml"
    recipe_path.write_text(
        f'model = "tinct-lite_tiny"\n[data]\ntrain_dirs = ["{data}"]\ncrop_size = 32\n'
        "val_fraction = 0.25\n[optim]\nbatch_size = 4\nepochs = 3\nwarmup_steps = 1\n"
        "[run]\ncheckpoint_every = 1\n[loss]\nhints = false\n"
    )
    command = [sys.executable, "-m", "tinct", "train", str(recipe_path), "--out"]
    subprocess.run(
        [*command, str(tmp_path / "straight")], check=True, capture_output=True, timeout=600
    )
    victim = subprocess.Popen([*command, str(tmp_path / "killed")], stderr=subprocess.DEVNULL)
    checkpoint = tmp_path / "killed" / "checkpoint.pt"
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and time.monotonic() < deadline and victim.poll() is None:
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert not (tmp_path / "killed" / "model.safetensors").exists()
    subprocess.run(
        [*command, str(tmp_path / "killed")], check=True, capture_output=True, timeout=600
    )
    straight, resumed = _final_weights(tmp_path / "straight"), _final_weights(tmp_path / "killed")
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)


def test_resuming_with_another_recipe_is_refused(tmp_path: Path) -> None:
    data = make_image_folder(tmp_path / "data")
    Trainer(recipe_from_dict(tiny_recipe(data)), tmp_path / "run", show_progress=False).run(
        stop_after_steps=1
    )
    other = recipe_from_dict(tiny_recipe(data, lr=0.5))
    with pytest.raises(Exception, match="different recipe"):
        Trainer(other, tmp_path / "run", show_progress=False).run()


def test_unreadable_training_files_are_skipped_and_reported(tmp_path: Path) -> None:
    data = make_image_folder(tmp_path / "data")
    (data / "sea" / "broken.png").write_bytes(b"not a png")
    trainer = Trainer(recipe_from_dict(tiny_recipe(data)), tmp_path / "run", show_progress=False)
    trainer.run()
    assert any(path.name == "broken.png" for path in trainer.unreadable_files)
    assert (tmp_path / "run" / "model.safetensors").is_file()


def _tiny_models_trainable_offline() -> list[str]:
    from tinct.models import list_models

    return [name for name in list_models() if name.endswith("_tiny")]


@pytest.mark.shared_data
@pytest.mark.parametrize("model", _tiny_models_trainable_offline())
def test_short_cpu_training_on_real_photos_lowers_validation_loss(
    model: str, tmp_path: Path
) -> None:
    photos = require_shared(SHARED_DATA / "train" / "bsds500")
    recipe = recipe_from_dict(
        {
            "model": model,
            "data": {
                "train_dirs": [str(photos)],
                "crop_size": 64,
                "max_images": 96,  # 24 to validate on: fewer made the test a coin toss
                "val_fraction": 0.25,
            },
            "optim": {"batch_size": 8, "epochs": 4, "lr": 3e-3, "warmup_steps": 2},
            "run": {"checkpoint_every": 1000},
        }
    )
    trainer = Trainer(recipe, tmp_path / "run", show_progress=False)
    before = trainer.validate()
    history = trainer.run()
    assert history[-1]["val_loss"] < before, (before, history)


def test_fine_tuning_starts_from_the_given_weights(tmp_path: Path) -> None:
    data = make_image_folder(tmp_path / "data")
    Trainer(recipe_from_dict(tiny_recipe(data)), tmp_path / "base", show_progress=False).run()
    values = tiny_recipe(data)
    values["run"]["init_weights"] = str(tmp_path / "base" / "model.safetensors")
    trainer = Trainer(recipe_from_dict(values), tmp_path / "tuned", show_progress=False)
    base = _final_weights(tmp_path / "base")
    assert all(torch.equal(v, base[k]) for k, v in trainer.model.state_dict().items())


def test_each_epoch_records_validation_psnr_and_colourfulness(tmp_path: Path) -> None:
    data = make_image_folder(tmp_path / "data")
    history = Trainer(recipe_from_dict(tiny_recipe(data)), tmp_path / "run", False).run()
    for row in history:
        assert 5.0 < row["val_psnr"] < 60.0  # dB of real decoded colours, not a placeholder
        assert row["val_cf"] >= 0.0
    assert "val_psnr" in (tmp_path / "run" / "metrics.csv").read_text().splitlines()[0]


class ScriptedValidation(Trainer):
    """A trainer whose validation losses are scripted, keeping a copy of the weights of each."""

    losses = [3.0, 2.0, 2.5, 2.2, 1.0, 0.5]

    def validate(self) -> float:
        self.snapshots = getattr(self, "snapshots", [])
        self.snapshots.append({k: v.clone() for k, v in self.model.state_dict().items()})
        return self.losses[len(self.snapshots) - 1]


def test_patience_stops_training_and_keeps_the_best_epoch(tmp_path: Path) -> None:
    data = make_image_folder(tmp_path / "data")
    recipe = recipe_from_dict(tiny_recipe(data, epochs=6, patience=2))
    trainer = ScriptedValidation(recipe, tmp_path / "run", show_progress=False)
    history = trainer.run()
    assert [row["val_loss"] for row in history] == [3.0, 2.0, 2.5, 2.2]  # 2 epochs without gain
    assert trainer.progress.stopped_early and trainer.progress.best_epoch == 2
    exported = _final_weights(tmp_path / "run")
    assert all(torch.equal(exported[k], trainer.snapshots[1][k]) for k in exported)
    assert not all(torch.equal(exported[k], trainer.snapshots[3][k]) for k in exported)


def test_train_val_split_is_the_same_wherever_the_data_lies(tmp_path: Path) -> None:
    from tinct.data.image_folder import list_labelled_files, split_train_val

    sides = []
    for place in ("a", "b/deeper"):
        root = make_image_folder(tmp_path / place / "photos", per_class=30)
        files, _ = list_labelled_files([root])
        train, val = split_train_val(files, 0.3)
        sides.append(sorted(f.key for f in val))
    assert sides[0] == sides[1] and 0 < len(sides[0]) < 60


def test_a_capped_sample_of_photos_is_the_same_wherever_the_data_lies(tmp_path: Path) -> None:
    chosen = []
    for place in ("a", "b/deeper"):
        root = make_image_folder(tmp_path / place / "photos", per_class=30)
        values = tiny_recipe(root)
        values["data"]["max_images"] = 20
        trainer = Trainer(recipe_from_dict(values), tmp_path / place / "run", show_progress=False)
        files = trainer.train_set.files + trainer.val_set.files
        chosen.append(sorted(f.key for f in files))
    assert chosen[0] == chosen[1] and len(chosen[0]) == 20


def test_short_side_shrinks_large_photos_before_cropping(tmp_path: Path) -> None:
    from tinct.data.image_folder import ImageFolderDataset, list_labelled_files

    root = make_image_folder(tmp_path / "data", per_class=1, size=96)
    files, _ = list_labelled_files([root])
    assert ImageFolderDataset(files, 32, train=True)._load(0).shape == (3, 96, 96)
    shrunk = ImageFolderDataset(files, 32, train=True, short_side=48)
    assert shrunk._load(0).shape == (3, 48, 48)
    assert ImageFolderDataset(files, 32, train=True, short_side=200)._load(0).shape == (3, 96, 96)
    assert shrunk[0][0].shape == (3, 32, 32)


def _column_ramp(height: int, width: int) -> torch.Tensor:
    """A photo whose every channel is its column index over (width - 1)."""
    return torch.linspace(0, 1, width).expand(3, height, width).clone()


def test_a_zoomed_crop_covers_crop_size_over_the_zoom_of_the_photo() -> None:
    import random

    from tinct.data.image_folder import random_crop_flip

    photo = _column_ramp(200, 200)
    for zoom, covered in ((2.0, 16), (0.5, 64), (1.0, 32)):
        crop = random_crop_flip(photo, 32, random.Random(3), zoom_range=(zoom, zoom))
        assert crop.shape == (3, 32, 32)
        span = float(crop[0, 0].max() - crop[0, 0].min())  # a flip keeps the span
        assert span == pytest.approx((covered - 1) / 199, abs=1.5 / 199)


def test_zoomed_crops_of_a_small_photo_take_at_most_its_short_side() -> None:
    import random

    from tinct.data.image_folder import random_crop_flip

    crop = random_crop_flip(_column_ramp(20, 30), 32, random.Random(0), zoom_range=(0.5, 0.5))
    assert crop.shape == (3, 32, 32)
    assert float(crop[0, 0].max() - crop[0, 0].min()) == pytest.approx(19 / 29, abs=1.5 / 29)


def test_zooms_are_drawn_from_the_range_and_repeat_with_the_seed() -> None:
    import random

    from tinct.data.image_folder import random_crop_flip

    photo = _column_ramp(300, 300)
    spans = []
    for seed in range(40):
        crop = random_crop_flip(photo, 30, random.Random(seed), zoom_range=(0.75, 1.5))
        again = random_crop_flip(photo, 30, random.Random(seed), zoom_range=(0.75, 1.5))
        assert torch.equal(crop, again)
        spans.append(round(float(crop[0, 0].max() - crop[0, 0].min()) * 299) + 1)
    assert min(spans) >= 19 and max(spans) <= 41  # 30 / 1.5 .. 30 / 0.75, give or take a pixel
    assert max(spans) - min(spans) >= 12  # the zoom varies


def test_a_recipe_zoom_range_is_checked_and_reaches_the_training_crops(tmp_path: Path) -> None:
    for bad in ([1.5, 0.75], [0, 1], [1.0], 2.0, [True, 2]):
        with pytest.raises(ValueError, match=r"recipe \[data\].*zoom_range"):
            recipe_from_dict({"model": "tinct-lite", "data": {"zoom_range": bad}})
    root = make_image_folder(tmp_path / "data", per_class=4, size=64)
    values = tiny_recipe(root)
    values["data"]["zoom_range"] = [0.8, 1.6]
    trainer = Trainer(recipe_from_dict(values), tmp_path / "run")
    assert trainer.train_set.zoom_range == (0.8, 1.6)
    assert trainer.val_set.zoom_range is None  # validation crops stay at the photo's scale
