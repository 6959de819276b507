"""The coordinator: every periodic job of a process, on one APScheduler 3 scheduler.

A job is declared once (``Job``): what it runs, its interval (from the configuration), its
jitter, whether it needs the leader lease and which process roles run it.  APScheduler 3
must not share a job store between processes, so every process keeps its jobs in memory and
one lease row in our store (``scheduler``) decides which process runs the leader-only jobs;
the others (the customer watch) run in every process of their roles.  The lease is renewed
every third of its life; when its holder dies a standby takes over within one lease period.

A job never overlaps itself (one instance at a time, missed rounds coalesced into one) and a
failing job keeps its schedule; its failure is logged once when it starts failing and once
when it recovers, not on every round.  The clock is injectable: on a coordinator started
paused, ``run_due`` runs what is due at the clock's time, so tests move a fake clock instead
of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Generic, Protocol, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

C = TypeVar("C")

# APScheduler logs two INFO lines per round ("Running job", "executed successfully"): with the
# customer watch every few seconds they would drown the service's log.  Rounds log what
# matters themselves (a failure, a recovery); APScheduler's warnings (a round skipped because
# the last one still runs) still show.
logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)

#: The lease deciding which process runs the leader-only jobs, and its renewal job's id.
LEASE = "scheduler"
LEASE_JOB = "__lease__"


def _always(_context: object) -> bool:
    return True


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class Job(Generic[C]):
    """One periodic job: ``run(context)`` every ``interval(context)`` seconds.

    ``roles`` are the process roles that run it (``all`` runs every job); ``leader_only``
    jobs run only in the process holding the lease.  ``interval`` 0 or ``wanted`` false turn
    the job off in this process (a key set to 0, a part not built).  ``at_start``: the first
    round runs when the process starts, else one interval later.  ``jitter`` seconds at most
    are added to each round, so that processes started together spread their work.
    """

    name: str
    run: Callable[[C], Awaitable[object]]
    interval: Callable[[C], float]
    roles: tuple[str, ...]
    leader_only: bool = True
    jitter: float = 0.0
    at_start: bool = True
    wanted: Callable[[C], bool] = _always

    def runs_in(self, role: str) -> bool:
        """Whether a process of ``role`` runs this job."""
        return role == "all" or role in self.roles


class LeaseStore(Protocol):
    """The part of the store the coordinator needs: one lease row."""

    async def acquire_lease(self, name: str, holder: str, ttl: float, now: float) -> bool: ...

    async def release_lease(self, name: str, holder: str) -> None: ...


class Coordinator(Generic[C]):
    """Runs the jobs of ``role`` that are on for ``context``, leader-only ones while leader."""

    def __init__(self, jobs: Iterable[Job[C]], context: C, role: str, *, store: LeaseStore,
                 holder: str, lease_ttl: float = 30.0,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self.context, self.role, self.store, self.holder = context, role, store, holder
        self.lease_ttl, self.clock = lease_ttl, clock
        #: The jobs this process runs, each with its interval in seconds.
        self.jobs: dict[str, tuple[Job[C], float]] = {}
        for job in jobs:
            if job.runs_in(role) and job.wanted(context) and (interval := job.interval(context)) > 0:
                self.jobs[job.name] = (job, float(interval))
        self.is_leader = False
        self.failing: set[str] = set()
        self._running: set[asyncio.Task[object]] = set()
        self._stopping = False
        self._scheduler = AsyncIOScheduler(timezone=timezone.utc)

    @property
    def needs_lease(self) -> bool:
        """Whether any job here needs the lease (a process without one never takes it)."""
        return any(job.leader_only for job, _ in self.jobs.values())

    async def start(self, *, paused: bool = False) -> None:
        """Take the lease if free (a standby keeps trying) and schedule every job.

        ``paused``: APScheduler's timer never fires; ``run_due`` runs the jobs (tests).
        """
        now = self.clock()
        if self.needs_lease:
            await self._renew()
            every = self.lease_ttl / 3
            self._scheduler.add_job(
                self._renew, "interval", seconds=every, id=LEASE_JOB, max_instances=1,
                coalesce=True, misfire_grace_time=max(1, int(every)),
                next_run_time=now + timedelta(seconds=every))
        for name, (job, interval) in self.jobs.items():
            self._scheduler.add_job(
                self._round, "interval", args=(job,), id=name, seconds=interval,
                jitter=job.jitter or None, max_instances=1, coalesce=True,
                misfire_grace_time=max(1, int(interval)),
                next_run_time=now if job.at_start else now + timedelta(seconds=interval))
        self._scheduler.start(paused=paused)
        log.info("coordinator started with %d job(s) (%s); %s", len(self.jobs),
                 ", ".join(self.jobs) or "none",
                 "leader" if self.is_leader else "standby" if self.needs_lease else "no lease needed")

    async def stop(self) -> None:
        """Stop every job (a round in progress is cancelled) and give the lease up, so a
        standby takes over at once."""
        if self._scheduler.running and not self._stopping:
            self._stopping = True  # the shutdown itself runs on the loop's next turn
            self._scheduler.shutdown(wait=False)
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        if self.is_leader:
            self.is_leader = False
            await self.store.release_lease(LEASE, self.holder)

    def run_now(self, name: str) -> None:
        """Bring job ``name``'s next round forward to now."""
        self._scheduler.modify_job(name, next_run_time=self.clock())

    def next_run(self, name: str) -> datetime | None:
        """When job ``name`` runs next (``None``: not scheduled)."""
        job = self._scheduler.get_job(name)
        return job.next_run_time if job is not None else None

    async def run_due(self, now: datetime | None = None) -> list[str]:
        """Run every job due at ``now`` (the clock's time) once, the lease renewal first, as
        the scheduler's timer would; returns their names.  For a coordinator started paused."""
        now = now or self.clock()
        due = [j for j in self._scheduler.get_jobs()
               if j.next_run_time is not None and j.next_run_time <= now]
        due.sort(key=lambda j: (j.id != LEASE_JOB, j.next_run_time))
        for scheduled in due:
            upcoming = scheduled.trigger.get_next_fire_time(scheduled.next_run_time, now)
            while upcoming is not None and upcoming <= now:  # missed rounds coalesce into one
                upcoming = scheduled.trigger.get_next_fire_time(upcoming, now)
            scheduled.modify(next_run_time=upcoming)
            await scheduled.func(*scheduled.args)
        return [j.id for j in due]

    async def _renew(self) -> None:
        try:
            leader = await self.store.acquire_lease(LEASE, self.holder, self.lease_ttl,
                                                    self.clock().timestamp())
        except Exception:  # a store hiccup must not kill the lease job: standby until the next try
            log.exception("could not renew the scheduler lease")
            leader = False
        if leader != self.is_leader:
            log.info("coordinator %s the scheduler lease", "took" if leader else "lost")
        self.is_leader = leader

    async def _round(self, job: Job[C]) -> None:
        if job.leader_only and not self.is_leader:
            return
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await job.run(self.context)
        except Exception:  # the job boundary: keep the schedule, say so once per breakdown
            if job.name not in self.failing:
                self.failing.add(job.name)
                log.exception("job %s failed; it keeps its schedule", job.name)
            else:
                log.debug("job %s failed again", job.name, exc_info=True)
            return
        finally:
            if task is not None:
                self._running.discard(task)
        if job.name in self.failing:
            self.failing.discard(job.name)
            log.info("job %s recovered", job.name)
