"""What the commands that colorize share: the ``--model`` and ``--temperature`` argument types,
the ``--backend``, ``--chroma-smoothing`` and ``--colour-boost`` options, and loading a
colorizer with its "untrained model" warning printed for the user."""

from __future__ import annotations

import argparse
import sys
import warnings

from tinct.pipeline.colorizer import Colorizer


def model_name(text: str) -> str:
    """argparse type: a registered model name (the error lists close matches)."""
    from tinct.models import get_model_spec

    try:
        return get_model_spec(text).name
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def temperature(text: str) -> float:
    """argparse type: an annealed-mean temperature in [0, 10]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"temperature must be a number, got {text!r}") from None
    if not 0.0 <= value <= 10.0:
        raise argparse.ArgumentTypeError(f"temperature must be in [0, 10], got {text}")
    return value


def chroma_smoothing(text: str) -> float:
    """argparse type: a chroma-smoothing strength, working pixels >= 0."""
    from tinct.pipeline.chroma_smoothing import check_strength

    try:
        value = float(text)
        check_strength(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"chroma smoothing strength must be a number >= 0 (working pixels; 0 = off), "
            f"got {text!r}"
        ) from None
    return value


def colour_boost(text: str) -> float:
    """argparse type: a colour boost in [0, 1]."""
    from tinct.quantize.prior import check_colour_boost

    try:
        value = float(text)
        check_colour_boost(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"colour boost must be a number in [0, 1] (0 = off), got {text!r}"
        ) from None
    return value


def add_colour_arguments(parser: argparse.ArgumentParser) -> None:
    """``--chroma-smoothing S`` and ``--colour-boost B`` (defaults: the settings chosen for the
    model's weights)."""
    parser.add_argument(
        "--colour-boost",
        type=colour_boost,
        default=None,
        metavar="B",
        help="more vivid, rarer colours: decode as if the model had been trained with class "
        "rebalancing of strength B in [0, 1] (0 = off, 1 = full, over-saturated); default: the "
        "boost chosen for the model's weights, else 0",
    )
    parser.add_argument(
        "--chroma-smoothing",
        type=chroma_smoothing,
        default=None,
        metavar="S",
        help="even out colour blotches where lightness is flat, over about S pixels of the "
        "working resolution, stopping at lightness edges (0 = off); default: the strength "
        "chosen for the model's weights, else 0",
    )


BACKENDS = ("auto", "torch", "onnx")


def add_backend_argument(parser: argparse.ArgumentParser) -> None:
    """``--backend auto|torch|onnx`` (default auto: ONNX Runtime when installed, see
    :func:`tinct.api.resolve_backend`)."""
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="run the model with ONNX Runtime (pip install 'tinct[onnx]'; the model is exported "
        "once into the cache) or PyTorch; auto (default): ONNX Runtime when installed",
    )


def load_colorizer(command: str, name: str, **options: object) -> Colorizer:
    """``tinct.load(name, **options)``; an untrained model's warning goes to stderr as
    ``tinct COMMAND: warning: ...`` rather than as a Python warning."""
    from tinct.api import UntrainedModelWarning, load

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UntrainedModelWarning)
        colorizer = load(name, **options)  # type: ignore[arg-type]
    for warning in caught:
        print(f"tinct {command}: warning: {warning.message}", file=sys.stderr)
    return colorizer


def load_colorizer_from_args(command: str, args: argparse.Namespace) -> Colorizer:
    """:func:`load_colorizer` with the ``--model``, ``--weights``, ``--temperature``,
    ``--working-side``, ``--backend``, ``--chroma-smoothing`` and ``--colour-boost`` options of
    ``args``."""
    return load_colorizer(
        command,
        args.model,
        weights=args.weights,
        temperature=args.temperature,
        working_side=args.working_side,
        backend=args.backend,
        chroma_smoothing=args.chroma_smoothing,
        colour_boost=args.colour_boost,
    )
