"""The video colour core end to end on synthetic luma streams: order, shapes, keyframes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from tinct.api import load
from tinct.pipeline.colorizer import Colorizer
from tinct.video.pipeline import LumaFrame, VideoOptions, colorize_luma_stream


@pytest.fixture(scope="module")
def still() -> Colorizer:
    return load("tinct-lite", working_side=128)  # a small grid keeps the tests fast


def moving_scene(count: int, height: int = 72, width: int = 128, seed: int = 0) -> list[LumaFrame]:
    """A textured scene panning right by 2 pixels a frame, with a bright moving square."""
    generator = np.random.default_rng(seed)
    canvas = generator.integers(30, 220, size=(height // 8 + 1, (width + 4 * count) // 8 + 1))
    canvas = np.kron(canvas, np.ones((8, 8))).astype(np.float32)
    frames = []
    for index in range(count):
        luma = canvas[:height, 2 * index : 2 * index + width].copy()
        luma[20:40, 10 + 3 * index : 30 + 3 * index] = 230
        frames.append(LumaFrame(index, index / 24, luma.astype(np.uint8)))
    return frames


def test_options_reject_bad_values() -> None:
    with pytest.raises(ValueError, match="keyframe_every"):
        VideoOptions(keyframe_every=0)
    with pytest.raises(ValueError, match="mode"):
        VideoOptions(mode="cartoon")
    with pytest.raises(ValueError, match="background_colour"):
        VideoOptions(background_colour="latest")


def test_per_frame_stream_yields_every_frame_in_order(still: Colorizer) -> None:
    frames = moving_scene(5, 71, 101)
    results = list(colorize_luma_stream(frames, still, VideoOptions(per_frame=True)))
    assert [index for index, _, _ in results] == [0, 1, 2, 3, 4]
    for _, u, v in results:
        assert u.shape == v.shape == (36, 51) and u.dtype == v.dtype == np.uint8
        assert u.min() >= 16 and u.max() <= 240


def test_bad_colour_range_is_refused(still: Colorizer) -> None:
    with pytest.raises(ValueError, match="color_range"):
        list(colorize_luma_stream(moving_scene(1), still, VideoOptions(), color_range="srgb"))


class CountingColorizer(Colorizer):
    """The still colorizer, counting its calls and the hints it was given."""

    calls: int = 0
    hinted_calls: int = 0

    def predict_ab(self, lightness, hints=None):  # type: ignore[override]
        self.calls += 1
        self.hinted_calls += hints is not None and bool(hints[:, 2].any())
        return super().predict_ab(lightness, hints)


def counting(still: Colorizer) -> CountingColorizer:
    # every setting of the still colorizer (decoding, smoothing, colour boost) carried over
    return CountingColorizer(**{f.name: getattr(still, f.name) for f in dataclasses.fields(still)})


def two_scenes(length: int) -> list[LumaFrame]:
    """``length`` frames of a panning scene, then ``length`` of a different, brighter one."""
    first = moving_scene(length, seed=1)
    second = [
        LumaFrame(length + f.index, (length + f.index) / 24, (f.luma // 2 + 120).astype(np.uint8))
        for f in moving_scene(length, seed=2)
    ]
    return first + second


def test_keyframes_at_the_start_at_cuts_and_at_the_maximum_spacing(still: Colorizer) -> None:
    model = counting(still)
    options = VideoOptions(keyframe_every=8, fallback_area=1.0)  # no fallback runs
    results = list(colorize_luma_stream(two_scenes(12), model, options))
    assert [index for index, _, _ in results] == list(range(24))
    # Shot 1: frames 0 and 8; shot 2 (cut at 12): frames 12 and 20.
    assert model.calls == 4


def test_per_frame_runs_the_still_model_on_every_frame(still: Colorizer) -> None:
    model = counting(still)
    list(colorize_luma_stream(moving_scene(6), model, VideoOptions(per_frame=True)))
    assert model.calls == 6


def test_memory_is_bounded_output_follows_input_within_a_segment(still: Colorizer) -> None:
    consumed = []

    def source():
        for frame in moving_scene(30):
            consumed.append(frame.index)
            yield frame

    stream = colorize_luma_stream(source(), still, VideoOptions(keyframe_every=5))
    for index, _, _ in stream:
        assert len(consumed) - index <= 5  # never more than a segment ahead


def test_propagated_colour_is_steadier_than_per_frame(still: Colorizer) -> None:
    frames = moving_scene(16)
    steady = [u.astype(float) for _, u, _ in colorize_luma_stream(frames, still, VideoOptions())]
    naive = [
        u.astype(float)
        for _, u, _ in colorize_luma_stream(frames, still, VideoOptions(per_frame=True))
    ]
    # Mean colour of each frame: propagation must not make it jump more than per-frame does.
    steady_jumps = np.abs(np.diff([u.mean() for u in steady])).mean()
    naive_jumps = np.abs(np.diff([u.mean() for u in naive])).mean()
    assert steady_jumps <= naive_jumps + 0.05


def test_hinted_colour_persists_until_the_next_cut(still: Colorizer) -> None:
    frames = two_scenes(12)
    height, width = frames[0].luma.shape

    def hints(index: int, time: float):
        if index != 0:
            return None
        hint = torch.zeros(1, 4, height, width)
        hint[0, 0, 50:58, 90:98], hint[0, 1, 50:58, 90:98], hint[0, 2, 50:58, 90:98] = 70, 60, 1
        return hint

    model = counting(still)
    options = VideoOptions(keyframe_every=4)
    hinted = {
        i: v for i, _, v in colorize_luma_stream(frames, model, options, hints_for_frame=hints)
    }
    plain = {i: v for i, _, v in colorize_luma_stream(frames, still, options)}
    assert model.hinted_calls >= 3  # frame 0 and the carried hints at keyframes 4 and 8
    # Red-orange hint: V (red difference) is higher where the content it was placed on went.
    for index in (0, 6, 11):
        hint_rows, hint_cols = slice(25, 29), slice(45 - index, 49 - index)
        gain = (
            hinted[index][hint_rows, hint_cols].mean() - plain[index][hint_rows, hint_cols].mean()
        )
        assert gain > 8, (index, gain)
    # After the cut the hint is gone.
    assert np.abs(hinted[20].astype(float) - plain[20]).mean() < 1.0


class RecordingRefiner(torch.nn.Module):
    """Stands in for the learned refiner: checks its inputs, returns the fallback colour."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, lightness, warped_ab, confidence, still_ab):
        self.calls += 1
        assert lightness.shape[1] == 1 and confidence.shape[1] == 1
        assert warped_ab.shape == still_ab.shape and warped_ab.shape[1] == 2
        assert lightness.shape[-2:] == warped_ab.shape[-2:] == confidence.shape[-2:]
        return still_ab


