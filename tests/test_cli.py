"""The `tinct` command driven as a user drives it: a subprocess, real files, exit codes, stderr."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tinct.color import rgb_to_lab
from tinct.io import read_image
from tinct.io.prior_file import load_prior
from tinct.quantize import gamut_ab_bins

from .helpers.cli import tinct


def _save_photo(
    path: Path, seed: int, size: tuple[int, int] = (96, 64), gray: bool = False
) -> Path:
    rng = np.random.default_rng(seed)
    smooth = rng.random((size[1] // 8, size[0] // 8, 3)) * 255
    image = Image.fromarray(smooth.astype(np.uint8)).resize(size, Image.BILINEAR)
    path.parent.mkdir(parents=True, exist_ok=True)
    (image.convert("L") if gray else image).save(path)
    return path


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    _save_photo(folder / "a.png", 1)
    _save_photo(folder / "nested" / "b.jpg", 2, gray=True)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return folder


def test_prior_counts_colour_images_skips_gray_and_reports_bad_files(
    photos: Path, tmp_path: Path
) -> None:
    output = tmp_path / "prior.safetensors"
    result = tinct("prior", photos, "-o", output)
    assert result.returncode == 1, result.stderr  # one unreadable file
    assert "broken.jpg" in result.stderr and "Traceback" not in result.stderr
    prior = load_prior(output)
    assert prior.info["images_used"] == 1 and prior.info["images_gray_skipped"] == 1
    assert torch.equal(prior.ab_bins, gamut_ab_bins())
    lab = rgb_to_lab(read_image(photos / "a.png").rgb)
    assert prior.ab_counts.sum() == lab.shape[-1] * lab.shape[-2]
    assert prior.gradient_counts.sum() == 2 * 96 * 64  # gradients of both readable images


def test_prior_refuses_to_overwrite_and_to_run_on_nothing(photos: Path, tmp_path: Path) -> None:
    existing = tmp_path / "prior.safetensors"
    existing.write_bytes(b"keep me")
    result = tinct("prior", photos, "-o", existing)
    assert result.returncode == 2 and "--force" in result.stderr
    assert existing.read_bytes() == b"keep me"
    empty = tmp_path / "empty"
    empty.mkdir()
    result = tinct("prior", empty, "-o", tmp_path / "new.safetensors")
    assert result.returncode == 2 and "no image files found" in result.stderr


def test_colorize_folder_keeps_going_and_preserves_size_and_lightness(
    photos: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = tinct("colorize", photos, "-o", out)
    assert result.returncode == 1, result.stderr
    assert "broken.jpg" in result.stderr and "Traceback" not in result.stderr
    assert "untrained" not in result.stderr + result.stdout  # the shipped model is trained
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "a.png",
        "failures.jsonl",
        "nested",
        "nested/b.jpg",
    ]
    assert "broken.jpg" in (out / "failures.jsonl").read_text()
    for name in ("a.png", "nested/b.jpg"):
        source, colour = read_image(photos / name), read_image(out / name)
        assert colour.rgb.shape == source.rgb.shape
        l_in, l_out = rgb_to_lab(source.rgb)[0], rgb_to_lab(colour.rgb)[0]
        tolerance = 0.6 if name.endswith(".png") else 2.5  # 8-bit rounding; JPEG re-encoding
        assert (l_in - l_out).abs().mean() < tolerance / 4 and (
            l_in - l_out
        ).abs().max() < tolerance * 4


def test_colorize_never_overwrites_without_force(photos: Path, tmp_path: Path) -> None:
    target = tmp_path / "result.png"
    target.write_bytes(b"precious")
    result = tinct("colorize", photos / "a.png", "-o", target)
    assert result.returncode == 1 and "--force" in result.stderr
    assert target.read_bytes() == b"precious"
    assert tinct("colorize", photos / "a.png", "-o", target, "--force").returncode == 0
    assert read_image(target).rgb.shape == (3, 64, 96)


def test_colorize_default_output_sits_beside_the_input(photos: Path) -> None:
    assert tinct("colorize", photos / "a.png").returncode == 0
    assert (photos / "a.colorized.png").is_file()


def test_unknown_model_and_bad_temperature_are_clear_errors(photos: Path) -> None:
    result = tinct("colorize", photos / "a.png", "--model", "tinct-lit")
    assert result.returncode == 2
    assert (
        "unknown model 'tinct-lit'" in result.stderr and "did you mean tinct-lite" in result.stderr
    )
    result = tinct("colorize", photos / "a.png", "--temperature", "-1")
    assert result.returncode == 2 and "temperature must be a number in [0, 10]" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_input_is_reported_by_name(tmp_path: Path) -> None:
    result = tinct("colorize", tmp_path / "nope.jpg")
    assert (
        result.returncode == 1 and "nope.jpg" in result.stderr and "Traceback" not in result.stderr
    )


def test_models_lists_every_registered_model_with_a_description() -> None:
    result = tinct("models")
    assert result.returncode == 0
    models = re.split(r"\n(?=\S)", result.stdout.strip())  # a model's lines, then the next's
    rows = [" ".join(text.split()).split(" weights: ", 1) for text in models]
    lines = dict(text.split(None, 1) for text, _ in rows)
    assert "tinct-lite" in lines and "EfficientNet-Lite U-Net" in lines["tinct-lite"]
    assert not any(name.endswith("_tiny") for name in lines)  # test models only with --all
    assert "tinct-lite_tiny" in tinct("models", "--all").stdout
    # below each model, where its weights come from or how to train them
    weights = [text for _, text in rows]
    assert "tinct-lite-v3, shipped in the package" in weights[list(lines).index("tinct-lite")]
    assert "colorization_release_v2" in weights[list(lines).index("eccv16")]
    assert "tinct train recipes/fusion.toml" in weights[list(lines).index("fusion")]


def test_eccv16_without_its_file_says_where_to_get_it(photos: Path) -> None:
    result = tinct("colorize", photos / "a.png", "--model", "eccv16", "-o", photos / "e.png")
    assert "https://colorizers.s3" in result.stderr and "sha256 starting 9b330a0b" in result.stderr
    missing = photos / "colorization_release_v2-9b330a0b.pth"
    result = tinct("colorize", photos / "a.png", "--model", "eccv16", "--weights", missing)
    assert result.returncode != 0 and "no such weights file" in result.stderr
    assert "https://colorizers.s3" in result.stderr and "Traceback" not in result.stderr


def test_a_model_without_trained_weights_is_announced_as_untrained(photos: Path) -> None:
    result = tinct("colorize", photos / "a.png", "--model", "fusion", "-o", photos / "f.png")
    assert result.returncode == 0, result.stderr
    assert "fusion has no trained weights yet" in result.stderr
    assert "tinct train recipes/fusion.toml" in result.stderr  # how to get colour from it
    assert "(untrained model)" in result.stdout
    # fusion's antialiased resizing has no ONNX form: the automatic backend says so and runs it
    # in PyTorch rather than failing
    assert "cannot export fusion to ONNX" in result.stderr
    assert "running it in PyTorch instead" in result.stderr


def test_the_guided_model_ships_its_budget_weights(photos: Path) -> None:
    result = tinct("colorize", photos / "a.png", "--model", "guided", "-o", photos / "g.png")
    assert result.returncode == 0, result.stderr
    assert "untrained" not in result.stderr + result.stdout
    with Image.open(photos / "g.png") as image:
        rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    assert float(np.abs(rgb[..., 0] - rgb[..., 2]).mean()) > 1.0  # colour, not gray
