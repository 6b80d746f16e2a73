"""``tinct export onnx``: write a model as an ONNX graph, checked against PyTorch."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinct.cli.model_options import load_colorizer
from tinct.cli.numbers import bounded
from tinct.errors import ALREADY_EXISTS, FileProblem, TinctError
from tinct.export.onnx_export import DEFAULT_OPSET, DEFAULT_TOLERANCE, MAX_OPSET, MIN_OPSET


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("export", help="export a model to another format (ONNX)")
    formats = parser.add_subparsers(dest="format", metavar="FORMAT", required=True)
    onnx = formats.add_parser(
        "onnx",
        help="export a model to ONNX (needs pip install 'tinct[onnx]')",
        description="Export a model to ONNX: inputs lightness (B, 1, H, W) in [0, 100], hints "
        "(B, 4, H, W) for models that take them, and a scalar temperature; outputs logits and, "
        "for ab-bin models, ab decoded by the annealed mean. Batch and size are dynamic (H and "
        "W multiples of 32). The graph is checked with ONNX Runtime against PyTorch on random "
        "inputs before it is written.",
    )
    onnx.add_argument("--model", default="tinct-lite", help="model name (default tinct-lite)")
    onnx.add_argument("--weights", type=Path, help="weights file (default: the model's own)")
    onnx.add_argument(
        "-o", "--output", type=Path, help="output file (default: MODEL.onnx in this folder)"
    )
    onnx.add_argument(
        "--opset",
        type=_opset,
        default=DEFAULT_OPSET,
        help=f"ONNX opset, {MIN_OPSET} to {MAX_OPSET} (default {DEFAULT_OPSET})",
    )
    onnx.add_argument(
        "--tolerance",
        type=float,
        default=DEFAULT_TOLERANCE,
        help=f"largest max abs logit difference accepted (default {DEFAULT_TOLERANCE:g})",
    )
    onnx.add_argument("--force", action="store_true", help="overwrite an existing output")
    onnx.set_defaults(run=run_onnx)


_opset = bounded("opset", int, MIN_OPSET, MAX_OPSET)


def _load_model(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    try:
        return load_colorizer("export", args.model, weights=args.weights)
    except ValueError as error:  # unknown model name
        raise TinctError(str(error)) from None


def run_onnx(args: argparse.Namespace) -> int:
    from tinct.export.onnx_cache import verified_onnx_bytes
    from tinct.export.optional import require_onnx_packages
    from tinct.io.atomic import atomic_write
    from tinct.models import get_model_spec

    target: Path = args.output or Path(f"{args.model}.onnx")
    if target.exists() and not args.force:
        raise FileProblem(target, f"output {ALREADY_EXISTS}")
    require_onnx_packages("tinct export onnx")
    colorizer = _load_model(args)
    spec = get_model_spec(colorizer.name)
    graph, report = verified_onnx_bytes(
        colorizer.model, spec, colorizer.bins.cpu(), args.opset, args.tolerance
    )
    print(f"ONNX Runtime vs PyTorch, {report.summary()}")
    try:
        with atomic_write(target, overwrite=args.force) as out:
            out.write(graph)
    except FileExistsError:
        raise FileProblem(
            target, "output appeared meanwhile; pass --force to overwrite it"
        ) from None
    except OSError as error:
        raise FileProblem(target, f"cannot write ({error.strerror or error})") from None
    print(f"{colorizer.name} -> {target} ({len(graph) / 1e6:.1f} MB, opset {args.opset})")
    return 0
