"""End-to-end speed and memory of ``tinct video`` on this machine.

    python benchmarks/video_speed.py [--keyframe-every 24] [--memory-minutes 1 10]

- speed: ``tinct video`` (decode, keyframes by the still model, propagation, encode, mux) on
  the 13 DAVIS training sequences joined into one 854x480 24 fps clip (about 1,000 frames),
  timed in-process after a warm-up, so interpreter start-up is excluded and model loading is
  included; reported as frames per second, for propagation (closed-form and ``--propagation
  learned``) and for ``--per-frame``;
- memory: peak resident memory of a ``python -m tinct video`` process on synthetic 1280x720
  24 fps clips of each length in ``--memory-minutes`` (a slow pan over a DAVIS frame, so the
  flow has work to do); bounded memory means the peaks do not grow with length.

Writes benchmarks/results/video_speed.{json,md} with the machine and the load average;
``--measure speed`` or ``--measure memory`` re-measures one part and keeps the other's record
(the memory run takes about 20 minutes; speed figures are only meaningful on a quiet machine).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from report import PEAK_RSS_MB_SOURCE, describe_machine, write_report

from tinct.cli.main import main as tinct_main
from tinct.data.davis_split import davis_split

DAVIS = Path("../shared/data/video/davis")
FPS = 24


def join_clips(sources: list[Path], target: Path, width: int = 854, height: int = 480) -> int:
    """Re-encode the frames of ``sources`` one after another into ``target`` at ``width`` x
    ``height``; frame count."""
    count = 0
    with av.open(str(target), "w") as output:
        stream = output.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "18", "preset": "ultrafast"}
        for source in sources:
            with av.open(str(source)) as clip:
                for frame in clip.decode(video=0):
                    frame = frame.reformat(width=width, height=height, format="yuv420p")
                    frame.pts, frame.time_base = count, Fraction(1, FPS)
                    output.mux(stream.encode(frame))
                    count += 1
        output.mux(stream.encode())
    return count


def pan_clip(target: Path, minutes: float, width: int = 1280, height: int = 720) -> int:
    """A clip of ``minutes`` at 24 fps panning slowly over an upscaled DAVIS frame."""
    with av.open(str(DAVIS / "camel.mp4")) as clip:
        still = next(clip.decode(video=0)).to_ndarray(format="rgb24")
    canvas = np.asarray(
        av.VideoFrame.from_ndarray(still, format="rgb24")
        .reformat(width=width * 2, height=height, format="rgb24")
        .to_ndarray()
    )
    frames = int(minutes * 60 * FPS)
    with av.open(str(target), "w") as output:
        stream = output.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "23", "preset": "ultrafast"}
        for index in range(frames):
            offset = int((np.sin(index / 240.0) * 0.5 + 0.5) * width)
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(canvas[:, offset : offset + width]), format="rgb24"
            )
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            output.mux(stream.encode(frame))
        output.mux(stream.encode())
    return frames


def frames_per_second(clip: Path, frames: int, extra: list[str]) -> float:
    out = clip.with_name("out.mp4")
    started = time.perf_counter()
    code = tinct_main(["video", str(clip), "-o", str(out), "--force", *extra])
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"tinct video failed on {clip} ({code})")
    return frames / seconds


PEAK_MEMORY = PEAK_RSS_MB_SOURCE + (
    "import sys; from tinct.cli.main import main; code = main(sys.argv[1:]); "
    "print(peak_rss_mb()); sys.exit(code)"
)


def peak_memory_mb(clip: Path, extra: list[str]) -> float:
    command = [sys.executable, "-c", PEAK_MEMORY, "video", str(clip), "-o"]
    command += [str(clip.with_name(clip.stem + "-out.mp4")), "--force", *extra]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def measure_speed(folder: Path, keyframe_every: int) -> dict[str, object]:
    spacing = ["--keyframe-every", str(keyframe_every)]
    clip = folder / "davis-train.mp4"
    frames = join_clips(davis_split(DAVIS)[0], clip)
    frames_per_second(clip, frames, spacing)  # warm-up: imports, caches
    load = os.getloadavg()[0]
    return {
        "command": " ".join(sys.argv),
        "load_average_before": round(load, 2),
        "clip": f"{frames} frames, 854x480, {FPS} fps (13 DAVIS training sequences)",
        "keyframe_every": keyframe_every,
        "propagation_fps": frames_per_second(clip, frames, spacing),
        "learned_propagation_fps": frames_per_second(
            clip, frames, [*spacing, "--propagation", "learned"]
        ),
        "per_frame_fps": frames_per_second(clip, frames, ["--per-frame"]),
    }


def measure_memory(folder: Path, keyframe_every: int, minutes: list[float]) -> dict[str, object]:
    spacing = ["--keyframe-every", str(keyframe_every)]
    peaks = {}
    for length in minutes:
        clip = folder / f"pan-{length:g}min.mp4"
        pan_clip(clip, length)
        peaks[f"{length:g} min"] = peak_memory_mb(clip, spacing)
        clip.unlink()
    return {"command": " ".join(sys.argv), "peak_mb_1280x720": peaks}


def markdown(report: dict[str, dict[str, object]]) -> str:
    lines = [f"Machine: {report['machine']}.", "", "| measure | value |", "|---|---:|"]
    speed = report.get("speed")
    if speed:
        lines += [
            f"| propagation, keyframe every {speed['keyframe_every']} (854x480) | "
            f"{speed['propagation_fps']:.1f} frames/s |",
            f"| `--per-frame` (854x480) | {speed['per_frame_fps']:.1f} frames/s |",
        ]
        if "learned_propagation_fps" in speed:
            lines.insert(
                -1,
                f"| `--propagation learned`, keyframe every {speed['keyframe_every']} (854x480) | "
                f"{speed['learned_propagation_fps']:.1f} frames/s |",
            )
    memory = report.get("memory")
    if memory:
        lines += [
            f"| peak memory, {k} of 1280x720 | {v:.0f} MB |"
            for k, v in memory["peak_mb_1280x720"].items()  # type: ignore[union-attr]
        ]
    for part in ("speed", "memory"):
        if part in report:
            extra = report[part].get("load_average_before")
            load = f", load average {extra} at the start" if extra is not None else ""
            lines.append(f"\n{part}: `python {report[part]['command']}`{load}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", choices=("speed", "memory", "both"), default="both")
    parser.add_argument("--keyframe-every", type=int, default=24)
    parser.add_argument("--memory-minutes", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/video_speed"))
    args = parser.parse_args()
    path = args.out.with_suffix(".json")
    report = json.loads(path.read_text()) if path.is_file() else {}
    report["machine"] = describe_machine()
    with tempfile.TemporaryDirectory(prefix="tinct-video-speed-") as folder:
        if args.measure in ("speed", "both"):
            report["speed"] = measure_speed(Path(folder), args.keyframe_every)
        if args.measure in ("memory", "both"):
            report["memory"] = measure_memory(
                Path(folder), args.keyframe_every, args.memory_minutes
            )
    write_report(args.out, report, markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
