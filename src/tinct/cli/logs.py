"""What the command line shows of tinct's log: its INFO messages and above, as ``tinct: ...``.

The library reports through :mod:`logging` (``tinct.*`` loggers) and prints nothing itself; a
program that embeds tinct decides what to show, the command line shows these on stderr.
"""

from __future__ import annotations

import logging
import sys


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # not setStream, which flushes the old one (it may be closed)
        super().emit(record)


def show_tinct_log() -> None:
    """Send the ``tinct`` loggers' INFO and above to stderr (once per process)."""
    logger = logging.getLogger("tinct")
    if any(isinstance(handler, _CurrentStderr) for handler in logger.handlers):
        return
    handler = _CurrentStderr()
    handler.setFormatter(logging.Formatter("tinct: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
