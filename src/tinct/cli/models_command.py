"""``tinct models``: list the registered architectures, each with a one-line description and,
indented below it, where its trained weights come from (or how to train them)."""

from __future__ import annotations

import argparse
import textwrap

from tinct.models.registry import TEST_SUFFIX


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("models", help="list the available models")
    parser.add_argument(
        "--all", action="store_true", help="also list the tiny test models (NAME_tiny)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tinct.models import get_model_spec, list_models
    from tinct.weights.availability import weights_status

    names = list_models(include_tests=args.all)
    width = max(map(len, names))
    for name in names:
        print(f"{name:<{width}}  {get_model_spec(name).description}")
        if not name.endswith(TEST_SUFFIX):
            indent = " " * (width + 4)
            text = f"weights: {weights_status(name)}"
            print(
                textwrap.fill(
                    text,
                    100,
                    initial_indent=indent,
                    subsequent_indent=indent + "  ",
                    break_on_hyphens=False,
                    break_long_words=False,
                )
            )
    return 0
