"""``tinct frames VIDEO... -o DIR [--every N] [--max-side S]``: frames of colour videos as
training photos."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tinct.cli.reporting import report_failures
from tinct.errors import FileProblem

VIDEO_SUFFIXES = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts"}


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "frames",
        help="sample frames of colour videos into a folder of training photos",
        description="Write every N-th frame of each video as DIR/<video name>/<frame>.png, "
        "for example to fine-tune the surveillance model on fixed-camera footage.",
    )
    parser.add_argument("videos", nargs="+", type=Path, help="video files or folders of videos")
    parser.add_argument("-o", "--output", type=Path, required=True, help="folder to write into")
    parser.add_argument("--every", type=int, default=10, help="keep every N-th frame (default 10)")
    parser.add_argument(
        "--max-side",
        type=int,
        default=None,
        help="shrink frames so that their longer side is at most this many pixels, e.g. the "
        "video working side (256), so that training crops see objects at the scale the video "
        "core colours them (default: keep the size)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing frame files")
    parser.set_defaults(run=run)


def _videos(arguments: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in arguments:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES)
        else:
            found.append(path)
    return found


def run(args: argparse.Namespace) -> int:
    if args.every < 1:
        raise FileProblem(args.videos[0], f"--every must be at least 1, got {args.every}")
    if args.max_side is not None and args.max_side < 1:
        raise FileProblem(args.videos[0], f"--max-side must be at least 1, got {args.max_side}")
    from tinct.data.frame_photos import write_video_frames

    failures: list[FileProblem] = []
    for video in _videos(args.videos):
        try:
            count = write_video_frames(
                video, args.output / video.stem, args.every, args.max_side, force=args.force
            )
        except FileProblem as error:
            failures.append(error)
            continue
        print(f"{video}: {count} frames -> {args.output / video.stem}", file=sys.stderr)
    report_failures(failures, "sample")
    return 1 if failures else 0
