"""The video networks train with ``tinct train`` like every other model, to the same weights,
bit for bit, as their former entry points on the same seed and data order.

The propagation refiner and ``tinct-lite-recurrent`` used to train with entry points of their
own, ``python -m tinct.training.clip_refiner`` (its own loop, checkpoints and resume) and
``python -m tinct.training.clip_train``. Before they were deleted, this file trained the tiny
recipes below for a few steps through each former entry point and through ``tinct train`` and
compared every exported tensor exactly: all equal (commit bdf81c2, which added this file).
Then it recorded the SHA-256 of the former paths' exported tensors (:func:`tensors_digest`),
trained in one thread (the thread count changes the order of float sums) with torch 2.13.0+cpu
on an AVX2 CPU: :data:`FORMER_DIGESTS`; ``tinct train`` gave the same digests before the former
code was deleted. Now :func:`test_tinct_train_gives_the_former_weights` trains the same recipes
with the function ``tinct train`` calls, in one thread, and checks those digests. They are only
defined for that torch and CPU capability (other kernels round differently); elsewhere the test
skips, naming the difference. The tiny recipes use ``tinct-lite``'s default shipped weights as
the refiner's still model: a change of those weights changes the refiner's examples and its
digest, and is no regression of the trainer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from tinct.models.temporal.propagation_refiner import RefinerConfig, load_propagation_refiner
from tinct.training.trainers import build_trainer
from tinct.weights.tinct_file import read_tinct_weights

from .helpers.cli import tinct
from .helpers.training import make_smooth_photos
from .helpers.video import make_clip

pytestmark = pytest.mark.slow  # a few seconds of training each

# what every run folder holds, whatever it trains
RUN_FILES = ["checkpoint.pt", "metrics.csv", "metrics.json", "model.safetensors", "recipe.json"]
# recorded from the former entry points (see the module docstring)
FORMER_ENVIRONMENT = {"torch": "2.13.0+cpu", "cpu_capability": "AVX2"}
FORMER_DIGESTS = {
    "refiner": "d94cd1419ea4e57037e8aee5f656f7d113b59fb4b1bcc4cb56f7aa8cef3bad41",
    "recurrent": "52af2a41a217da3a99f1848db350639514b65f1dea1b54ec161a777f73dfec21",
}


def tensors_digest(path: Path) -> str:
    """SHA-256 of a weight file's tensors: names, dtypes, shapes and bytes, in name order."""
    digest = hashlib.sha256()
    for name, tensor in sorted(read_tinct_weights(path).tensors.items()):
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}:".encode())
        digest.update(tensor.contiguous().numpy().tobytes())
    return digest.hexdigest()


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


RECIPES = {"refiner": REFINER_RECIPE, "recurrent": CLIP_RECIPE}


def _video_data(root: Path) -> dict[str, Path]:
    """A folder with one tiny DAVIS-like sequence, and one of smooth photos."""
    davis = root / "davis"
    make_clip(davis / "drift.mp4", frames=5, size=(64, 48))
    return {"davis": davis, "photos": make_smooth_photos(root / "photos", count=4)}


def _recipe(root: Path, name: str) -> Path:
    path = root / f"{name}.toml"
    path.write_text(RECIPES[name].format(**_video_data(root)))
    return path


@pytest.fixture
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("name", ["refiner", "recurrent"])
def test_tinct_train_gives_the_former_weights(name: str, tmp_path: Path, one_thread: None) -> None:
    here = {"torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability()}
    if here != FORMER_ENVIRONMENT:
        pytest.skip(f"the digests were recorded with {FORMER_ENVIRONMENT}, this is {here}")
    recipe, out = _recipe(tmp_path, name), tmp_path / "run"
    build_trainer(recipe, [], out, tmp_path / "cache", show_progress=False).run()
    assert tensors_digest(out / "model.safetensors") == FORMER_DIGESTS[name]


@pytest.mark.parametrize("name", ["refiner", "recurrent"])
def test_tinct_train_trains_a_video_network_into_a_run_folder(name: str, tmp_path: Path) -> None:
    recipe, out = _recipe(tmp_path, name), tmp_path / "run"
    result = tinct("train", recipe, "--out", out, "--cache-dir", tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in out.iterdir()) == RUN_FILES
    history = json.loads((out / "metrics.json").read_text())
    assert history and all(record["val_loss"] > 0 for record in history)
    assert result.stdout.count("val_loss") == len(history)
    if name == "refiner":
        assert [record["step"] for record in history] == [3, 6]
        refiner = load_propagation_refiner(out / "model.safetensors")
        assert refiner is not None and refiner.config == RefinerConfig(width=4, scale=2)


def test_refiner_training_resumes_bit_exactly(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, "refiner")

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
