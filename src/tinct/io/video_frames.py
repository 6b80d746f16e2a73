"""Decode video frames with PyAV for training data (streamed; frames come one at a time); they
are written as photos by :mod:`tinct.data.frame_photos`."""

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
