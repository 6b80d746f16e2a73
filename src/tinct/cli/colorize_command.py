"""``tinct colorize PATH... [-o OUT]``: colorize photos, keep going past bad files."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinct.batch.photos import PhotoJob, colorize_photos
from tinct.cli.model_options import (
    add_backend_argument,
    add_colour_arguments,
    load_colorizer_from_args,
    model_name,
    temperature,
)
from tinct.cli.output_paths import output_path
from tinct.cli.reporting import progress, report_failures
from tinct.errors import FileProblem, TinctError
from tinct.io.discover import find_image_files
from tinct.pipeline.colorizer import DEFAULT_WORKING_SIDE, Colorizer


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "colorize",
        help="colorize photos (files, folders or globs)",
        description="Colorize photos. The result keeps the input's size, orientation, alpha and "
        "EXIF, and its lightness exactly; existing files are never overwritten without --force.",
    )
    parser.add_argument("paths", nargs="+", help="image files, folders (recursive) or globs")
    parser.add_argument("-o", "--output", type=Path, help="output file (one input) or folder")
    parser.add_argument(
        "--model",
        type=model_name,
        default="tinct-lite",
        help="model name (default tinct-lite; `tinct models` lists them)",
    )
    parser.add_argument(
        "--weights",
        type=Path,
        help="weights file: a `tinct train` export, or for eccv16 the official release file",
    )
    parser.add_argument(
        "--temperature",
        type=temperature,
        default=None,
        help="annealed-mean temperature: 1 = mean (muted), 0 = mode (vivid); default: the one "
        "chosen for the model's weights (0.7 for tinct-lite v1), else 0.38",
    )
    parser.add_argument(
        "--working-side",
        type=int,
        default=DEFAULT_WORKING_SIDE,
        help="longer side, in pixels, at which colour is predicted (default 256)",
    )
    parser.add_argument(
        "--hints",
        type=Path,
        help="colour hints: a JSON hints file (one input photo), or a folder holding NAME.json "
        "for each photo NAME that has hints (see docs/hints.md)",
    )
    add_backend_argument(parser)
    add_colour_arguments(parser)
    parser.add_argument("--force", action="store_true", help="overwrite existing outputs")
    parser.set_defaults(run=run)


def _roots(arguments: list[str]) -> dict[Path, Path | None]:
    """For each file found, the folder argument it was found under (None for files and globs)."""
    roots: dict[Path, Path | None] = {}
    for argument in arguments:
        folder = Path(argument) if Path(argument).is_dir() else None
        for path in find_image_files([argument]):
            roots.setdefault(path, folder)
    return roots


def hints_file_for(source: Path, hints: Path | None) -> Path | None:
    """The hints file of ``source``: ``hints`` itself, or ``hints/STEM.json`` when it exists."""
    if hints is None or not hints.is_dir():
        return hints
    candidate = hints / f"{source.stem}.json"
    return candidate if candidate.is_file() else None


def _check_hints_option(args: argparse.Namespace, inputs: int, colorizer: Colorizer) -> None:
    if args.hints is None:
        return
    if not args.hints.exists():
        raise FileProblem(args.hints, "no such hints file or folder")
    if args.hints.is_file() and inputs > 1:
        raise FileProblem(
            args.hints, f"one hints file for {inputs} photos; give a folder of NAME.json files"
        )
    if not colorizer.takes_hints:
        raise TinctError(f"model {colorizer.name} does not take hints; use tinct-lite or guided")


def run(args: argparse.Namespace) -> int:
    roots = _roots(args.paths)
    if not roots:
        raise FileProblem(Path(args.paths[0]), "no image files found")
    colorizer = load_colorizer_from_args("colorize", args)
    _check_hints_option(args, len(roots), colorizer)
    jobs = [
        PhotoJob(
            source,
            output_path(source, root, args.output, single=len(roots) == 1),
            hints_file_for(source, args.hints),
        )
        for source, root in roots.items()
    ]
    failures: list[FileProblem] = []
    results = colorize_photos(colorizer, jobs, args.force)
    for result in progress(results, len(jobs), "colorize"):
        if result.problem is not None:
            failures.append(result.problem)
            continue
        note = "" if colorizer.trained else "  (untrained model)"
        print(f"{result.job.source} -> {result.written}{note}")
    report_failures(failures, "colorize")
    return 1 if failures else 0
