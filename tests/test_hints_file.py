"""The hints file format: parsing, errors that name the entry, rasterizing, video keys."""

from __future__ import annotations

import json

import pytest
import torch

from tinct.color.lab import rgb_to_lab
from tinct.guidance.hints_file import (
    Hints,
    HintsError,
    load_hints,
    load_video_hints,
    parse_colour,
    parse_hints,
    parse_video_hints,
    rasterize_hints,
)

EXAMPLE = {
    "version": 1,
    "points": [{"x": 12, "y": 8, "color": "#c0392b", "radius": 1}],
    "strokes": [{"points": [[0, 0], [19, 0]], "color": {"a": 40, "b": 20}, "width": 1}],
    "boundaries": [{"points": [[0, 14], [19, 14]], "width": 1}],
}


def test_example_parses_with_colours_in_lab() -> None:
    hints = parse_hints(EXAMPLE)
    expected = rgb_to_lab(torch.tensor([0xC0, 0x39, 0x2B], dtype=torch.float64).view(3, 1, 1) / 255)
    assert hints.points[0].ab == pytest.approx((float(expected[1]), float(expected[2])))
    assert hints.strokes[0].ab == (40.0, 20.0)
    assert hints.boundaries[0].points == ((0.0, 14.0), (19.0, 14.0))
    assert bool(hints) and not bool(parse_hints({}))


def test_round_trip_through_json() -> None:
    hints = parse_hints(EXAMPLE)
    again = parse_hints(json.loads(json.dumps(hints.to_json())))
    assert again.points[0].ab == pytest.approx(hints.points[0].ab, abs=1e-3)
    assert again.strokes == hints.strokes and again.boundaries == hints.boundaries


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected a JSON object, got a list"),
        ({"pionts": []}, "unknown key 'pionts'"),
        ({"version": 2}, "version: version 2 is not supported"),
        ({"points": {}}, "points: expected a list, got an object"),
        ({"points": [{"x": 1, "color": "#fff"}]}, 'points[0]: missing "y"'),
        ({"points": [{"x": 1, "y": 2, "color": "#12345"}]}, "points[0].color: '#12345' is not"),
        ({"points": [{"x": "1", "y": 2, "color": "#fff"}]}, "points[0].x: expected a number"),
        ({"points": [{"x": 1, "y": True, "color": "#fff"}]}, "points[0].y: expected a number"),
        ({"points": [{"x": 1, "y": 2, "color": {"a": 500, "b": 0}}]}, "color.a: 500 is out of"),
        ({"points": [{"x": 1, "y": 2, "color": "#fff", "radius": -1}]}, "radius: -1 is out of"),
        ({"strokes": [{"points": [], "color": "#fff"}]}, "strokes[0].points: needs at least 1"),
        ({"strokes": [{"points": [[1]], "color": "#fff"}]}, "points[0]: expected a point [x, y]"),
        ({"boundaries": [{"points": [[1, 2]]}]}, "boundaries[0].points: needs at least 2 points"),
        ({"boundaries": [{"points": [[1, 2], [3, 4]], "width": 0}]}, "width: must be > 0"),
        ({"points": [{"x": float("nan"), "y": 2, "color": "#fff"}]}, "points[0].x: nan is out"),
    ],
)
def test_bad_entries_are_named(data: object, message: str) -> None:
    with pytest.raises(HintsError) as caught:
        parse_hints(data, source="my.json")
    assert str(caught.value).startswith("my.json")
    assert message in str(caught.value)


def test_colour_forms_agree() -> None:
    red = parse_colour("#ff0000")
    assert parse_colour("f00") == red
    assert parse_colour({"L": 20, "a": red[0], "b": red[1]}) == red


def test_hex_colours_are_the_lab_of_their_srgb_in_any_spelling() -> None:
    # a cached conversion: the spellings of one colour share it, other colours do not
    for digits in ("#3a7bd5", "3A7BD5", "#3a7BD5", "#fe9", "ffee99", "#000000", "#ffffff"):
        text = digits.lstrip("#")
        full = "".join(d * 2 for d in text) if len(text) == 3 else text
        rgb = torch.tensor([int(full[i : i + 2], 16) / 255 for i in (0, 2, 4)], dtype=torch.float64)
        lab = rgb_to_lab(rgb.view(3, 1, 1)).flatten()
        assert parse_colour(digits) == pytest.approx((float(lab[1]), float(lab[2])), abs=1e-9)
    assert parse_colour("#3a7bd5") != parse_colour("#3a7bd6")


