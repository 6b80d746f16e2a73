"""Colorize photo files: one at a time, or many with reading, the model and writing overlapped.

A photo goes through three stages: *read* (decode the file, its lightness, its hints), *model*
(predict the chroma at the working size) and *write* (recombine with the full-resolution
lightness strip by strip, encode, write atomically). :func:`colorize_photos` runs the reading of
the next photos and the writing of the previous ones on their own threads while the calling
thread runs the model, so that decoding and encoding hide behind the network instead of adding
to it. Every stage that touches pixels (PyTorch, ONNX Runtime, Pillow, OpenCV) releases the GIL.
At most ``prefetch`` photos wait decoded and ``writes_in_flight`` wait to be written, so memory
stays bounded however many files there are; results come back in input order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from torch import Tensor

from tinct.color.recombine import RgbStrips
from tinct.errors import ALREADY_EXISTS, FileProblem
from tinct.guidance.hints import Hints, HintsError
from tinct.guidance.hints_file import load_hints
from tinct.io.image_file import ImageFile, read_image, write_image
from tinct.pipeline.colorizer import Colorizer

DEFAULT_PREFETCH = 4
DEFAULT_WRITES_IN_FLIGHT = 2


@dataclass(frozen=True)
class PhotoJob:
    """One photo to colorize: where it is, where its result goes, and its hints file, if any."""

    source: Path
    target: Path
    hints_file: Path | None = None


@dataclass(frozen=True)
class PhotoResult:
    """What became of a :class:`PhotoJob`: the file written, or the problem that stopped it."""

    job: PhotoJob
    written: Path | None
    problem: FileProblem | None = None


@dataclass(frozen=True)
class _Decoded:
    image: ImageFile
    lightness: Tensor
    hints: Hints | None


def output_in_the_way(job: PhotoJob) -> FileProblem:
    """The problem of a job whose output exists and may not be overwritten."""
    return FileProblem(job.target, f"output {ALREADY_EXISTS}")


def _read(job: PhotoJob, force: bool) -> _Decoded:
    """The read stage: FileProblem for an existing output, an unreadable photo or bad hints."""
    if job.target.exists() and not force:
        raise output_in_the_way(job)
    image = read_image(job.source)
    try:
        hints = None if job.hints_file is None else load_hints(job.hints_file)
    except HintsError as error:
        raise FileProblem(job.source, f"hints: {error}") from None
    return _Decoded(image, image.lightness(), hints)


def _predict(colorizer: Colorizer, job: PhotoJob, decoded: _Decoded) -> RgbStrips:
    """The model stage; a hint outside the photo fails this photo only."""
    try:
        return colorizer.colorize_strips(decoded.lightness, decoded.hints)
    except HintsError as error:
        raise FileProblem(job.source, f"hints: {error}") from None


def _write(job: PhotoJob, decoded: _Decoded, result: RgbStrips, force: bool) -> Path:
    """The write stage: recombine strip by strip, encode and write atomically."""
    image = decoded.image
    return write_image(job.target, result, alpha=image.alpha, like=image, force=force)


def colorize_photo(colorizer: Colorizer, job: PhotoJob, force: bool = False) -> Path:
    """Read, colorize and atomically write one photo, all on the calling thread.

    Raises:
        FileProblem: the output exists without ``force``, the photo or its hints cannot be
            used, or the output cannot be written; nothing is written then.
    """
    decoded = _read(job, force)
    return _write(job, decoded, _predict(colorizer, job, decoded), force)


def colorize_photos(
    colorizer: Colorizer,
    jobs: Iterable[PhotoJob],
    force: bool = False,
    prefetch: int = DEFAULT_PREFETCH,
    writes_in_flight: int = DEFAULT_WRITES_IN_FLIGHT,
) -> Iterator[PhotoResult]:
    """Colorize photos with reading and writing overlapped with the model (see the module).

    Same outputs as :func:`colorize_photo` on each job in turn. A photo that fails gives a
    result with its problem and the others go on; errors that are not about a file (a bug, a
    full memory) stop the run after the writes already started have finished.

    Yields:
        One :class:`PhotoResult` per job, in the order of ``jobs``.
    """
    if prefetch < 1 or writes_in_flight < 1:
        raise ValueError(
            f"prefetch and writes_in_flight must be >= 1, got {prefetch}, {writes_in_flight}"
        )
    pending = iter(jobs)
    with (
        ThreadPoolExecutor(1, thread_name_prefix="tinct-read") as reader,
        ThreadPoolExecutor(1, thread_name_prefix="tinct-write") as writer,
    ):
        reads: deque[tuple[PhotoJob, Future[_Decoded]]] = deque()
        writes: deque[tuple[PhotoJob, Future[Path]]] = deque()

        def read_ahead() -> None:
            while len(reads) < prefetch and (job := next(pending, None)) is not None:
                reads.append((job, reader.submit(_read, job, force)))

        read_ahead()
        while reads:
            job, decoding = reads.popleft()
            read_ahead()
            writes.append((job, _model_then_write(colorizer, job, decoding, writer, force)))
            while len(writes) > writes_in_flight or (writes and writes[0][1].done()):
                yield _result(*writes.popleft())
        while writes:
            yield _result(*writes.popleft())


def _model_then_write(
    colorizer: Colorizer,
    job: PhotoJob,
    decoding: Future[_Decoded],
    writer: ThreadPoolExecutor,
    force: bool,
) -> Future[Path]:
    """Run the model on a decoded photo and hand it to the writer; a photo that failed to read
    or predict gives a finished future holding its problem."""
    try:
        decoded = decoding.result()
        result = _predict(colorizer, job, decoded)
    except FileProblem as problem:
        failed: Future[Path] = Future()
        failed.set_exception(problem)
        return failed
    return writer.submit(_write, job, decoded, result, force)


def _result(job: PhotoJob, writing: Future[Path]) -> PhotoResult:
    try:
        return PhotoResult(job, writing.result())
    except FileProblem as problem:
        return PhotoResult(job, None, problem)
