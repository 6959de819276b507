"""The routing part of the ``Store`` interface: teams, routed items, audit log and outbox.

Routing is idempotent in the database: one routed item per (item kind, item id,
rule id), so a replayed event routes once.  A routed item and its pending
deliveries are written in one transaction (the outbox), and due deliveries are
claimed atomically so two workers never send one delivery at the same time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from domain.routing import (
    Acknowledging,
    Delivery,
    QueueCounts,
    RoutedItem,
    RoutingEntry,
    StoredRules,
    Team,
)
from domain import Page


class RoutingStore(ABC):
    """Persistence of teams, routed items, their audit log and deliveries."""

    # -- teams ----------------------------------------------------------------
    @abstractmethod
    async def seed_teams(self, teams: Sequence[tuple[Team, str]], at: datetime) -> None:
        """Write configured teams, each with its config fingerprint, in one transaction.

        A team is written when it is new or its fingerprint differs from the one it
        was last seeded with; otherwise the stored team (maybe edited through the
        API) is kept.
        """

    @abstractmethod
    async def save_team(self, team: Team, at: datetime) -> Team:
        """Create or replace a team (an admin's edit)."""

    @abstractmethod
    async def get_team(self, key: str) -> Team:
        """One team; raises ``NotFound``."""

    @abstractmethod
    async def list_teams(self) -> list[Team]:
        """Every team, by key."""

    # -- routed items -----------------------------------------------------------
    @abstractmethod
    async def route_item(
        self, routed: RoutedItem, deliveries: Sequence[Delivery]
    ) -> RoutedItem | None:
        """Store ``routed``, its audit entry and its pending ``deliveries`` in one transaction.

        Returns the stored item with its id, or ``None`` (and writes nothing) when
        the same item was already routed by the same rule.
        """

    @abstractmethod
    async def get_routed(self, routed_id: int) -> RoutedItem:
        """One routed item; raises ``NotFound``."""

    @abstractmethod
    async def routed_for_item(self, kind: str, item_id: str) -> list[RoutedItem]:
        """Every routing of one item, oldest first."""

    @abstractmethod
    async def team_queue(
        self, team_key: str, statuses: Sequence[str] = (), limit: int = 50,
        cursor: str | None = None,
    ) -> Page[RoutedItem]:
        """A team's routed items newest first, optionally only those in ``statuses``."""

    async def team_queue_counts(
        self, team_key: str, status: str, unacknowledged_before: datetime | None
    ) -> QueueCounts:
        """How many of ``team_key``'s items are in ``status`` (all of them, not a page), and how
        many of those nobody acknowledged and were routed before ``unacknowledged_before``
        (none when it is ``None``: a team without an SLA has nothing overdue)."""
        return (await self.teams_queue_counts(status, {team_key: unacknowledged_before}))[team_key]

    @abstractmethod
    async def teams_queue_counts(
        self, status: str, unacknowledged_before: Mapping[str, datetime | None]
    ) -> dict[str, QueueCounts]:
        """``team_queue_counts`` of every team key of ``unacknowledged_before`` (each with its
        own cut-off), in a fixed number of reads however many teams there are; a team with
        no items counts zero."""

    @abstractmethod
    async def update_routed(
        self, routed_id: int, actor: str, at: datetime, *, status: str | None = None,
        acknowledge: Acknowledging | None = None, comment: str | None = None,
        note_key: str | None = None,
    ) -> RoutedItem:
        """Acknowledge (by the rule ``acknowledge``), change the status of, or comment on a
        routed item, with its audit entry; a ``status`` is applied after the acknowledgement.

        Only the first acknowledgement counts: it records its time and actor and moves the
        status as ``acknowledge`` says; a later one changes nothing.  A ``comment`` with a
        ``note_key`` is written only if the item has no comment with that key yet: the store's
        unique key decides, so two processes writing it at once leave one.  Raises ``NotFound``.
        """

    @abstractmethod
    async def routing_log(self, routed_id: int) -> list[RoutingEntry]:
        """The audit log of one routed item (routing, acknowledgements, statuses, comments), oldest first."""

    # -- deliveries (outbox) -------------------------------------------------------
    @abstractmethod
    async def claim_deliveries(
        self, worker: str, now: datetime, claim_until: datetime, limit: int
    ) -> list[Delivery]:
        """Atomically claim up to ``limit`` due deliveries for ``worker`` until ``claim_until``.

        Due: pending with ``next_attempt_at <= now``, or claimed by a worker whose
        claim expired (it died mid-send).  Claimed deliveries are in state ``sending``
        with their attempt count raised by one.
        """

    @abstractmethod
    async def delivery_sent(self, delivery_id: int, worker: str, at: datetime) -> bool:
        """Mark a delivery claimed by ``worker`` as sent; False if the claim was lost."""

    @abstractmethod
    async def delivery_failed(
        self, delivery_id: int, worker: str, error: str, retry_at: datetime | None
    ) -> bool:
        """Record a failed attempt: pending again at ``retry_at``, or dead when it is ``None``.

        False if ``worker`` no longer holds the claim.
        """

    @abstractmethod
    async def list_deliveries(
        self, state: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[Delivery]:
        """Deliveries newest first, optionally in one state."""

    @abstractmethod
    async def resend_delivery(self, delivery_id: int, at: datetime) -> Delivery:
        """Put a dead delivery back in the outbox (same idempotency key, attempts from zero).

        Raises ``NotFound``, or ``BadInput`` when the delivery is not dead.
        """

    # -- context for queues -----------------------------------------------------------
    @abstractmethod
    async def linked_mention_counts(self, customer_ids: Sequence[str]) -> dict[str, int]:
        """How many mentions are linked to each of ``customer_ids`` (missing means none)."""

    # -- rules kept in the store -----------------------------------------------------------
    @abstractmethod
    async def seed_routing_rules(self, body: dict[str, Any], fingerprint: str, at: datetime) -> None:
        """Write the configured rules when none are stored or the config's ``fingerprint``
        differs from the one last seeded; otherwise the stored (maybe API-edited) rules stay."""

    @abstractmethod
    async def get_routing_rules(self) -> StoredRules | None:
        """The rules in force, or ``None`` before the first seed or edit."""

    @abstractmethod
    async def save_routing_rules(self, body: dict[str, Any], at: datetime, actor: str) -> StoredRules:
        """Replace the rules (an admin's edit); the version grows by one."""

    # -- escalations -------------------------------------------------------------------------
    @abstractmethod
    async def awaiting_escalation(
        self, escalation_id: str, team_key: str, routed_before: datetime, limit: int, *,
        waiting: Sequence[str],
    ) -> list[RoutedItem]:
        """``team_key``'s unacknowledged items in one of the ``waiting`` statuses (the rule
        calling says which), routed at or before ``routed_before``, that escalation
        ``escalation_id`` has not handled yet; oldest first."""

    @abstractmethod
    async def escalate(
        self, routed_id: int, escalation_id: str, at: datetime, *, priority: str | None = None,
        routed: RoutedItem | None = None, deliveries: Sequence[Delivery] = (),
    ) -> bool:
        """Record escalation ``escalation_id`` of a routed item in one transaction with what it
        does: raise the item's ``priority``, store ``routed`` (a routing to another team) and the
        pending ``deliveries`` (for ``routed`` when given, else for the escalated item), each with
        its audit entry.  False (nothing written) when this escalation already happened."""

    # -- routing decisions -------------------------------------------------------
    @abstractmethod
    async def record_routing_decision(self, kind: str, item_id: str, event: str, at: datetime) -> bool:
        """Note that the rules ran for ``event`` on an item at ``at``; False if noted already
        (then the later of the two times is kept: events that repeat, such as status changes,
        are decided when a decision is no older than the event)."""