def test_a_refiner_replaces_the_closed_form_blend(still: Colorizer) -> None:
    refiner = RecordingRefiner()
    frames = moving_scene(8)
    options = VideoOptions(keyframe_every=8, refiner=refiner)
    refined = {i: u for i, u, _ in colorize_luma_stream(frames, still, options)}
    plain = {
        i: u for i, u, _ in colorize_luma_stream(frames, still, VideoOptions(keyframe_every=8))
    }
    assert refiner.calls >= 7  # every in-between frame, forward (and backward) pass
    assert np.array_equal(refined[0], plain[0])  # the keyframe is untouched


class ContextStill:
    """A still colorizer that, like a weak model, colours the whole frame from its content:
    the road bluish (b* -6) when it is empty, yellowish (b* +9) when a bright car is in view."""

    working_side = 128

    def predict_ab(self, lightness: torch.Tensor, hints=None) -> torch.Tensor:
        b = 9.0 if bool((lightness > 85).any()) else -6.0
        # A gentle ramp across the frame, so that the 8-bit chroma planes' rounding averages out.
        ramp = torch.linspace(-3.0, 3.0, lightness.shape[3]).expand(*lightness.shape[2:])
        return torch.stack((ramp, b + ramp)).unsqueeze(0)


def fixed_camera(count: int, height: int = 72, width: int = 128) -> list[LumaFrame]:
    """A still textured scene (a fixed camera); a bright car drives across it twice, in view
    during frames 30 to 59 and 90 to 119."""
    canvas = np.random.default_rng(3).integers(60, 160, size=(height // 8 + 1, width // 8 + 1))
    canvas = np.kron(canvas, np.ones((8, 8)))[:height, :width]
    frames = []
    for index in range(count):
        luma = canvas.copy()
        if index % 60 >= 30:
            x = (index % 30) * 3
            luma[20:36, x : x + 20] = 235
        frames.append(LumaFrame(index, index / 24, luma.astype(np.uint8)))
    return frames


def test_surveillance_background_keeps_one_colour_while_cars_pass() -> None:
    from tinct.color.lab import rgb_to_lightness
    from tinct.evaluation.video_metrics import static_colour_drift
    from tinct.video.chroma_planes import planes_to_rgb

    frames = fixed_camera(144)
    neutral = np.full((36, 64), 128, np.uint8)
    lightness = rgb_to_lightness(
        torch.stack([planes_to_rgb(f.luma, neutral, neutral) for f in frames])
    )

    def background(mode: str):
        stream = colorize_luma_stream(
            frames, ContextStill(), VideoOptions(keyframe_every=8, mode=mode)
        )
        rgb = [planes_to_rgb(f.luma, u, v) for f, (_, u, v) in zip(frames, stream, strict=True)]
        return static_colour_drift(torch.stack(rgb), lightness)

    film, watch = background("film"), background("surveillance")
    assert film.drift > 6.0  # film mode follows the keyframes: the road turns yellow
    assert watch.drift < 1.0  # the road keeps the colour of the empty road
    assert watch.means[:, 1].mean() == pytest.approx(-6.0, abs=1.0)
