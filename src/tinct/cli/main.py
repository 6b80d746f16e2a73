"""Entry point of the ``tinct`` command: parses arguments and dispatches to sub-commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tinct import __version__
from tinct.cli import (
    ablate_command,
    colorize_command,
    eval_command,
    export_command,
    frames_command,
    models_command,
    prior_command,
    serve_command,
    suggest_command,
    train_command,
    video_command,
    weights_command,
)
from tinct.cli.logs import show_tinct_log
from tinct.errors import TinctError

SUBCOMMANDS = (
    ablate_command,
    colorize_command,
    eval_command,
    export_command,
    frames_command,
    models_command,
    prior_command,
    serve_command,
    suggest_command,
    train_command,
    video_command,
    weights_command,
)

EXIT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinct",
        description="Colorize grayscale photos and video, automatically or guided by colour hints.",
    )
    parser.add_argument("--version", action="version", version=f"tinct {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code (0 ok, 1 some inputs failed, 2 error)."""
    args = build_parser().parse_args(argv)
    show_tinct_log()
    try:
        return int(args.run(args))
    except TinctError as error:
        print(f"tinct {args.command}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"tinct {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
