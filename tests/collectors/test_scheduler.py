"""The sources on the coordinator's real APScheduler timer: interval jobs, run only by the
lease holder, taken over when it stops; never two rounds of one job at once."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from crmsphere.coordinator import Coordinator, Job
from storage import open_store


def source_job(name: str, interval: float, run) -> Job[None]:
    async def poll(_context: None) -> None:
        await run(name)

    return Job(name, poll, interval=lambda _c: interval, roles=("scheduler",),
               jitter=min(30.0, interval / 10))


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
        await asyncio.sleep(1.2)
        assert {h for h, _ in runs} == {"A"}
        assert {n for _, n in runs} == {"feed-a", "feed-b"}
        # Never two runs of one job at once, and no pile-up: about one per interval.
        assert 3 <= sum(1 for _, n in runs if n == "feed-a") <= 8
        await a.stop()  # gives the lease up; B takes over at its next renewal (ttl / 3)
        runs.clear()
        await asyncio.sleep(1.6)
        assert b.is_leader
        assert {h for h, _ in runs} == {"B"} and {n for _, n in runs} == {"feed-a", "feed-b"}
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

    async def run(name: str) -> None:
        calls.append(name)
        running[0] += 1
        running[1] = max(running)
        try:
            await asyncio.sleep(0.25)  # longer than the interval: the next rounds must wait
        finally:
            running[0] -= 1
        raise RuntimeError("boom")

    s = Coordinator([source_job("x", 0.1, run)], None, "scheduler", store=store, holder="A",
                    lease_ttl=3)
    try:
        with caplog.at_level(logging.INFO):
            await s.start()
            await asyncio.sleep(1.0)
        assert len(calls) >= 2 and running[1] == 1
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
