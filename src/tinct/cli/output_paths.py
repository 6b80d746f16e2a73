"""Where ``tinct colorize`` writes each result, and what the commands that write many results
(``tinct colorize``, ``tinct video``) do with one that exists."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinct.io.discover import IMAGE_SUFFIXES

COLORIZED_TAG = ".colorized"


def output_path(source: Path, root: Path | None, output: Path | None, single: bool) -> Path:
    """Result path for ``source``.

    - no ``output``: beside the source, as ``NAME.colorized.EXT``;
    - one input and ``output`` with an image suffix: exactly ``output``;
    - otherwise ``output`` is a folder: the source's name (and its path below the folder it was
      found in, for folder inputs) inside it.
    """
    if output is None:
        return source.with_name(f"{source.stem}{COLORIZED_TAG}{source.suffix}")
    if single and output.suffix.lower() in IMAGE_SUFFIXES:
        return output
    relative = source.relative_to(root) if root is not None else Path(source.name)
    return output / relative


def add_existing_output_arguments(parser: argparse.ArgumentParser) -> None:
    """``--force`` or ``--skip-existing`` (one at most): what to do with an existing output."""
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument("--force", action="store_true", help="overwrite existing outputs")
    existing.add_argument(
        "--skip-existing",
        action="store_true",
        help="skip inputs whose output exists (an output appears only when complete): rerun an "
        "interrupted run to finish the rest",
    )
