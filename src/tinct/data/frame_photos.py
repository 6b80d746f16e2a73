"""Training photos from colour video: every n-th frame written as a PNG (``tinct frames``)."""

from __future__ import annotations

from pathlib import Path

from tinct.data.transforms import resize_to_fit
from tinct.io.image_file import write_image
from tinct.io.video_frames import iter_video_frames


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
        tinct.io.video_frames.VideoReadError: as :func:`~tinct.io.video_frames.iter_video_frames`.
    """
    count = 0
    for index, rgb in iter_video_frames(video, every):
        if before is not None and index >= before:
            break
        if max_side is not None:
            rgb = resize_to_fit(rgb, max_side).clamp(0.0, 1.0)
        write_image(Path(folder) / f"{index:06d}.png", rgb, force=force)
        count += 1
    return count
