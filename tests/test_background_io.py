"""Reading ahead and calling behind on threads: order, bounds, errors and clean stops."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tinct.io.background import CallBehind, read_ahead


def test_read_ahead_gives_every_item_in_order() -> None:
    with read_ahead(iter(range(100)), depth=3) as items:
        assert list(items) == list(range(100))


def test_read_ahead_stays_within_its_depth() -> None:
    produced = 0

    def counting() -> Iterator[int]:
        nonlocal produced
        for item in range(50):
            produced += 1
            yield item

    with read_ahead(counting(), depth=4) as items:
        for consumed, _ in enumerate(items, 1):
            time.sleep(0.002)
            assert produced - consumed <= 4 + 1  # queued, plus one waiting for room


def test_an_error_of_the_producer_reaches_the_consumer_in_place() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise OSError("disk gone")

    seen = []
    with read_ahead(failing(), depth=2) as items, pytest.raises(OSError, match="disk gone"):
        for item in items:
            seen.append(item)
    assert seen == [1, 2]


def test_leaving_early_stops_the_producer() -> None:
    stopped = threading.Event()

    def endless() -> Iterator[int]:
        try:
            count = 0
            while True:
                count += 1
                yield count
        finally:
            stopped.set()

    generator = endless()
    with read_ahead(generator, depth=2) as items:
        assert next(items) == 1
    assert not any(t.name == "tinct-read-ahead" for t in threading.enumerate())
    generator.close()
    assert stopped.is_set()


def test_call_behind_keeps_order_and_bounds_waiting_calls() -> None:
    calls: list[int] = []
    gate = threading.Event()

    def slow(value: int) -> None:
        gate.wait(1)
        calls.append(value)

    behind = CallBehind(slow, depth=2)
    behind.submit(0)
    behind.submit(1)
    gate.set()
    for value in range(2, 20):
        behind.submit(value)
    behind.finish()
    assert calls == list(range(20))


def test_call_behind_raises_a_failed_call_on_the_next_submit_or_finish() -> None:
    def picky(value: int) -> None:
        if value == 3:
            raise ValueError("three")

    behind = CallBehind(picky, depth=1)
    with pytest.raises(ValueError, match="three"):
        for value in range(10):
            behind.submit(value)
    behind.finish()
    failing = CallBehind(picky, depth=5)
    failing.submit(3)
    with pytest.raises(ValueError, match="three"):
        failing.finish()


def test_depths_below_one_are_refused() -> None:
    with pytest.raises(ValueError), read_ahead(iter([]), depth=0):
        pass
    with pytest.raises(ValueError):
        CallBehind(print, depth=0)
