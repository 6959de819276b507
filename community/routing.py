"""The router: events about items -> rules -> routed items and their outbox deliveries.

``Router.on_event(event, item)`` is called by the routing consumer for the events recorded
with each change (community/routing_consumer.py): "mention.analysed" for every stored
mention, "idea.created", "idea.vote_threshold" and "idea.status_changed"; and by the spike
watch, through ``on_spike``, for "spike.detected".  Routing is idempotent (one
routed item per item and rule, enforced by the store), so replaying an event is
harmless, and a changed rule applies to new events only.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError

from community.channels import lookup
from community.routing_escalation_book import EscalationBook
from community.routing_items import mention_item, spike_routable
from community.routing_rules import select_rules
from domain.routing import (
    EVENTS,
    MANUAL_EVENT,
    PRIORITIES,
    ROUTED_STATUSES,
    Acknowledging,
    Delivery,
    QueueCounts,
    RoutableItem,
    RoutedItem,
    StoredRules,
    Team,
)
from community.spike_alerts import SPIKE_EVENT
from config.routing import RoutingSettings, RuleBookSettings
from domain import Mention, Page, utcnow
from domain.dashboard import SpikeAlert
from domain.errors import BadInput, NotFound
from storage.base import Store

log = logging.getLogger(__name__)

#: Acknowledging an item still new makes it acknowledged; one the team already moved on (in
#: progress, done, dismissed) keeps its status, only who acknowledged it and when are kept.
ACKNOWLEDGING = Acknowledging(moves=("new",), to="acknowledged")
#: Escalation waits on the items nobody picked up: those still in a status acknowledging
#: would move (new); the store also leaves out any item somebody acknowledged.
AWAITING_ESCALATION: tuple[str, ...] = ACKNOWLEDGING.moves


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
    # A channel stored for the team but no longer registered cannot be sent on.
    have = tuple(c for c in team.channels.configured() if lookup(c) is not None)
    wanted = have if notify is None else tuple(c for c in notify if c in have)
    missing = [] if notify is None else [c for c in notify if c not in have]
    if missing:
        log.warning("rule %s asks to notify team %s on %s, which it has no address for",
                    routed.rule_id, team.key, ", ".join(missing))
    deliveries = []
    for name in wanted:
        channel = lookup(name)
        assert channel is not None  # kept in ``have`` above
        deliveries.append(Delivery(
            routed_id=None, team_key=team.key, channel=name,
            target=channel.target(team.channels.config(name) or {}),
            payload=channel.payload(routed, team, queue_url),
            idempotency_key=f"dlv_{uuid.uuid4().hex}", next_attempt_at=at))
    return deliveries


class Router:
    """Applies the rules in force to events and writes routings with their outbox.

    The rules live in the store (seeded from the TOML, edited through the API); until
    ``start`` loads them the router uses the configured ones.  ``settings.rules`` and
    ``settings.rule_sets`` always hold the rules in force.
    """

    #: How often a started router re-reads the stored rules (another process may edit them).
    RULES_REFRESH = timedelta(seconds=5)

    def __init__(self, store: Store, settings: RoutingSettings,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store, self.settings, self.clock = store, settings, clock
        self.rules_version: int | None = None
        self._rules_checked: datetime | None = None

    async def start(self) -> None:
        """Write the configured teams and rules to the store (config changes win over older
        API edits) and load the rules in force."""
        teams = [(t.to_team(), t.fingerprint()) for t in self.settings.teams]
        await self.store.seed_teams(teams, self.clock())
        book = self.settings.rule_book()
        await self.store.seed_routing_rules(book.body(), book.fingerprint(), self.clock())
        await EscalationBook(self.store, self.clock).seed(self.settings.escalation_book())
        await self.refresh_rules(force=True)
        # What is in force: teams and rules made through the API or the demo count too, not
        # only those of the configuration file.
        stored_teams = await self.store.list_teams()
        if stored_teams or self.settings.rules:
            log.info("routing: %d team(s), %d rule(s)", len(stored_teams), len(self.settings.rules))

    async def refresh_rules(self, force: bool = False) -> None:
        """Take up the stored rules if they changed (checked at most every ``RULES_REFRESH``)."""
        now = self.clock()
        if not force and (self._rules_checked is None
                          or now - self._rules_checked < self.RULES_REFRESH):
            return
        self._rules_checked = now
        stored = await self.store.get_routing_rules()
        if stored is None or stored.version == self.rules_version:
            return
        try:
            book = RuleBookSettings.model_validate(dict(stored.body))
        except ValidationError as exc:  # written by an older version: keep the rules we have
            log.error("stored routing rules v%d are not valid, keeping the current ones: %s",
                      stored.version, exc)
            return
        self._apply(book, stored.version)

    def _apply(self, book: RuleBookSettings, version: int) -> None:
        self.settings = self.settings.model_copy(
            update={"rules": book.rules, "rule_sets": dict(book.rule_sets)})
        self.rules_version = version

    async def set_rules(self, book: RuleBookSettings, actor: str) -> StoredRules:
        """Replace the rules in force (an admin's edit); they apply to events from now on."""
        known = {t.key for t in await self.store.list_teams()}
        unknown = book.unknown_teams(known)
        if unknown:
            index, team = unknown[0]
            raise BadInput(f"field 'rules[{index}].team': no team '{team}' (teams: "
                           f"{', '.join(sorted(known)) or 'none'})",
                           {"field": f"rules[{index}].team", "value": team})
        stored = await self.store.save_routing_rules(book.body(), self.clock(), actor)
        self._apply(book, stored.version)
        self._rules_checked = self.clock()
        log.info("routing rules v%d set by %s: %d rule(s)", stored.version, actor, len(book.rules))
        return stored

    @property
    def has_rules(self) -> bool:
        """True when any rule is in force."""
        return bool(self.settings.rules)

    async def on_event(self, event: str, item: RoutableItem) -> list[RoutedItem]:
        """Route ``item`` by every rule ``event`` triggers; returns only the new routings.

        The decision is recorded afterwards (the record of which items the rules have seen;
        an upgrade to the recorded events used it to hand over what was still undecided).
        """
        if event not in EVENTS:
            raise ValueError(f"unknown routing event {event!r}")
        if self.rules_version is not None:
            await self.refresh_rules()
        routed = []
        for rule in select_rules(self.settings.rules, self.settings.rule_sets, event, item):
            done = await self._route(item, rule.id, rule.team, event, rule.priority,
                                     rule.notify, actor="rules")
            if done is not None:
                routed.append(done)
        await self.store.record_routing_decision(item.kind, item.id, event, self.clock())
        return routed

    async def route_stored_mentions(self, mentions: Sequence[Mention]) -> int:
        """Publish "mention.analysed" for stored mentions (ids known); how many routings were new.

        A mention stored by a backfill is history: rules never route it (a person still can,
        with ``route_mention``), whichever process or job hands it over.
        """
        mentions = [m for m in mentions if not m.backfill]
        customer_ids = {k.customer_id for m in mentions for k in m.analysis.links}
        customers = await self.store.get_customers(sorted(customer_ids))
        count = 0
        for mention in mentions:
            count += len(await self.on_event("mention.analysed", mention_item(mention, customers)))
        return count

    async def on_spike(self, alert: SpikeAlert) -> list[RoutedItem]:
        """A new spike alert (from the dashboard's spike watch): route an item of kind "spike"
        by the rules "spike.detected" triggers.  The item's id is the alert's subject and day,
        so an alert evaluated again routes nothing new."""
        customer = None
        if alert.kind == "customer":
            customer = (await self.store.get_customers([alert.subject])).get(alert.subject)
        return await self.on_event(SPIKE_EVENT, spike_routable(alert, customer))

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
            if note and done.id is not None:
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

    async def counts(self, team: Team, status: str = "new") -> QueueCounts:
        """How many of ``team``'s items wait in ``status`` and how many of those are overdue,
        counted over the whole queue (a page of it would cap the count)."""
        _check_status(status)
        before = (None if team.ack_sla_minutes is None
                  else self.clock() - timedelta(minutes=team.ack_sla_minutes))
        return await self.store.team_queue_counts(team.key, status, before)

    async def counts_of_teams(self, teams: Sequence[Team], status: str = "new") -> dict[str, QueueCounts]:
        """``counts`` of every team of ``teams``, by key, in a fixed number of store reads
        however many teams there are (the /teams page once read twice per team)."""
        _check_status(status)
        now = self.clock()
        return await self.store.teams_queue_counts(status, {
            team.key: None if team.ack_sla_minutes is None else now - timedelta(minutes=team.ack_sla_minutes)
            for team in teams})

    async def acknowledge(self, routed_id: int, actor: str) -> RoutedItem:
        """Acknowledge a routed item (the first acknowledgement counts for the SLA)."""
        return await self.store.update_routed(routed_id, actor, self.clock(), acknowledge=ACKNOWLEDGING)

    async def set_status(self, routed_id: int, status: str, actor: str) -> RoutedItem:
        """Move a routed item to ``status``; moving it out of a status acknowledging moves
        (leaving "new") also acknowledges it."""
        _check_status(status)
        leaves = status not in ACKNOWLEDGING.moves
        return await self.store.update_routed(routed_id, actor, self.clock(), status=status,
                                              acknowledge=ACKNOWLEDGING if leaves else None)

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
