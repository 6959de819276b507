"""The sources on the coordinator's real APScheduler timer: interval jobs, run only by the
lease holder, taken over when it stops; never two rounds of one job at once."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from crmsphere.coordinator import Coordinator, Job
from storage import open_store


def source_job(name: str, interval: float, run) -> Job[None]:
    async def poll(_context: None) -> None:
        await run(name)

    return Job(name, poll, interval=lambda _c: interval, roles=("scheduler",),
               jitter=min(30.0, interval / 10))


def runs_of(runs: list[tuple[str, str]], name: str) -> int:
    """How many runs of job ``name`` were recorded."""
    return sum(1 for _, n in runs if n == name)


async def until(condition, timeout: float = 60.0) -> None:
    """Wait until ``condition()`` holds (checked every 20 ms), however slow the machine."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def scheduler_for(store, holder: str, runs: list[tuple[str, str]], ttl: float = 3.0) -> Coordinator[None]:
    async def run(name: str) -> None:
        runs.append((holder, name))

    return Coordinator([source_job("feed-a", 0.2, run), source_job("feed-b", 0.3, run)], None,
                       "scheduler", store=store, holder=holder, lease_ttl=ttl)


async def test_two_schedulers_on_one_store_run_each_job_once_then_fail_over(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    store_a, store_b = await open_store(url), await open_store(url)
    runs: list[tuple[str, str]] = []
    a, b = scheduler_for(store_a, "A", runs), scheduler_for(store_b, "B", runs)
    try:
        await a.start()
        await b.start()
        assert a.is_leader and not b.is_leader
        started = time.monotonic()
        await until(lambda: runs_of(runs, "feed-a") >= 3 and runs_of(runs, "feed-b") >= 1)
        elapsed = time.monotonic() - started
        assert {h for h, _ in runs} == {"A"}
        # No pile-up: at most about one run per interval, however slow the machine was.
        assert runs_of(runs, "feed-a") <= elapsed / 0.2 + 3
        await a.stop()  # gives the lease up; B takes over at its next renewal (ttl / 3)
        runs.clear()
        await until(lambda: b.is_leader and runs_of(runs, "feed-a") >= 1 and runs_of(runs, "feed-b") >= 1)
        assert {h for h, _ in runs} == {"B"}
    finally:
        await a.stop()
        await b.stop()
        await store_a.close()
        await store_b.close()


async def test_a_failing_job_keeps_its_schedule_and_never_overlaps_itself(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 's.db'}")
    calls: list[str] = []
    running = [0, 0]  # now, most at once
    released = asyncio.Event()

    async def run(name: str) -> None:
        calls.append(name)
        running[0] += 1
        running[1] = max(running)
        try:
            if len(calls) == 1:  # the first round outlasts its interval until released
                await released.wait()
        finally:
            running[0] -= 1
        raise RuntimeError("boom")

    def skipped() -> bool:  # the timer came round again and did not start the job beside itself
        return any("maximum number of running instances" in r.getMessage() for r in caplog.records)

    s = Coordinator([source_job("x", 0.1, run)], None, "scheduler", store=store, holder="A",
                    lease_ttl=3)
    try:
        with caplog.at_level(logging.INFO):
            await s.start()
            await until(skipped)
            assert calls == ["x"] and running[0] == 1  # the held round still runs, alone
            released.set()
            await until(lambda: len(calls) >= 3)  # the schedule goes on after the failure
        assert running[1] == 1
        assert s.failing == {"x"}
        # One line for the breakdown, none per round (APScheduler's own INFO lines are quiet).
        assert [r.getMessage() for r in caplog.records if "failed" in r.getMessage()] == [
            "job x failed; it keeps its schedule"]
        assert not [r for r in caplog.records
                    if r.name.startswith("apscheduler.executors") and r.levelno == logging.INFO]
        s.run_now("x")
    finally:
        await s.stop()
        await store.close()
