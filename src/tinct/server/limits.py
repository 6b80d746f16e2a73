"""What the server accepts and how much work it does at once.

Every limit is a field of :class:`ServerLimits` (set from ``tinct serve`` options). The heavy work
of a request (decoding an upload, running the model, encoding a PNG) goes through one
:class:`WorkGate`: at most ``max_concurrent`` jobs run at a time, a request that cannot get a slot
within ``queue_timeout_s`` is refused with :class:`Overloaded` (HTTP 503 + Retry-After), and one
whose job runs longer than ``work_timeout_s`` is answered the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import TypeVar

import torch

from tinct.errors import TinctError

MEGABYTE = 1024 * 1024
T = TypeVar("T")


@dataclass(frozen=True)
class ServerLimits:
    """Limits on requests and on concurrent work.

    Attributes:
        max_upload_bytes: largest request body accepted (the whole multipart or JSON body).
            Bodies announcing more in Content-Length are refused before any of it is read.
        max_json_bytes: largest JSON body (hints for a stored image), which the framework
            decodes whole on the event loop.
        max_pixels: largest image accepted (width x height, checked from the file header before
            decoding, so decompression bombs are refused cheaply).
        max_concurrent: heavy jobs (decode, model, encode) running at once.
        max_pixels_in_flight: full-resolution pixels of the jobs running at once: a job over the
            remaining budget waits (so two 49 MP uploads run one after the other, not together,
            and small requests still find a slot).
        queue_timeout_s: how long a request waits for a free slot before a 503.
        work_timeout_s: how long a request waits for its job before a 503 (the job itself finishes
            in the background and keeps its slot until then, so concurrency stays bounded).
        body_timeout_s: longest pause between two chunks of a request body before a 408.
        store_bytes: memory for uploaded images kept for hint updates, their files, previews
            and encodings together (least recently used dropped beyond it): 1 GiB holds about
            600 phone photos of 300 kB, each with its 512 x 384 preview (786 kB) and tinct-lite's
            encoding of it (725 kB).
        image_ttl_s: an uploaded image unused for this long is dropped.
        preview_side: longer side, in pixels, of the previews the page shows.
        max_hint_entries: most points + strokes + boundaries in one hints document.
        max_hint_points: most positions in one hints document, the points of every stroke and
            boundary counted (checked before the document is parsed).
    """

    max_upload_bytes: int = 32 * MEGABYTE
    max_json_bytes: int = 4 * MEGABYTE
    max_pixels: int = 50_000_000
    max_concurrent: int = 2
    max_pixels_in_flight: int = 60_000_000
    queue_timeout_s: float = 10.0
    work_timeout_s: float = 120.0
    body_timeout_s: float = 30.0
    store_bytes: int = 1024 * MEGABYTE
    image_ttl_s: float = 3600.0
    preview_side: int = 512
    max_hint_entries: int = 5000
    max_hint_points: int = 100_000

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not value > 0:
                raise ValueError(f"{name} must be positive, got {value!r}")

    def describe(self) -> dict[str, object]:
        """The limits as JSON-ready values (for ``/api/health``)."""
        return asdict(self)


class Overloaded(TinctError):
    """The server is too busy to take this request now; retry after ``retry_after_s``."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    @property
    def retry_after_header(self) -> str:
        """Whole seconds, at least 1, for an HTTP ``Retry-After`` header."""
        return str(max(1, math.ceil(self.retry_after_s)))


class JobCancelled(TinctError):
    """A job was stopped at a checkpoint because its request gave up waiting for it."""


_job = threading.local()  # the cancel event of the job running in this worker thread


