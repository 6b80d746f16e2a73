"""`tinct frames`: colour videos to training photos; bad videos reported, others go on."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import torch

from tinct.data.frame_photos import write_video_frames
from tinct.io import read_image
from tinct.io.video_frames import VideoReadError, iter_video_frames

from .helpers.cli import tinct


def make_video(path: Path, frames: int = 12, size: tuple[int, int] = (64, 48)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            image = np.zeros((size[1], size[0], 3), dtype=np.uint8)
            image[..., 0] = 20 * i  # red ramps up frame by frame
            image[..., 2] = 200
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_frames_are_sampled_in_order_with_their_colours(tmp_path: Path) -> None:
    frames = list(iter_video_frames(make_video(tmp_path / "clip.mp4"), every=5))
    assert [index for index, _ in frames] == [0, 5, 10]
    reds = [rgb[0].mean().item() * 255 for _, rgb in frames]
    assert reds[0] < reds[1] < reds[2] and abs(reds[1] - 100) < 12
    assert all(rgb.shape == (3, 48, 64) and torch.all(rgb[2] > 0.6) for _, rgb in frames)


def test_a_non_video_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(VideoReadError, match="notes.mp4: cannot decode video"):
        list(iter_video_frames(tmp_path / "notes.mp4"))


def test_frames_command_writes_photos_and_keeps_going(tmp_path: Path) -> None:
    make_video(tmp_path / "videos" / "cam1.mp4")
    (tmp_path / "videos" / "broken.mp4").write_bytes(b"\x00" * 100)
    result = tinct("frames", tmp_path / "videos", "-o", tmp_path / "frames", "--every", "4")
    assert result.returncode == 1 and "broken.mp4" in result.stderr
    assert "Traceback" not in result.stderr
    written = sorted(p.name for p in (tmp_path / "frames" / "cam1").iterdir())
    assert written == ["000000.png", "000004.png", "000008.png"]
    assert read_image(tmp_path / "frames" / "cam1" / "000004.png").rgb.shape == (3, 48, 64)


def test_frames_command_shrinks_to_max_side(tmp_path: Path) -> None:
    make_video(tmp_path / "cam1.mp4")
    result = tinct("frames", tmp_path / "cam1.mp4", "-o", tmp_path / "frames", "--max-side", "32")
    assert result.returncode == 0, result.stderr
    assert read_image(tmp_path / "frames" / "cam1" / "000000.png").rgb.shape == (3, 24, 32)


def test_frames_before_a_given_index_only(tmp_path: Path) -> None:
    make_video(tmp_path / "cam.mp4")
    written = write_video_frames(tmp_path / "cam.mp4", tmp_path / "out", every=3, before=7)
    assert written == 3
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "000000.png",
        "000003.png",
        "000006.png",
    ]
