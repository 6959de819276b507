"""The periodic routing jobs: take up edited rules, escalate overdue items, sweep lost events.

Only one process should run them (the scheduler's lease holder); ``is_leader`` says whether
this one is, each round.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from community.routing import Router
from community.routing_escalation import Escalator
from community.routing_sweeper import RoutingSweeper

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class RoutingJobs:
    """Runs escalation and the sweeper every ``interval`` seconds while leader."""

    def __init__(self, router: Router, escalator: Escalator, sweeper: RoutingSweeper,
                 is_leader: Callable[[], Awaitable[bool]], interval: float,
                 sleep: Sleep = asyncio.sleep) -> None:
        self.router, self.escalator, self.sweeper = router, escalator, sweeper
        self.is_leader, self.interval, self.sleep = is_leader, interval, sleep

    async def run_once(self) -> tuple[int, int]:
        """One round: (escalations done, events replayed)."""
        await self.router.refresh_rules(force=True)
        escalated = await self.escalator.run()
        replayed = await self.sweeper.run()
        return escalated, replayed

    async def run(self) -> None:
        """Until cancelled: a round every ``interval`` seconds when this process leads."""
        while True:
            try:
                if await self.is_leader():
                    await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the job's boundary: one traceback, the next round retries
                log.exception("routing jobs: round failed")
            await self.sleep(self.interval)
