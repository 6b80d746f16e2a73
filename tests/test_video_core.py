"""The video colour core end to end on synthetic luma streams: order, shapes, keyframes."""

from __future__ import annotations

import numpy as np
import pytest

from tinct.api import load
from tinct.pipeline.colorizer import Colorizer
from tinct.video.pipeline import LumaFrame, VideoOptions, colorize_luma_stream


@pytest.fixture(scope="module")
def still() -> Colorizer:
    return load("tinct-lite")


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
