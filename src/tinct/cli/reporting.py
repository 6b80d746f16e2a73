"""How the command line reports per-file failures and progress (stderr, never stdout data)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

from tinct.errors import FileProblem

T = TypeVar("T")


def progress(items: Iterable[T], total: int, description: str, unit: str = "file") -> Iterator[T]:
    """A progress bar on stderr with the rate (``unit``/s) and the time left, hidden for a single
    item or when stderr is not a terminal."""
    return iter(tqdm(items, total=total, desc=description, unit=unit, disable=total < 2 or None))


def report_failures(failures: list[FileProblem], verb: str) -> None:
    """Print one line per failed file, then a count, to stderr."""
    if not failures:
        return
    print(f"could not {verb} {len(failures)} file(s):", file=sys.stderr)
    for failure in failures:
        print(f"  {failure}", file=sys.stderr)
