"""Idea events: ``idea.created``, ``idea.status_changed`` and ``idea.vote_threshold`` are
recorded by the store with the change and read by the consumers of recorded events (routing,
notifications, CRM outbound), which this wakes after the commit for latency (each leader's
round reads them anyway); a status change's follower notifications are built here and stored
by the store together with the change (one transaction).

The runtime builds one ``IdeaEvents`` and hands it to ``Ideas`` and ``Engagement``; they
call it after their write is stored.  Routing is idempotent per item and rule, and a
threshold is announced once per idea (recorded in the store), so replaying is harmless.
"""

from __future__ import annotations

import functools

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from community.event_consumer import EventConsumer
from community.notify import Notifier
from community.routing import Router
from community.routing_consumer import RoutingConsumer
from domain.routing import Delivery
from config.notify import NotifySettings
from domain import utcnow
from domain.forum import Idea, ScoreThreshold, StatusChange
from domain.notify import Notification
from storage import Store

log = logging.getLogger(__name__)


class IdeaEvents:
    """Publishes idea events to routing and notifies followers; failures are logged at this
    boundary (with a traceback) because the idea itself is stored already."""

    def __init__(self, store: Store, settings: NotifySettings, public_url: str,
                 router: Router | None = None, notifier: Notifier | None = None,
                 clock: Callable[[], datetime] = utcnow,
                 routing: RoutingConsumer | None = None, *, crm: Any = None,
                 consumers: Sequence[EventConsumer] = ()) -> None:
        self.store, self.settings, self.public_url = store, settings, public_url
        #: when a threshold counts as crossed (the demo dates its forum over past weeks)
        self.clock = clock
        self.router, self.notifier = router, notifier
        #: Routes the recorded ``idea.status_changed`` events (the process's own consumer,
        #: shared with ingest, or one of its own over ``router``).
        self.routing = routing if routing is not None or router is None else RoutingConsumer(
            store, router, idea_url=public_url)
        #: CRM timelines and the bridge's event stream (crm.outbound.CrmOutbound): told of
        #: votes (not recorded as events); the rest reaches it through its consumer
        self.crm = crm
        #: The other consumers of this process's recorded events (notifications, CRM), woken
        #: after a commit
        self.consumers = tuple(consumers)

    async def _wake(self) -> None:
        """Run routing and the other consumers now (each logs its own failure; the next round
        of the lease holder retries)."""
        if self.routing is not None:
            await self.routing.wake()
        for consumer in self.consumers:
            await consumer.wake()

    async def idea_created(self, idea: Idea) -> None:
        """The idea is public (its ``idea.created`` event was recorded with it): wake the
        consumers."""
        await self._wake()

    async def voted(self, idea_id: int, customer_id: str) -> None:
        """A customer's vote was stored: tell the CRM timeline and the bridge."""
        if self.crm is None:
            return
        try:
            await self.crm.voted(await self.store.get_idea(idea_id), customer_id)
        except Exception:  # boundary: the vote is stored
            log.exception("publishing customer.voted for idea %s failed", idea_id)

    async def idea_scored(self, idea_id: int) -> None:
        """After votes or linked mentions changed: record each configured vote or impact
        threshold the idea reached for the first time (with its ``idea.vote_threshold``
        event), then wake routing."""
        try:
            await self._thresholds(await self.store.get_idea(idea_id))
        except Exception:  # boundary, as above
            log.exception("publishing idea.vote_threshold for idea %s failed", idea_id)

    def score_thresholds(self) -> tuple[ScoreThreshold, ...]:
        """The configured vote and impact thresholds (a vote records those it crosses in
        its own transaction, see ``vote_stored``)."""
        return _score_thresholds(tuple(self.settings.vote_thresholds), tuple(self.settings.impact_thresholds))

    async def vote_stored(self, idea: Idea, customer_id: str, reached: tuple[str, ...]) -> None:
        """After a vote was stored together with the ``reached`` thresholds it recorded (and
        their events): wake routing, then ``voted`` (no re-reading the idea)."""
        if reached and self.routing is not None:
            # Each threshold recorded its event with the vote: routing reads them in the
            # background, so that the vote answers after its one transaction (a round takes a
            # lock other votes' rounds wait on, and moves the cursor: a second write).
            self.routing.wake_soon()
        if self.crm is not None:
            try:
                await self.crm.voted(idea, customer_id)
            except Exception:  # boundary: the vote is stored
                log.exception("publishing customer.voted for idea %s failed", idea.id)

    async def _thresholds(self, idea: Idea) -> None:
        reached = False
        for threshold in self.score_thresholds():
            if threshold.crossed(idea) and await self.store.record_threshold(idea.id, threshold.name, self.clock()):
                reached = True  # recorded with its idea.vote_threshold event
        if reached:
            await self._wake()

    async def status_notifications(
        self, idea: Idea, change: StatusChange, follower_ids: tuple[int, ...]
    ) -> list[tuple[Notification, Delivery | None]]:
        """The notifications and mail a status change causes, to be stored with the change
        in one transaction (no notifier: none)."""
        if self.notifier is None:
            return []
        return await self.notifier.status_notifications(idea, change, follower_ids)

    async def status_changed(self, idea: Idea, change: StatusChange,
                             follower_ids: tuple[int, ...]) -> None:
        """After the change, its notifications and its ``idea.status_changed`` event are stored:
        wake the consumers (the team note, shipped replies and CRM entries come from the event)."""
        await self._wake()


@functools.lru_cache(maxsize=8)
def _score_thresholds(votes: tuple[int, ...], impact: tuple[float, ...]) -> tuple[ScoreThreshold, ...]:
    # Made once per configured set, not once a vote (settings reloaded: a new key).
    return (*(ScoreThreshold(f"votes:{t}", "votes", t) for t in votes),
            *(ScoreThreshold(f"impact:{t:g}", "impact", t) for t in impact))
