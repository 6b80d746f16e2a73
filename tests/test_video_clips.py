"""Training clips for the video models: synthetic camera motion over photos, DAVIS clips."""

from __future__ import annotations

import math
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tinct.data.video_clips import (
    CameraMotion,
    Trajectory,
    VideoClipDataset,
    camera_trajectory,
    davis_clip,
    render_clip,
    synthetic_clip,
    training_sequences,
)

from .conftest import SHARED_DATA, require_shared


def _textured(size: int = 150, seed: int = 0) -> torch.Tensor:
    """A photo-like image: smooth colour gradients plus blobs, so that any motion shows."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, 6, 6, generator=generator)
    image = torch.nn.functional.interpolate(coarse, size=(size, size), mode="bicubic")[0]
    return image.clamp(0, 1)


def _corners_inside(trajectory: Trajectory) -> bool:
    corners = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]])
    for zoom, angle, centre in zip(
        trajectory.zoom, trajectory.angle, trajectory.centre, strict=True
    ):
        rotation = torch.tensor(
            [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]
        )
        mapped = zoom * corners @ rotation.T + centre
        if mapped.abs().max() > 1 + 1e-5:
            return False
    return True


@pytest.mark.parametrize("seed", range(40))
def test_the_camera_window_never_leaves_the_photo(seed: int) -> None:
    trajectory = camera_trajectory(6, random.Random(seed), CameraMotion())
    assert _corners_inside(trajectory)


def test_trajectory_moves_smoothly() -> None:
    for seed in range(10):
        trajectory = camera_trajectory(8, random.Random(seed), CameraMotion())
        for path in (trajectory.centre, trajectory.zoom[:, None], trajectory.angle[:, None]):
            velocity = path[1:] - path[:-1]
            acceleration = velocity[1:] - velocity[:-1]
            # Smoothstep: starts and ends at rest, no jump in velocity between frames.
            assert acceleration.abs().max() <= 0.5 * velocity.abs().max() + 1e-7
        assert (trajectory.centre[-1] - trajectory.centre[0]).abs().max() > 0


def test_identity_pose_reproduces_the_source() -> None:
    source = _textured(64)
    still = Trajectory(torch.ones(2), torch.zeros(2), torch.zeros(2, 2))
    frames = render_clip(source, still, 64)
    assert torch.allclose(frames[0], source, atol=1e-5)
    assert torch.equal(frames[0], frames[1])


def test_a_pan_shifts_the_content_by_the_expected_pixels() -> None:
    source = _textured(64)
    # Centre moved by 8 px to the right in normalised units (2 / 64 per pixel).
    pan = Trajectory(torch.ones(2), torch.zeros(2), torch.tensor([[0.0, 0.0], [16 / 64, 0.0]]))
    frames = render_clip(source, pan, 64)
    assert torch.allclose(frames[1][..., :56], source[..., 8:], atol=1e-5)


def test_synthetic_clips_have_the_shape_and_real_motion() -> None:
    clip = synthetic_clip(_textured(), 6, 64, random.Random(3))
    assert clip.shape == (6, 3, 64, 64) and clip.dtype == torch.float32
    assert clip.min() >= 0 and clip.max() <= 1
    steps = [(clip[t + 1] - clip[t]).abs().mean().item() for t in range(5)]
    assert min(steps) > 1e-3  # something moves between every pair of frames
    assert (clip[-1] - clip[0]).abs().mean() > max(steps)  # and it adds up over the clip


def test_synthetic_clips_are_deterministic_given_the_seed() -> None:
    photo = _textured()
    first = synthetic_clip(photo, 4, 48, random.Random(7))
    assert torch.equal(first, synthetic_clip(photo, 4, 48, random.Random(7)))
    assert not torch.equal(first, synthetic_clip(photo, 4, 48, random.Random(8)))


def test_davis_clip_crops_consecutive_frames() -> None:
    sequence = torch.arange(10).view(10, 1, 1, 1).expand(10, 3, 16, 24).to(torch.uint8)
    clip = davis_clip(sequence, 4, 16, random.Random(0))
    assert clip.shape == (4, 3, 16, 16)
    values = (clip[:, 0, 0, 0] * 255).round().tolist()
    assert values == list(range(int(values[0]), int(values[0]) + 4))
    with pytest.raises(ValueError, match="shorter than a clip"):
        davis_clip(sequence[:3], 4, 16, random.Random(0))


def _photo_folder(tmp_path: Path, count: int = 3) -> list[Path]:
    paths = []
    for index in range(count):
        array = (_textured(80, seed=index).permute(1, 2, 0).numpy() * 255).astype(np.uint8)
        path = tmp_path / f"photo{index}.png"
        Image.fromarray(array).save(path)
        paths.append(path)
    return paths


def test_dataset_mixes_sources_deterministically(tmp_path: Path) -> None:
    photos = _photo_folder(tmp_path)
    sequence = (torch.rand(12, 3, 40, 60) * 255).to(torch.uint8)
    dataset = VideoClipDataset(photos, [sequence], length=20, frames=3, size=32, seed=1)
    items = [dataset[i] for i in range(20)]
    assert all(item.shape == (3, 3, 32, 32) for item in items)
    again = VideoClipDataset(photos, [sequence], length=20, frames=3, size=32, seed=1)
    assert all(torch.equal(a, again[i]) for i, a in enumerate(items))
    dataset.epoch = 1
    assert not all(torch.equal(a, dataset[i]) for i, a in enumerate(items))


def test_unreadable_photos_are_skipped_and_recorded(tmp_path: Path) -> None:
    photos = _photo_folder(tmp_path, 1)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    dataset = VideoClipDataset([broken, *photos], [], length=6, frames=2, size=32)
    assert all(dataset[i].shape == (2, 3, 32, 32) for i in range(6))
    assert broken in dataset.failures


def test_a_dataset_needs_a_source() -> None:
    with pytest.raises(ValueError, match="nothing to make clips from"):
        VideoClipDataset([], [], length=1)


@pytest.mark.shared_data
def test_davis_training_sequences_leave_out_the_validation_ones(tmp_path: Path) -> None:
    davis = require_shared(SHARED_DATA / "video" / "davis")
    folder = tmp_path / "davis"
    folder.mkdir()
    for name in ("car-shadow", "blackswan"):  # one training, one validation sequence
        shutil.copy(davis / f"{name}.mp4", folder)
    sequences = training_sequences(folder, tmp_path / "cache", size=(32, 64))
    assert list(sequences) == ["car-shadow"]
    frames = sequences["car-shadow"]
    assert frames.dtype == torch.uint8 and frames.shape[1:] == (3, 32, 64)
    assert frames.shape[0] > 30
    cached = training_sequences(folder, tmp_path / "cache", size=(32, 64))  # from the cache
    assert torch.equal(cached["car-shadow"], frames)
