"""Short training clips for the video models: DAVIS sequences and still photos set in motion.

Two sources, both deterministic given a seed:

- **DAVIS** training sequences (:func:`tinct.data.davis_split.davis_split`; the validation ones
  are never read here), decoded once with :func:`tinct.io.video_frames.iter_video_frames`,
  shrunk to :data:`DAVIS_SIZE` and cached as uint8 tensors;
- **synthetic clips** from still photos: a square of the photo seen by a camera that pans, zooms
  and rotates along a smooth random trajectory (:func:`camera_trajectory`), rendered with
  ``affine_grid``/``grid_sample``. The window always stays inside the photo, so no border is
  ever visible.

Clips are ``(T, 3, S, S)`` float32 sRGB in [0, 1].
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from tinct.data.davis_split import DAVIS_VALIDATION, davis_split
from tinct.data.transforms import resize
from tinct.errors import ImageReadError
from tinct.io.atomic import atomic_write
from tinct.io.image_file import read_image
from tinct.io.video_frames import iter_video_frames

DAVIS_SIZE = (128, 224)  # (H, W) of cached DAVIS frames: 854x480 shrunk, multiples of 32
SOURCE_SCALE = 1.5  # photos are resized to this multiple of the clip side before sampling


@dataclass(frozen=True)
class CameraMotion:
    """Ranges of the random camera trajectory of a synthetic clip.

    ``zoom`` is the side of the visible window as a fraction of the source square (smaller is
    more zoomed in); over a clip it changes by at most ``zoom_change`` (relative), the angle by at
    most ``rotation_degrees`` each way, and the centre moves anywhere the window still fits.
    """

    zoom: tuple[float, float] = (0.55, 0.85)
    zoom_change: float = 0.15
    rotation_degrees: float = 6.0
    max_pan: float = 0.25  # largest move of the centre, in half-sides of the source


@dataclass(frozen=True)
class Trajectory:
    """Camera pose per frame: ``zoom (T,)``, ``angle (T,)`` in radians, ``centre (T, 2)`` (x, y)
    in normalised source coordinates ([-1, 1], as in ``affine_grid``)."""

    zoom: Tensor
    angle: Tensor
    centre: Tensor


def _ease(frames: int) -> Tensor:
    """Smoothstep from 0 to 1 over ``frames`` samples: zero velocity at both ends, no jerk."""
    u = torch.linspace(0.0, 1.0, frames, dtype=torch.float64)
    return u * u * (3 - 2 * u)


def camera_trajectory(frames: int, rng: random.Random, motion: CameraMotion) -> Trajectory:
    """A smooth random pan, zoom and rotation whose window stays inside the source square."""
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    ease = _ease(frames)
    zoom_start = rng.uniform(*motion.zoom)
    zoom_end = min(zoom_start * (1 + rng.uniform(-1, 1) * motion.zoom_change), motion.zoom[1])
    limit = math.radians(motion.rotation_degrees)
    angle_start, angle_end = rng.uniform(-limit, limit), rng.uniform(-limit, limit)
    zoom = zoom_start + (zoom_end - zoom_start) * ease
    angle = angle_start + (angle_end - angle_start) * ease
    # The window's corners reach ``zoom * (|cos| + |sin|)`` from its centre along each axis.
    margin = float((1 - zoom * (angle.cos().abs() + angle.sin().abs())).min().clamp(min=0))
    start = torch.tensor([rng.uniform(-margin, margin) for _ in range(2)], dtype=torch.float64)
    reach = min(margin, motion.max_pan)
    step = torch.tensor([rng.uniform(-reach, reach) for _ in range(2)], dtype=torch.float64)
    end = (start + step).clamp(-margin, margin)
    centre = start + (end - start) * ease[:, None]
    return Trajectory(zoom.float(), angle.float(), centre.float())


def render_clip(source: Tensor, trajectory: Trajectory, size: int) -> Tensor:
    """Frames ``(T, 3, size, size)`` of a square ``source (3, N, N)`` seen along ``trajectory``."""
    if source.dim() != 3 or source.shape[-1] != source.shape[-2]:
        raise ValueError(f"source must be a square (3, N, N) image, got {tuple(source.shape)}")
    cos, sin = trajectory.angle.cos(), trajectory.angle.sin()
    zoom = trajectory.zoom
    theta = torch.stack(
        (
            torch.stack((zoom * cos, -zoom * sin, trajectory.centre[:, 0]), dim=1),
            torch.stack((zoom * sin, zoom * cos, trajectory.centre[:, 1]), dim=1),
        ),
        dim=1,
    ).to(source.dtype)
    count = theta.shape[0]
    grid = F.affine_grid(theta, [count, 3, size, size], align_corners=False)
    frames = F.grid_sample(
        source.expand(count, -1, -1, -1),
        grid,
        mode="bilinear",
        padding_mode="border",
        align_corners=False,
    )
    return frames.clamp(0, 1)


def square_source(rgb: Tensor, size: int, rng: random.Random) -> Tensor:
    """A random square of ``rgb (3, H, W)`` (its full short side), resized to
    ``SOURCE_SCALE * size``."""
    height, width = rgb.shape[-2:]
    side = min(height, width)
    top, left = rng.randint(0, height - side), rng.randint(0, width - side)
    square = rgb[:, top : top + side, left : left + side]
    return resize(square, (round(size * SOURCE_SCALE),) * 2)


def synthetic_clip(
    rgb: Tensor, frames: int, size: int, rng: random.Random, motion: CameraMotion = CameraMotion()
) -> Tensor:
    """A clip ``(frames, 3, size, size)`` of the still photo ``rgb (3, H, W)`` in camera motion."""
    source = square_source(rgb, size, rng)
    clip = render_clip(source, camera_trajectory(frames, rng, motion), size)
    return clip.flip(-1) if rng.random() < 0.5 else clip


# -- DAVIS ---------------------------------------------------------------------------------------


def decode_sequence(path: Path, size: tuple[int, int] = DAVIS_SIZE) -> Tensor:
    """All frames of a video, resized to ``size`` (H, W), as uint8 ``(T, 3, H, W)``."""
    frames = [
        (resize(rgb, size) * 255).round().clamp(0, 255).to(torch.uint8)
        for _, rgb in iter_video_frames(path)
    ]
    return torch.stack(frames)


def cached_sequence(
    path: Path, cache_dir: Path | None, size: tuple[int, int] = DAVIS_SIZE
) -> Tensor:
    """:func:`decode_sequence`, kept in ``cache_dir`` (keyed by name, size and file size)."""
    if cache_dir is None:
        return decode_sequence(path, size)
    key = f"{path.stem}_{size[0]}x{size[1]}_{path.stat().st_size}.pt"
    cached = Path(cache_dir) / key
    if cached.is_file():
        return torch.load(cached, weights_only=True)
    frames = decode_sequence(path, size)
    import io

    buffer = io.BytesIO()
    torch.save(frames, buffer)
    with atomic_write(cached, overwrite=True) as handle:
        handle.write(buffer.getvalue())
    return frames


def training_sequences(
    davis_dir: Path, cache_dir: Path | None, size: tuple[int, int] = DAVIS_SIZE
) -> dict[str, Tensor]:
    """The DAVIS *training* sequences of ``davis_dir`` by name, uint8 ``(T, 3, H, W)`` each."""
    training, _ = davis_split(Path(davis_dir))
    sequences = {path.stem: cached_sequence(path, cache_dir, size) for path in training}
    if set(sequences) & set(DAVIS_VALIDATION):  # davis_split guarantees this; keep it so
        raise RuntimeError("a DAVIS validation sequence reached the training data")
    return sequences


def davis_clip(sequence: Tensor, frames: int, size: int, rng: random.Random) -> Tensor:
    """A random ``(frames, 3, size, size)`` clip of a uint8 sequence: start, crop and flip."""
    count, _, height, width = sequence.shape
    if count < frames:
        raise ValueError(f"a sequence of {count} frames is shorter than a clip of {frames}")
    start = rng.randint(0, count - frames)
    clip = sequence[start : start + frames].float() / 255
    if min(height, width) < size:
        clip = resize(clip, (max(size, height), max(size, round(width * size / height))))
        height, width = clip.shape[-2:]
    top, left = rng.randint(0, height - size), rng.randint(0, width - size)
    clip = clip[..., top : top + size, left : left + size]
    return clip.flip(-1) if rng.random() < 0.5 else clip


# -- the dataset ---------------------------------------------------------------------------------


def _clip_rng(seed: int, epoch: int, index: int) -> random.Random:
    digest = hashlib.sha256(f"clip:{seed}:{epoch}:{index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "little"))


class VideoClipDataset(Dataset):
    """Clips from DAVIS sequences and from photos in camera motion, one per index.

    Item ``i`` of epoch ``e`` depends only on ``(seed, e, i)``. A fraction ``davis_fraction`` of
    the items (every item when there are no photos) are DAVIS clips, the rest synthetic.
    Unreadable photos are skipped (the next one in the list is used) and recorded in
    ``failures``.

    Args:
        photos: still images for synthetic clips.
        sequences: uint8 ``(T, 3, H, W)`` DAVIS training sequences.
        length: number of clips per epoch.
        frames: frames per clip.
        size: side of the square clips.
        seed: seed of everything random.
        davis_fraction: share of DAVIS clips when both sources exist.
        motion: camera motion of the synthetic clips.
    """

    def __init__(
        self,
        photos: list[Path],
        sequences: list[Tensor],
        length: int,
        frames: int = 4,
        size: int = 128,
        seed: int = 0,
        davis_fraction: float = 0.5,
        motion: CameraMotion = CameraMotion(),
    ) -> None:
        if not photos and not sequences:
            raise ValueError("no photos and no sequences: nothing to make clips from")
        self.photos, self.sequences = list(photos), list(sequences)
        self.length, self.frames, self.size, self.seed = length, frames, size, seed
        self.davis_fraction = davis_fraction if photos and sequences else float(bool(sequences))
        self.motion = motion
        self.epoch = 0
        self.failures: dict[Path, str] = {}

    def __len__(self) -> int:
        return self.length

    def _photo(self, start: int) -> Tensor:
        for offset in range(len(self.photos)):
            path = self.photos[(start + offset) % len(self.photos)]
            try:
                return read_image(path).rgb
            except ImageReadError as error:
                self.failures[path] = str(error)
        raise ImageReadError(self.photos[0].parent, "no readable photo for synthetic clips")

    def __getitem__(self, index: int) -> Tensor:
        rng = _clip_rng(self.seed, self.epoch, index)
        if rng.random() < self.davis_fraction:
            sequence = self.sequences[rng.randrange(len(self.sequences))]
            return davis_clip(sequence, self.frames, self.size, rng)
        photo = self._photo(rng.randrange(len(self.photos)))
        return synthetic_clip(photo, self.frames, self.size, rng, self.motion)
