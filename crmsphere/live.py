"""The live feed: an in-process hub that fans newly stored mentions out to open dashboards.

The hub is a consumer of the recorded ``mention.stored`` events (storage/contract/events.py) with
a cursor of its own, kept in memory: every web process must see every event, so each one
reads them itself (no lease), starting at the newest event when its first dashboard opens
("now": history is not news).  A mention and its event commit together, so a mention stored
by any process — an ingest killed right after its commit included — reaches every process's
dashboards, once each, in commit order.

The hub reads only while a dashboard is open: after a commit in this process (``notify``,
or ``hand_over`` with the mentions just stored) and every ``poll_interval`` seconds (2 s by
default) for the other processes' events — one indexed query per process.  The events stay
the only source of what to publish and in which order; a mention this process handed over is
taken from memory, and only the others (other processes', or ones whose hand-over was lost)
are read back, in one read by id (``bench/dashboard.py --read-back`` measures that path beside
the hand-over: within a few percent of each other with 200 dashboards).  Everything one wake-up
finds goes out as one batch (up to ``max_batch`` mentions): the fan-out costs per batch and
per dashboard, so pages of events are not each a batch of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from domain import Customer, Mention
from domain.events import MENTION_STORED, RecordedEvent, subject_number
from nlp.signals import signal_named
from storage.base import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LiveBatch:
    """Mentions newly stored, in storage order, with the customers they link to."""

    mentions: tuple[Mention, ...]
    customers: dict[str, Customer] = field(default_factory=dict)
    #: Mentions already published that changed (e.g. a manager's topic label), not new ones.
    updated: bool = False


@dataclass(frozen=True, slots=True)
class MentionFilter:
    """What one dashboard watches; ``None`` fields match everything.

    ``topic`` and ``signals`` (``(name, value)`` of NLP signals, ``nlp.signals``) compare with
    the NLP analysis when the analysis carries those fields.
    """

    source: str | None = None
    customer_id: str | None = None
    text: str | None = None
    topic: str | None = None
    signals: tuple[tuple[str, str], ...] = ()

    def matches(self, mention: Mention) -> bool:
        """Whether ``mention`` passes every filter that is set."""
        a = mention.analysis
        if self.source and mention.post.source != self.source:
            return False
        if self.customer_id and all(k.customer_id != self.customer_id for k in a.links):
            return False
        if self.text:
            # Every word must occur, as the full-text search of the listing asks.
            body = mention.post.text.lower()
            if any(word not in body for word in self.text.lower().split()):
                return False
        if self.topic and self.topic not in (getattr(a, "topics", None) or ()):
            return False
        for name, value in self.signals:
            signal = signal_named(name)
            if signal is not None and signal.value_of(a) != value:
                return False
        return True


class Subscription:
    """One dashboard's end of the hub: an async iterator of ``LiveBatch``.

    A subscriber too slow to keep up (its queue is full) is dropped: its iterator
    ends and the browser reconnects, catching up from the last id it saw.
    """

    def __init__(self, hub: MentionHub, size: int) -> None:
        self._hub = hub
        self._queue: asyncio.Queue[LiveBatch | None] = asyncio.Queue(size)
        self.dropped = False

    def _offer(self, batch: LiveBatch) -> None:
        try:
            self._queue.put_nowait(batch)
        except asyncio.QueueFull:
            self.dropped = True
            self._end()

    def _end(self) -> None:
        self._hub._subscribers.discard(self)
        if self._queue.full():
            self._queue.get_nowait()  # make room for the end marker
        self._queue.put_nowait(None)

    def close(self) -> None:
        """Stop receiving batches."""
        self._hub._subscribers.discard(self)

    async def next(self, timeout: float) -> LiveBatch | None:
        """The next batch, or ``None`` after ``timeout`` seconds; ``StopAsyncIteration`` once dropped."""
        try:
            # ``asyncio.timeout``, not ``wait_for``: no task per wait, and 200 dashboards
            # wait once per batch each.
            async with asyncio.timeout(timeout):
                batch = await self._queue.get()
        except TimeoutError:
            return None
        if batch is None:
            raise StopAsyncIteration
        return batch

    def __aiter__(self) -> AsyncIterator[LiveBatch]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[LiveBatch]:
        while True:
            batch = await self._queue.get()
            if batch is None:
                return
            yield batch


class MentionHub:
    """Fans newly stored mentions out to subscribers; the pump runs only while someone listens."""

    def __init__(self, store: Store, poll_interval: float = 2.0, batch_size: int = 200,
                 queue_size: int = 256, coalesce: float = 0.25,
                 coalesce_per_subscriber: float = 0.004, max_coalesce: float = 1.0,
                 max_batch: int = 2000) -> None:
        self.store = store
        self.poll_interval = poll_interval
        #: After a wake-up, wait this long so that the ingest batches of a burst reach the
        #: dashboards as one batch: the fan-out costs per batch and per dashboard.
        self.coalesce = coalesce
        #: ...and longer the more dashboards listen (up to ``max_coalesce``): writing a batch
        #: to one dashboard costs ~0.15 ms of the server's CPU on loopback, so 200 dashboards
        #: at 4 batches a second would take an eighth of a core away from ingest.
        self.coalesce_per_subscriber = coalesce_per_subscriber
        self.max_coalesce = max_coalesce
        #: Events read per query.
        self.batch_size = batch_size
        #: Mentions gathered from several pages of events into one batch at most.
        self.max_batch = max_batch
        self.queue_size = queue_size
        self._subscribers: set[Subscription] = set()
        self._wake = asyncio.Event()
        self._pump: asyncio.Task | None = None
        #: This process's cursor: the last ``mention.stored`` event published.
        self._after = 0
        #: Mentions this process stored (by id), waiting for their events: published from
        #: here instead of read back.  Bounded: beyond ``HANDED_LIMIT`` the oldest are
        #: forgotten (and read back when their events come).
        self._handed: dict[int, Mention] = {}
        # Dashboards connecting at once must start one pump, not one each.
        self._starting = asyncio.Lock()

    def notify(self, inserted: int = 1) -> None:
        """Called after this process committed new mentions (and their events); cheap and
        never blocks: the pump reads the events."""
        if inserted and self._subscribers:
            self._wake.set()

    #: How many handed-over mentions the hub keeps waiting for their events.
    HANDED_LIMIT = 20_000

    def hand_over(self, mentions: Sequence[Mention]) -> None:
        """Called after this process committed ``mentions`` (and their events), as stored
        (with ids): the pump publishes them when it reads their events, without reading
        them back.  Cheap and never blocks; mentions without an id only wake the pump."""
        if not mentions or not self._subscribers:
            return
        for mention in mentions:
            if mention.id is not None:
                self._handed[mention.id] = mention
        while len(self._handed) > self.HANDED_LIMIT:
            del self._handed[next(iter(self._handed))]
        self._wake.set()

    async def publish_updated(self, mentions: Sequence[Mention]) -> None:
        """Hand mentions that changed after they were stored to this process's dashboards,
        which show them anew in place (the cursor is left alone)."""
        if mentions and self._subscribers:
            await self._offer_all(list(mentions), updated=True)

    async def subscribe(self) -> Subscription:
        """A new subscription receiving every mention stored from now on."""
        async with self._starting:
            if self._pump is None or self._pump.done():
                self._after = await self.store.latest_event_id()
                self._pump = asyncio.create_task(self._run(), name="mention-hub")
            elif not self._subscribers:
                # Nobody listened since the last dashboard closed (the pump skips its work
                # then): what was stored meanwhile is history, not news for this dashboard.
                self._after = await self.store.latest_event_id()
        sub = Subscription(self, self.queue_size)
        self._subscribers.add(sub)
        return sub

    def batch_interval(self) -> float:
        """How long the pump gathers mentions before handing them out, for as many
        dashboards as listen now."""
        wider = len(self._subscribers) * self.coalesce_per_subscriber
        return max(self.coalesce, min(self.max_coalesce, wider))

    @property
    def handed_waiting(self) -> int:
        """How many handed-over mentions wait for their events."""
        return len(self._handed)

    @property
    def subscribers(self) -> int:
        """How many dashboards are listening."""
        return len(self._subscribers)

    async def close(self) -> None:
        """Stop the pump and end every subscription."""
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        for sub in list(self._subscribers):
            sub._end()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):  # the poll: other processes' events
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            if not self._subscribers:
                self._wake.clear()
                self._handed.clear()  # stored while nobody listened: history
                continue
            if self.coalesce > 0:
                await asyncio.sleep(self.batch_interval())
            self._wake.clear()
            try:
                await self._publish_events()
            except Exception:  # the pump's boundary: log, keep serving the next wake-up
                log.exception("live feed: publishing new mentions failed")

    async def _publish_events(self) -> None:
        """Publish the mentions of the events after the cursor: every page this wake-up
        finds, as one batch (``max_batch`` mentions at most each)."""
        # Handed over before this read, so committed with their events before it: any still
        # waiting once the read has caught up had their events read already (the pump's poll
        # ran between the commit and the hand-over) and would wait for ever.
        handed_before = list(self._handed)
        gathered: list[Mention] = []
        while True:
            events = await self.store.read_events(self._after, (MENTION_STORED,), self.batch_size)
            if events:
                gathered += await self._mentions_of(events)
                self._after = events[-1].id
            more = len(events) >= self.batch_size
            if gathered and (len(gathered) >= self.max_batch or not more):
                await self._offer_all(gathered)
                gathered = []
            if not more:
                for mention_id in handed_before:
                    self._handed.pop(mention_id, None)
                return

    async def _mentions_of(self, events: Sequence[RecordedEvent]) -> list[Mention]:
        """The mentions ``events`` name, in event order (deleted ones left out): the ones
        handed over from memory, the others read back in one round trip."""
        # A subject that names no mention (not written by this program) is skipped.
        ids = [i for e in events if (i := subject_number(e.subject_id)) is not None]
        found = {i: m for i in ids if (m := self._handed.pop(i, None)) is not None}
        missing = [i for i in ids if i not in found]
        if missing:
            found.update(await self.store.get_mentions(missing))
        return [found[i] for i in ids if i in found]

    async def _offer_all(self, mentions: list[Mention], updated: bool = False) -> None:
        ids = sorted({k.customer_id for m in mentions for k in m.analysis.links})
        customers = await self.store.get_customers(ids) if ids else {}
        batch = LiveBatch(tuple(mentions), customers, updated)
        for sub in list(self._subscribers):
            sub._offer(batch)
