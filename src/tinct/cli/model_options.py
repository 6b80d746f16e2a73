"""What the commands that colorize share: the ``--model`` and ``--temperature`` argument types,
the ``--backend``, ``--chroma-smoothing`` and ``--colour-boost`` options, and loading a
colorizer with its "untrained model" warning printed for the user."""

from __future__ import annotations

import argparse
import sys
import warnings

from tinct.cli.numbers import bounded
from tinct.pipeline.colorizer import Colorizer


def model_name(text: str) -> str:
    """argparse type: a registered model name (the error lists close matches)."""
    from tinct.models import get_model_spec

    try:
        return get_model_spec(text).name
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


# argparse types of the colour options, with the ranges the colorizer accepts.
temperature = bounded("temperature", float, 0.0, 10.0)
chroma_smoothing = bounded("chroma smoothing strength", float, 0.0, note="working pixels; 0 = off")
colour_boost = bounded("colour boost", float, 0.0, 1.0, note="0 = off")


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


def load_options(args: argparse.Namespace) -> dict[str, object]:
    """The keyword arguments of :func:`tinct.load` that the ``--model``, ``--weights``,
    ``--temperature``, ``--working-side``, ``--backend``, ``--chroma-smoothing`` and
    ``--colour-boost`` options of ``args`` ask for; a weights file's path is made absolute, so
    that a process in another folder finds it too."""
    weights = args.weights
    return {
        "name": args.model,
        "weights": weights.absolute() if weights is not None and weights.exists() else weights,
        "temperature": args.temperature,
        "working_side": args.working_side,
        "backend": args.backend,
        "chroma_smoothing": args.chroma_smoothing,
        "colour_boost": args.colour_boost,
    }


def load_colorizer_from_args(command: str, args: argparse.Namespace) -> Colorizer:
    """:func:`load_colorizer` with the options of :func:`load_options`."""
    options = load_options(args)
    return load_colorizer(command, str(options.pop("name")), **options)
