"""Overlap I/O with computation: iterate a generator ahead on a thread, call a function behind.

Decoding a video, encoding it and colouring its frames are three loops that PyAV, libx264,
ONNX Runtime and PyTorch each run in C with the GIL released, so on a thread each can proceed
while the others work. Both helpers are bounded (memory stays flat), keep order, and hand an
exception raised on the thread to the caller at the point where it would have happened.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

T = TypeVar("T")
_END = object()


@contextmanager
def read_ahead(
    items: Iterator[T], depth: int, name: str = "tinct-read-ahead"
) -> Iterator[Iterator[T]]:
    """``items`` produced on a thread, at most ``depth`` ahead of the consumer.

    Leaving the ``with`` block stops the thread before ``items``' resources are closed (the
    thread is the only one touching ``items``).
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    ready: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(ready, item, stop):
                    return
            _put(ready, _END, stop)
        except BaseException as error:  # handed to the consumer, raised there
            _put(ready, _Raised(error), stop)

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()

    def consume() -> Iterator[T]:
        while (item := ready.get()) is not _END:
            if isinstance(item, _Raised):
                raise item.error
            yield item

    try:
        yield consume()
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting for room
            with suppress(queue.Empty):
                ready.get(timeout=0.05)
        thread.join()


class _Raised:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _put(ready: queue.Queue[Any], item: object, stop: threading.Event) -> bool:
    """Put ``item`` once there is room; False when asked to stop first."""
    while not stop.is_set():
        try:
            ready.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False


class CallBehind:
    """Calls of one function on a thread, in order, at most ``depth`` waiting.

    ``submit`` returns at once unless ``depth`` calls wait; an exception of an earlier call is
    raised by the next ``submit`` or by ``finish``, which waits for all (use it before closing
    what the calls write to).
    """

    def __init__(
        self, function: Callable[..., object], depth: int, name: str = "tinct-behind"
    ) -> None:
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self._function = function
        self._depth = depth
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=name)
        self._waiting: deque[Future[object]] = deque()

    def submit(self, *args: object) -> None:
        while self._waiting and (len(self._waiting) >= self._depth or self._waiting[0].done()):
            self._waiting.popleft().result()
        self._waiting.append(self._pool.submit(self._function, *args))

    def finish(self) -> None:
        """Wait for every call; raise the first exception among them."""
        try:
            while self._waiting:
                self._waiting.popleft().result()
        finally:
            for waiting in self._waiting:
                waiting.cancel()
            self._pool.shutdown(wait=True)
