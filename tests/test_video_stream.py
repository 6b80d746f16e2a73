"""Streamed video I/O: reading luma planes, writing new chroma, audio, resume, bad files.

Every clip is made here with PyAV (tiny sizes, a few frames); the colour is a simple function
of the frame index, so these tests do not depend on the colour core.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tinct.errors import FileProblem
from tinct.io.video_frames import VideoReadError
from tinct.io.video_journal import JOURNAL_NAME, parts_folder
from tinct.io.video_reader import DecodedFrame, VideoInfo, open_video, read_video_info
from tinct.io.video_stream import recolor_video_file
from tinct.io.video_writer import EncodeSettings

from .helpers.video import add_audio, audio_packets, decoded, make_clip, write_tone


def constant_chroma(u: int = 100, v: int = 160):
    """A chroma function giving every frame the same U and V codes."""

    def chroma(info: VideoInfo, frames: Iterator[DecodedFrame]):
        for frame in frames:
            shape = ((frame.luma.shape[0] + 1) // 2, (frame.luma.shape[1] + 1) // 2)
            yield frame.index, np.full(shape, u, np.uint8), np.full(shape, v, np.uint8)

    return chroma


def luma_of(frame: av.VideoFrame) -> np.ndarray:
    """The Y plane through PyAV's own conversion (independent of the reader under test)."""
    return frame.to_ndarray(format="gray") if frame.format.name == "gray" else _y_rows(frame)


def _y_rows(frame: av.VideoFrame) -> np.ndarray:
    if frame.format.name == "yuv420p" and frame.width % 2 == 0 and frame.height % 2 == 0:
        return frame.to_ndarray()[: frame.height]  # (H * 3/2, W): Y rows first
    return frame.to_ndarray(format="yuv444p")[0]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if error == 0 else 10 * np.log10(255**2 / error)


# --- reading ---------------------------------------------------------------------------------


def test_reader_describes_the_clip(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=10, rate=10, audio="aac", rotation=90)
    info = read_video_info(clip)
    assert (info.width, info.height) == (64, 48)
    assert info.frame_rate == 10 and info.frame_count == 10
    assert info.rotation == 90
    assert info.duration == pytest.approx(1.0, abs=0.01)
    assert info.audio_codec == "aac" and info.has_audio
    assert info.color.range == "tv" and info.pixel_format == "yuv420p"


def test_reader_yields_each_luma_plane_with_its_time(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=6)
    reference = decoded(clip)
    with open_video(clip) as reader:
        frames = list(reader.frames())
    assert [frame.index for frame in frames] == list(range(6))
    assert [frame.pts for frame in frames] == [f.pts for f in reference]
    assert [frame.time for frame in frames] == pytest.approx([f.time for f in reference])
    for frame, expected in zip(frames, reference, strict=True):
        assert frame.luma.dtype == np.uint8 and frame.luma.flags.c_contiguous
        np.testing.assert_array_equal(frame.luma, luma_of(expected))


def test_reader_skips_to_a_start_frame(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=6)
    with open_video(clip) as reader:
        assert [frame.index for frame in reader.frames(start=4)] == [4, 5]


def test_ten_bit_video_gives_eight_bit_luma(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "deep.mkv", frames=3, codec="ffv1", pix_fmt="yuv420p10le")
    with open_video(clip) as reader:
        frames = list(reader.frames())
    expected = [luma_of(frame.reformat(format="yuv420p")) for frame in decoded(clip)]
    assert reader.info.pixel_format == "yuv420p10le"
    for frame, luma in zip(frames, expected, strict=True):
        assert frame.luma.dtype == np.uint8 and frame.luma.shape == (48, 64)
        assert np.abs(frame.luma.astype(int) - luma).max() <= 1


