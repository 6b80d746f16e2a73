"""``tinct models``: list the registered architectures with a one-line description each."""

from __future__ import annotations

import argparse


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("models", help="list the available models")
    parser.add_argument(
        "--all", action="store_true", help="also list the tiny test models (NAME_tiny)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tinct.models import get_model_spec, list_models

    names = list_models(include_tests=args.all)
    width = max(map(len, names))
    for name in names:
        print(f"{name:<{width}}  {get_model_spec(name).description}")
    return 0
