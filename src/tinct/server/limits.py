"""What the server accepts and how much work it does at once.

Every limit is a field of :class:`ServerLimits` (set from ``tinct serve`` options). The heavy work
of a request (decoding an upload, running the model, encoding a PNG) goes through one
:class:`WorkGate`: at most ``max_concurrent`` jobs run at a time, a request that cannot get a slot
within ``queue_timeout_s`` is refused with :class:`Overloaded` (HTTP 503 + Retry-After), and one
whose job runs longer than ``work_timeout_s`` is answered the same way.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import TypeVar

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
        queue_timeout_s: how long a request waits for a free slot before a 503.
        work_timeout_s: how long a request waits for its job before a 503 (the job itself finishes
            in the background and keeps its slot until then, so concurrency stays bounded).
        body_timeout_s: longest pause between two chunks of a request body before a 408.
        cached_images: uploaded images kept for hint updates (least recently used dropped).
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
    queue_timeout_s: float = 10.0
    work_timeout_s: float = 120.0
    body_timeout_s: float = 30.0
    cached_images: int = 16
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


class WorkGate:
    """Runs blocking jobs in worker threads, at most ``max_concurrent`` at a time.

    Must be used from one event loop (the server's). A slot is released when its job finishes,
    not when the waiting request gives up: a torch call cannot be interrupted, and releasing
    early would let more jobs than ``max_concurrent`` run.
    """

    def __init__(self, limits: ServerLimits) -> None:
        self._limits = limits
        self._slots = asyncio.Semaphore(limits.max_concurrent)
        self._executor = ThreadPoolExecutor(
            max_workers=limits.max_concurrent, thread_name_prefix="tinct-work"
        )

    async def run(self, job: Callable[..., T], *args: object) -> T:
        """``job(*args)`` in a worker thread; :class:`Overloaded` when busy or too slow."""
        limits = self._limits
        try:
            await asyncio.wait_for(self._slots.acquire(), limits.queue_timeout_s)
        except TimeoutError:
            raise Overloaded(
                f"the server is busy ({limits.max_concurrent} jobs running, none finished within "
                f"{limits.queue_timeout_s:g} s); try again shortly",
                retry_after_s=limits.queue_timeout_s,
            ) from None
        future = asyncio.get_running_loop().run_in_executor(self._executor, job, *args)
        future.add_done_callback(self._finished)
        try:
            return await asyncio.wait_for(asyncio.shield(future), limits.work_timeout_s)
        except TimeoutError:
            raise Overloaded(
                f"the job took longer than {limits.work_timeout_s:g} s; try a smaller image "
                "or try again later",
                retry_after_s=limits.work_timeout_s,
            ) from None

    def _finished(self, future: asyncio.Future) -> None:
        self._slots.release()
        if not future.cancelled():
            future.exception()  # retrieved here too: a request that gave up never reads it

    def close(self) -> None:
        """Stop the worker threads once their jobs are done."""
        self._executor.shutdown(wait=False, cancel_futures=True)
