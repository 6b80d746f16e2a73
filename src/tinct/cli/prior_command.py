"""``tinct prior DATA_DIR... -o FILE``: the ab prior and gradient histogram of a data set."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tinct.cli.reporting import progress, report_failures
from tinct.color.lab import rgb_to_lab
from tinct.data.transforms import resize_to_fit
from tinct.errors import ALREADY_EXISTS, FileProblem, ImageReadError
from tinct.io.discover import find_image_files
from tinct.io.image_file import read_image
from tinct.io.prior_file import save_prior
from tinct.quantize.ab_bins import gamut_ab_bins
from tinct.quantize.prior_accumulator import PriorAccumulator

DEFAULT_MAX_SIDE = 256


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "prior",
        help="measure the ab colour prior of a folder of colour photos",
        description="Count ab bins (colourful images only) and luminance gradient magnitudes "
        "over a data set, and save them for class rebalancing and the gradient prior.",
    )
    parser.add_argument(
        "data", nargs="+", help="image files, folders (searched recursively) or globs"
    )
    parser.add_argument(
        "-o", "--output", type=Path, required=True, help="prior file to write (.safetensors)"
    )
    parser.add_argument(
        "--max-side",
        type=int,
        default=DEFAULT_MAX_SIDE,
        help="shrink images to this longer side first (default 256)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.output.exists() and not args.force:
        raise FileProblem(args.output, ALREADY_EXISTS)
    files = find_image_files(args.data)
    if not files:
        raise FileProblem(Path(args.data[0]), "no image files found")
    accumulator = PriorAccumulator(gamut_ab_bins())
    failures: list[FileProblem] = []
    for path in progress(files, len(files), "prior"):
        try:
            image = read_image(path)
        except ImageReadError as error:
            failures.append(error)
            continue
        accumulator.add(rgb_to_lab(resize_to_fit(image.rgb, args.max_side)))
    if accumulator.images_used == 0:
        report_failures(failures, "read")
        raise FileProblem(
            Path(args.data[0]), "no colourful image could be read: nothing to measure"
        )
    info = {
        "sources": [str(path) for path in args.data],
        "images_used": accumulator.images_used,
        "images_gray_skipped": accumulator.images_gray,
        "images_unreadable": len(failures),
        "max_side": args.max_side,
    }
    save_prior(args.output, accumulator, info, overwrite=args.force)
    print(
        f"wrote {args.output}: {accumulator.images_used} colourful images, "
        f"{accumulator.images_gray} gray skipped, {len(failures)} unreadable",
        file=sys.stderr,
    )
    report_failures(failures, "read")
    return 1 if failures else 0
