"""Find image files among paths given on a command line: files, folders (recursive) and globs."""

from __future__ import annotations

import glob
from collections.abc import Iterable
from pathlib import Path

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif", ".jp2", ".ppm", ".pgm"}
)


def _expand_one(argument: str) -> list[Path]:
    path = Path(argument)
    if path.is_dir():
        found = (p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        return sorted(found)
    if path.exists() or not glob.has_magic(argument):
        return [path]  # a missing plain path is kept so that reading it reports the problem
    return sorted(Path(p) for p in glob.glob(argument, recursive=True) if Path(p).is_file())


def find_image_files(arguments: Iterable[str]) -> list[Path]:
    """Expand files, folders and glob patterns into a sorted, de-duplicated list of paths.

    Folders are searched recursively for files with an image suffix; files named explicitly are
    kept whatever their suffix (reading them will say if they are not images).
    """
    seen: dict[Path, None] = {}
    for argument in arguments:
        for path in _expand_one(str(argument)):
            seen.setdefault(path, None)
    return list(seen)
