"""The weight table, lookup, verification, and loading trained weights into colorizers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

import tinct
from tinct.models import create_model, list_models
from tinct.weights import WEIGHT_FILES, WeightsError, find_weights, load_weights, weight_file
from tinct.weights.store import verify_file
from tinct.weights.tinct_file import TINCT_WEIGHTS_FORMAT, read_tinct_weights, write_tinct_weights

from .conftest import SHARED, require_shared
from .helpers.cli import tinct as run_tinct


def test_weight_table_is_well_formed() -> None:
    names = [e.name for e in WEIGHT_FILES]
    assert len(names) == len(set(names))
    for entry in WEIGHT_FILES:
        if entry.sha256_is_prefix:
            # Only where upstream publishes no more than the prefix in the file name.
            assert entry.sha256 in entry.filename and len(entry.sha256) == 8
        else:
            assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256), entry.name
        assert entry.license and entry.source
        assert all(alt in names for alt in entry.alternatives)
        assert entry.model is None or entry.model in list_models()
        if entry.python_package is not None:  # found through the package, never downloaded
            assert "==" in entry.python_package.pip_name and not entry.urls


def test_unknown_weights_name_suggests_close_ones() -> None:
    with pytest.raises(ValueError, match="did you mean vgg16-imagenet"):
        weight_file("vgg16-imagnet")


def test_offline_lookup_reports_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINCT_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("TINCT_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(
        WeightsError, match="vgg16-397923af.pth or vgg16_imagenet_features_fp16.pth"
    ):
        find_weights("vgg16-imagenet", download=False)


def test_a_damaged_file_is_refused_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = weight_file("lpips-alex-v0.1")
    (tmp_path / entry.filename).write_bytes(b"x" * entry.size)
    monkeypatch.setenv("TINCT_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(WeightsError, match=f"{entry.filename}: sha256 .* does not match"):
        find_weights("lpips-alex-v0.1", download=False)
    (tmp_path / entry.filename).write_bytes(b"short")
    with pytest.raises(WeightsError, match="5 bytes, expected 6009"):
        verify_file(entry, tmp_path / entry.filename)


@pytest.mark.shared_data
def test_shared_vgg16_features_stand_in_for_the_official_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TINCT_WEIGHTS_DIR", str(require_shared(SHARED / "weights")))
    tensors = load_weights("vgg16-imagenet", download=False)
    assert len(tensors) == 26 and all(k.startswith("features.") for k in tensors)
    assert tensors["features.0.weight"].dtype == torch.float32


def _export(model_name: str, path: Path, recorded_name: str | None = None) -> None:
    write_tinct_weights(path, create_model(model_name).state_dict(), recorded_name or model_name)


def test_a_tinct_weight_file_round_trips_and_other_files_are_refused(tmp_path: Path) -> None:
    state = {"a": torch.arange(6.0).view(2, 3), "b": torch.ones(2, dtype=torch.long)}
    path = tmp_path / "w.safetensors"
    write_tinct_weights(path, state, "tinct-lite_tiny", {"recipe": "{}"})
    found = read_tinct_weights(path, "tinct-lite_tiny")
    assert found.tensors.keys() == state.keys()
    assert all(torch.equal(found.tensors[key], value) for key, value in state.items())
    assert found.metadata == {
        "format": TINCT_WEIGHTS_FORMAT,
        "model": "tinct-lite_tiny",
        "recipe": "{}",
        "tinct_version": tinct.__version__,
    }
    assert found.metadata_to_pass_on() == {"recipe": "{}"}  # the writer sets the rest again
    with pytest.raises(WeightsError, match="holds weights of 'tinct-lite_tiny', not of 'eccv16'"):
        read_tinct_weights(path, "eccv16")
    save_file(state, str(tmp_path / "plain.safetensors"))
    with pytest.raises(WeightsError, match="not a tinct weights file"):
        read_tinct_weights(tmp_path / "plain.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    with pytest.raises(WeightsError, match="junk.safetensors: not a readable safetensors file"):
        read_tinct_weights(tmp_path / "junk.safetensors")


def test_load_with_a_trained_export_is_marked_trained(tmp_path: Path) -> None:
    _export("tinct-lite_tiny", tmp_path / "w.safetensors")
    colorizer = tinct.load("tinct-lite_tiny", weights=tmp_path / "w.safetensors")
    assert colorizer.trained is True


def test_weights_of_another_model_are_refused(tmp_path: Path) -> None:
    _export("surveillance_tiny", tmp_path / "w.safetensors")
    with pytest.raises(
        WeightsError, match="holds weights of 'surveillance_tiny', not of 'eccv16_tiny'"
    ):
        tinct.load("eccv16_tiny", weights=tmp_path / "w.safetensors")


def test_a_weight_set_can_be_named_instead_of_a_file() -> None:
    named = tinct.load("tinct-lite", weights="tinct-lite-v1")
    by_file = tinct.load("tinct-lite", weights=find_weights("tinct-lite-v1"))
    default = tinct.load("tinct-lite")  # v2: other weights and settings
    assert named.trained and named.temperature == 0.7 and named.bin_bias is None
    assert default.temperature == 0.5 and default.bin_bias is not None
    for mine, theirs in zip(named.model.parameters(), by_file.model.parameters(), strict=True):
        assert torch.equal(mine, theirs)
    assert any(
        not torch.equal(mine, theirs)
        for mine, theirs in zip(named.model.parameters(), default.model.parameters(), strict=True)
    )
    with pytest.raises(ValueError, match="'tinct-lite-v1' is for model 'tinct-lite', not 'eccv16'"):
        tinct.load("eccv16", weights="tinct-lite-v1")


def test_cli_colorizes_with_an_official_layout_eccv16_file(tmp_path: Path) -> None:
    from PIL import Image

    torch.save(create_model("eccv16").state_dict(), tmp_path / "release.pth")
    Image.new("L", (48, 40), 128).save(tmp_path / "gray.png")
    result = run_tinct(
        "colorize",
        tmp_path / "gray.png",
        "--model",
        "eccv16",
        "--weights",
        tmp_path / "release.pth",
        "-o",
        tmp_path / "out.png",
    )
    assert result.returncode == 0, result.stderr
    assert "untrained" not in result.stdout + result.stderr


def test_cli_reports_bad_weights_cleanly(tmp_path: Path) -> None:
    from PIL import Image

    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    Image.new("L", (32, 32), 128).save(tmp_path / "gray.png")
    result = run_tinct(
        "colorize", tmp_path / "gray.png", "--weights", tmp_path / "junk.safetensors"
    )
    assert result.returncode == 2 and "junk.safetensors" in result.stderr
    assert "Traceback" not in result.stderr


def test_weights_list_and_verify_commands(tmp_path: Path) -> None:
    listing = run_tinct("weights", "list")
    assert listing.returncode == 0 and "vgg16-imagenet" in listing.stdout
    assert "0.0 MB" not in listing.stdout and "(5.9 kB," in listing.stdout  # the ab prior
    assert "9b330a0b (only this prefix is published)" in listing.stdout
    check = run_tinct("weights", "verify", "lpips-alex-v0.1")
    assert "lpips-alex-v0.1" in check.stdout
