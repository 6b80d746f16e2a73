"""Guided colorization: hint spreading, suggestions, `tinct colorize --hints`, `tinct suggest`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tinct.api import load
from tinct.cli.main import main
from tinct.color.lab import rgb_to_lab
from tinct.guidance.hints_file import parse_hints, rasterize_hints
from tinct.guidance.spread import _Taps, _upsample_within_regions, spread_hint_colours
from tinct.pipeline.suggest import suggest_colors

WARM_RED = "#b03020"


def two_regions(height: int = 32, width: int = 48) -> torch.Tensor:
    """Lightness ``(1, 1, H, W)``: a dark left half (L 30) and a light right half (L 70)."""
    lightness = torch.full((1, 1, height, width), 30.0)
    lightness[..., width // 2 :] = 70.0
    return lightness


def test_a_hint_fills_its_region_and_not_the_other() -> None:
    lightness = two_regions()
    ab = torch.zeros(1, 2, 32, 48)
    hints = rasterize_hints(
        parse_hints({"points": [{"x": 5, "y": 16, "color": {"a": 50, "b": 30}}]}), 32, 48
    )
    spread = spread_hint_colours(lightness, ab, hints)
    left, right = spread[0, :, :, :24], spread[0, :, :, 24:]
    assert spread[0, :, 16, 5].tolist() == pytest.approx([50, 30], abs=3)
    assert left[0].mean() > 25  # the hint's region takes its colour, far from the click too
    assert right.abs().max() < 0.2 * left[0].mean()  # the lightness edge stops it


@pytest.mark.parametrize("edge", [128, 133, 136])  # between pyramid cells, and through them
def test_a_hint_does_not_leak_across_a_lightness_edge_at_any_pyramid_level(edge: int) -> None:
    lightness = torch.full((1, 1, 256, 256), 30.0)
    lightness[..., edge:] = 70.0
    hints = rasterize_hints(
        parse_hints({"points": [{"x": 40, "y": 128, "color": {"a": 50, "b": 30}}]}), 256, 256
    )
    spread = spread_hint_colours(lightness, torch.zeros(1, 2, 256, 256), hints)
    assert spread[0, 0, :, :edge].mean() > 35  # the hint's side takes its colour
    other_side = spread[0, :, :, edge:].abs()
    # at most about a tenth of the hint's chroma (58); a plain coarse-to-fine solve leaked 20 ab
    # on average at 133, up to 22
    assert other_side.mean() < 6 and other_side.max() < 8


def test_coarse_solutions_upsample_bilinearly_within_one_region() -> None:
    field = torch.randn(1, 2, 8, 12, generator=torch.Generator().manual_seed(0))
    flat = torch.full((1, 1, 8, 12), 50.0)
    taps = _Taps.of(flat, torch.full((1, 1, 16, 24), 50.0), sigma=8.0)
    upsampled = _upsample_within_regions(field, torch.ones_like(flat), taps)
    expected = torch.nn.functional.interpolate(
        field, size=(16, 24), mode="bilinear", align_corners=False
    )
    torch.testing.assert_close(upsampled, expected)


def test_a_boundary_stops_colour_in_a_flat_region() -> None:
    lightness = torch.full((1, 1, 32, 48), 50.0)
    hints = parse_hints(
        {
            "points": [{"x": 5, "y": 16, "color": {"a": -40, "b": 40}}],
            "boundaries": [{"points": [[20, 0], [20, 31]], "width": 1}],
        }
    )
    spread = spread_hint_colours(
        lightness, torch.zeros(1, 2, 32, 48), rasterize_hints(hints, 32, 48)
    )
    assert spread[0, 0, :, :19].mean() < -20
    assert spread[0, 0, :, 22:].abs().max() < 1


def test_no_hints_leave_the_prediction_alone() -> None:
    ab = torch.randn(1, 2, 16, 16) * 20
    out = spread_hint_colours(two_regions(16, 16), ab, torch.zeros(1, 4, 16, 16))
    assert torch.equal(out, ab)


def test_the_colorizer_honours_a_hint_colour() -> None:
    colorizer = load("tinct-lite_tiny")
    lightness = two_regions(64, 64)
    hints = parse_hints({"points": [{"x": 10, "y": 30, "color": WARM_RED, "radius": 2}]})
    rgb = colorizer.colorize_lightness(lightness, hints)
    lab = rgb_to_lab(rgb)
    wanted = rgb_to_lab(torch.tensor([0xB0, 0x30, 0x20]).view(1, 3, 1, 1) / 255.0)
    at_hint = lab[0, 1:, 28:33, 8:13].mean(dim=(1, 2))
    assert torch.allclose(at_hint, wanted[0, 1:, 0, 0], atol=6)
    region = lab[0, 1:, 10:54, 0:28].mean(dim=(1, 2))  # the hint's half: same hue, strong chroma
    assert torch.cosine_similarity(region, wanted[0, 1:, 0, 0], dim=0) > 0.95
    assert region.norm() > 0.5 * wanted[0, 1:, 0, 0].norm()
    assert torch.allclose(lab[:, :1], lightness, atol=0.5)  # lightness stays the photo's


def test_hints_are_refused_by_a_model_without_hint_inputs() -> None:
    colorizer = load("eccv16_tiny")
    hints = parse_hints({"points": [{"x": 1, "y": 1, "color": WARM_RED}]})
    with pytest.raises(ValueError, match="does not take hints"):
        colorizer.colorize_lightness(two_regions(), hints)


def test_suggestions_are_distinct_ranked_and_at_the_points_lightness() -> None:
    colorizer = load("tinct-lite_tiny")
    lightness = two_regions(64, 64)
    suggestions = suggest_colors(colorizer, lightness, 50.5, 10.0, count=5)
    assert 1 <= len(suggestions) <= 5
    probabilities = [s.probability for s in suggestions]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1 + 1e-5
    abs_ = torch.tensor([s.lab[1:] for s in suggestions])
    assert torch.cdist(abs_, abs_).add(torch.eye(len(suggestions)) * 1e3).min() >= 15
    for suggestion in suggestions:
        assert suggestion.lab[0] == pytest.approx(70.0)
        shown = torch.tensor([int(suggestion.hex[i : i + 2], 16) for i in (1, 3, 5)]) / 255.0
        lab = rgb_to_lab(shown.view(3, 1, 1).double()).flatten()
        assert float(lab[0]) == pytest.approx(70.0, abs=1.0)


def test_suggest_refuses_points_outside_and_non_distribution_models() -> None:
    with pytest.raises(ValueError, match="lies outside the 64x64 image"):
        suggest_colors(load("tinct-lite_tiny"), two_regions(64, 64), 64, 3)
    with pytest.raises(ValueError, match="does not predict a colour distribution"):
        suggest_colors(load("vgg16_regression_tiny"), two_regions(64, 64), 3, 3)


def gray_photo(path: Path, size: tuple[int, int] = (80, 60)) -> Path:
    gradient = np.linspace(40, 220, size[0], dtype=np.float32)
    Image.fromarray(np.tile(gradient, (size[1], 1)).astype(np.uint8), "L").save(path)
    return path


def write_hints(path: Path, hints: dict[str, object]) -> Path:
    path.write_text(json.dumps(hints))
    return path


def test_colorize_command_applies_a_hints_file(tmp_path: Path) -> None:
    photo = gray_photo(tmp_path / "photo.png")
    hints = write_hints(
        tmp_path / "hints.json",
        {"strokes": [{"points": [[0, 30], [79, 30]], "color": "#2050c0", "width": 60}]},
    )
    assert (
        main(["colorize", str(photo), "-o", str(tmp_path / "out.png"), "--hints", str(hints)]) == 0
    )
    result = np.asarray(Image.open(tmp_path / "out.png").convert("RGB")).astype(int)
    blue_minus_red = (result[..., 2] - result[..., 0]).mean()
    assert blue_minus_red > 20


def test_colorize_command_with_a_folder_of_hints_and_a_bad_entry(tmp_path: Path, capsys) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    gray_photo(photos / "a.png")
    gray_photo(photos / "b.png")
    gray_photo(photos / "c.png")
    hints = tmp_path / "hints"
    hints.mkdir()
    write_hints(hints / "a.json", {"points": [{"x": 3, "y": 3, "color": "#f00"}]})
    write_hints(hints / "b.json", {"points": [{"x": 3, "y": 3, "color": "#f0"}]})
    out = tmp_path / "out"
    assert main(["colorize", str(photos), "-o", str(out), "--hints", str(hints)]) == 1
    assert (out / "a.png").exists() and (out / "c.png").exists() and not (out / "b.png").exists()
    error = capsys.readouterr().err
    assert "b.png: hints:" in error and "points[0].color: '#f0' is not a colour" in error


def test_unusable_hints_files_fail_their_photo_only(tmp_path: Path, capsys) -> None:
    photos, hints = tmp_path / "photos", tmp_path / "hints"
    photos.mkdir()
    hints.mkdir()
    for name in "abcd":
        gray_photo(photos / f"{name}.png", size=(16, 16))
    (hints / "a.json").write_text("[" * 1200)
    point = '{"x": ' + "1" * 5000 + ', "y": 1, "color": "#f00"}'
    (hints / "b.json").write_text('{"points": [' + point + "]}")
    wide = {"strokes": [{"points": [[1, 1], [5, 5]], "color": "#f00", "width": 2100}]}
    write_hints(hints / "c.json", wide)  # 2100 px at the working size is past OpenCV's limit
    out = tmp_path / "out"
    assert main(["colorize", str(photos), "-o", str(out), "--hints", str(hints)]) == 1
    assert sorted(p.name for p in out.iterdir()) == ["c.png", "d.png", "failures.jsonl"]
    assert (out / "failures.jsonl").read_text().count("\n") == 2  # a and b
    error = capsys.readouterr().err
    assert "a.json: JSON nested too deeply" in error and "b.json: a number" in error
    assert "Traceback" not in error


def test_one_hints_file_for_many_photos_is_refused(tmp_path: Path, capsys) -> None:
    gray_photo(tmp_path / "a.png")
    gray_photo(tmp_path / "b.png")
    hints = write_hints(tmp_path / "h.json", {})
    assert (
        main(["colorize", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--hints", str(hints)])
        == 2
    )
    assert "one hints file for 2 photos" in capsys.readouterr().err


def test_suggest_command_prints_json(tmp_path: Path, capsys) -> None:
    photo = gray_photo(tmp_path / "photo.png")
    assert main(["suggest", str(photo), "10", "20", "--count", "3", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert 1 <= len(report["colors"]) <= 3
    assert all(row["hex"].startswith("#") and len(row["hex"]) == 7 for row in report["colors"])
    assert main(["suggest", str(photo), "500", "20"]) == 2
    assert "lies outside the 80x60 image" in capsys.readouterr().err


@pytest.mark.parametrize("coarse, fine", [((128, 128), (256, 256)), ((5, 7), (11, 13))])
def test_the_compiled_upsampling_equals_the_tensor_one(
    coarse: tuple[int, int], fine: tuple[int, int]
) -> None:
    from tinct.guidance.spread import _compiled_upsampling

    generator = torch.Generator().manual_seed(3)
    taps = _Taps.of(
        torch.rand(2, 1, *coarse, generator=generator) * 100,
        torch.rand(2, 1, *fine, generator=generator) * 100,
        sigma=8.0,
    )
    field = torch.randn(2, 2, *coarse, generator=generator) * 20
    open_ = (torch.rand(2, 1, *coarse, generator=generator) > 0.1).float()
    compiled = _compiled_upsampling(field, open_, taps)
    with torch.enable_grad():  # a tensor that asks for gradients takes the tensor path
        tensor = _upsample_within_regions(field.clone().requires_grad_(), open_, taps).detach()
    assert torch.equal(compiled, tensor)


def test_the_compiled_level_systems_equal_the_tensor_ones() -> None:
    from tinct.guidance import spread

    generator = torch.Generator().manual_seed(0)
    settings = spread.SpreadSettings()
    levels = len(settings.iterations)
    guide = spread.SpreadGuide.of(torch.rand(1, 1, 64, 48, generator=generator) * 100, settings)
    mask = (torch.rand(1, 1, 64, 48, generator=generator) < 0.05).float()
    boundary = (torch.rand(1, 1, 64, 48, generator=generator) < 0.03).float()
    residual = torch.randn(1, 2, 64, 48, generator=generator) * 30 * mask
    means = spread._pyramid(torch.cat((mask, residual), dim=1), levels, maximum=False)
    maxima = spread._pyramid(torch.cat((boundary, mask), dim=1), levels, maximum=True)
    for level in range(levels):  # the finest without coherence, then 32x24 down to 2x1
        compiled = spread._level_system(guide, (means[level], maxima[level]), level, settings)
        with torch.enable_grad():  # a tensor that asks for gradients takes the tensor path
            asking = means[level].clone().requires_grad_()
            tensor = spread._level_system(guide, (asking, maxima[level]), level, settings)
        centre, affinities, rhs, open_ = compiled
        assert torch.equal(centre, tensor[0].detach()) and torch.equal(rhs, tensor[2].detach())
        assert torch.equal(open_, tensor[3].detach())
        assert all(torch.equal(a, b.detach()) for a, b in zip(affinities, tensor[1], strict=True))


@pytest.mark.parametrize("maximum", [False, True])
def test_the_compiled_pyramid_equals_the_pooled_one(maximum: bool) -> None:
    from tinct.guidance import spread

    generator = torch.Generator().manual_seed(5)
    planes = torch.randn(2, 3, 64, 48, generator=generator) * 30
    compiled = spread._pyramid(planes, 6, maximum)
    with torch.enable_grad():  # a tensor that asks for gradients takes PyTorch's pooling
        pooled = spread._pyramid(planes.clone().requires_grad_(), 6, maximum)
    sizes = [(64, 48), (32, 24), (16, 12), (8, 6), (4, 3), (2, 1)]
    assert [tuple(level.shape[-2:]) for level in compiled] == sizes
    assert all(torch.equal(a, b.detach()) for a, b in zip(compiled, pooled, strict=True))
