"""The live feed: an in-process hub that fans newly stored mentions out to open dashboards.

Ingest in this process hands the hub the mentions it just stored, with their
ids (``on_mentions_stored``, from ``SaveResult.stored``): the hub publishes them
without reading them back, as long as their ids follow on from the last one it
published (an id watermark).  A gap in the ids means another process stored
mentions in between: the hub then reads everything above the watermark from the
store instead, so every mention is published exactly once, in id order.  Ingest
that only calls ``notify()`` (no mentions in hand) gets the same store read.
The hub hands each batch to every subscriber's bounded queue.

Across processes (N API processes and a scheduler, see docs/deploy.md):

- **MongoDB replica set or sharded cluster**: the hub follows a change stream of
  inserted mentions (``Store.watch_new_mentions``), so a mention stored by any
  process reaches every process's dashboards at once.  If the stream breaks, the
  hub falls back to polling.
- **everywhere else** (SQLite, a standalone MongoDB): the hub polls the store
  every ``poll_interval`` seconds (2 s by default) for mentions with an id above
  the last one it published — one indexed query per process, whether or not
  anything is new, and only while a dashboard is open.  On SQLite ids grow in
  commit order.  On MongoDB ids are taken before a batch commits, so two batches
  written at once by two processes can commit out of id order: there the poll
  looks ``LOOKBACK`` ids below the highest published one again and pushes each
  id once (a mention committing more than ``LOOKBACK`` ids late is only in the
  listings).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from crmsphere.domain import Customer, Mention
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
                 coalesce_per_subscriber: float = 0.004, max_coalesce: float = 1.0) -> None:
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
        self.batch_size = batch_size
        self.queue_size = queue_size
        self._subscribers: set[Subscription] = set()
        self._wake = asyncio.Event()
        self._pump: asyncio.Task | None = None
        self._last_id: int | None = None
        self._floor = 0  # ids at or below were stored before the pump started
        #: Mentions this process stored (ids known), waiting for the pump to publish them.
        self._pending: list[Mention] = []
        #: Whether the pump must read the store (mentions were stored that it was not handed).
        self._read_store = False
        # Dashboards connecting at once must start one pump, not one each.
        self._starting = asyncio.Lock()

    def notify(self, inserted: int = 1) -> None:
        """Called by ingest after new mentions were stored; cheap and never blocks (the pump
        reads them from the store)."""
        if inserted and self._subscribers:
            self._read_store = True
            self._wake.set()

    async def on_mentions_stored(self, mentions: Sequence[Mention]) -> None:
        """The ingest ``on_stored`` hook: publish ``mentions`` as they are when they carry
        their ids, else have the pump read what was stored."""
        if not mentions or not self._subscribers:
            return
        if getattr(self.store, "ids_in_commit_order", True) and all(m.id is not None for m in mentions):
            self._pending.extend(mentions)
            self._wake.set()
        else:
            self.notify(len(mentions))

    async def publish_updated(self, mentions: Sequence[Mention]) -> None:
        """Hand mentions that changed after they were stored to this process's dashboards,
        which show them anew in place (the id watermark is left alone)."""
        if mentions and self._subscribers:
            await self._offer_all(list(mentions), updated=True)

    async def subscribe(self) -> Subscription:
        """A new subscription receiving every mention stored from now on."""
        async with self._starting:
            if self._pump is None or self._pump.done():
                self._last_id = await self.store.latest_mention_id()
                self._pump = asyncio.create_task(self._run(), name="mention-hub")
            elif not self._subscribers:
                # Nobody listened since the last dashboard closed (the pump skips its work
                # then): what was stored meanwhile is history, not news for this dashboard.
                self._last_id = self._floor = await self.store.latest_mention_id()
        sub = Subscription(self, self.queue_size)
        self._subscribers.add(sub)
        return sub

    def batch_interval(self) -> float:
        """How long the pump gathers mentions before handing them out, for as many
        dashboards as listen now."""
        wider = len(self._subscribers) * self.coalesce_per_subscriber
        return max(self.coalesce, min(self.max_coalesce, wider))

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

    #: How far below the highest published id polling looks again for ids that committed
    #: late, on a store whose ids are not in commit order (``ids_in_commit_order`` false).
    LOOKBACK = 500

    async def _run(self) -> None:
        # Ids at or below the start are history: never pushed, even if they commit late.
        self._floor = self._last_id or 0
        self._seen: set[int] = set()
        if getattr(self.store, "change_streams", False):
            try:
                await self._follow_stream()
            except asyncio.CancelledError:
                raise
            except Exception:  # the stream's boundary: fall back to polling, keep serving
                log.exception("live feed: the change stream failed; polling the store instead")
        await self._poll()

    async def _follow_stream(self) -> None:
        """Publish what the store's change stream reports (MongoDB replica sets)."""
        async for mentions in self.store.watch_new_mentions(self.batch_size):  # type: ignore[attr-defined]
            # Ids are taken before a batch is written, so streams may deliver them out of
            # order; the watermark is the highest seen, for polling should the stream break.
            self._last_id = max([self._last_id or 0, *(m.id for m in mentions if m.id is not None)])
            self._seen.update(m.id for m in mentions if m.id is not None)
            if self._subscribers:
                await self._offer_all(list(mentions))

    async def _poll(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            except TimeoutError:
                self._read_store = True  # other processes' mentions: nobody wakes us for them
            if not self._subscribers:
                self._wake.clear()
                self._pending.clear()
                self._read_store = False
                continue
            if self.coalesce > 0:
                await asyncio.sleep(self.batch_interval())
            self._wake.clear()
            pending, self._pending = self._pending, []
            read, self._read_store = self._read_store, False
            try:
                await self._publish_handed(pending, read)
            except Exception:  # the pump's boundary: log, keep serving the next wake-up
                log.exception("live feed: publishing new mentions failed")

    async def _publish_handed(self, pending: list[Mention], read: bool) -> None:
        """Publish the mentions ingest handed over while their ids follow on from the
        watermark; read the store from the watermark when asked to or at a gap."""
        if not getattr(self.store, "ids_in_commit_order", True):
            await self._publish_unordered()
            return
        last = self._last_id or 0
        fresh: list[Mention] = []
        for m in sorted(pending, key=lambda m: m.id or 0):
            mention_id = m.id or 0
            if mention_id <= last:
                continue  # a store read published it already
            if mention_id != last + 1:
                read = True  # another process stored the ids in between
                break
            fresh.append(m)
            last = mention_id
        if fresh:
            self._last_id = last
            await self._offer_all(fresh)
        if read:
            await self._publish_new()

    async def _publish_new(self) -> None:
        if not getattr(self.store, "ids_in_commit_order", True):
            await self._publish_unordered()
            return
        while True:
            mentions = await self.store.mentions_after(self._last_id or 0, self.batch_size)
            if not mentions:
                return
            self._last_id = mentions[-1].id
            await self._offer_all(mentions)
            if len(mentions) < self.batch_size:
                return

    async def _publish_unordered(self) -> None:
        """Poll a store whose ids are taken before commit (MongoDB): look ``LOOKBACK`` ids
        below the highest published one again, and publish each id once."""
        cursor = max(self._floor, (self._last_id or 0) - self.LOOKBACK)
        while True:
            mentions = await self.store.mentions_after(cursor, self.batch_size)
            if not mentions:
                break
            cursor = mentions[-1].id or cursor
            fresh = [m for m in mentions if m.id not in self._seen]
            self._seen.update(m.id for m in fresh if m.id is not None)
            self._last_id = max(self._last_id or 0, cursor)
            if fresh:
                await self._offer_all(fresh)
            if len(mentions) < self.batch_size:
                break
        low = (self._last_id or 0) - self.LOOKBACK
        self._seen = {i for i in self._seen if i > low}

    async def _offer_all(self, mentions: list[Mention], updated: bool = False) -> None:
        ids = sorted({k.customer_id for m in mentions for k in m.analysis.links})
        customers = await self.store.get_customers(ids) if ids else {}
        batch = LiveBatch(tuple(mentions), customers, updated)
        for sub in list(self._subscribers):
            sub._offer(batch)


StoredHook = Callable[[Sequence[Mention]], Awaitable[None]]


def chain_stored(*hooks: StoredHook | None) -> StoredHook | None:
    """One ingest ``on_stored`` hook calling each given hook in turn (``None``s left out)."""
    present = [h for h in hooks if h is not None]
    if len(present) <= 1:
        return present[0] if present else None

    async def call_each(mentions: Sequence[Mention]) -> None:
        for hook in present:
            await hook(mentions)

    return call_each
