"""Streamed, resumable re-colouring of a video file: decode luma, get new chroma, encode.

:func:`recolor_video_file` drives the whole job for one file without knowing how colour is
made: a *chroma function* receives the source's description and the decoded frames of one
chunk, and yields
``(index, U, V)`` for each of them. The video is cut into chunks of ``chunk_frames`` frames; each
finished chunk is a segment file listed in a journal (see ``video_journal``), so a run killed at
any moment resumes at the first unfinished chunk. The chroma function is started afresh for each
chunk, so its first frame must be one it can start from (the colour core treats it as a
keyframe). At the end the segments are joined with the source's audio into the target, which
appears only when complete.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any

import numpy as np

from tinct import __version__
from tinct.errors import ALREADY_EXISTS, FileProblem
from tinct.io.background import CallBehind, read_ahead
from tinct.io.video_assemble import assemble_video, check_output_suffix
from tinct.io.video_frames import VideoReadError
from tinct.io.video_journal import (
    Journal,
    open_journal,
    parts_folder,
    record_chunk,
    source_fingerprint,
)
from tinct.io.video_reader import DecodedFrame, VideoInfo, open_video
from tinct.io.video_writer import EncodeSettings, SegmentEncoder

ChromaPlanes = tuple[int, np.ndarray, np.ndarray]
ChromaFunction = Callable[[VideoInfo, Iterator[DecodedFrame]], Iterator[ChromaPlanes]]
DEFAULT_CHUNK_FRAMES = 240
# Frames decoded ahead of the colour and waiting to be encoded behind it: the three run at once
# (PyAV, the models and libx264 release the GIL), with a few frames of memory each.
DECODE_AHEAD = 8
ENCODE_BEHIND = 8
SYNTHETIC_COLOUR_NOTE = "colorized by tinct {version}: colours are synthetic, not recorded"


@dataclass(frozen=True)
class RecolorResult:
    """Outcome of :func:`recolor_video_file`.

    Attributes:
        target: the file written.
        info: the source video's description.
        frames: frames in the output.
        chunks_resumed: chunks found finished from an earlier run (not redone).
        chunks: chunks in all.
        audio: what happened to the audio (``"none"``, ``"audio copied"``, ...).
    """

    target: Path
    info: VideoInfo
    frames: int
    chunks_resumed: int
    chunks: int
    audio: str


def synthetic_colour_metadata() -> dict[str, str]:
    """Container tags that tell any reader of the file that its colours were made up."""
    note = SYNTHETIC_COLOUR_NOTE.format(version=__version__)
    return {"comment": note, "description": note}


def recolor_video_file(
    source: Path,
    target: Path,
    chroma: ChromaFunction,
    settings: EncodeSettings | None = None,
    chunk_frames: int = DEFAULT_CHUNK_FRAMES,
    force: bool = False,
    run_settings: dict[str, Any] | None = None,
    on_open: Callable[[VideoInfo, int], None] | None = None,
    on_frame: Callable[[], None] | None = None,
) -> RecolorResult:
    """Give every frame of ``source`` new chroma and write the result to ``target``.

    Args:
        source: the input video.
        target: the output video (``.mp4``, ``.m4v``, ``.mov`` or ``.mkv``).
        chroma: called once per chunk with the source's description and that chunk's frames;
            yields ``(index, U, V)`` for
            each, U and V uint8 ``((H+1)//2, (W+1)//2)`` in the source's colour range.
        settings: encoder settings (default :class:`EncodeSettings`).
        chunk_frames: frames per resumable chunk.
        force: overwrite an existing ``target``.
        run_settings: everything else that changes the colours (model, options...); a resumed
            run must match it, or the earlier parts are discarded.
        on_open: called with the source's description and the frames already done.
        on_frame: called after each frame encoded (for a progress bar).

    Raises:
        VideoReadError: the source is not a usable video (nothing is left behind).
        FileProblem: ``target`` exists without ``force``, is ``source``, or has a suffix tinct
            cannot write.
    """
    if chunk_frames < 1:
        raise ValueError(f"chunk_frames must be >= 1, got {chunk_frames}")
    check_output_suffix(target)
    settings = settings or EncodeSettings()
    if target.exists() and not force:
        raise FileProblem(target, f"output {ALREADY_EXISTS}")
    if target.exists() and source.exists() and target.samefile(source):
        raise FileProblem(target, "is the input itself; choose another output")
    folder = parts_folder(target)
    with open_video(source) as reader:
        fingerprint = {
            "source": source_fingerprint(source),
            "encode": asdict(settings),
            "chunk_frames": chunk_frames,
            "colour": run_settings or {},
            "tinct": __version__,
        }
        journal, _ = open_journal(folder, fingerprint)
        resumed = len(journal.chunks)
        if on_open is not None:
            on_open(reader.info, journal.frames_done)
        try:
            chunks = _Chunks(folder, journal, reader.info, settings, on_frame)
            with read_ahead(reader.frames(start=journal.frames_done), DECODE_AHEAD) as frames:
                chunks.encode_all(frames, chroma, chunk_frames)
        except VideoReadError:
            shutil.rmtree(folder, ignore_errors=True)  # the source is bad: the parts are useless
            raise
        info = reader.info
    segments = [folder / chunk.segment for chunk in journal.chunks]
    try:
        assembled = assemble_video(segments, info, target, synthetic_colour_metadata(), force)
    except FileExistsError:
        raise FileProblem(target, "output appeared while encoding; pass --force") from None
    shutil.rmtree(folder, ignore_errors=True)
    return RecolorResult(target, info, assembled.frames, resumed, len(segments), assembled.audio)


@dataclass
class _Chunks:
    """Encodes chunk after chunk into the parts folder, listing each in the journal."""

    folder: Path
    journal: Journal
    info: VideoInfo
    settings: EncodeSettings
    on_frame: Callable[[], None] | None

    def encode_all(
        self, frames: Iterator[DecodedFrame], chroma: ChromaFunction, chunk_frames: int
    ) -> None:
        while (first := next(frames, None)) is not None:
            chunk = chain([first], islice(frames, chunk_frames - 1))
            partial = self.folder / f"chunk-{len(self.journal.chunks):06d}.partial"
            try:
                with SegmentEncoder(partial, self.info, self.settings) as encoder:
                    self._encode_chunk(chunk, chroma, encoder)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            record_chunk(self.folder, self.journal, partial, first.index, encoder.frames_written)

    def _encode_chunk(
        self, chunk: Iterator[DecodedFrame], chroma: ChromaFunction, encoder: SegmentEncoder
    ) -> None:
        """Feed one chunk to the chroma function and encode what it yields, in frame order (on
        the encoding thread, finished before the segment is closed)."""
        waiting: dict[int, DecodedFrame] = {}  # seen by the chroma function, not yet coloured

        def remembered() -> Iterator[DecodedFrame]:
            for frame in chunk:
                waiting[frame.index] = frame
                yield frame

        behind = CallBehind(encoder.write, ENCODE_BEHIND, name="tinct-encode")
        try:
            for index, u, v in chroma(self.info, remembered()):
                frame = waiting.pop(index, None)
                if frame is None or any(earlier < index for earlier in waiting):
                    raise RuntimeError(
                        f"chroma function yielded frame {index} out of order or twice"
                    )
                behind.submit(frame, u, v)
                if self.on_frame is not None:
                    self.on_frame()
        finally:
            behind.finish()
        if waiting or next(chunk, None) is not None:
            raise RuntimeError("chroma function stopped before giving chroma for every frame")
