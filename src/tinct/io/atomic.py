"""Atomic file writing: a reader never sees a half-written file at the target path.

The bytes go to a hidden temporary file in the target's own directory (so that the final move
stays on one filesystem and is atomic), are flushed to disk, and only then take the target's
name. On any failure, including ``KeyboardInterrupt``, the temporary file is removed. A hard kill
(SIGKILL, power loss) can leave a hidden ``.NAME.XXXXXXXX.tmp`` behind, never a broken target.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

# Leave room for the prefix and suffix within the usual 255-byte limit on a file name.
_MAX_STEM_CHARS_IN_TEMP_NAME = 200
_TEMP_NAME = re.compile(r"\.(.+)\.[0-9a-f]{8}\.tmp")  # what _temp_path_beside makes


@contextmanager
def atomic_write(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[BinaryIO]:
    """Open a temporary file that replaces ``path`` when the ``with`` block ends without error.

    Missing parent directories are created. The new file gets the usual permissions (``0o666``
    minus the umask), not the ``0o600`` of :func:`tempfile.mkstemp`.

    Args:
        path: the final file path.
        overwrite: replace an existing file at ``path``. Without it an existing file, even one
            created by someone else while this block ran, makes the commit fail.

    Yields:
        A binary file object open for writing.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is false; nothing is changed.
        OSError: the directory cannot be created or the file cannot be written.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp_path = _temp_path_beside(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    descriptor = os.open(temp_path, flags, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        _move_into_place(temp_path, target, overwrite=overwrite)
    finally:
        temp_path.unlink(missing_ok=True)


def _temp_path_beside(target: Path) -> Path:
    stem = target.name[:_MAX_STEM_CHARS_IN_TEMP_NAME]
    return target.with_name(f".{stem}.{secrets.token_hex(4)}.tmp")


def remove_leftover_temp_files(targets: Iterable[str | os.PathLike[str]]) -> int:
    """Remove the hidden temporary files that killed writes of ``targets`` left beside them.

    Only names :func:`atomic_write` makes for these targets are touched (``.NAME.XXXXXXXX.tmp``,
    eight hex digits). Each folder is listed once, however many targets it holds. Call it when
    no other process is writing the targets.

    Returns:
        How many were removed.
    """
    stems: dict[Path, set[str]] = defaultdict(set)
    for target in map(Path, targets):
        stems[target.parent].add(target.name[:_MAX_STEM_CHARS_IN_TEMP_NAME])
    removed = 0
    for folder, names in stems.items():
        if not folder.is_dir():
            continue
        for entry in os.scandir(folder):
            match = _TEMP_NAME.fullmatch(entry.name)
            if match and match.group(1) in names:
                Path(entry.path).unlink(missing_ok=True)
                removed += 1
    return removed


def _move_into_place(temp_path: Path, target: Path, *, overwrite: bool) -> None:
    """Give the finished temporary file the target's name, atomically."""
    if overwrite:
        os.replace(temp_path, target)
        return
    try:
        # A hard link fails if the target exists, so a file that appeared meanwhile is never
        # clobbered; the caller's ``finally`` then removes the temporary name.
        os.link(temp_path, target)
    except FileExistsError:
        raise
    except OSError:
        # Filesystems without hard links (FAT, some network shares): check, then rename.
        if target.exists():
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target)) from None
        os.replace(temp_path, target)
