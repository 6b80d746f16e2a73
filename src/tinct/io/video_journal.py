"""The parts folder of an unfinished video: finished segments and a journal that lists them.

``<target>.tinct-parts/`` holds one segment file per finished chunk and ``journal.json``. The
journal names the run (a fingerprint of the source file and of every setting that changes the
output) and lists finished chunks with their frame range and segment size. It is rewritten
atomically after each chunk, and a segment is listed only after it was closed and renamed into
place, so after a kill the journal never lists a segment that is incomplete.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tinct.io.atomic import atomic_write

PARTS_SUFFIX = ".tinct-parts"
JOURNAL_NAME = "journal.json"
JOURNAL_VERSION = 1


@dataclass(frozen=True)
class Chunk:
    """A finished chunk: frames ``first`` .. ``first + frames - 1`` in ``segment`` (a file name)."""

    number: int
    first: int
    frames: int
    segment: str
    size: int


@dataclass
class Journal:
    """Finished chunks of one run, identified by ``fingerprint``."""

    fingerprint: dict[str, Any]
    chunks: list[Chunk] = field(default_factory=list)

    @property
    def frames_done(self) -> int:
        return sum(chunk.frames for chunk in self.chunks)


def parts_folder(target: Path) -> Path:
    """The parts folder of ``target``: ``<target>.tinct-parts`` beside it."""
    return target.with_name(target.name + PARTS_SUFFIX)


def source_fingerprint(source: Path) -> dict[str, Any]:
    """What identifies a source file's contents cheaply: resolved path, size, modification time."""
    status = source.stat()
    return {"path": str(source.resolve()), "size": status.st_size, "mtime_ns": status.st_mtime_ns}


def segment_name(number: int) -> str:
    return f"chunk-{number:06d}.mp4"


def open_journal(folder: Path, fingerprint: dict[str, Any]) -> tuple[Journal, bool]:
    """The journal in ``folder`` if it belongs to this run, else a fresh one (folder emptied).

    Chunks are kept only while their segment files exist with the recorded size, and only as
    a run of consecutive chunks from the first.

    Returns:
        The journal and whether earlier work was found and kept.
    """
    journal = _read_journal(folder)
    if journal is None or journal.fingerprint != _plain(fingerprint):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        journal = Journal(_plain(fingerprint))
        save_journal(folder, journal)
        return journal, False
    kept: list[Chunk] = []
    for chunk in journal.chunks:
        path = folder / chunk.segment
        if chunk.number != len(kept) or not path.is_file() or path.stat().st_size != chunk.size:
            break
        kept.append(chunk)
    journal.chunks = kept
    return journal, bool(kept)


def record_chunk(folder: Path, journal: Journal, partial: Path, first: int, frames: int) -> None:
    """Move a closed segment file into place and list it in the journal (in that order)."""
    number = len(journal.chunks)
    name = segment_name(number)
    _fsync_file(partial)
    os.replace(partial, folder / name)
    journal.chunks.append(Chunk(number, first, frames, name, (folder / name).stat().st_size))
    save_journal(folder, journal)


def save_journal(folder: Path, journal: Journal) -> None:
    text = json.dumps(
        {
            "version": JOURNAL_VERSION,
            "fingerprint": journal.fingerprint,
            "chunks": [asdict(chunk) for chunk in journal.chunks],
        },
        indent=1,
    )
    with atomic_write(folder / JOURNAL_NAME, overwrite=True) as file:
        file.write(text.encode())


def _read_journal(folder: Path) -> Journal | None:
    try:
        data = json.loads((folder / JOURNAL_NAME).read_text())
        if data.get("version") != JOURNAL_VERSION:
            return None
        return Journal(data["fingerprint"], [Chunk(**chunk) for chunk in data["chunks"]])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or unreadable: start over


def _plain(fingerprint: dict[str, Any]) -> dict[str, Any]:
    """The fingerprint as it reads back from JSON (tuples become lists), for comparison."""
    return json.loads(json.dumps(fingerprint))


def _fsync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
