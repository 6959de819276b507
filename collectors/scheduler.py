"""The collector scheduler: APScheduler 3 jobs, run only by the process holding the lease.

APScheduler 3 must not share a job store between processes, so every process
keeps its jobs in memory and a lease row in our own store decides which one
runs them.  The lease is renewed well before it expires; when its holder dies a
standby takes over within one lease period.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

LEASE_JOB = "__lease__"


class CollectorScheduler:
    """Polls each source on its interval (with jitter, never overlapping itself) while leader."""

    def __init__(
        self,
        sources: Sequence[tuple[str, float]],
        run_source: Callable[[str], Awaitable[object]],
        acquire_lease: Callable[[], Awaitable[bool]],
        release_lease: Callable[[], Awaitable[None]],
        lease_ttl: float = 30.0,
    ) -> None:
        self.sources = list(sources)
        self.run_source = run_source
        self.acquire_lease = acquire_lease
        self.release_lease = release_lease
        self.lease_ttl = lease_ttl
        self.is_leader = False
        self._scheduler = AsyncIOScheduler(timezone=timezone.utc)

    async def start(self) -> None:
        """Take the lease if free and start polling; a standby keeps trying for the lease."""
        await self._renew()
        now = datetime.now(timezone.utc)
        self._scheduler.add_job(self._renew, "interval", seconds=self.lease_ttl / 3, id=LEASE_JOB,
                                max_instances=1, coalesce=True)
        for name, interval in self.sources:
            self._scheduler.add_job(
                self._run, "interval", args=(name,), id=name, seconds=interval,
                jitter=min(30.0, interval / 10), max_instances=1, coalesce=True,
                misfire_grace_time=max(1, int(interval)), next_run_time=now)
        self._scheduler.start()
        log.info("scheduler started with %d source(s); %s", len(self.sources),
                 "leader" if self.is_leader else "standby")

    async def stop(self) -> None:
        """Stop polling and give the lease up so a standby takes over at once."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self.is_leader:
            self.is_leader = False
            await self.release_lease()

    def run_now(self, name: str) -> None:
        """Bring ``name``'s next run forward to now."""
        self._scheduler.modify_job(name, next_run_time=datetime.now(timezone.utc))

    async def _renew(self) -> None:
        try:
            leader = await self.acquire_lease()
        except Exception:  # a store hiccup must not kill the lease loop
            log.exception("could not renew the scheduler lease")
            leader = False
        if leader != self.is_leader:
            log.info("scheduler %s the lease", "took" if leader else "lost")
        self.is_leader = leader

    async def _run(self, name: str) -> None:
        if not self.is_leader:
            return
        try:
            await self.run_source(name)
        except Exception:  # the job boundary: log, keep the schedule
            log.exception("source %s: run failed", name)
