"""Decode video frames with PyAV for training data (streamed; frames come one at a time), and
write them as photos."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import torch
from torch import Tensor

from tinct.errors import FileProblem


class VideoReadError(FileProblem):
    """A file could not be decoded as video (missing, not a video, no video stream, corrupt)."""


def iter_video_frames(path: Path, every: int = 1) -> Iterator[tuple[int, Tensor]]:
    """Yield ``(frame index, rgb (3, H, W) float32 in [0, 1])`` for every ``every``-th frame.

    Raises:
        VideoReadError: the file is missing, has no video stream or cannot be decoded.
    """
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    path = Path(path)
    if not path.is_file():
        raise VideoReadError(path, "no such file")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoReadError(path, "has no video stream")
            for index, frame in enumerate(container.decode(video=0)):
                if index % every == 0:
                    array = frame.to_ndarray(format="rgb24")
                    yield (
                        index,
                        torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).float()
                        / 255,
                    )
    except av.error.FFmpegError as error:
        raise VideoReadError(path, f"cannot decode video ({error})") from error


def write_video_frames(
    video: Path,
    folder: Path,
    every: int = 1,
    max_side: int | None = None,
    before: int | None = None,
    force: bool = False,
) -> int:
    """Write every ``every``-th frame of ``video`` as ``folder/<frame index>.png``; returns how
    many were written.

    Args:
        max_side: shrink frames so that their longer side is at most this (None: keep the size).
        before: stop at this frame index (None: the whole video).
        force: overwrite existing files (else :func:`tinct.io.image_file.write_image` refuses).

    Raises:
        VideoReadError: as :func:`iter_video_frames`.
    """
    from tinct.data.transforms import resize_to_fit
    from tinct.io.image_file import write_image

    count = 0
    for index, rgb in iter_video_frames(video, every):
        if before is not None and index >= before:
            break
        if max_side is not None:
            rgb = resize_to_fit(rgb, max_side).clamp(0.0, 1.0)
        write_image(Path(folder) / f"{index:06d}.png", rgb, force=force)
        count += 1
    return count
