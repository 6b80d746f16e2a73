"""``tinct colorize PATH... [-o OUT]``: colorize photos, keep going past bad files."""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from tinct.batch.failures import write_failures_report
from tinct.batch.photos import PhotoJob, PhotoResult, colorize_photos, output_in_the_way
from tinct.cli.engine_options import add_engine_arguments, check_engine_arguments
from tinct.cli.model_options import (
    add_backend_argument,
    add_colour_arguments,
    load_colorizer_from_args,
    load_options,
    model_name,
    temperature,
)
from tinct.cli.output_paths import COLORIZED_TAG, add_existing_output_arguments, output_path
from tinct.cli.reporting import progress, report_failures
from tinct.errors import FileProblem, TinctError
from tinct.io.atomic import remove_leftover_temp_files
from tinct.io.discover import IMAGE_SUFFIXES, find_image_files
from tinct.models import get_model_spec
from tinct.pipeline.colorizer import DEFAULT_WORKING_SIDE

log = logging.getLogger(__name__)


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
    add_existing_output_arguments(parser)
    add_engine_arguments(parser)
    parser.add_argument(
        "--report",
        type=Path,
        metavar="DIR",
        help="folder for failures.jsonl, one JSON line per photo that failed (default: the "
        "output folder, when -o names one)",
    )
    parser.set_defaults(run=run)


def _roots(arguments: list[str], output: Path | None) -> dict[Path, Path | None]:
    """For each file found, the folder argument it was found under (None for files and globs).

    Folders and globs never yield tinct's own outputs (``NAME.colorized.EXT``, or anything in
    the output folder), so that a rerun does not colorize its results again; files named
    explicitly are always taken.
    """
    roots: dict[Path, Path | None] = {}
    results = None if output is None else output.resolve()
    for argument in arguments:
        folder = Path(argument) if Path(argument).is_dir() else None
        named = Path(argument).is_file()
        for path in find_image_files([argument]):
            if named or not _is_an_output(path, results):
                roots.setdefault(path, folder)
    return roots


def _is_an_output(path: Path, results: Path | None) -> bool:
    """Whether ``path`` is ``NAME.colorized.EXT`` or lies in (resolved) ``results``."""
    if path.stem.endswith(COLORIZED_TAG):
        return True
    return results is not None and path.resolve().is_relative_to(results)


def hints_file_for(source: Path, hints: Path | None) -> Path | None:
    """The hints file of ``source``: ``hints`` itself, or ``hints/STEM.json`` when it exists."""
    if hints is None or not hints.is_dir():
        return hints
    candidate = hints / f"{source.stem}.json"
    return candidate if candidate.is_file() else None


def _check_hints_option(args: argparse.Namespace, inputs: int) -> None:
    if args.hints is None:
        return
    if not args.hints.exists():
        raise FileProblem(args.hints, "no such hints file or folder")
    if args.hints.is_file() and inputs > 1:
        raise FileProblem(
            args.hints, f"one hints file for {inputs} photos; give a folder of NAME.json files"
        )
    if not get_model_spec(args.model).takes_hints:
        raise TinctError(f"model {args.model} does not take hints; use tinct-lite or guided")


def _report_folder(args: argparse.Namespace, single: bool) -> Path | None:
    """Where failures.jsonl goes: ``--report``, else the output folder (if -o names one)."""
    if args.report is not None:
        return args.report
    if args.output is None or (single and args.output.suffix.lower() in IMAGE_SUFFIXES):
        return None  # results beside their inputs, or one output file
    return args.output


def _refuse_output_over_inputs(args: argparse.Namespace) -> None:
    if args.output is None:
        return
    for argument in args.paths:
        if Path(argument).is_dir() and Path(argument).resolve() == args.output.resolve():
            raise FileProblem(
                args.output, "is the input folder itself; choose another folder for the results"
            )


def run(args: argparse.Namespace) -> int:
    check_engine_arguments(args)
    _refuse_output_over_inputs(args)
    roots = _roots(args.paths, args.output)
    if not roots:
        raise FileProblem(Path(args.paths[0]), "no image files found")
    _check_hints_option(args, len(roots))
    single = len(roots) == 1
    jobs = [
        PhotoJob(
            source,
            output_path(source, root, args.output, single=single),
            hints_file_for(source, args.hints),
        )
        for source, root in roots.items()
    ]
    remove_leftover_temp_files(job.target for job in jobs)  # what a killed run left
    if args.skip_existing:
        remaining = [job for job in jobs if not job.target.exists()]
        if skipped := len(jobs) - len(remaining):
            print(f"skipping {skipped} photo(s) already colorized", file=sys.stderr)
        jobs = remaining
    colorize = _on_ray if args.engine == "ray" else _locally
    failed: list[PhotoResult] = []
    for result, trained in progress(colorize(args, jobs), len(jobs), "colorize", unit="photo"):
        if result.problem is not None:
            failed.append(result)
            continue
        note = "" if trained else "  (untrained model)"
        print(f"{result.job.source} -> {result.written}{note}")
    report_failures([result.problem for result in failed if result.problem], "colorize")
    folder = _report_folder(args, single)
    if folder is not None:
        report = write_failures_report(folder, failed)
        if report is not None:
            print(f"failures listed in {report}", file=sys.stderr)
    return 1 if failed else 0


Outcomes = Iterator[tuple[PhotoResult, bool]]  # a photo's result, and whether the model is trained


def _locally(args: argparse.Namespace, jobs: list[PhotoJob]) -> Outcomes:
    """The local engine: this process, reading and writing overlapped with the model."""
    colorizer = load_colorizer_from_args("colorize", args)
    for result in colorize_photos(colorizer, jobs, args.force):
        yield result, colorizer.trained


def _on_ray(args: argparse.Namespace, jobs: list[PhotoJob]) -> Outcomes:
    """The Ray engine (:mod:`tinct.batch.ray_engine`). Outputs that exist before the run fail
    here, as the local engine's do, so that the workers may count existing ones as done; the
    temporary files of workers that died are removed once every photo is done."""
    from tinct.batch.ray_engine import colorize_photos_on_ray

    fresh = []
    for job in jobs:
        if job.target.exists() and not args.force:
            yield PhotoResult(job, None, output_in_the_way(job)), True
        else:
            fresh.append(job)
    nodes: Counter[str] = Counter()
    for done in colorize_photos_on_ray(
        fresh, load_options(args), args.force, args.ray_address, args.workers
    ):
        nodes[done.node] += 1
        yield done.result, done.trained
    remove_leftover_temp_files(job.target for job in fresh)  # from workers that died
    if nodes:
        shares = ", ".join(f"{node} {count}" for node, count in sorted(nodes.items()))
        log.info("photos per node: %s", shares)
