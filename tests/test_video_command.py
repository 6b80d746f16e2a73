"""`tinct video` driven as a user drives it: real clips, a killed process, batch folders, errors."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from tinct.cli import video_command
from tinct.errors import TinctError
from tinct.io.video_journal import JOURNAL_NAME, parts_folder
from tinct.io.video_reader import read_video_info

from .helpers.video import audio_packets, decoded, make_clip

pytestmark = pytest.mark.slow  # video encoding and subprocesses: `-m "not slow"` skips them

FAST = ("--working-side", "64")  # the still model on a 64 px grid: quick on tiny clips
# One thread: on a busy 2-core machine, two OpenMP threads make these tiny convolutions many
# times slower (they wait on each other), and nothing here is big enough to gain from two.
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}


def tinct_video(*args: str | Path, wait: bool = True):
    command = [sys.executable, "-m", "tinct", "video", *map(str, args)]
    if not wait:
        return subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ONE_THREAD
        )
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=ONE_THREAD)


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def run_in_process(*args: str | Path) -> int:
    """``tinct video ARGS`` in this process (so the colour core can be watched)."""
    parser = argparse.ArgumentParser(prog="tinct")
    video_command.add_parser(parser.add_subparsers(dest="command"))
    parsed = parser.parse_args(["video", *map(str, args)])
    return parsed.run(parsed)


class CoreSpy:
    """Stands in for the colour core: records its inputs, gives constant chroma."""

    def __init__(self) -> None:
        self.frames: list[int] = []
        self.calls: list[dict] = []

    def __call__(self, frames, still, options, color_range, hints_for_frame=None):
        self.calls.append(
            {
                "model": still.name,
                "still": still,
                "options": options,
                "range": color_range,
                "hints": [],
            }
        )
        for frame in frames:
            self.frames.append(frame.index)
            if hints_for_frame is not None:
                self.calls[-1]["hints"].append(hints_for_frame(frame.index, frame.time))
            height, width = frame.luma.shape
            shape = ((height + 1) // 2, (width + 1) // 2)
            yield frame.index, np.full(shape, 110, np.uint8), np.full(shape, 150, np.uint8)


@pytest.fixture
def core_spy(monkeypatch: pytest.MonkeyPatch) -> CoreSpy:
    spy = CoreSpy()
    monkeypatch.setattr("tinct.video.colorize_luma_stream", spy)
    return spy


def test_a_clip_with_audio_is_colorized_end_to_end(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=6, audio="aac", rotation=180)
    target = tmp_path / "colour.mp4"
    result = tinct_video(clip, "-o", target, *FAST)
    assert result.returncode == 0, result.stderr
    assert "6 frames" in result.stdout and "audio copied" in result.stdout
    info = read_video_info(target)
    assert (info.frame_count, info.width, info.height, info.rotation) == (6, 64, 48, 180)
    assert [f.time for f in decoded(target)] == pytest.approx([f.time for f in decoded(clip)])
    assert audio_packets(target) == audio_packets(clip)


def test_a_killed_run_resumes_without_redoing_finished_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=32, audio="aac")
    target = tmp_path / "colour.mp4"
    process = tinct_video(
        clip, "-o", target, "--chunk-frames", "4", "--per-frame", *FAST, wait=False
    )
    journal = parts_folder(target) / JOURNAL_NAME
    done = _wait_for_chunks(process, journal)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert done >= 1, "the first run finished before it could be killed"
    assert not target.exists()  # a killed run never leaves a file that looks complete
    done = len(json.loads(journal.read_text())["chunks"])

    import tinct.video

    watched: list[int] = []
    real_core = tinct.video.colorize_luma_stream

    def counting_core(frames, *args, **kwargs):
        def counted():
            for frame in frames:
                watched.append(frame.index)
                yield frame

        return real_core(counted(), *args, **kwargs)

    monkeypatch.setattr("tinct.video.colorize_luma_stream", counting_core)
    assert run_in_process(clip, "-o", target, "--chunk-frames", "4", "--per-frame", *FAST) == 0
    assert watched == list(range(4 * done, 32))  # finished chunks were not coloured again
    assert read_video_info(target).frame_count == 32
    assert [f.time for f in decoded(target)] == pytest.approx([f.time for f in decoded(clip)])
    assert audio_packets(target) == audio_packets(clip)
    assert not parts_folder(target).exists()


def _wait_for_chunks(process: subprocess.Popen, journal: Path, timeout: float = 120) -> int:
    """Chunks listed in the journal once there is at least one (0 if the process ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            chunks = len(json.loads(journal.read_text())["chunks"])
        except (OSError, ValueError):
            chunks = 0
        if chunks:
            return chunks
        time.sleep(0.01)
    return 0


def test_a_bad_single_input_is_one_clear_line_and_exit_code_1(tmp_path: Path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("a shopping list, not a video\n")
    target = tmp_path / "out.mp4"
    result = tinct_video(bad, "-o", target)
    assert result.returncode == 1  # the same as tinct colorize gives a bad photo
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "could not colorize 1 file(s):"
    assert len(lines) == 2 and str(bad) in lines[1] and "not a video" in lines[1]
    assert "Traceback" not in result.stderr
    assert not target.exists() and not parts_folder(target).exists()


def test_a_batch_keeps_going_past_bad_clips(
    tmp_path: Path, core_spy: CoreSpy, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "clips"
    make_clip(folder / "a.mp4", frames=3)
    make_clip(folder / "nested" / "b.mkv", frames=4, size=(33, 25), codec="ffv1")
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 and then nothing")
    whole = make_clip(tmp_path / "whole.mp4", frames=20, faststart=True).read_bytes()
    (folder / "cut.mp4").write_bytes(whole[: len(whole) // 2])
    out = tmp_path / "out"
    assert run_in_process(folder, "-o", out) == 1
    assert read_video_info(out / "a.mp4").frame_count == 3
    b = decoded(out / "nested" / "b.mkv")
    assert len(b) == 4 and (b[0].width, b[0].height) == (33, 25)
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["a.mp4", "b.mkv"]
    err = capsys.readouterr().err
    assert "could not colorize 2 file(s)" in err
    assert "broken.mp4" in err and "cut.mp4" in err and "truncated" in err


def test_an_existing_output_needs_force(tmp_path: Path, core_spy: CoreSpy, capsys) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=2)
    target = tmp_path / "out.mp4"
    target.write_bytes(b"keep me")
    assert run_in_process(clip, "-o", target) == 1  # as tinct colorize does for a photo
    assert "already exists" in capsys.readouterr().err
    assert target.read_bytes() == b"keep me" and core_spy.frames == []
    assert run_in_process(clip, "-o", target, "--force") == 0
    assert read_video_info(target).frame_count == 2


def test_skip_existing_finishes_a_folder_without_redoing_it(
    tmp_path: Path, core_spy: CoreSpy, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "clips"
    make_clip(folder / "a.mp4", frames=2)
    make_clip(folder / "b.mp4", frames=3)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.mp4").write_bytes(b"finished by an earlier run")
    assert run_in_process(folder, "-o", out, "--skip-existing") == 0
    assert "skipping 1 video(s) already colorized" in capsys.readouterr().err
    assert (out / "a.mp4").read_bytes() == b"finished by an earlier run"
    assert read_video_info(out / "b.mp4").frame_count == 3
    assert run_in_process(folder, "-o", out) == 1  # without it, an existing output is an error
    assert "a.mp4: output already exists" in capsys.readouterr().err
    assert run_in_process(folder / "a.mp4", "-o", out / "a.mp4", "--skip-existing") == 0


def test_options_reach_the_colour_core(tmp_path: Path, core_spy: CoreSpy) -> None:
    clip = make_clip(tmp_path / "camera.mp4", frames=5, color_range=2)
    args = ("--mode", "surveillance", "--keyframe-every", "7", "--per-frame", *FAST)
    assert run_in_process(clip, "-o", tmp_path / "out.mkv", *args) == 0
    (call,) = core_spy.calls
    assert call["model"] == "tinct-lite" and call["range"] == "pc"
    assert call["options"].mode == "surveillance" and call["options"].keyframe_every == 7
    assert call["options"].per_frame and call["options"].refiner is None
    assert core_spy.frames == list(range(5))


def test_surveillance_mode_decodes_without_the_colour_boost_unless_asked(
    tmp_path: Path, core_spy: CoreSpy
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=2)
    torch_fast = ("--backend", "torch", *FAST)
    for index, args in enumerate(
        (
            ("--mode", "surveillance"),
            ("--mode", "surveillance", "--colour-boost", "0.5"),
            ("--mode", "film"),
        )
    ):
        assert run_in_process(clip, "-o", tmp_path / f"{index}.mp4", *args, *torch_fast) == 0
    surveillance, asked, film = (call["still"].bin_bias for call in core_spy.calls)
    assert surveillance is None  # the boost coloured grey asphalt blue on fixed cameras
    assert asked is not None and film is not None  # film keeps the weights' own boost


def test_the_still_model_runs_in_onnx_runtime_unless_torch_is_asked_for(
    tmp_path: Path, core_spy: CoreSpy
) -> None:
    pytest.importorskip("onnxruntime")
    from tinct.export.onnx_backend import OnnxBackend

    clip = make_clip(tmp_path / "clip.mp4", frames=2)
    assert run_in_process(clip, "-o", tmp_path / "a.mp4", *FAST) == 0
    assert run_in_process(clip, "-o", tmp_path / "b.mp4", "--backend", "torch", *FAST) == 0
    default, torch_still = (call["still"] for call in core_spy.calls)
    assert isinstance(default.backend, OnnxBackend)
    assert torch_still.backend is None  # PyTorch runs the model


def test_the_learned_propagation_is_used_when_asked_for(tmp_path: Path, core_spy: CoreSpy) -> None:
    from tinct.models.temporal.propagation_refiner import PropagationRefiner

    clip = make_clip(tmp_path / "clip.mp4", frames=2)
    assert run_in_process(clip, "-o", tmp_path / "a.mp4", *FAST) == 0
    learned = ("--propagation", "learned", *FAST)
    assert run_in_process(clip, "-o", tmp_path / "b.mp4", *learned) == 0
    closed_form, refiner = (call["options"].refiner for call in core_spy.calls)
    assert closed_form is None
    assert isinstance(refiner, PropagationRefiner) and not refiner.training


def test_hints_reach_the_core_on_their_frame(tmp_path: Path, core_spy: CoreSpy) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=4)
    hints = tmp_path / "hints.json"
    entry = {"frame": 2, "points": [{"x": 10, "y": 20, "color": "#c0392b", "radius": 1}]}
    hints.write_text(json.dumps({"version": 1, "frames": [entry]}))
    assert run_in_process(clip, "-o", tmp_path / "out.mp4", "--hints", hints, *FAST) == 0
    maps = core_spy.calls[0]["hints"]
    assert [m is None for m in maps] == [True, True, False, True]
    assert maps[2].shape == (1, 4, 48, 64)
    mask = maps[2][0, 2]
    assert mask[20, 10] == 1 and mask.sum() < 10  # a small disc around the point


def test_hints_past_the_end_are_named_in_a_warning(
    tmp_path: Path, core_spy: CoreSpy, capsys
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=4)
    hints = tmp_path / "hints.json"
    point = [{"x": 10, "y": 20, "color": "#c0392b"}]
    frames = [{"frame": 3, "points": point}, {"frame": 9, "points": point}]
    frames.append({"time": 100.0, "points": point})
    hints.write_text(json.dumps({"version": 1, "frames": frames}))
    assert run_in_process(clip, "-o", tmp_path / "out.mp4", "--hints", hints, *FAST) == 0
    err = capsys.readouterr().err
    assert "frame 9, time 100 s (frame" in err and "past the end" in err and "(4 frames)" in err
    assert "frame 3," not in err


def test_unusable_video_hints_are_a_clear_error(tmp_path: Path, core_spy: CoreSpy) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=2)
    hints = tmp_path / "hints.json"
    hints.write_text("[" * 1200)
    with pytest.raises(TinctError, match="hints.json: JSON nested too deeply"):
        run_in_process(clip, "-o", tmp_path / "out.mp4", "--hints", hints, *FAST)


def test_a_full_disk_is_a_clear_error_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import errno

    import av

    def disk_full(*args: object, **kwargs: object) -> None:
        av.error.err_check(-errno.ENOSPC)  # what PyAV raises when FFmpeg's write fails so

    monkeypatch.setattr(video_command, "recolor_video_file", disk_full)
    clip = make_clip(tmp_path / "clip.mp4", frames=2)
    assert run_in_process(clip, "-o", tmp_path / "out.mp4") == 1
    err = capsys.readouterr().err
    assert "out.mp4: cannot write the colorized video (No space left on device)" in err
    assert "rerun the same command to resume" in err


def test_output_names_beside_the_source_and_in_folders(tmp_path: Path) -> None:
    source = tmp_path / "films" / "reel.avi"
    assert video_command.video_output_path(source, None, None) == source.with_name(
        "reel.colorized.mp4"
    )
    assert video_command.video_output_path(source, None, tmp_path / "x.mov") == tmp_path / "x.mov"
    assert (
        video_command.video_output_path(source, tmp_path, tmp_path / "out")
        == tmp_path / "out" / "films" / "reel.mp4"
    )


def test_find_videos_skips_outputs_and_parts(tmp_path: Path) -> None:
    make_clip(tmp_path / "a.mp4", frames=1)
    (tmp_path / "a.colorized.mp4").write_bytes(b"")
    (tmp_path / "out.mp4.tinct-parts").mkdir()
    (tmp_path / "out.mp4.tinct-parts" / "chunk-000000.mp4").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("x")
    assert video_command.find_videos(tmp_path, None) == [tmp_path / "a.mp4"]
