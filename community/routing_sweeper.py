"""The sweeper: routing for idea events lost between commit and hook.

Mentions and status changes are not swept: their events (``mention.stored``,
``idea.status_changed``) are recorded with them and routing consumes them
(community/routing_consumer.py).  A new idea is still stored first and routed right after,
by its hook; if the process dies in between, the idea is stored but no routing
decision is recorded.
The sweeper (a periodic job of the scheduler's lease holder) looks at items stored since
its watermark, at least ``sweep_grace_seconds`` ago (the hook had its chance) and at most
``sweep_max_age_hours`` ago, and replays the event for those with no decision.  Routing
is idempotent, so an item the hook routed a moment earlier is not routed twice.

Thresholds crossed happen many times per idea, and the decision of an idea event is
recorded once per idea and event with the time of the latest decision.  An idea whose
latest threshold crossed in the window is newer than that time lost its event, and the sweeper replays it with the idea as it is now.  That is all a lost
event of that kind can do: rules see the idea, not the change, and route an idea once
per rule; replaying the latest one stands in for every earlier one.  Its watermark is the
time of the latest event looked at.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from community.idea_events import idea_item
from community.routing import Router
from config.routing import RoutingSettings
from crmsphere.domain import utcnow
from crmsphere.domain_forum import Idea
from storage.base import Store

log = logging.getLogger(__name__)

#: (item kind, the event its hook publishes); the watermark of each is a meta value.
SWEPT = (("idea", "idea.created"),)
#: Idea events that repeat per idea, swept by the time of their latest occurrence (status
#: changes record their event with them and are routed by the consumer instead).
IDEA_EVENTS_SWEPT = ("idea.vote_threshold",)
BATCH = 200


def watermark_key(kind: str) -> str:
    """The meta key holding the sweeper's watermark for ``kind``."""
    return f"routing.sweep.{kind}"


class RoutingSweeper:
    """Replays lost ``idea.created`` and ``idea.vote_threshold`` events.

    ``idea_created`` publishes an idea's creation (as the forum does); ``idea_url`` is the
    public base URL of the forum, which the replayed threshold events need (no URL: they are
    not swept).
    """

    def __init__(self, store: Store, router: Router, settings: RoutingSettings,
                 idea_created: Callable[[Idea], Awaitable[None]] | None = None,
                 clock: Callable[[], datetime] = utcnow, idea_url: str | None = None) -> None:
        self.store, self.router, self.settings = store, router, settings
        self.idea_created, self.clock, self.idea_url = idea_created, clock, idea_url

    async def run(self) -> int:
        """One sweep of every item kind; returns how many items had their event replayed."""
        replayed = 0
        if self.idea_created is not None:
            for kind, event in SWEPT:
                replayed += await self._sweep(kind, event)
        if self.idea_url is not None:
            for event in IDEA_EVENTS_SWEPT:
                replayed += await self._sweep_idea_event(event, self.idea_url)
        return replayed

    async def _sweep_idea_event(self, event: str, idea_url: str) -> int:
        now = self.clock()
        since = now - timedelta(hours=self.settings.sweep_max_age_hours)
        until = now - timedelta(seconds=self.settings.sweep_grace_seconds)
        raw = await self.store.get_meta(watermark_key(event))
        after = datetime.fromisoformat(raw) if raw else None
        window = await self.store.idea_event_window(event, after, since, until)
        if window.latest is None:
            return 0
        replayed = 0
        if window.undecided and self.router.has_rules:
            for idea in (await self.store.get_ideas(list(window.undecided))).values():
                await self.router.on_event(event, await idea_item(self.store, idea, idea_url))
                replayed += 1
            log.info("routing sweeper replayed %s for %d idea(s)", event, replayed)
        # Every event up to ``latest`` now has a decision (or no rules wanted one).
        await self.store.set_meta(watermark_key(event), window.latest.isoformat())
        return replayed

    async def _sweep(self, kind: str, event: str) -> int:
        now = self.clock()
        since = now - timedelta(hours=self.settings.sweep_max_age_hours)
        until = now - timedelta(seconds=self.settings.sweep_grace_seconds)
        mark = int(await self.store.get_meta(watermark_key(kind)) or 0)
        replayed = 0
        while True:
            window = await self.store.sweep_window(kind, event, mark, since, until, BATCH)
            if window.highest is None:
                return replayed
            if window.undecided and self.router.has_rules:
                await self._replay(kind, list(window.undecided))
                replayed += len(window.undecided)
            # Every item up to ``highest`` now has a decision (or no rules wanted one).
            mark = window.highest
            await self.store.set_meta(watermark_key(kind), str(mark))
            if window.undecided:
                log.info("routing sweeper replayed %s for %d %s(s) up to id %d", event,
                         len(window.undecided), kind, mark)

    async def _replay(self, kind: str, ids: list[int]) -> None:
        assert self.idea_created is not None
        for idea in (await self.store.get_ideas(ids)).values():
            # An idea waiting for moderation is announced when staff approve it, not before.
            if getattr(idea, "approval", "approved") == "approved":
                await self.idea_created(idea)
