"""The work gate: jobs bounded in number and in full-resolution pixels, and timed-out jobs
stopped at their next checkpoint instead of running to the end."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import torch

from tinct.server.limits import (
    Overloaded,
    ServerLimits,
    WorkGate,
    one_torch_thread,
    stop_if_cancelled,
)


def watched_job(log: list[tuple[str, float]], name: str, seconds: float) -> str:
    log.append((f"{name} start", time.monotonic()))
    time.sleep(seconds)
    log.append((f"{name} end", time.monotonic()))
    return name


def overlapping(log: list[tuple[str, float]], a: str, b: str) -> bool:
    times = dict(log)
    return times[f"{a} start"] < times[f"{b} end"] and times[f"{b} start"] < times[f"{a} end"]


def test_large_jobs_take_turns_while_small_ones_still_run() -> None:
    limits = ServerLimits(max_concurrent=3, max_pixels_in_flight=60_000_000)
    log: list[tuple[str, float]] = []

    async def scenario() -> list[str]:
        gate = WorkGate(limits)
        jobs = [
            gate.run(watched_job, log, "big1", 0.4, pixels=49_000_000),
            gate.run(watched_job, log, "big2", 0.4, pixels=49_000_000),
            gate.run(watched_job, log, "small", 0.1, pixels=250_000),
        ]
        try:
            return await asyncio.gather(*jobs)
        finally:
            gate.close()

    assert asyncio.run(scenario()) == ["big1", "big2", "small"]
    assert not overlapping(log, "big1", "big2")  # 98 MP together would pass the 60 MP budget
    assert overlapping(log, "big1", "small") or overlapping(log, "big2", "small")


def test_a_job_larger_than_the_budget_still_runs_alone() -> None:
    async def scenario() -> str:
        gate = WorkGate(ServerLimits(max_pixels_in_flight=1_000_000))
        try:
            return await gate.run(watched_job, [], "huge", 0.01, pixels=50_000_000)
        finally:
            gate.close()

    assert asyncio.run(scenario()) == "huge"


def test_a_timed_out_job_stops_at_its_next_checkpoint_and_frees_its_slot() -> None:
    limits = ServerLimits(max_concurrent=1, work_timeout_s=0.3, queue_timeout_s=5)
    stages_done = []
    stopped = threading.Event()

    def long_job() -> None:
        try:
            for stage in range(100):  # 100 stages of 50 ms: 5 s if nobody stops it
                time.sleep(0.05)
                stages_done.append(stage)
                stop_if_cancelled()
        finally:
            stopped.set()

    async def scenario() -> float:
        gate = WorkGate(limits)
        try:
            with pytest.raises(Overloaded, match="took longer than 0.3 s"):
                await gate.run(long_job)
            started = time.monotonic()
            await gate.run(watched_job, [], "next", 0.0)  # gets the only slot
            return time.monotonic() - started
        finally:
            gate.close()

    waited = asyncio.run(scenario())
    assert stopped.wait(5) and len(stages_done) < 20
    assert waited < 1.0


def test_checkpoints_outside_the_gate_do_nothing() -> None:
    stop_if_cancelled()  # the CLI's path: no gate, no cancellation


def test_small_jobs_run_torch_on_one_thread_and_restore_the_count() -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with one_torch_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), one_torch_thread():
            raise RuntimeError("the job failed")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
