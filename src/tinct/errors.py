"""Exception classes for failures of tinct's own domain.

Caller mistakes (wrong type, out-of-range argument) raise the built-in ``TypeError`` or
``ValueError``. Failures that depend on the outside world (a file that is not an image, a weight
file whose hash differs) raise a subclass of :class:`TinctError`, so that the CLI and the server
can report them cleanly and go on with other work.
"""

from __future__ import annotations

from pathlib import Path

#: The problem of a result whose file exists, for the commands that overwrite only with --force.
ALREADY_EXISTS = "already exists; pass --force to overwrite it"


class TinctError(Exception):
    """Base class of every error tinct raises for a domain failure."""


class FileProblem(TinctError):
    """A file could not be used; the message names the file and the problem."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ImageReadError(FileProblem):
    """A file could not be read as an image (missing, empty, corrupt, not an image, too big)."""


class ImageWriteError(FileProblem):
    """An image could not be written (exists without --force, unknown format, disk error)."""
