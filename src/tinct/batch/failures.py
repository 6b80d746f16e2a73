"""The failures report of a batch run: ``failures.jsonl``, one JSON line per input that failed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from tinct.batch.photos import PhotoResult
from tinct.io.atomic import atomic_write

REPORT_NAME = "failures.jsonl"


def write_failures_report(folder: Path, failed: Iterable[PhotoResult]) -> Path | None:
    """Write ``folder/failures.jsonl`` (``input``, ``output``, ``reason`` per line), atomically;
    with no failures, remove a report an earlier run left there instead.

    Returns:
        The report written, or None when nothing failed.
    """
    lines = [
        json.dumps(
            {
                "input": str(result.job.source),
                "output": str(result.job.target),
                "reason": result.problem.problem if result.problem else "",
            },
            ensure_ascii=False,
        )
        for result in failed
    ]
    report = folder / REPORT_NAME
    if not lines:
        report.unlink(missing_ok=True)
        return None
    with atomic_write(report, overwrite=True) as file:
        file.write(("\n".join(lines) + "\n").encode())
    return report
