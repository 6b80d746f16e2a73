"""``tinct train RECIPE [--set section.key=value ...] [--out DIR]``: train a model from a recipe:
a colorizer on photos, a recurrent colorizer on clips or the propagation refiner
(:mod:`tinct.training.trainers` says which from the recipe)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tinct.errors import TinctError

DEFAULT_VIDEO_CACHE = Path("runs/cache/davis")


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train",
        help="train a model from a TOML recipe (resumes when OUT holds a checkpoint)",
        description="Train a model from a recipe: a registered colorizer on photos, a recurrent "
        "one on video clips (a recipe with a [clips] section) or the propagation refiner "
        '(model = "propagation-refiner"). Checkpoints are written atomically to OUT; running '
        "the same command again resumes where it stopped.",
    )
    parser.add_argument(
        "recipe",
        type=Path,
        help="recipe file, e.g. recipes/tinct-lite.toml or recipes/video/propagation-refiner.toml",
    )
    parser.add_argument("--out", type=Path, help="run folder (default runs/<recipe name>)")
    add_set_argument(parser, "override a recipe value, e.g. --set optim.epochs=2 (repeatable)")
    parser.add_argument(
        "--stop-after-steps",
        type=int,
        help="pause after this many steps (resume later); 0 only prepares the data",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=DEFAULT_VIDEO_CACHE,
        help="video recipes: where decoded DAVIS frames and the refiner's computed examples are "
        f"kept (default {DEFAULT_VIDEO_CACHE})",
    )
    parser.set_defaults(run=run)


def add_set_argument(parser: argparse.ArgumentParser, help: str) -> None:
    """``--set KEY=VALUE`` (repeatable) into ``args.overrides``, for
    :func:`tinct.training.recipe.apply_overrides`."""
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help
    )


def run(args: argparse.Namespace) -> int:
    from tinct.training.trainers import build_trainer

    out = args.out or Path("runs") / args.recipe.stem
    try:
        trainer = build_trainer(args.recipe, args.overrides, out, args.cache_dir)
    except ValueError as error:
        raise TinctError(str(error)) from error
    history = trainer.run(stop_after_steps=args.stop_after_steps)
    for record in history:
        print(", ".join(f"{k} {v:.4g}" for k, v in record.items()))
    for path, problem in trainer.unreadable_files.items():
        print(f"tinct train: skipped unreadable {path}: {problem}", file=sys.stderr)
    return 0