@pytest.mark.parametrize(
    ("name", "make", "problem"),
    [
        ("missing.mp4", None, "no such file"),
        ("empty.mp4", lambda p: p.write_bytes(b""), "is empty"),
        ("notes.mp4", lambda p: p.write_text("not a video\n" * 50), "is not a video file"),
        ("photo.png", lambda p: _save_png(p), "still image"),
        ("sound.m4a", lambda p: _audio_only(p), "has no video stream (only audio)"),
        ("nothing.mkv", lambda p: _zero_frames(p), "has no video frames"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(
    tmp_path: Path, name: str, make, problem: str
) -> None:
    path = tmp_path / name
    if make is not None:
        make(path)
    with pytest.raises(VideoReadError) as caught:
        read_video_info(path)
    assert problem in str(caught.value) and str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def _save_png(path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (16, 16), (10, 200, 30)).save(path)


def _audio_only(path: Path) -> None:
    with av.open(str(path), "w", format="mp4") as container:
        write_tone(container, add_audio(container, "aac"), 0.3)


def _zero_frames(path: Path) -> None:
    """A Matroska file whose video track has no frames at all (the audio track has some)."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=10)
        video.width, video.height = 64, 48
        write_tone(container, add_audio(container, "aac"), 0.3)


def test_a_truncated_file_is_an_error_and_leaves_nothing_behind(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=30, faststart=True)
    data = clip.read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(data[: int(len(data) * 0.6)])
    target = tmp_path / "out.mp4"
    with pytest.raises(VideoReadError, match="truncated"):
        recolor_video_file(truncated, target, constant_chroma(), chunk_frames=4)
    assert not target.exists() and not parts_folder(target).exists()
    assert {p.name for p in tmp_path.iterdir()} == {"clip.mp4", "truncated.mp4"}


# --- writing ---------------------------------------------------------------------------------


def test_output_keeps_frames_times_size_rotation_audio_and_luma(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=20, rate=10, audio="aac", rotation=90)
    target = tmp_path / "out" / "colour.mp4"
    result = recolor_video_file(
        clip, target, constant_chroma(), EncodeSettings(crf=18), chunk_frames=6
    )
    assert result.frames == 20 and result.chunks == 4 and result.audio == "audio copied"
    source, output = read_video_info(clip), read_video_info(target)
    assert (output.width, output.height, output.rotation) == (64, 48, 90)
    assert output.frame_count == 20 and output.frame_rate == source.frame_rate
    assert output.time_base == source.time_base
    assert output.duration == pytest.approx(source.duration, abs=0.1)
    before, after = decoded(clip), decoded(target)
    assert [f.time for f in after] == pytest.approx([f.time for f in before])
    for old, new in zip(before, after, strict=True):
        assert psnr(luma_of(old), luma_of(new)) > 40
        chroma = new.to_ndarray()[48:]  # U then V rows, quarter size each
        assert np.abs(chroma[:12].astype(int) - 100).max() <= 2
        assert np.abs(chroma[12:].astype(int) - 160).max() <= 2
    assert len(audio_packets(clip)) > 10 and audio_packets(target) == audio_packets(clip)
    with av.open(str(target)) as container:
        assert "colours are synthetic" in container.metadata["comment"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["colour.mp4"]  # no leftovers


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_variable_frame_rate_keeps_every_time_stamp(tmp_path: Path, suffix: str) -> None:
    time_base = Fraction(1, 1000)
    pts = [0, 40, 120, 160, 300, 340, 500, 520, 700]
    clip = make_clip(tmp_path / "vfr.mp4", frames=len(pts), pts=pts, time_base=time_base)
    target = tmp_path / f"out{suffix}"
    recolor_video_file(clip, target, constant_chroma(), chunk_frames=4)
    assert [round(frame.time, 3) for frame in decoded(target)] == [p / 1000 for p in pts]


def test_odd_sizes_come_out_at_the_same_size(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "odd.mkv", frames=4, size=(65, 49), codec="ffv1")
    target = tmp_path / "odd.mp4"
    recolor_video_file(clip, target, constant_chroma(90, 170), EncodeSettings(crf=10))
    frames = decoded(target)
    assert len(frames) == 4 and (frames[0].width, frames[0].height) == (65, 49)
    assert frames[0].format.name == "yuv444p"
    for old, new in zip(decoded(clip), frames, strict=True):
        assert psnr(luma_of(old), luma_of(new)) > 40
        planes = new.to_ndarray(format="yuv444p")
        assert np.abs(planes[1].astype(int) - 90).max() <= 2
        assert np.abs(planes[2].astype(int) - 170).max() <= 2


def test_full_range_source_keeps_its_range_and_luma_codes(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "full.mp4", frames=3, color_range=2)
    target = tmp_path / "full-out.mp4"
    recolor_video_file(clip, target, constant_chroma(), EncodeSettings(crf=0))
    assert read_video_info(clip).color.range == "pc"
    assert read_video_info(target).color.range == "pc"
    for old, new in zip(decoded(clip), decoded(target), strict=True):
        np.testing.assert_array_equal(luma_of(old), luma_of(new))  # lossless: no range change


def test_output_is_tagged_with_the_matrix_of_the_chroma_written(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "hd.mp4", frames=2, colorspace=1)  # tagged BT.709
    target = tmp_path / "hd-out.mp4"
    recolor_video_file(clip, target, constant_chroma())
    assert read_video_info(clip).color.matrix == "bt709"
    assert read_video_info(target).color.matrix == "smpte170m"  # the core writes BT.601


def test_audio_the_container_cannot_hold_is_reencoded_to_aac(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mov", frames=10, audio="pcm_mulaw")
    target = tmp_path / "clip.mp4"
    result = recolor_video_file(clip, target, constant_chroma())
    assert "re-encoded to aac" in result.audio and "pcm_mulaw" in result.audio
    with av.open(str(target)) as container:
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "aac"
        samples = sum(frame.samples for frame in container.decode(audio))
    assert samples / audio.codec_context.sample_rate == pytest.approx(1.0, abs=0.15)


def test_existing_output_is_kept_without_force_and_replaced_with_it(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=3)
    target = tmp_path / "out.mp4"
    target.write_bytes(b"precious")
    with pytest.raises(FileProblem, match="already exists"):
        recolor_video_file(clip, target, constant_chroma())
    assert target.read_bytes() == b"precious"
    recolor_video_file(clip, target, constant_chroma(), force=True)
    assert read_video_info(target).frame_count == 3


def test_unwritable_container_suffix_and_the_input_itself_are_refused(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=2)
    with pytest.raises(FileProblem, match="use one of"):
        recolor_video_file(clip, tmp_path / "out.webm", constant_chroma())
    before = clip.read_bytes()
    with pytest.raises(FileProblem, match="the input itself"):
        recolor_video_file(clip, clip, constant_chroma(), force=True)
    assert clip.read_bytes() == before


# --- resuming --------------------------------------------------------------------------------


class Interrupted(Exception):
    pass


def chroma_that_stops_at(stop: int, seen: list[int]):
    base = constant_chroma()

    def chroma(info: VideoInfo, frames: Iterator[DecodedFrame]):
        for index, u, v in base(info, frames):
            if index == stop:
                raise Interrupted
            seen.append(index)
            yield index, u, v

    return chroma


def test_an_interrupted_run_resumes_at_the_first_unfinished_chunk(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=14, audio="aac")
    target = tmp_path / "out.mp4"
    first_run: list[int] = []
    with pytest.raises(Interrupted):
        recolor_video_file(clip, target, chroma_that_stops_at(9, first_run), chunk_frames=4)
    assert not target.exists()
    journal = json.loads((parts_folder(target) / JOURNAL_NAME).read_text())
    assert [chunk["first"] for chunk in journal["chunks"]] == [0, 4]
    second_run: list[int] = []
    result = recolor_video_file(clip, target, chroma_that_stops_at(-1, second_run), chunk_frames=4)
    assert second_run == list(range(8, 14))  # chunks 0 and 1 were not redone
    assert result.chunks_resumed == 2 and result.frames == 14
    assert [f.time for f in decoded(target)] == pytest.approx([f.time for f in decoded(clip)])
    assert audio_packets(target) == audio_packets(clip)
    assert not parts_folder(target).exists()


def test_parts_from_other_settings_are_discarded(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=8)
    target = tmp_path / "out.mp4"
    with pytest.raises(Interrupted):
        recolor_video_file(clip, target, chroma_that_stops_at(6, []), chunk_frames=2)
    seen: list[int] = []
    recolor_video_file(
        clip, target, chroma_that_stops_at(-1, seen), EncodeSettings(crf=30), chunk_frames=2
    )
    assert seen == list(range(8))


def test_a_chroma_function_that_skips_frames_is_caught(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=4)

    def skipping(info: VideoInfo, frames: Iterator[DecodedFrame]):
        for (index, u, v), _ in zip(constant_chroma()(info, frames), range(2), strict=False):
            yield index, u, v

    with pytest.raises(RuntimeError, match="stopped before"):
        recolor_video_file(clip, tmp_path / "out.mp4", skipping)
    assert not (tmp_path / "out.mp4").exists()
