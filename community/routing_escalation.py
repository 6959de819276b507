"""Escalation: items a team did not acknowledge within its SLA are routed on, raised in
priority or announced again, once per item and escalation rule (``[[routing.escalations]]``,
or as an admin replaced them: ``community.routing_escalation_book``).

``Escalator.run`` is called by the periodic routing job (the scheduler's lease holder only)
and takes the time from its clock, so tests move a fake clock instead of waiting.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from community.channels import lookup
from community.routing import AWAITING_ESCALATION, ack_due_at, plan_deliveries
from community.routing_escalation_book import EscalationBook
from domain.routing import Delivery, RoutedItem, Team
from config.routing import RoutingSettings
from config.routing_escalations import EscalationSettings
from domain import utcnow
from domain.errors import NotFound
from storage.base import Store

log = logging.getLogger(__name__)

#: The event name of routings and messages made by an escalation.
ESCALATION_EVENT = "sla_overdue"
#: Items escalated per team and escalation in one run; the next run takes the rest.
BATCH = 200


def _escalated(deliveries: list[Delivery], esc: EscalationSettings, overdue: RoutedItem,
               due: datetime | None) -> list[Delivery]:
    """Mark the messages as escalations, saying what was overdue and since when."""
    extra = {"type": "item.escalated", "escalation": esc.id,
             "escalated_from": {"team": overdue.team_key, "routed_id": overdue.id,
                                "ack_due_at": due.isoformat().replace("+00:00", "Z") if due else None}}
    out = []
    for d in deliveries:
        channel = lookup(d.channel)  # planned deliveries are on registered channels only
        assert channel is not None
        out.append(dataclasses.replace(d, payload=channel.escalated(d.payload, extra)))
    return out


class Escalator:
    """Applies the escalation rules to overdue items."""

    def __init__(self, store: Store, settings: RoutingSettings,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store, self.settings, self.clock = store, settings, clock

    async def run(self) -> int:
        """Escalate every item overdue now by the escalations in force (stored, else
        configured); returns how many escalations happened."""
        escalations = await EscalationBook(self.store, self.clock).in_force(self.settings.escalations)
        if not escalations:
            return 0
        now = self.clock()
        teams = {t.key: t for t in await self.store.list_teams()}
        done = 0
        for esc in escalations:
            for key in esc.teams or sorted(teams):
                team = teams.get(key)
                if team is None or team.ack_sla_minutes is None:
                    continue
                before = now - timedelta(minutes=team.ack_sla_minutes + esc.after_minutes)
                for overdue in await self.store.awaiting_escalation(esc.id, key, before, BATCH,
                                                                    waiting=AWAITING_ESCALATION):
                    if await self._escalate(esc, overdue, team, teams, now):
                        done += 1
        return done

    async def _escalate(self, esc: EscalationSettings, overdue: RoutedItem, team: Team,
                        teams: dict[str, Team], now: datetime) -> bool:
        assert overdue.id is not None
        due = ack_due_at(overdue, team)
        priority = esc.priority or overdue.priority
        routed = None
        deliveries: list[Delivery] = []
        if esc.route_to is not None:
            target = teams.get(esc.route_to)
            if target is None:
                log.warning("escalation %s routes to team %s, which does not exist",
                            esc.id, esc.route_to)
            else:
                routed = RoutedItem(item=overdue.item, rule_id=f"escalation:{esc.id}",
                                    team_key=target.key, event=ESCALATION_EVENT,
                                    priority=priority, routed_at=now, routed_by="escalation")
                deliveries = plan_deliveries(routed, target, esc.notify, self.settings.public_url, now)
        elif esc.notify:
            again = dataclasses.replace(overdue, priority=priority, event=ESCALATION_EVENT)
            deliveries = plan_deliveries(again, team, esc.notify, self.settings.public_url, now)
        try:
            happened = await self.store.escalate(
                overdue.id, esc.id, now, priority=esc.priority, routed=routed,
                deliveries=_escalated(deliveries, esc, overdue, due))
        except NotFound:  # deleted meanwhile
            return False
        if happened:
            log.info("escalated %s %s (team %s, due %s) by %s", overdue.item.kind, overdue.item.id,
                     overdue.team_key, due, esc.id)
        return happened
