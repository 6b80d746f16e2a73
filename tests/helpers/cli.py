"""Run the `tinct` command as a user does: a subprocess, text output, a time limit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def tinct(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tinct", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=300)
