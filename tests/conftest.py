"""Shared fixtures and the location of ``../shared`` (data and weights beside the project)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
SHARED_DATA = SHARED / "data"
SHARED_REFERENCE = SHARED / "reference"


def require_shared(path: Path) -> Path:
    """Return ``path`` or skip the test, saying which shared file is missing."""
    if not path.exists():
        pytest.skip(f"needs {path} (the ../shared folder beside the project), which is absent")
    return path


@pytest.fixture(autouse=True)
def _seeded() -> None:
    torch.manual_seed(0)
