"""The router: events about items -> rules -> routed items and their outbox deliveries.

Producers call ``Router.on_event(event, item)``: ingest does it for every stored
mention ("mention.analysed"); the ideas forum will for "idea.created",
"idea.vote_threshold" and "idea.status_changed".  Routing is idempotent (one
routed item per item and rule, enforced by the store), so replaying an event is
harmless, and a changed rule applies to new events only.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from community.routing_items import (
    mail_payload,
    mention_item,
    slack_payload,
    webhook_payload,
)
from community.routing_rules import select_rules
from community.routing_types import (
    EVENTS,
    MANUAL_EVENT,
    PRIORITIES,
    ROUTED_STATUSES,
    Delivery,
    RoutableItem,
    RoutedItem,
    Team,
)
from config.routing import RoutingSettings
from crmsphere.domain import Mention, Page, utcnow
from crmsphere.errors import BadInput, NotFound
from storage.base import Store

log = logging.getLogger(__name__)


def ack_due_at(routed: RoutedItem, team: Team | None) -> datetime | None:
    """When ``team`` must have acknowledged ``routed`` by, or ``None`` without an SLA."""
    if team is None or team.ack_sla_minutes is None or routed.routed_at is None:
        return None
    return routed.routed_at + timedelta(minutes=team.ack_sla_minutes)


def is_overdue(routed: RoutedItem, team: Team | None, now: datetime) -> bool:
    """True when the acknowledgement SLA has passed and nobody acknowledged the item."""
    due = ack_due_at(routed, team)
    return due is not None and routed.acknowledged_at is None and now > due


def plan_deliveries(routed: RoutedItem, team: Team, notify: Sequence[str] | None,
                    public_url: str, at: datetime) -> list[Delivery]:
    """The outbox messages for a routing: one per requested channel the team has."""
    queue_url = f"{public_url.rstrip('/')}/api/teams/{team.key}/queue"
    have = team.channels.configured()
    wanted = have if notify is None else tuple(c for c in notify if c in have)
    missing = [] if notify is None else [c for c in notify if c not in have]
    if missing:
        log.warning("rule %s asks to notify team %s on %s, which it has no address for",
                    routed.rule_id, team.key, ", ".join(missing))
    ch = team.channels
    deliveries = []
    for channel in wanted:
        if channel == "webhook":
            target = {"url": ch.webhook_url, "secret_env": ch.webhook_secret_env}
            payload = webhook_payload(routed, team, queue_url)
        elif channel == "mail":
            target = {"to": list(ch.mail_to)}
            payload = mail_payload(routed, team, queue_url)
        else:
            target = {"url": ch.slack_url, "url_env": ch.slack_url_env}
            payload = slack_payload(routed, team, queue_url)
        deliveries.append(Delivery(
            routed_id=None, team_key=team.key, channel=channel, target=target, payload=payload,
            idempotency_key=f"dlv_{uuid.uuid4().hex}", next_attempt_at=at))
    return deliveries


class Router:
    """Applies the configured rules to events and writes routings with their outbox."""

    def __init__(self, store: Store, settings: RoutingSettings,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store, self.settings, self.clock = store, settings, clock

    async def start(self) -> None:
        """Write the configured teams to the store (config changes win over older API edits)."""
        teams = [(t.to_team(), t.fingerprint()) for t in self.settings.teams]
        await self.store.seed_teams(teams, self.clock())
        if teams or self.settings.rules:
            log.info("routing: %d team(s), %d rule(s)", len(teams), len(self.settings.rules))

    async def on_event(self, event: str, item: RoutableItem) -> list[RoutedItem]:
        """Route ``item`` by every rule ``event`` triggers; returns only the new routings."""
        if event not in EVENTS:
            raise ValueError(f"unknown routing event {event!r}")
        routed = []
        for rule in select_rules(self.settings.rules, self.settings.rule_sets, event, item):
            done = await self._route(item, rule.id, rule.team, event, rule.priority,
                                     rule.notify, actor="rules")
            if done is not None:
                routed.append(done)
        return routed

    async def on_mentions_stored(self, mentions: Sequence[Mention]) -> None:
        """The ingest hook: publish "mention.analysed" for freshly stored mentions.

        The mentions are stored already, so a routing failure is logged here (once
        per batch) rather than failing the ingest; re-running the event is safe.
        """
        if not self.settings.rules or not mentions:
            return
        try:
            ids = await self.store.mention_ids(
                [(m.post.source, m.post.external_id) for m in mentions])
            customer_ids = {k.customer_id for m in mentions for k in m.analysis.links}
            customers = await self.store.get_customers(sorted(customer_ids))
            for m in mentions:
                mention_id = ids.get((m.post.source, m.post.external_id))
                if mention_id is None:
                    continue
                stored = m if m.id == mention_id else dataclasses.replace(m, id=mention_id)
                await self.on_event("mention.analysed", mention_item(stored, customers))
        except Exception:  # the boundary between ingest and routing: log once, keep ingesting
            log.exception("routing %d stored mention(s) failed", len(mentions))

    async def route_mention(self, mention_id: int, team_key: str, actor: str,
                            priority: str = "normal", note: str | None = None
                            ) -> tuple[RoutedItem, bool]:
        """Route a mention by hand ("send to product"); (routing, created).

        Routing the same mention to the same team again returns the first routing.
        """
        if priority not in PRIORITIES:
            raise BadInput(f"priority must be one of {', '.join(PRIORITIES)}",
                           {"field": "priority", "value": priority})
        mention = await self.store.get_mention(mention_id)
        await self.store.get_team(team_key)  # NotFound for an unknown team
        customers = await self.store.get_customers(
            sorted({k.customer_id for k in mention.analysis.links}))
        item = mention_item(mention, customers)
        rule_id = f"manual:{team_key}"
        done = await self._route(item, rule_id, team_key, MANUAL_EVENT, priority, None, actor)
        if done is not None:
            if note:
                done = await self.store.update_routed(done.id, actor, self.clock(), comment=note)
            return done, True
        for existing in await self.store.routed_for_item("mention", item.id):
            if existing.rule_id == rule_id:
                return existing, False
        raise NotFound(f"routing of mention {mention_id} to {team_key!r} vanished")

    async def _route(self, item: RoutableItem, rule_id: str, team_key: str, event: str,
                     priority: str, notify: Sequence[str] | None, actor: str) -> RoutedItem | None:
        try:
            team = await self.store.get_team(team_key)
        except NotFound:
            log.warning("rule %s routes to team %s, which does not exist", rule_id, team_key)
            return None
        now = self.clock()
        routed = RoutedItem(item=item, rule_id=rule_id, team_key=team.key, event=event,
                            priority=priority, routed_at=now, routed_by=actor)
        deliveries = plan_deliveries(routed, team, notify, self.settings.public_url, now)
        stored = await self.store.route_item(routed, deliveries)
        if stored is not None:
            log.info("routed %s %s to %s by %s (%d deliveries)", item.kind, item.id, team.key,
                     rule_id, len(deliveries))
        return stored



@dataclass(frozen=True, slots=True)
class QueueEntry:
    """A routed item as its team sees it: SLA state and how loud its customer is."""

    routed: RoutedItem
    ack_due_at: datetime | None
    overdue: bool
    linked_mentions: int


class TeamQueue:
    """What a team does with its queue: read it, acknowledge, change status, comment."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store, self.clock = store, clock

    async def entries(self, team_key: str, statuses: Sequence[str] = (), limit: int = 50,
                      cursor: str | None = None) -> tuple[Team, Page[QueueEntry]]:
        """One page of ``team_key``'s queue, newest first, with overdue flags."""
        for status in statuses:
            _check_status(status)
        team = await self.store.get_team(team_key)
        page = await self.store.team_queue(team_key, statuses, limit, cursor)
        counts = await self.store.linked_mention_counts(
            [r.item.customer_id for r in page.items if r.item.customer_id])
        now = self.clock()
        return team, Page(tuple(
            QueueEntry(r, ack_due_at(r, team), is_overdue(r, team, now),
                       counts.get(r.item.customer_id or "", 0))
            for r in page.items), page.next_cursor)

    async def acknowledge(self, routed_id: int, actor: str) -> RoutedItem:
        """Acknowledge a routed item (the first acknowledgement counts for the SLA)."""
        return await self.store.update_routed(routed_id, actor, self.clock(), acknowledge=True)

    async def set_status(self, routed_id: int, status: str, actor: str) -> RoutedItem:
        """Move a routed item to ``status``; leaving "new" also acknowledges it."""
        _check_status(status)
        return await self.store.update_routed(routed_id, actor, self.clock(), status=status,
                                              acknowledge=status != "new")

    async def comment(self, routed_id: int, text: str, actor: str) -> RoutedItem:
        """Add a team comment to a routed item's log."""
        text = text.strip()
        if not text or len(text) > 5000:
            raise BadInput("comment text must be 1 to 5000 characters", {"field": "text"})
        return await self.store.update_routed(routed_id, actor, self.clock(), comment=text)


def _check_status(status: str) -> None:
    if status not in ROUTED_STATUSES:
        raise BadInput(f"status must be one of {', '.join(ROUTED_STATUSES)}",
                       {"field": "status", "value": status})
