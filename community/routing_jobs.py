"""The periodic routing round: take up edited rules, escalate overdue items, sweep lost events.

The coordinator runs it every ``routing.jobs_interval`` seconds in the process holding the
scheduler lease (crmsphere/jobs.py).
"""

from __future__ import annotations

from community.routing import Router
from community.routing_escalation import Escalator
from community.routing_sweeper import RoutingSweeper


class RoutingJobs:
    """One round of escalation and the sweeper, after taking up edited rules."""

    def __init__(self, router: Router, escalator: Escalator, sweeper: RoutingSweeper) -> None:
        self.router, self.escalator, self.sweeper = router, escalator, sweeper

    async def run_once(self) -> tuple[int, int]:
        """One round: (escalations done, events replayed)."""
        await self.router.refresh_rules(force=True)
        escalated = await self.escalator.run()
        replayed = await self.sweeper.run()
        return escalated, replayed
