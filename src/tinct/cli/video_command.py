"""``tinct video IN [-o OUT]``: colorize a video, or a folder of clips, keeping going past bad ones.

Decoding and encoding are streamed (only the Y plane of each frame is read; the output gets the
original Y plane with new chroma), the audio is kept, and a killed run resumes where it stopped
(see :mod:`tinct.io.video_stream`).
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import functools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from tinct.cli.engine_options import add_engine_arguments, check_engine_arguments
from tinct.cli.model_options import add_backend_argument, colour_boost, load_colorizer
from tinct.cli.numbers import bounded
from tinct.cli.output_paths import COLORIZED_TAG, add_existing_output_arguments
from tinct.cli.reporting import progress, report_failures
from tinct.errors import ALREADY_EXISTS, FileProblem, TinctError
from tinct.io.video_assemble import OUTPUT_FORMATS, check_output_suffix
from tinct.io.video_reader import DecodedFrame, VideoInfo, read_video_info
from tinct.io.video_stream import (
    DEFAULT_CHUNK_FRAMES,
    ChromaPlanes,
    RecolorResult,
    recolor_video_file,
)
from tinct.io.video_writer import DEFAULT_CRF, DEFAULT_PRESET, MAX_CRF, PRESETS, EncodeSettings
from tinct.pipeline.colorizer import DEFAULT_WORKING_SIDE, Colorizer

VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts"}
    | {".wmv", ".flv", ".3gp", ".ogv", ".dv", ".mxf"}
)
DEFAULT_MODEL = "tinct-lite"
MODES = ("film", "surveillance")
PROPAGATIONS = ("closed-form", "learned")

DEFAULT_OUTPUT_SUFFIX = ".mp4"


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "video",
        help="colorize a video, or a folder of clips",
        description="Colorize video. The output keeps the input's frames (count, time stamps, "
        "rate), size, rotation, lightness and audio; its metadata says the colour is synthetic. "
        "A killed run resumes where it stopped; existing files are never overwritten without "
        "--force.",
    )
    parser.add_argument("input", type=Path, help="a video file, or a folder of clips (recursive)")
    parser.add_argument(
        "-o", "--output", type=Path, help="output file (.mp4, .m4v, .mov, .mkv) or folder"
    )
    parser.add_argument(
        "--model",
        help="still-image model for keyframes (default: tinct-lite)",
    )
    parser.add_argument(
        "--weights",
        type=Path,
        help="weights file for the model, e.g. tinct-lite tuned to one camera "
        "(recipes/tinct-lite-finetune-camera.toml)",
    )
    parser.add_argument("--hints", type=Path, help="hints file, keyed by frame index or time")
    parser.add_argument(
        "--keyframe-every",
        type=_positive_int,
        default=None,
        help="most frames between two keyframes (default: the colour core's)",
    )
    parser.add_argument("--mode", choices=MODES, default="film")
    parser.add_argument(
        "--propagation",
        choices=PROPAGATIONS,
        default="closed-form",
        help="how carried colour and its fallback are mixed between keyframes: the closed-form "
        "confidence blend (default) or the trained propagation refiner (equal quality on the "
        "held-out evaluation, slower)",
    )
    parser.add_argument(
        "--per-frame", action="store_true", help="colorize every frame on its own (baseline)"
    )
    parser.add_argument(
        "--working-side",
        type=_positive_int,
        default=DEFAULT_WORKING_SIDE,
        help=f"longer side, in pixels, at which colour is predicted (default "
        f"{DEFAULT_WORKING_SIDE})",
    )
    add_backend_argument(parser)
    parser.add_argument(
        "--colour-boost",
        type=colour_boost,
        default=None,
        metavar="B",
        help="more vivid, rarer colours (0 = off, 1 = full; see tinct colorize); default: 0 "
        "with --mode surveillance, where the boost coloured grey asphalt blue and cost up to "
        "5 dB (benchmarks/results/video_drift_v2*), else the boost chosen for the weights",
    )
    add_existing_output_arguments(parser)
    add_engine_arguments(parser)
    parser.add_argument(
        "--crf", type=_crf, default=DEFAULT_CRF, help=f"x264 quality (default {DEFAULT_CRF})"
    )
    parser.add_argument(
        "--preset",
        choices=PRESETS,
        default=DEFAULT_PRESET,
        metavar="PRESET",
        help=f"x264 speed preset: {', '.join(PRESETS)} (default {DEFAULT_PRESET})",
    )
    parser.add_argument(
        "--chunk-frames",
        type=_positive_int,
        default=DEFAULT_CHUNK_FRAMES,
        help=f"frames per resumable chunk (default {DEFAULT_CHUNK_FRAMES})",
    )
    parser.set_defaults(run=run)


_positive_int = bounded("value", int, 1)
_crf = bounded("crf", int, 0, MAX_CRF)


def find_videos(folder: Path, output: Path | None) -> list[Path]:
    """Video files under ``folder`` (recursive, sorted), leaving out tinct's own outputs."""
    skip = output.resolve() if output is not None else None
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in VIDEO_SUFFIXES:
            continue
        if COLORIZED_TAG in path.name or any(".tinct-parts" in part for part in path.parts):
            continue
        if skip is not None and skip in path.resolve().parents:
            continue
        found.append(path)
    return found


