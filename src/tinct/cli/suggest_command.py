"""``tinct suggest IMAGE X Y``: the most likely colours at a point of a photo."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tinct.cli.model_options import load_colorizer, model_name
from tinct.cli.numbers import bounded
from tinct.errors import FileProblem
from tinct.guidance.hints_file import load_hints
from tinct.pipeline.predictor import Predictor
from tinct.pipeline.suggest import DEFAULT_COUNT

MAX_COUNT = 32


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "suggest",
        help="suggest colours for a point of a photo",
        description="Print the most likely colours at pixel (X, Y) of IMAGE (x to the right, "
        "y down, from the top-left corner), each at the photo's lightness there, with its "
        "probability. Use one as a hint colour.",
    )
    parser.add_argument("image", type=Path, help="the photo")
    parser.add_argument("x", type=float, help="column, in pixels")
    parser.add_argument("y", type=float, help="row, in pixels")
    parser.add_argument(
        "--count", type=_count, default=DEFAULT_COUNT, help=f"how many (default {DEFAULT_COUNT})"
    )
    parser.add_argument("--hints", type=Path, help="hints already placed (JSON hints file)")
    parser.add_argument(
        "--model", type=model_name, default="tinct-lite", help="model name (default tinct-lite)"
    )
    parser.add_argument("--weights", type=Path, help="weights file for the model")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=run)


_count = bounded("count", int, 1, MAX_COUNT)


def run(args: argparse.Namespace) -> int:
    from tinct.io.image_file import read_image

    image = read_image(args.image)
    hints = None if args.hints is None else load_hints(args.hints)
    colorizer = load_colorizer("suggest", args.model, weights=args.weights)
    predictor = Predictor(colorizer)
    try:
        predictor.set_lightness(image.lightness().unsqueeze(0))
        suggestions = predictor.suggest(args.x, args.y, args.count, hints)
    except ValueError as error:
        raise FileProblem(args.image, str(error)) from None
    if args.json:
        rows = [
            {"hex": s.hex, "lab": list(s.lab), "probability": s.probability} for s in suggestions
        ]
        print(json.dumps({"x": args.x, "y": args.y, "colors": rows}, indent=2))
        return 0
    swatches = sys.stdout.isatty()
    for suggestion in suggestions:
        swatch = _swatch(suggestion.hex) if swatches else ""
        lightness_value, a, b = suggestion.lab
        print(
            f"{swatch}{suggestion.hex}  {suggestion.probability:6.1%}  "
            f"Lab({lightness_value:.0f}, {a:.0f}, {b:.0f})"
        )
    return 0


def _swatch(hex_colour: str) -> str:
    """Two spaces painted in the colour (24-bit ANSI), for terminals."""
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"\033[48;2;{red};{green};{blue}m  \033[0m "
