"""Shot cuts, flow confidence and the closed-form propagation steps of the video core."""

from __future__ import annotations

import numpy as np
import pytest

from tinct.video.flow import FlowEstimator, warp
from tinct.video.propagate import (
    blend_directions,
    carry_backward,
    carry_forward,
    fill_from_reliable,
    limit_change,
)
from tinct.video.shots import ShotCutDetector, histogram_distance, luma_histogram


def textured(height: int = 64, width: int = 96, seed: int = 0, shift: int = 0) -> np.ndarray:
    """Smooth random texture (blocks of 8), shifted right by ``shift`` pixels."""
    generator = np.random.default_rng(seed)
    blocks = generator.integers(40, 215, size=(height // 8 + 1, (width + shift) // 8 + 2))
    canvas = np.kron(blocks, np.ones((8, 8)))
    import cv2

    canvas = cv2.GaussianBlur(canvas.astype(np.float32), (0, 0), 2.0)
    return canvas[:height, shift : shift + width].astype(np.uint8)


def test_two_scenes_give_one_cut_where_the_scene_changes() -> None:
    dark = [
        np.clip(textured(seed=1, shift=i).astype(int) // 2, 0, 255).astype(np.uint8)
        for i in range(10)
    ]
    bright = [
        np.clip(textured(seed=2, shift=i).astype(int) // 2 + 120, 0, 255).astype(np.uint8)
        for i in range(10)
    ]
    detector = ShotCutDetector(threshold=0.4, min_shot_length=3)
    cuts = [i for i, frame in enumerate(dark + bright) if detector.is_cut(frame)]
    assert cuts == [0, 10]


def test_min_shot_length_suppresses_flashes() -> None:
    scene, flash = textured(seed=3), np.full((64, 96), 250, np.uint8)
    detector = ShotCutDetector(threshold=0.4, min_shot_length=4)
    cuts = [detector.is_cut(frame) for frame in [scene, scene, flash, scene, scene, scene, flash]]
    assert cuts == [True, False, False, False, False, False, True]


def test_histogram_distance_is_zero_for_equal_and_one_for_disjoint() -> None:
    dark, bright = np.zeros((4, 4), np.uint8), np.full((4, 4), 255, np.uint8)
    assert histogram_distance(luma_histogram(dark), luma_histogram(dark)) == 0.0
    assert histogram_distance(luma_histogram(dark), luma_histogram(bright)) == 1.0
    with pytest.raises(ValueError, match="threshold"):
        ShotCutDetector(threshold=0)


def lightness_of(luma: np.ndarray) -> np.ndarray:
    return luma.astype(np.float32) * (100 / 255)


def test_flow_follows_a_pan_and_carries_colour_with_it() -> None:
    first, second = textured(shift=0), textured(shift=3)  # content moves 3 px left
    pair = FlowEstimator("fast").pair(first, second, lightness_of(first), lightness_of(second))
    inner = (slice(8, -8), slice(8, -16))
    assert np.median(pair.backward[inner][..., 0]) == pytest.approx(3.0, abs=0.5)
    assert pair.confidence[inner].mean() > 0.9
    # The right edge shows new content: its backward flow leaves frame t-1.
    assert pair.confidence[:, -2:].mean() < 0.2
    ab = np.zeros((64, 96, 2), np.float32)
    ab[:, 40:50] = (30.0, -20.0)  # a coloured stripe on the first frame
    ((carried, confidence),) = carry_forward(ab, [pair], lambda _, a, c: (a, c))
    assert carried[20:40, 40 - 3 + 2 : 50 - 3 - 2, 0].mean() == pytest.approx(30.0, abs=2.0)
    assert carried[20:40, 60:70].std() < 1.0
    ((back, _),) = carry_backward(carried, [pair], lambda _, a, c: (a, c))
    assert back[20:40, 42:48, 1].mean() == pytest.approx(-20.0, abs=2.0)


def test_warp_with_zero_flow_is_identity() -> None:
    image = np.random.default_rng(0).random((5, 7, 2)).astype(np.float32)
    assert np.allclose(warp(image, np.zeros((5, 7, 2), np.float32)), image)


def test_blend_weighs_by_closeness_and_confidence() -> None:
    ones, zeros = np.ones((2, 2), np.float32), np.zeros((2, 2), np.float32)
    forward = (np.full((2, 2, 2), 10.0, np.float32), ones)
    backward = (np.full((2, 2, 2), 20.0, np.float32), ones)
    ab, _ = blend_directions(forward, backward, 0.25)
    assert np.allclose(ab, 12.5)
    ab, confidence = blend_directions(forward, (backward[0], zeros), 0.75)
    assert np.allclose(ab, 10.0, atol=1e-2) and np.allclose(confidence, 1.0)
    assert blend_directions(forward, None, 0.5) is forward


def test_fill_spreads_reliable_colour_into_holes() -> None:
    ab = np.full((32, 32, 2), 25.0, np.float32)
    confidence = np.ones((32, 32), np.float32)
    ab[10:20, 10:20], confidence[10:20, 10:20] = -80.0, 0.0
    filled = fill_from_reliable(ab, confidence)
    assert np.allclose(filled[12:18, 12:18], 25.0, atol=0.5)


def test_limit_change_bounds_steps_only_where_motion_is_reliable() -> None:
    previous = np.zeros((1, 2, 2), np.float32)
    proposed = np.array([[[30.0, 40.0], [30.0, 40.0]]], np.float32)  # a step of 50
    reliability = np.array([[1.0, 0.0]], np.float32)
    limited = limit_change(proposed, previous, reliability, max_step=5.0)
    assert np.allclose(limited[0, 0], (3.0, 4.0)) and np.allclose(limited[0, 1], (30.0, 40.0))


def grid_of(lightness: np.ndarray, cut: bool = False):
    from tinct.video.grid import GridFrame

    luma = (lightness * 2.55).astype(np.uint8)
    return GridFrame(0, 0.0, lightness.shape, luma, lightness.astype(np.float32), cut=cut)


def test_background_memory_steadies_static_pixels_and_lets_movers_through() -> None:
    from tinct.video.surveillance import BackgroundColourMemory

    memory = BackgroundColourMemory()
    scene = np.full((4, 4), 50.0, np.float32)
    key = np.full((4, 4, 2), 20.0, np.float32)
    assert memory.starts_afresh(grid_of(scene)) and memory.plate() is None
    first = memory.apply(grid_of(scene, cut=True), key, background_ab=key)
    assert np.allclose(first, 20.0)
    moved = scene.copy()
    moved[0, 0] = 90.0  # an object passes over one pixel
    flicker = np.full((4, 4, 2), -20.0, np.float32)  # the proposal jumps everywhere
    for _ in range(10):
        shown = memory.apply(grid_of(moved), flicker)
    assert np.allclose(shown[1:, 1:], 20.0)  # the background keeps its colour
    assert np.allclose(shown[0, 0], -20.0, atol=1e-3)  # the mover shows its own colour
    # Nothing changed for good: no part of the background asks for a colour again.
    assert not memory.starts_afresh(grid_of(moved)) and memory.plate() is None
    assert memory.starts_afresh(grid_of(moved, cut=True))


def test_background_keeps_one_colour_when_keyframes_disagree() -> None:
    """The still model's colours alternate between two colours: the background keeps one."""
    from tinct.video.surveillance import BackgroundColourMemory

    memory = BackgroundColourMemory()
    scene = np.full((4, 4), 50.0, np.float32)
    blue, yellow = np.full((4, 4, 2), (0.0, -6.0), np.float32), np.full((4, 4, 2), (0.0, 9.0))
    shown = []
    for frame in range(240):
        proposed = blue if frame // 24 % 2 == 0 else yellow
        key = proposed if frame % 24 == 0 else None  # offered even where not asked for
        ab = memory.apply(grid_of(scene, cut=frame == 0), proposed, background_ab=key)
        shown.append(ab[2, 2, 1])
    assert np.allclose(shown, -6.0)


def test_background_mean_converges_when_keyframes_disagree() -> None:
    """With ``colour="mean"`` the plate is coloured at every keyframe: alternating colours
    settle on their mean instead of swinging with the latest keyframes."""
    from tinct.video.surveillance import BackgroundColourMemory

    memory = BackgroundColourMemory(colour="mean")
    scene = np.full((4, 4), 50.0, np.float32)
    blue, yellow = np.full((4, 4, 2), (0.0, -6.0), np.float32), np.full((4, 4, 2), (0.0, 9.0))
    shown = []
    for frame in range(480):
        proposed = blue if frame // 24 % 2 == 0 else yellow
        asked = frame == 0 or memory.plate() is not None
        key = proposed if frame % 24 == 0 and asked else None
        ab = memory.apply(grid_of(scene, cut=frame == 0), proposed, background_ab=key)
        shown.append(ab[2, 2, 1])
    late = np.array(shown[240:])
    assert late.max() - late.min() < 1.5 and abs(late[-1] - 1.5) < 0.1
    with pytest.raises(ValueError, match="background colour"):
        BackgroundColourMemory(colour="latest")


def test_background_memory_ignores_exposure_and_recolours_what_stays() -> None:
    from tinct.video.surveillance import BackgroundColourMemory

    memory = BackgroundColourMemory()
    scene = np.full((8, 8), 50.0, np.float32)
    grey = np.full((8, 8, 2), 2.0, np.float32)
    memory.apply(grid_of(scene, cut=True), grey, background_ab=grey)
    red = np.full((8, 8, 2), (40.0, 20.0), np.float32)
    darker = memory.apply(grid_of(scene - 12.0), red)  # the camera's exposure drops
    assert np.allclose(darker, 2.0)  # still background
    parked = scene.copy()
    parked[:4, :4] = 85.0  # a car drives in and stays
    asked = []
    for frame in range(1, 601):
        plate = memory.plate() if frame % 24 == 0 else None
        if plate is not None:
            asked.append(frame)
        shown = memory.apply(grid_of(parked), red, background_ab=None if plate is None else red)
    assert asked and asked[0] > 24  # a passing car would be gone before it counts
    plate = memory.plate()
    assert plate is None and np.allclose(memory.lightness[:4, :4], 85.0, atol=3.0)  # adopted
    assert np.allclose(shown[:4, :4], red[:4, :4], atol=0.5)  # coloured afresh: the car's
    assert np.allclose(shown[5:, 5:], 2.0)  # the road keeps its colour