def test_rasterize_paints_points_strokes_and_boundaries() -> None:
    hint_map = rasterize_hints(parse_hints(EXAMPLE), 16, 20)
    assert hint_map.shape == (1, 4, 16, 20) and hint_map.dtype == torch.float32
    mask, boundary = hint_map[0, 2], hint_map[0, 3]
    assert mask[8, 12] == 1 and mask[7, 12] == 1 and mask[8, 14] == 0  # a disc of radius 1
    assert mask[0].all() and hint_map[0, 0, 0, 5] == 40 and hint_map[0, 1, 0, 5] == 20
    assert boundary[14].all() and boundary.sum() == 20
    assert (hint_map[0, :2] * (1 - mask)).abs().sum() == 0  # no colour without a mask


def test_positions_fall_in_the_pixel_that_holds_them() -> None:
    hints = parse_hints({"points": [{"x": 3.9, "y": 0.2, "color": "#f00", "radius": 0}]})
    mask = rasterize_hints(hints, 4, 5)[0, 2]
    assert mask.sum() == 1 and mask[0, 3] == 1


def test_rasterize_at_a_smaller_size_keeps_every_hint() -> None:
    hints = parse_hints(
        {
            "points": [{"x": 999, "y": 10, "color": "#00f", "radius": 1}],
            "boundaries": [{"points": [[0, 500], [999, 500]], "width": 2}],
        }
    )
    small = rasterize_hints(hints, 1000, 1000, size=(64, 64))
    assert small.shape == (1, 4, 64, 64)
    assert small[0, 2].sum() >= 1 and small[0, 2, 0, 63] == 1
    assert small[0, 3, 32].all()


def test_hints_outside_the_image_are_named() -> None:
    hints = parse_hints(
        {"points": [{"x": 0, "y": 0, "color": "#f00"}] * 2 + [{"x": 50, "y": 3, "color": "#f00"}]},
        source="h.json",
    )
    with pytest.raises(HintsError, match=r"h.json: points\[2\]: \(50, 3\) lies outside the 40x30"):
        rasterize_hints(hints, 30, 40)
    line = parse_hints({"boundaries": [{"points": [[100, 100], [200, 100]]}]})
    with pytest.raises(HintsError, match=r"boundaries\[0\]: lies outside"):
        rasterize_hints(line, 30, 40)


def test_load_hints_names_the_file(tmp_path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(EXAMPLE))
    assert isinstance(load_hints(good), Hints)
    broken = tmp_path / "broken.json"
    broken.write_text("{\n  'points': }")
    with pytest.raises(HintsError, match=r"broken.json: not valid JSON \(line 2"):
        load_hints(broken)
    with pytest.raises(HintsError, match="missing.json: no such hints file"):
        load_hints(tmp_path / "missing.json")
    with pytest.raises(HintsError, match="is a folder"):
        load_hints(tmp_path)


def test_video_hints_by_frame_and_time(tmp_path) -> None:
    data = {
        "version": 1,
        "frames": [
            {"frame": 0, "points": [{"x": 1, "y": 1, "color": "#f00"}]},
            {"time": 2.0, "strokes": [{"points": [[0, 0]], "color": "#0f0"}]},
        ],
    }
    video = parse_video_hints(data)
    resolved = video.resolve(frames_per_second=25)
    assert set(resolved) == {0, 50}
    assert resolved[50].strokes and resolved[0].points
    path = tmp_path / "photo.json"
    path.write_text(json.dumps(EXAMPLE))
    assert set(load_video_hints(path).resolve(24)) == {0}  # a photo's hints go to frame 0


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        ([{"points": []}], 'frames[0]: needs exactly one of "frame"'),
        ([{"frame": 1, "time": 0.5}], 'frames[0]: needs exactly one of "frame"'),
        ([{"frame": -1}], "frames[0].frame: -1 is not a frame index"),
        ([{"frame": 3}, {"frame": 3}], "frames[1]: a second entry for frame 3"),
    ],
)
def test_bad_video_entries_are_named(frames: list[object], message: str) -> None:
    with pytest.raises(HintsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_video_hints({"frames": frames})


def test_time_and_frame_on_the_same_frame_is_an_error() -> None:
    video = parse_video_hints({"frames": [{"frame": 24}, {"time": 1.0}]})
    with pytest.raises(HintsError, match="falls on frame 24"):
        video.resolve(24.0)
