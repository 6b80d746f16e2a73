"""Surveillance mode tuned to one camera: tinct-lite fine-tuned on earlier colour footage of the
same fixed camera (the setting of Yao & Xia, ``000_*.txt``), then used on its later footage.

    nice -n 10 python benchmarks/surveillance_tuning.py [--clips opencv-vtest.mp4 ...]
        [--train-share 0.6] [--every 2] [--keyframe-every 24] [--max-frames 200]

For each clip of ``../shared/data/video/surveillance``: every ``--every``-th frame of the first
``--train-share`` of the clip, shrunk to the video working side (256 px), trains
``recipes/tinct-lite-finetune-camera.toml`` (the gradient prior, from the shipped tinct-lite) with
``tinct train``; the next ``--max-frames`` frames of the rest, never trained on, are made gray
and colorized (the metrics hold every frame in memory at full size):

- per frame, with the shipped weights and with the camera's tuned weights;
- ``--mode surveillance`` (keyframes, propagation, background colour memory), with both.

Metrics and their definitions are those of ``benchmarks/video_eval.py``. A camera whose run
folder already holds ``model.safetensors`` is not trained again. Writes
``benchmarks/results/surveillance_tuning.{json,md}``.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

import av
import torch
from report import describe_machine, write_report
from video_eval import (
    RESULTS,
    SHARED_VIDEO,
    against_baseline,
    decode_planes,
    evaluate_clip,
    markdown,
    mean_by_run,
)

import tinct
from tinct.data.frame_photos import write_video_frames
from tinct.pipeline.colorizer import DEFAULT_WORKING_SIDE
from tinct.video import VideoOptions

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "recipes" / "tinct-lite-finetune-camera.toml"
DEFAULT_CLIPS = ("opencv-vtest.mp4", "intel-one-by-one-person-detection.mp4")


def frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def tune(clip: Path, run_dir: Path, split: int, every: int) -> Path:
    """The camera's tuned weights (trained unless already there)."""
    weights = run_dir / "model.safetensors"
    if weights.is_file():
        return weights
    frames = run_dir / "frames"
    count = write_video_frames(
        clip, frames, every, max_side=DEFAULT_WORKING_SIDE, before=split, force=True
    )
    print(f"{clip.name}: {count} training frames before frame {split}", file=sys.stderr)
    command = [
        "tinct",
        "train",
        str(RECIPE),
        "--set",
        f'data.train_dirs=["{frames}"]',
        "--out",
        str(run_dir),
    ]
    subprocess.run(command, check=True, cwd=ROOT)
    return weights


def camera_runs(spacing: int) -> list[tuple[str, VideoOptions, str]]:
    watch = VideoOptions(keyframe_every=spacing, mode="surveillance")
    return [
        ("per-frame, shipped weights", VideoOptions(per_frame=True), "shipped"),
        ("per-frame, tuned to the camera", VideoOptions(per_frame=True), "tuned"),
        (f"surveillance every {spacing}, shipped weights", watch, "shipped"),
        (f"surveillance every {spacing}, tuned to the camera", watch, "tuned"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", default=list(DEFAULT_CLIPS))
    parser.add_argument("--train-share", type=float, default=0.6)
    parser.add_argument("--every", type=int, default=2)
    parser.add_argument("--keyframe-every", type=int, default=24)
    parser.add_argument("--max-frames", type=int, default=200)
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "surveillance-tuning")
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    shipped = tinct.load("tinct-lite")
    rows = []
    for name in args.clips:
        clip = SHARED_VIDEO / "surveillance" / name
        split = int(frame_count(clip) * args.train_share)
        weights = tune(clip, args.runs / clip.stem, split, args.every)
        stills = {"shipped": shipped, "tuned": tinct.load("tinct-lite", weights=weights)}
        planes, color_range = decode_planes(clip, args.max_frames, start=split)
        runs = camera_runs(args.keyframe_every)
        rows += evaluate_clip(clip.stem, planes, color_range, stills, runs)
    baseline = "per-frame, shipped weights"
    summary = against_baseline(mean_by_run(rows), baseline)
    script = "benchmarks/surveillance_tuning.py"
    command = "nice -n 10 python " + shlex.join([script, *sys.argv[1:]])
    title = (
        f"Surveillance mode tuned to each camera (first {args.train_share:.0%} of each clip "
        f"trains, the rest is scored)"
    )
    report = {"title": title, "machine": describe_machine(), "command": command}
    report |= {"summary": summary, "clips": rows}
    table = markdown(summary, rows, title, report["machine"], command, f"'{baseline}'")
    write_report(RESULTS / "surveillance_tuning", report, table)


if __name__ == "__main__":
    main()