def video_output_path(source: Path, root: Path | None, output: Path | None) -> Path:
    """Where the video ``source`` goes.

    - no ``output``: beside the source, as ``NAME.colorized.EXT``;
    - one input (``root`` None) and ``output`` with a video suffix: exactly ``output``;
    - otherwise ``output`` is a folder: the source's path below ``root`` inside it.

    EXT is the source's suffix when tinct can write it, else ``.mp4``.
    """
    suffix = source.suffix if source.suffix.lower() in OUTPUT_FORMATS else DEFAULT_OUTPUT_SUFFIX
    if output is None:
        return source.with_name(f"{source.stem}{COLORIZED_TAG}{suffix}")
    if root is None and output.suffix.lower() in VIDEO_SUFFIXES and not output.is_dir():
        return output
    relative = source.relative_to(root) if root is not None else Path(source.name)
    return output / relative.with_suffix(suffix)


def run(args: argparse.Namespace) -> int:
    check_engine_arguments(args)
    source: Path = args.input
    batch = source.is_dir()
    sources = find_videos(source, args.output) if batch else [source]
    if not sources:
        raise FileProblem(source, "no video files found")
    pairs = [
        (path, video_output_path(path, source if batch else None, args.output)) for path in sources
    ]
    if args.skip_existing:
        remaining = [(path, target) for path, target in pairs if not target.exists()]
        if skipped := len(pairs) - len(remaining):
            print(f"skipping {skipped} video(s) already colorized", file=sys.stderr)
        pairs = remaining
    if not batch and pairs:
        try:
            _check_single(*pairs[0], args.force)
        except FileProblem as error:  # before the model loads; exit 1 as for a bad photo
            report_failures([error], "colorize")
            return 1
    colorize = _on_ray if args.engine == "ray" else _locally
    failures = [problem for problem in colorize(args, pairs, batch) if problem is not None]
    report_failures(failures, "colorize")
    return 1 if failures else 0


Pairs = list[tuple[Path, Path]]  # (source, target) of each video


def _locally(args: argparse.Namespace, pairs: Pairs, batch: bool) -> Iterator[FileProblem | None]:
    """One video after another in this process; a summary printed for each that worked, and
    None or its problem yielded. A single video's error that is not about a file is raised."""
    colour = _VideoColour(args)
    for path, target in pairs:
        try:
            result = _colorize_one(path, target, colour, args)
        except FileProblem as error:
            yield error
            continue
        except TinctError as error:
            if not batch:
                raise
            yield FileProblem(path, str(error))
            continue
        print(_summary(path, result, colour.colorizer.trained))
        colour.warn_unused_hints(path, result.frames)
        yield None


