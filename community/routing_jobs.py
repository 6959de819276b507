"""The periodic routing round: take up edited rules, escalate overdue items.

The coordinator runs it every ``routing.jobs_interval`` seconds in the process holding the
scheduler lease (crmsphere/jobs.py).  Events are routed by their own job, the routing
consumer (community/routing_consumer.py); nothing is re-derived by a sweeper.
"""

from __future__ import annotations

from community.routing import Router
from community.routing_escalation import Escalator


class RoutingJobs:
    """One round of escalation, after taking up edited rules."""

    def __init__(self, router: Router, escalator: Escalator) -> None:
        self.router, self.escalator = router, escalator

    async def run_once(self) -> int:
        """One round; returns the escalations done."""
        await self.router.refresh_rules(force=True)
        return await self.escalator.run()
