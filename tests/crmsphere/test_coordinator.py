"""The coordinator on a fake clock: intervals, the leader lease, roles and failures, without
sleeping (APScheduler started paused, ``run_due`` at the fake clock's time), over a real
SQLite store holding the lease."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crmsphere.coordinator import LEASE, Coordinator, Job
from storage import Store, open_store

START = datetime(2026, 12, 7, 5, 0, tzinfo=timezone.utc)


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class Runs:
    """The context handed to jobs: who ran what, at which fake time."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.log: list[tuple[str, datetime]] = []

    def job(self, name: str, interval: float, **kw: object) -> Job[Runs]:
        async def run(runs: Runs) -> None:
            runs.log.append((name, runs.clock()))

        return Job(name, run, interval=lambda _runs: interval, roles=("scheduler",), **kw)  # type: ignore[arg-type]

    def times(self, name: str) -> list[float]:
        return [(at - START).total_seconds() for n, at in self.log if n == name]


@pytest.fixture
async def lease_store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_store(f"sqlite:///{tmp_path / 'lease.db'}")
    yield store
    await store.close()


def coordinator(jobs: list[Job[Runs]], runs: Runs, store: Store, holder: str = "A",
                role: str = "scheduler") -> Coordinator[Runs]:
    return Coordinator(jobs, runs, role, store=store, holder=holder, lease_ttl=30.0,
                       clock=runs.clock)


async def test_jobs_run_on_their_interval_and_missed_rounds_coalesce(lease_store: Store) -> None:
    clock = Clock()
    runs = Runs(clock)
    c = coordinator([runs.job("poll", 10), runs.job("watch", 4, at_start=False, leader_only=False)],
                    runs, lease_store)
    await c.start(paused=True)
    try:
        for step in (0, 3, 2, 2, 3, 1):  # t = 0, 3, 5, 7, 10, 11
            clock.advance(step)
            await c.run_due()
        assert runs.times("poll") == [0, 10]  # at start, then every 10 s
        assert runs.times("watch") == [5, 10]  # first one interval after start
        clock.advance(44)  # t = 55: the process was stalled for several rounds
        assert "poll" in await c.run_due()
        assert runs.times("poll") == [0, 10, 55]  # one round, not four
        assert c.next_run("poll") == START + timedelta(seconds=60)
        assert await c.run_due() == []  # nothing more due at the same instant
    finally:
        await c.stop()


async def test_jitter_delays_a_round_by_at_most_the_declared_seconds(lease_store: Store) -> None:
    clock = Clock()
    runs = Runs(clock)
    c = coordinator([runs.job("feed", 60, jitter=6.0)], runs, lease_store)
    await c.start(paused=True)
    try:
        await c.run_due()
        upcoming = c.next_run("feed")
        assert upcoming is not None
        assert START + timedelta(seconds=60) <= upcoming <= START + timedelta(seconds=66)
    finally:
        await c.stop()


async def test_leader_only_jobs_run_in_the_lease_holder_and_move_when_it_stops(lease_store: Store) -> None:
    clock = Clock()
    runs_a, runs_b = Runs(clock), Runs(clock)
    a = coordinator([runs_a.job("digest", 5), runs_a.job("watch", 5, leader_only=False)],
                    runs_a, lease_store, "A")
    b = coordinator([runs_b.job("digest", 5), runs_b.job("watch", 5, leader_only=False)],
                    runs_b, lease_store, "B")
    await a.start(paused=True)
    await b.start(paused=True)
    try:
        assert a.is_leader and not b.is_leader
        for _ in range(3):
            await a.run_due()
            await b.run_due()
            clock.advance(5)
        assert runs_a.times("digest") == [0, 5, 10] and runs_b.times("digest") == []
        assert runs_b.times("watch") == [0, 5, 10]  # not leader-only: runs in the standby too
        await a.stop()  # gives the lease up
        clock.advance(10)  # t = 25: the standby's renewal (every ttl / 3 = 10 s) is due
        await b.run_due()
        assert b.is_leader and runs_b.times("digest") == [25]
        assert runs_a.times("digest") == [0, 5, 10]
    finally:
        await a.stop()
        await b.stop()


async def test_a_dead_leaders_lease_expires_and_the_standby_takes_over(lease_store: Store) -> None:
    clock = Clock()
    runs_a, runs_b = Runs(clock), Runs(clock)
    a = coordinator([runs_a.job("spikes", 60)], runs_a, lease_store, "A")
    b = coordinator([runs_b.job("spikes", 60)], runs_b, lease_store, "B")
    await a.start(paused=True)
    await b.start(paused=True)
    try:
        await b.run_due()
        assert not b.is_leader and runs_b.log == []
        # A stops renewing (killed: no release).  Within one lease period B takes over.
        for _ in range(4):
            clock.advance(10)
            await b.run_due()
        assert b.is_leader
        assert await lease_store.acquire_lease(LEASE, "A", 30.0, clock().timestamp()) is False
        clock.advance(20)  # t = 60: the job's next round, now in B
        await b.run_due()
        assert runs_b.times("spikes") == [60]
    finally:
        await b.stop()
        await a.stop()


async def test_a_process_runs_only_the_jobs_of_its_role_and_config(lease_store: Store) -> None:
    clock = Clock()
    runs = Runs(clock)
    jobs = [runs.job("sources", 60), runs.job("watch", 5, leader_only=False),
            runs.job("off", 0), runs.job("unwanted", 5, wanted=lambda _r: False)]
    jobs[1] = Job("watch", jobs[1].run, jobs[1].interval, roles=("api", "scheduler"), leader_only=False)
    assert set(coordinator(jobs, runs, lease_store, role="scheduler").jobs) == {"sources", "watch"}
    assert set(coordinator(jobs, runs, lease_store, role="all").jobs) == {"sources", "watch"}
    assert set(coordinator(jobs, runs, lease_store, role="worker").jobs) == set()
    api = coordinator(jobs, runs, lease_store, holder="api-1", role="api")
    assert set(api.jobs) == {"watch"} and not api.needs_lease
    await api.start(paused=True)
    try:
        # A process without a leader-only job never takes the lease from one that has some.
        assert not api.is_leader
        assert await lease_store.acquire_lease(LEASE, "scheduler-1", 30.0, clock().timestamp())
        clock.advance(5)
        assert await api.run_due() == ["watch"]
    finally:
        await api.stop()


async def test_a_failing_job_keeps_its_schedule_and_is_logged_once_per_breakdown(
        lease_store: Store, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    outcomes = iter([ConnectionError("store away"), ConnectionError("store away"), None,
                     ValueError("bad row"), None])
    calls: list[datetime] = []

    async def flaky(_context: object) -> None:
        calls.append(clock())
        if (error := next(outcomes)) is not None:
            raise error

    c = Coordinator([Job("flaky", flaky, interval=lambda _c: 1.0, roles=("scheduler",))], None,
                    "scheduler", store=lease_store, holder="A", clock=clock)
    await c.start(paused=True)
    try:
        with caplog.at_level(logging.INFO, logger="crmsphere.coordinator"):
            for _ in range(5):
                await c.run_due()
                clock.advance(1)
        assert len(calls) == 5  # every round ran despite the failures
        failed = [r for r in caplog.records if "failed" in r.getMessage() and r.levelno == logging.ERROR]
        recovered = [r for r in caplog.records if "recovered" in r.getMessage()]
        assert [r.exc_info[1].__class__ for r in failed] == [ConnectionError, ValueError]  # type: ignore[index]
        assert len(recovered) == 2 and c.failing == set()
    finally:
        await c.stop()
