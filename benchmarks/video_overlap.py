"""`tinct video` frames per second and peak memory at 854x480 and 1280x720, beside other code.

    python benchmarks/video_overlap.py [--compare-src OLD/src]

The 13 DAVIS training sequences are joined into one 24 fps clip at each size (about 1,000
frames; ``benchmarks/video_speed.py``'s clip). Each run is ``tinct video CLIP -o OUT.mp4`` with
the default settings in a fresh process, which reports the seconds of the command itself
(model loading included, interpreter start-up not) and its peak RSS. ``--compare-src`` runs
the same in turns with another checkout's ``src`` first on ``PYTHONPATH`` (the code before a
change, from ``git worktree add``).

Writes ``benchmarks/results/video_overlap.{json,md}``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from report import (
    PEAK_RSS_MB_SOURCE,
    describe_machine,
    environment_with_src,
    report_header,
    write_report,
)
from video_speed import DAVIS, join_clips

from tinct.data.davis_split import davis_split

SIZES = ((854, 480), (1280, 720))

# The child times the CLI in-process and prints seconds and its own peak RSS in MB.
_CHILD = (
    PEAK_RSS_MB_SOURCE
    + """
import sys, time
from tinct.cli.main import main
started = time.perf_counter()
code = main(["video", sys.argv[1], "-o", sys.argv[2], "--force"])
seconds = time.perf_counter() - started
print(seconds, peak_rss_mb())
sys.exit(code)
"""
)


def run_video(clip: Path, src: Path | None) -> tuple[float, float]:
    env = environment_with_src(src)
    target = clip.with_name(clip.stem + "-out.mp4")
    command = [sys.executable, "-c", _CHILD, str(clip), str(target)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"tinct video failed on {clip}:\n{done.stderr}")
    seconds, peak_mb = map(float, done.stdout.split()[-2:])
    return seconds, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare-src", type=Path, help="another checkout's src, run in turns")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/video_overlap"))
    args = parser.parse_args()
    variants: dict[str, Path | None] = {"this checkout": None}
    if args.compare_src is not None:
        variants["--compare-src"] = args.compare_src.resolve()
    results: dict[str, dict[str, dict[str, float]]] = {name: {} for name in variants}
    with tempfile.TemporaryDirectory(prefix="tinct-video-overlap-") as folder:
        for width, height in SIZES:
            clip = Path(folder) / f"davis-{height}p.mp4"
            frames = join_clips(davis_split(DAVIS)[0], clip, width, height)
            for name, src in variants.items():
                run_video(clip, src)  # warm-up: ONNX cache, file cache
                seconds, peak_mb = run_video(clip, src)
                results[name][f"{width}x{height}"] = {
                    "frames": frames,
                    "frames_per_second": frames / seconds,
                    "peak_rss_mb": peak_mb,
                }
    record = {"machine": describe_machine(), "results": results}
    command = "python benchmarks/video_overlap.py" + (
        f" --compare-src {args.compare_src}" if args.compare_src else ""
    )
    lines = report_header("tinct video, default settings", record["machine"], command)
    lines += ["| code | size | frames/s | peak RSS |", "|---|---|---|---|"]
    for name, by_size in results.items():
        for size, numbers in by_size.items():
            lines.append(
                f"| {name} | {size} ({numbers['frames']} frames) "
                f"| {numbers['frames_per_second']:.1f} | {numbers['peak_rss_mb']:.0f} MB |"
            )
    write_report(args.out, record, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
