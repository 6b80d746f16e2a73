"""``tinct eval DATA_DIR --model NAME[=WEIGHTS]... --out DIR``: every metric, one command."""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

from tinct.cli.model_options import add_colour_arguments
from tinct.cli.reporting import progress, report_failures
from tinct.errors import FileProblem, ImageReadError, TinctError
from tinct.weights.verify import WeightsError

SHEET_IMAGES = 6


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "eval",
        help="measure colorizers against ground-truth colour photos",
        description="Colorize the gray version of every photo in DATA_DIR with each model (and "
        "score saved outputs of other tools), against a gray baseline; write report.json, "
        "report.md, per_image.csv and contact_sheet.png into OUT.",
    )
    parser.add_argument("data", type=Path, help="folder of ground-truth colour photos")
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME[=WEIGHTS]",
        help="a model to evaluate, optionally with a weights file (repeatable)",
    )
    parser.add_argument(
        "--predictions",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="saved outputs of another tool, matched by file stem (repeatable)",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the report files")
    parser.add_argument("--protocol", choices=("center256", "full"), default="center256")
    parser.add_argument(
        "--hints",
        type=int,
        nargs="+",
        default=[0],
        metavar="N",
        help="hint counts sampled from the ground truth, e.g. --hints 0 10 100",
    )
    parser.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="annealed-mean temperature (default: chosen per model weights)",
    )
    add_colour_arguments(parser)
    parser.add_argument("--limit", type=int, help="evaluate only the first N photos (sorted)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the hint positions")
    parser.add_argument(
        "--no-lpips",
        action="store_true",
        help="skip LPIPS (it needs the AlexNet and LPIPS weights)",
    )
    parser.set_defaults(run=run)


def _named(value: str, flag: str) -> tuple[str, Path | None]:
    name, sep, path = value.partition("=")
    if flag == "--predictions" and not sep:
        raise TinctError(f"{flag} takes NAME=DIR, got {value!r}")
    return name, Path(path) if sep else None


def model_labels(models: list[tuple[str, Path | None]]) -> list[str]:
    """The report's name for each ``--model NAME[=WEIGHTS]``: NAME, or NAME@FILE with a weights
    file, or NAME@FOLDER/FILE when weights files of one model share a file name (every run's
    ``model.safetensors``). Two that would still share a name are an error."""

    def short(name: str, weights: Path | None) -> str:
        return name if weights is None else f"{name}@{weights.name}"

    shorts = [short(name, weights) for name, weights in models]
    labels = [
        f"{name}@{weights.parent.name}/{weights.name}"
        if weights is not None and shorts.count(label) > 1
        else label
        for (name, weights), label in zip(models, shorts, strict=True)
    ]
    for label in labels:
        if labels.count(label) > 1:
            raise TinctError(
                f"--model {label}: two models would share this name in the report "
                "(give their weights files different names)"
            )
    return labels


def _colorizers(args: argparse.Namespace, read, protocol) -> dict[str, object]:
    import tinct
    from tinct.evaluation.external import SavedPredictions

    found: dict[str, object] = {}
    models = [_named(value, "--model") for value in args.model]
    for label, (name, weights) in zip(model_labels(models), models, strict=True):
        found[label] = tinct.load(
            name,
            weights=weights,
            temperature=args.temperature,
            chroma_smoothing=args.chroma_smoothing,
            colour_boost=args.colour_boost,
        )
    for value in args.predictions:
        name, folder = _named(value, "--predictions")
        if folder is None or not folder.is_dir():
            raise FileProblem(folder or Path(name), "predictions folder does not exist")
        if name in found:
            raise TinctError(f"--predictions {name}={folder}: {name!r} already names a model")
        found[name] = SavedPredictions(folder, read, protocol)
    if not found:
        raise TinctError("nothing to evaluate: give at least one --model or --predictions")
    return found


def _images(args: argparse.Namespace, failures: list[FileProblem]):
    from tinct.evaluation.protocols import apply_protocol
    from tinct.evaluation.runner import EvalImage
    from tinct.io.discover import find_image_files
    from tinct.io.image_file import read_image

    if not args.data.is_dir():
        raise FileProblem(args.data, "data folder does not exist")
    files = find_image_files([str(args.data)])[: args.limit]
    if not files:
        raise FileProblem(args.data, "no image files found")
    for path in progress(files, len(files), "eval"):
        try:
            rgb = read_image(path).rgb
        except ImageReadError as error:
            failures.append(error)
            continue
        yield EvalImage(str(path.relative_to(args.data)), apply_protocol(rgb, args.protocol))


def _lpips(args: argparse.Namespace):
    """The LPIPS model, or None: asked not to, or its weights cannot be had (then every other
    metric is still measured, and the message says how to get LPIPS)."""
    if args.no_lpips:
        return None
    from tinct.evaluation.lpips import load_lpips

    try:
        return load_lpips("alex")
    except WeightsError as error:
        print(
            f"tinct eval: LPIPS left out, its weights cannot be had ({error}). Every other "
            "metric is measured. For LPIPS, run once with internet access (the files are "
            "cached), or put the files named above in a folder named by TINCT_WEIGHTS_DIR "
            "(`tinct weights list` shows their URLs and sha256).",
            file=sys.stderr,
        )
        return None


def _sheet(kept, models):
    from tinct.evaluation.contact_sheet import contact_sheet

    if not kept:
        return None
    order = ["gray", *models]
    return contact_sheet([[by[m] for m in order if m in by] for by in kept.values()])


def run(args: argparse.Namespace) -> int:
    from tinct.evaluation.protocols import apply_protocol
    from tinct.io.image_file import read_image

    protocol = partial(apply_protocol, protocol=args.protocol)
    colorizers = _colorizers(args, lambda p: read_image(p).rgb, protocol)
    return evaluate_into_report(args, colorizers)


def evaluate_into_report(args: argparse.Namespace, colorizers: dict[str, object]) -> int:
    """Evaluate ``colorizers`` as ``args`` (data, out, protocol, hints, limit, seed, no_lpips)
    say, write the four report files and print the table; the exit code (1: unreadable photos).
    """
    from tinct.evaluation.runner import evaluate
    from tinct.evaluation.summary import summarize
    from tinct.io.eval_report import markdown_table, write_eval_report

    lpips, failures = _lpips(args), []
    images = list(_images(args, failures))
    if not images:
        report_failures(failures, "read")
        raise FileProblem(args.data, "no readable image")
    sample = {image.name for image in images[:SHEET_IMAGES]}
    rows, kept = evaluate(
        colorizers, images, tuple(args.hints), lpips, args.seed, sample.__contains__
    )
    for name, by_model in kept.items():
        by_model["ground truth"] = next(i.rgb for i in images if i.name == name)
    summary = summarize(rows)
    info = {
        "data": str(args.data),
        "protocol": args.protocol,
        "temperature": args.temperature,
        "chroma_smoothing": args.chroma_smoothing,
        "colour_boost": args.colour_boost,
        "hints": args.hints,
        "seed": args.seed,
        "images": len(images),
        "unreadable": [str(f) for f in failures],
    }
    write_eval_report(args.out, rows, summary, info, _sheet(kept, [*colorizers, "ground truth"]))
    print(markdown_table(summary, f"{args.data} ({args.protocol})"))
    report_failures(failures, "read")
    return 1 if failures else 0