def _on_ray(args: argparse.Namespace, pairs: Pairs, batch: bool) -> Iterator[FileProblem | None]:
    """One Ray task per video (:func:`tinct.batch.ray_engine.run_videos_on_ray`), each with its
    own model; summaries printed as they finish."""
    from tinct.batch.ray_engine import run_videos_on_ray

    task = functools.partial(
        _colorize_on_worker,
        _with_absolute_paths(args),
        [(path.absolute(), target.absolute()) for path, target in pairs],
    )
    outcomes = run_videos_on_ray(len(pairs), task, args.ray_address, args.workers)
    for done in progress(outcomes, len(pairs), "video", unit="video"):
        if done.problem is not None:
            yield FileProblem(*done.problem)
            continue
        result, trained = done.value
        source, target = pairs[done.index]
        print(_summary(source, dataclasses.replace(result, target=target), trained))
        yield None


def _colorize_on_worker(
    args: argparse.Namespace, pairs: Pairs, index: int
) -> tuple[RecolorResult, bool]:
    """Colorize video ``index`` of ``pairs`` on an engine's worker; its result, and whether
    the model was trained.

    Raises:
        FileProblem: the video failed (any TinctError is reported against its source).
    """
    path, target = pairs[index]
    colour = _VideoColour(args)
    try:
        result = _colorize_one(path, target, colour, args)
    except FileProblem:
        raise
    except TinctError as error:
        raise FileProblem(path, str(error)) from None
    colour.warn_unused_hints(path, result.frames)
    return result, colour.colorizer.trained


def _with_absolute_paths(args: argparse.Namespace) -> argparse.Namespace:
    """``args`` with the weights and hints files absolute: a worker's folder is not ours."""
    paths = {
        name: getattr(args, name).absolute()
        for name in ("weights", "hints")
        if getattr(args, name) is not None and getattr(args, name).exists()
    }
    return argparse.Namespace(**{**vars(args), **paths})


def _check_single(source: Path, target: Path, force: bool) -> None:
    """Fail fast, before the model loads, on a bad input or an output that is in the way."""
    read_video_info(source)
    check_output_suffix(target)
    if target.exists() and not force:
        raise FileProblem(target, f"output {ALREADY_EXISTS}")


# A full disk or quota, a read-only or failing file system: the output cannot be written.
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EIO}


def _colorize_one(
    source: Path, target: Path, colour: _VideoColour, args: argparse.Namespace
) -> RecolorResult:
    bar = tqdm(desc=source.name, unit="frame", disable=None, leave=False, dynamic_ncols=True)

    def opened(info: VideoInfo, frames_done: int) -> None:
        bar.reset(total=info.frame_count)
        bar.update(frames_done)

    try:
        return recolor_video_file(
            source,
            target,
            colour.chroma,
            settings=EncodeSettings(crf=args.crf, preset=args.preset),
            chunk_frames=args.chunk_frames,
            force=args.force,
            run_settings=colour.settings,
            on_open=opened,
            on_frame=lambda: bar.update(1),
        )
    except OSError as error:  # from Python's or FFmpeg's writes (PyAV's errors carry errno)
        if error.errno not in WRITE_ERRNOS:
            raise
        reason = error.strerror or os.strerror(error.errno)
        raise FileProblem(
            target,
            f"cannot write the colorized video ({reason}); finished chunks are kept: "
            "free space or fix the cause and rerun the same command to resume",
        ) from None
    finally:
        bar.close()


def _summary(source: Path, result: RecolorResult, trained: bool) -> str:
    parts = [f"{result.frames} frames", result.audio]
    if result.chunks_resumed:
        parts.append(f"resumed: {result.chunks_resumed} of {result.chunks} chunks were done")
    if not trained:
        parts.append("untrained model")
    return f"{source} -> {result.target}  ({'; '.join(parts)})"


