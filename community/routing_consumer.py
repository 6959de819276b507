"""Routing as a consumer of recorded events: ``mention.stored`` (routed as
"mention.analysed"), ``idea.created``, ``idea.status_changed`` and ``idea.vote_threshold``
after the ``routing`` cursor.

A mention and its ``mention.stored`` event are committed together (storage/contract/events.py),
so routing reads what was committed instead of being handed it by the process that stored
it: a process dying right after the commit loses nothing, the next round routes it.  The
coordinator runs a round every ``routing.jobs_interval`` in the lease holder
(crmsphere/jobs.py); after a commit, ingest wakes the consumer of its own process at once,
for latency.  The wake-up carries no mentions: the consumer always reads the events.

Delivery is at least once: the cursor moves after a page is routed, so a crash in between
routes that page again, and routing is idempotent (one routing per item and rule), which
absorbs the repeat.
"""

from __future__ import annotations

import asyncio
import logging
from itertools import takewhile
from collections.abc import Sequence

from community.idea_items import idea_item
from community.routing import Router
from domain import Mention
from domain.events import (
    IDEA_CREATED,
    IDEA_STATUS_CHANGED,
    IDEA_VOTE_THRESHOLD,
    MENTION_STORED,
    RecordedEvent,
    subject_number,
)
from domain.errors import NotFound
from storage.base import Store

log = logging.getLogger(__name__)

#: The consumer's name, the key of its cursor.
CONSUMER = "routing"
#: Events read and routed per page (the cursor moves after each).
PAGE = 200
#: The events routing reacts to.
KINDS = (MENTION_STORED, IDEA_CREATED, IDEA_STATUS_CHANGED, IDEA_VOTE_THRESHOLD)


class RoutingConsumer:
    """Routes the subjects of the events the ``routing`` cursor has not passed.

    ``idea_url`` is the forum's public base URL, which routed ideas link to; without it the
    consumer stops before the first idea event (the cursor is shared: moving past an idea
    event would lose it for a consumer that has the URL).
    """

    def __init__(self, store: Store, router: Router, page: int = PAGE, *,
                 idea_url: str | None = None) -> None:
        self.store, self.router, self.page, self.idea_url = store, router, page, idea_url
        # One round at a time in a process: a wake-up during a round waits and then reads
        # what the round left (rounds in other processes are absorbed by idempotence).
        self._round = asyncio.Lock()
        # A round asked for by ``wake_soon`` that has not begun yet (it will read every event
        # recorded until it begins), and the rounds running in the background.
        self._queued: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

    async def run_once(self) -> int:
        """Route every event after the cursor, page by page; returns how many events were
        handled.  A routing failure propagates with the cursor left before its page."""
        async with self._round:
            self._queued = None  # this round reads what a queued one would have: queue anew
            handled = 0
            # The cursor is read once a round: moving it answers where it now is (another
            # process may have moved it further), which is where the next page starts.
            after = await self.store.get_event_cursor(CONSUMER)
            while True:
                page = await self.store.read_events(after, KINDS, self.page)
                events = page
                if self.idea_url is None:
                    events = list(takewhile(lambda e: e.kind == MENTION_STORED, page))
                if not events:
                    return handled
                # No rules in force: the events pass unrouted (rules apply to new events).
                if self.router.has_rules:
                    await self._route(events)
                after = await self.store.set_event_cursor(CONSUMER, events[-1].id)
                handled += len(events)
                if len(page) < self.page or len(events) < len(page):
                    # The page held every event there was (an event committed since woke a
                    # round of its own, which waits for this one), or this consumer stops
                    # at the idea event it cannot route: reading again would find nothing.
                    return handled

    async def wake(self, _stored: Sequence[Mention] = ()) -> None:
        """After a commit (ingest's hook, the forum's events): run a round now.  Mentions
        handed over are ignored (the events are the record); a failure is logged, the ingest goes on, and
        the coordinator's next round tries again."""
        try:
            await self.run_once()
        except Exception:  # the boundary between ingest and routing: log, keep ingesting
            log.exception("routing recorded events failed; the next routing round retries")

    def wake_soon(self) -> None:
        """After a commit in a request that should not wait for routing (a vote crossing a
        threshold): a round in the background, one for every wake-up before it begins.  The
        events are recorded with the commit, so nothing is lost if the process ends first:
        the coordinator's next round routes them."""
        if self._queued is not None:
            return
        task = asyncio.get_running_loop().create_task(self.wake())
        self._queued = task
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def settle(self) -> None:
        """Wait for the rounds ``wake_soon`` started (before the store closes)."""
        while self._background:
            await asyncio.gather(*self._background)

    async def _route(self, events: Sequence[RecordedEvent]) -> None:
        """Route a page in event order (mentions in runs, so their customers load once)."""
        mentions: list[Mention] = []
        for event in events:
            subject = subject_number(event.subject_id)
            if subject is None:  # not written by this program; never blocks the rest
                log.warning("event %d (%s) names no item: %r", event.id, event.kind,
                            event.subject_id[:80])
                continue
            try:
                if event.kind == MENTION_STORED:
                    mentions.append(await self.store.get_mention(subject))
                    continue
                await self._mentions(mentions)
                mentions = []
                assert self.idea_url is not None  # a consumer without it stops before them
                # Rules see the idea as it is now, and route it once per rule.
                idea = await self.store.get_idea(subject)
                await self.router.on_event(event.kind, await idea_item(self.store, idea, self.idea_url))
            except NotFound:  # deleted since: nothing to route
                continue
        await self._mentions(mentions)

    async def _mentions(self, mentions: list[Mention]) -> None:
        if mentions:
            await self.router.route_stored_mentions(mentions)