def stop_if_cancelled() -> None:
    """A checkpoint between the stages of a job (decode, model, encode): raises
    :class:`JobCancelled` once the request the job serves has timed out."""
    cancelled = getattr(_job, "cancelled", None)
    if cancelled is not None and cancelled.is_set():
        raise JobCancelled("the request timed out; the job stopped")


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run a small job (a hint update or suggestion at preview size) with PyTorch on one
    intra-op thread, restored afterwards.

    Its tensors are small (256 px working size, 512 px preview), so split over threads each
    operation mostly waits for the slowest one; on a 2-core machine shared with another job or
    process, that wait is often a whole time slice (the hint spreading's hundreds of small
    operations took ten times longer on 2 threads than on 1 under a load average of 8). PyTorch's
    OpenMP build keeps the count per thread once a thread has run parallel work, so a
    full-resolution job in another worker keeps its threads. ONNX Runtime has its own.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class WorkGate:
    """Runs blocking jobs in worker threads: at most ``max_concurrent`` at a time, and at most
    ``max_pixels_in_flight`` full-resolution pixels among them.

    Must be used from one event loop (the server's). A slot is released when its job finishes,
    not when the waiting request gives up: a torch call cannot be interrupted, and releasing
    early would let more jobs than ``max_concurrent`` run. A job whose request timed out stops
    at its next :func:`stop_if_cancelled` checkpoint instead of running to the end.
    """

    def __init__(self, limits: ServerLimits) -> None:
        self._limits = limits
        self._running = 0
        self._pixels = 0
        self._changed = asyncio.Condition()
        self._executor = ThreadPoolExecutor(
            max_workers=limits.max_concurrent, thread_name_prefix="tinct-work"
        )

    async def run(self, job: Callable[..., T], *args: object, pixels: int = 0) -> T:
        """``job(*args)`` in a worker thread; :class:`Overloaded` when busy or too slow.

        Args:
            pixels: the full-resolution pixels the job works on (0 for small jobs).
        """
        limits = self._limits
        pixels = min(pixels, limits.max_pixels_in_flight)
        try:
            await asyncio.wait_for(self._admit(pixels), limits.queue_timeout_s)
        except TimeoutError:
            raise Overloaded(self._busy_message(), retry_after_s=limits.queue_timeout_s) from None
        cancelled = threading.Event()
        future = asyncio.get_running_loop().run_in_executor(
            self._executor, _run_job, cancelled, job, args
        )
        future.add_done_callback(lambda done: self._finished(done, pixels))
        try:
            return await asyncio.wait_for(asyncio.shield(future), limits.work_timeout_s)
        except TimeoutError:
            cancelled.set()
            raise Overloaded(
                f"the job took longer than {limits.work_timeout_s:g} s; try a smaller image "
                "or try again later",
                retry_after_s=limits.work_timeout_s,
            ) from None

    async def _admit(self, pixels: int) -> None:
        limits = self._limits
        async with self._changed:
            await self._changed.wait_for(
                lambda: (
                    self._running < limits.max_concurrent
                    and self._pixels + pixels <= limits.max_pixels_in_flight
                )
            )
            self._running += 1
            self._pixels += pixels

    def _busy_message(self) -> str:
        limits = self._limits
        return (
            f"the server is busy ({self._running} of {limits.max_concurrent} jobs running, "
            f"{self._pixels / 1e6:.1f} of {limits.max_pixels_in_flight / 1e6:.1f} megapixels "
            f"in work; nothing freed within {limits.queue_timeout_s:g} s); try again shortly"
        )

    def _finished(self, future: asyncio.Future, pixels: int) -> None:
        if not future.cancelled():
            future.exception()  # retrieved here too: a request that gave up never reads it
        asyncio.get_running_loop().create_task(self._release(pixels))

    async def _release(self, pixels: int) -> None:
        async with self._changed:
            self._running -= 1
            self._pixels -= pixels
            self._changed.notify_all()

    def close(self) -> None:
        """Stop the worker threads once their jobs are done."""
        self._executor.shutdown(wait=False, cancel_futures=True)


def _run_job(cancelled: threading.Event, job: Callable[..., T], args: tuple) -> T:
    _job.cancelled = cancelled
    try:
        return job(*args)
    finally:
        _job.cancelled = None