class _VideoColour:
    """The colour side of a run: the still model (loaded on first use), options and hints."""

    def __init__(self, args: argparse.Namespace) -> None:
        from tinct.video import VideoOptions

        core_options: dict[str, Any] = {"per_frame": args.per_frame, "mode": args.mode}
        if args.keyframe_every is not None:
            core_options["keyframe_every"] = args.keyframe_every
        if args.propagation == "learned" and not args.per_frame:
            core_options["refiner"] = _load_refiner()
        self.options = VideoOptions(**core_options)
        self.model = _model_name(args.model or DEFAULT_MODEL)
        self.weights: Path | None = args.weights
        self.working_side: int = args.working_side
        self.backend: str = args.backend
        self.colour_boost: float | None = args.colour_boost
        if self.colour_boost is None and args.mode == "surveillance":
            self.colour_boost = 0.0
        self.hints = _load_hints(args.hints) if args.hints is not None else None
        self.settings = {
            "model": self.model,
            "weights": _file_identity(args.weights),
            "propagation": "closed-form" if self.options.refiner is None else "learned",
            "working_side": args.working_side,
            "colour_boost": self.colour_boost,
            "hints": _file_identity(args.hints),
            "options": repr(self.options),
        }
        self._colorizer: Colorizer | None = None

    def warn_unused_hints(self, video: Path, frames: int) -> None:
        """Say which hint entries fell past the end of ``video`` (``frames`` long)."""
        if self.hints is None:
            return
        late = self.hints.entries_past(frames, float(read_video_info(video).frame_rate))
        if late:
            print(
                f"warning: {self.hints.source}: {', '.join(late)} lie past the end of {video} "
                f"({frames} frames); those hints were not used",
                file=sys.stderr,
            )

    @property
    def colorizer(self) -> Colorizer:
        if self._colorizer is None:
            self._colorizer = load_colorizer(
                "video",
                self.model,
                weights=self.weights,
                working_side=self.working_side,
                backend=self.backend,
                colour_boost=self.colour_boost,
            )
        return self._colorizer

    def chroma(self, info: VideoInfo, frames: Iterator[DecodedFrame]) -> Iterator[ChromaPlanes]:
        from tinct.video import colorize_luma_stream

        hints = None if self.hints is None else _hints_for_frame(self.hints, info)
        return colorize_luma_stream(
            frames, self.colorizer, self.options, info.color.range, hints_for_frame=hints
        )


def _model_name(text: str) -> str:
    from tinct.models import get_model_spec

    try:
        return get_model_spec(text).name
    except ValueError as error:
        raise TinctError(str(error)) from None


def _load_refiner() -> Any:
    """The shipped propagation refiner; an error if its weights are missing or damaged."""
    from tinct.models.temporal.propagation_refiner import REFINER_WEIGHTS, load_propagation_refiner
    from tinct.weights import WeightsError

    try:
        refiner = load_propagation_refiner()
    except WeightsError as error:
        raise TinctError(f"propagation refiner: {error}") from None
    if refiner is None:
        raise TinctError(
            f"the propagation refiner's weights ({REFINER_WEIGHTS}) are missing; reinstall tinct "
            "or leave out --propagation learned"
        )
    return refiner


def _load_hints(path: Path) -> Any:
    from tinct.guidance.hints_file import load_video_hints

    return load_video_hints(path)


def _hints_for_frame(hints: Any, info: VideoInfo) -> Callable[[int, float], Any]:
    """``(index, time) -> (1, 4, H, W)`` hint map or None, for the core."""
    from tinct.guidance.hints_file import rasterize_hints

    by_frame = hints.resolve(float(info.frame_rate))

    def for_frame(index: int, time: float) -> Any:
        entry = by_frame.get(index)
        return None if entry is None else rasterize_hints(entry, info.height, info.width)

    return for_frame


def _file_identity(path: Path | None) -> dict[str, Any] | None:
    """Enough to tell whether a file changed between two runs (path, size, modification)."""
    if path is None or not path.is_file():
        return None
    status = path.stat()
    return {"path": str(path.resolve()), "size": status.st_size, "mtime_ns": status.st_mtime_ns}
