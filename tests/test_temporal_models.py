"""The learned temporal networks: ConvGRU, tinct-lite-recurrent (state API, initialisation from
tinct-lite, clip training) and the propagation refiner (inputs, closed-form start, weights)."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from tinct.models import create_model, get_model_spec
from tinct.models.temporal.convgru import ConvGRUCell, RecurrentFusion
from tinct.models.temporal.propagation_refiner import (
    REFINER_WEIGHTS,
    build_propagation_refiner,
    load_propagation_refiner,
)
from tinct.models.temporal.recurrent_colorizer import RecurrentStepper, init_from_tinct_lite
from tinct.training.clip_trainer import ClipConfig, ClipTrainer
from tinct.training.recipe import build_section, read_recipe_values, recipe_from_dict
from tinct.weights import WeightsError

from .conftest import PROJECT_ROOT
from .helpers.training import make_smooth_photos

VIDEO_RECIPES = PROJECT_ROOT / "recipes" / "video"

pytestmark = pytest.mark.slow  # clip training: `-m "not slow"` skips them


def _tiny(recurrent: bool = True) -> torch.nn.Module:
    return create_model("tinct-lite-recurrent_tiny", recurrent=recurrent).eval()


def _wake_up(model: torch.nn.Module) -> None:
    """Give the zero-initialised output projection some weight, as training would."""
    torch.nn.init.normal_(model.recurrent.project.weight, std=0.5)


# -- ConvGRU -------------------------------------------------------------------------------------


def test_convgru_state_shape_and_dependence_on_the_past() -> None:
    cell = ConvGRUCell(4, 6)
    x = torch.randn(2, 4, 5, 7)
    first = cell(x)
    assert first.shape == (2, 6, 5, 7)
    assert not torch.allclose(cell(x, first), first)  # same input, other past: other state
    with pytest.raises(ValueError, match="does not fit"):
        cell(torch.randn(2, 4, 6, 7), first)
    with pytest.raises(ValueError, match="odd"):
        ConvGRUCell(4, 6, kernel=2)


def test_recurrent_fusion_starts_as_identity_and_can_be_bypassed() -> None:
    x = torch.randn(1, 8, 4, 4)
    fused, state = RecurrentFusion(8, 5)(x)
    assert torch.equal(fused, x) and state.shape == (1, 5, 4, 4)
    bypassed, none = RecurrentFusion(8, 5, enabled=False)(x)
    assert bypassed is x and none is None


# -- tinct-lite-recurrent ------------------------------------------------------------------------


def test_recurrent_model_is_registered_with_a_tiny_variant() -> None:
    for name in ("tinct-lite-recurrent", "tinct-lite-recurrent_tiny"):
        spec = get_model_spec(name)
        assert spec.output == "ab_bins" and spec.takes_hints


def test_the_recurrent_model_takes_the_encoder_tinct_lite_takes() -> None:
    lite2 = {"pretrained_encoder": False, "encoder": "efficientnet_lite2"}
    recurrent = create_model("tinct-lite-recurrent", **lite2)
    assert (
        recurrent.encoder.feature_channels
        == create_model("tinct-lite", **lite2).encoder.feature_channels
    )
    default = create_model("tinct-lite-recurrent", pretrained_encoder=False)
    assert recurrent.encoder.feature_channels != default.encoder.feature_channels
    with pytest.raises(ValueError, match="efficientnet_lite0, efficientnet_lite2"):
        create_model("tinct-lite-recurrent", encoder="efficientnet_lite9")


def test_clip_frames_depend_on_earlier_frames_only_through_the_gru() -> None:
    model = _tiny()
    _wake_up(model)
    clip = torch.rand(1, 3, 1, 32, 32) * 100
    other_start = clip.clone()
    other_start[:, 0] = torch.rand(1, 1, 32, 32) * 100
    with torch.no_grad():
        logits = model.forward_clip(clip)
        changed = model.forward_clip(other_start)
    assert logits.shape == (1, 3, get_model_spec("tinct-lite").bins().shape[0], 8, 8)
    assert not torch.allclose(logits[:, 2], changed[:, 2])  # frame 0 still shows in frame 2
    bypassed = _tiny(recurrent=False)
    bypassed.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert torch.equal(
            bypassed.forward_clip(clip)[:, 2], bypassed.forward_clip(other_start)[:, 2]
        )


def test_forward_step_stepper_and_clip_agree() -> None:
    model = _tiny()
    _wake_up(model)
    clip = torch.rand(2, 3, 1, 32, 32) * 100
    with torch.no_grad():
        logits = model.forward_clip(clip)
        assert torch.allclose(model(clip[:, 0]), logits[:, 0])
        stepper = RecurrentStepper(model)
        stepped = [stepper(clip[:, t]) for t in range(3)]
        assert all(torch.allclose(s, logits[:, t], atol=1e-5) for t, s in enumerate(stepped))
        stepper.reset()
        assert torch.allclose(stepper(clip[:, 0]), logits[:, 0])
    with pytest.raises(ValueError, match=r"\(B, T, 1, H, W\)"):
        model.forward_clip(clip[:, 0])


def test_initialised_from_tinct_lite_it_predicts_what_tinct_lite_predicts() -> None:
    lite = create_model("tinct-lite_tiny").eval()
    model = _tiny()
    init_from_tinct_lite(model, lite.state_dict(), source="tiny tinct-lite")
    clip = torch.rand(1, 3, 1, 32, 32) * 100
    with torch.no_grad():
        expected = torch.stack([lite(clip[:, t]) for t in range(3)], dim=1)
        assert torch.allclose(model.forward_clip(clip), expected, atol=1e-5)


def test_initialisation_refuses_weights_that_do_not_fit() -> None:
    model = _tiny()
    with pytest.raises(WeightsError, match="recurrent weights"):
        init_from_tinct_lite(model, model.state_dict(), source="itself")
    narrow = create_model("tinct-lite_tiny", decoder_channels=(8, 8, 8, 8)).state_dict()
    with pytest.raises(WeightsError, match="narrow"):
        init_from_tinct_lite(model, narrow, source="narrow")


def test_shipped_tinct_lite_weights_start_the_full_model() -> None:
    from tinct.models.temporal.recurrent_colorizer import load_tinct_lite_weights_into
    from tinct.weights.colorizer_weights import load_colorizer_weights
    from tinct.weights.store import find_weights

    model = create_model("tinct-lite-recurrent", pretrained_encoder=False).eval()
    load_tinct_lite_weights_into(model)
    lite = create_model("tinct-lite", pretrained_encoder=False).eval()
    load_colorizer_weights(lite, "tinct-lite", find_weights("tinct-lite-v1"))
    frames = torch.rand(1, 2, 1, 32, 32) * 100
    with torch.no_grad():
        assert torch.allclose(model.forward_clip(frames)[:, 1], lite(frames[:, 1]), atol=1e-4)


@pytest.mark.parametrize(
    "name", ["tinct-lite-recurrent.toml", "tinct-lite-recurrent-finetune-ablation.toml"]
)
def test_recurrent_recipes_parse_and_differ_only_in_the_gru(name: str) -> None:
    values = read_recipe_values(VIDEO_RECIPES / name)
    main = read_recipe_values(VIDEO_RECIPES / "tinct-lite-recurrent.toml")
    assert values["model"] == "tinct-lite-recurrent"
    assert values["model_config"]["recurrent"] == ("ablation" not in name)
    assert {k: v for k, v in values.items() if k != "model_config"} == {
        k: v for k, v in main.items() if k != "model_config"
    }
    clips = build_section(ClipConfig, values.pop("clips"), name)
    recipe = recipe_from_dict(values, name)
    assert clips.frames >= 2 and all("val" not in d for d in recipe.data.train_dirs)


# -- clip training -------------------------------------------------------------------------------


def _photos(folder: Path, count: int = 6) -> Path:
    return make_smooth_photos(folder, count)


def _clip_trainer(data: Path, out: Path) -> ClipTrainer:

    recipe = recipe_from_dict(
        {
            "model": "tinct-lite-recurrent_tiny",
            "data": {"train_dirs": [str(data)], "crop_size": 32, "val_fraction": 0.0},
            "loss": {"rebalance": False, "hints": False},
            "optim": {"batch_size": 2, "max_steps": 4, "warmup_steps": 1, "lr": 3e-3},
            "run": {"checkpoint_every": 2},
        }
    )
    settings = ClipConfig(frames=3, clips_per_epoch=8, val_clips=2)
    return ClipTrainer(recipe, out, settings, cache_dir=None, show_progress=False)


@pytest.mark.slow
def test_clip_training_resumes_bit_exactly(tmp_path: Path) -> None:
    data = _photos(tmp_path / "photos")
    whole = _clip_trainer(data, tmp_path / "whole")
    whole.run()
    paused = _clip_trainer(data, tmp_path / "paused")
    paused.run(stop_after_steps=2)
    resumed = _clip_trainer(data, tmp_path / "paused")
    history = resumed.run()
    assert resumed.progress.step == 4 and history[-1]["step"] == 4
    expected = whole.model.state_dict()
    assert all(torch.equal(v, expected[k]) for k, v in resumed.model.state_dict().items())
    assert (tmp_path / "whole" / "model.safetensors").is_file()
    # training moved the recurrent block away from its identity start
    assert whole.model.recurrent.project.weight.abs().sum() > 0


def test_the_recurrent_block_has_its_own_learning_rate(tmp_path: Path) -> None:
    trainer = _clip_trainer(_photos(tmp_path / "photos", 2), tmp_path / "run")
    recurrent = {id(p) for p in trainer.model.recurrent.parameters()}
    groups = trainer.optimizer.param_groups
    fast = [g for g in groups if {id(p) for p in g["params"]} == recurrent]
    assert len(fast) == 1
    assert fast[0]["initial_lr"] == pytest.approx(
        groups[0]["initial_lr"] * trainer.settings.recurrent_lr_scale
    )
    assert not recurrent & {id(p) for g in groups if g is not fast[0] for p in g["params"]}


def test_clip_training_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    data = _photos(tmp_path / "photos", 2)
    with pytest.raises(ValueError, match="loss.hints = false"):
        ClipTrainer(
            recipe_from_dict(
                {"model": "tinct-lite-recurrent_tiny", "data": {"train_dirs": [str(data)]}}
            ),
            tmp_path / "run",
        )
    with pytest.raises(ValueError, match="not a video model"):
        ClipTrainer(
            recipe_from_dict(
                {
                    "model": "tinct-lite_tiny",
                    "data": {"train_dirs": [str(data)]},
                    "loss": {"hints": False},
                }
            ),
            tmp_path / "run",
        )


# -- propagation refiner -------------------------------------------------------------------------


def _refiner_inputs(size: tuple[int, int] = (24, 40)) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(1)
    lightness = torch.rand(2, 1, *size, generator=generator) * 100
    warped = (torch.rand(2, 2, *size, generator=generator) - 0.5) * 120
    confidence = torch.rand(2, 1, *size, generator=generator)
    still = (torch.rand(2, 2, *size, generator=generator) - 0.5) * 120
    return lightness, warped, confidence, still


def _hwc(tensor: torch.Tensor) -> np.ndarray:
    return tensor.permute(1, 2, 0).numpy()


def test_untrained_refiner_is_the_video_cores_confidence_blend() -> None:
    from tinct.video.propagate import mix_keeping_chroma

    lightness, warped, confidence, still = _refiner_inputs()
    confidence[..., 0, 0] = 1.0  # the extremes are kept, up to the clamp of the logit
    refined = build_propagation_refiner()(lightness, warped, confidence, still)
    expected = mix_keeping_chroma(_hwc(still[0]), _hwc(warped[0]), confidence[0, 0].numpy())
    difference = np.abs(_hwc(refined[0].detach()) - expected)
    assert difference.max() < 0.3  # ab units; the clamp moves 0/1 by 1e-3
    assert difference.mean() < 1e-3


def test_refiner_never_greys_the_colours_it_is_given() -> None:
    torch.manual_seed(3)
    refiner = build_propagation_refiner(width=8)
    torch.nn.init.normal_(refiner.out.weight, std=1.0)  # any gate at all
    lightness, warped, confidence, still = _refiner_inputs()
    # still: the same chroma a third of a turn round the hue circle; a plain mean is half as
    # saturated.
    cos, sin = math.cos(2 * math.pi / 3), math.sin(2 * math.pi / 3)
    still = torch.stack(
        (cos * warped[:, 0] - sin * warped[:, 1], sin * warped[:, 0] + cos * warped[:, 1]), 1
    )
    chroma = refiner(lightness, warped, confidence, still).detach().norm(dim=1)
    assert torch.all(chroma >= warped.norm(dim=1) - 1e-3)


def test_refiner_takes_any_size_and_learns() -> None:
    refiner = build_propagation_refiner(width=8)
    inputs = _refiner_inputs((17, 23))
    target = inputs[1]  # learn to trust the carried colour everywhere
    optimizer = torch.optim.Adam(refiner.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        loss = (refiner(*inputs) - target).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert refiner(*inputs).shape == (2, 2, 17, 23)
    assert losses[-1] < 0.5 * losses[0]


def test_refiner_refuses_mismatched_inputs() -> None:
    lightness, warped, confidence, still = _refiner_inputs()
    refiner = build_propagation_refiner(width=8)
    with pytest.raises(ValueError, match="warped_ab must have shape"):
        refiner(lightness, warped[:, :1], confidence, still)
    with pytest.raises(ValueError, match="does not match lightness"):
        refiner(lightness, warped, confidence[..., :10], still)
    with pytest.raises(TypeError, match="still_ab"):
        refiner(lightness, warped, confidence, still.numpy())


def test_load_propagation_refiner_is_none_without_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinct.weights import store

    monkeypatch.setattr(store, "PACKAGED_DIR", tmp_path / "package")
    monkeypatch.setenv("TINCT_WEIGHTS_DIR", str(tmp_path / "offline"))
    monkeypatch.setenv("TINCT_CACHE_DIR", str(tmp_path / "cache"))
    assert load_propagation_refiner() is None


def test_shipped_refiner_trusts_carried_colour_more_than_the_blend() -> None:
    # What training taught it (benchmarks/results/propagation_refiner.md): carried colour, even
    # where the flow is unsure, is closer to the truth than the still model's guess.
    refiner = load_propagation_refiner()
    assert refiner is not None and not refiner.training
    assert refiner.config.scale == 2
    lightness, warped, confidence, still = _refiner_inputs()
    confidence = torch.full_like(confidence, 0.3)
    with torch.no_grad():
        refined = refiner(lightness, warped, confidence, still)
        blend = build_propagation_refiner()(lightness, warped, confidence, still)
    assert refined.shape == blend.shape
    assert (refined - warped).abs().mean() < 0.5 * (blend - warped).abs().mean()


def test_carried_keyframe_colour_follows_the_motion() -> None:
    from tinct.color.lab import rgb_to_lab
    from tinct.data.video_clips import synthetic_clip
    from tinct.training.refiner_examples import carried_from_keyframe

    generator = torch.Generator().manual_seed(2)
    coarse = torch.rand(1, 3, 6, 6, generator=generator)
    photo = torch.nn.functional.interpolate(coarse, size=(150, 150), mode="bicubic")[0].clamp(0, 1)
    lab = rgb_to_lab(synthetic_clip(photo, 4, 96, random.Random(5)))
    truth = lab[:, 1:]
    gray = torch.zeros_like(truth)  # a still model that knows no colour
    warped, confidence = carried_from_keyframe(lab[:, :1], truth[0], gray)
    assert warped.shape == (3, 2, 96, 96) and confidence.shape == (3, 1, 96, 96)
    assert confidence.min() >= 0 and confidence.max() <= 1
    reliable = confidence[:, 0] > 0.5
    carried_error = (warped - lab[1:, 1:]).abs().sum(1)[reliable].mean()
    copied_error = (lab[:1, 1:] - lab[1:, 1:]).abs().sum(1)[reliable].mean()
    assert carried_error < 0.5 * copied_error


def test_refiner_recipe_loads_and_builds_the_shipped_architecture() -> None:
    from tinct.training.refiner_trainer import refiner_recipe_from_dict
    from tinct.weights.store import weight_file

    shipped = weight_file(REFINER_WEIGHTS).config
    path = PROJECT_ROOT / shipped["recipe"]
    assert path.is_file()
    recipe = refiner_recipe_from_dict(read_recipe_values(path), str(path))
    assert recipe.data.frames >= 2 and recipe.optim.crop <= recipe.data.synthetic_size
    assert "val" not in recipe.data.davis_dir
    assert (recipe.model_config.width, recipe.model_config.scale) == (
        shipped["width"],
        shipped["scale"],
    )


def test_refiner_batches_are_deterministic() -> None:
    from tinct.training.refiner_trainer import sample_batch

    example = {
        key: torch.rand(3, channels, 40, 50)
        for key, channels in (
            ("lightness", 1),
            ("warped_ab", 2),
            ("confidence", 1),
            ("still_ab", 2),
            ("target_ab", 2),
        )
    }
    first = sample_batch([example], 4, 32, torch.Generator().manual_seed(0))
    again = sample_batch([example], 4, 32, torch.Generator().manual_seed(0))
    assert first["warped_ab"].shape == (4, 2, 32, 32)
    assert all(torch.equal(first[k], again[k]) for k in first)
