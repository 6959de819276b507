"""The live hub reads the recorded ``mention.stored`` events after its own in-memory cursor,
started at "now": every mention stored by this or another process once, in commit order,
whether or not anyone told the hub; one range read of mentions per page of events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from config.settings import load_settings
from crmsphere.ingest import store_posts
from crmsphere.live import MentionHub, Subscription
from crmsphere.runtime import open_runtime
from domain import Mention
from domain.events import MENTION_STORED, NewEvent
from storage import open_store
from storage.base import Store
from tests.community.test_routing_events import NoNlp
from tests.conftest import T0, post


class CountingStore:
    """The real store, counting the hub's reads of new mentions."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.reads = 0

    async def mentions_after(self, after_id: int, limit: int) -> list[Mention]:
        """Count, then read."""
        self.reads += 1
        return await self._store.mentions_after(after_id, limit)

    async def get_mentions(self, mention_ids) -> dict[int, Mention]:
        """Count, then read."""
        self.reads += 1
        return await self._store.get_mentions(mention_ids)

    async def get_mention(self, mention_id: int) -> Mention:
        """Count, then read."""
        self.reads += 1
        return await self._store.get_mention(mention_id)

    def __getattr__(self, name: str):
        return getattr(self._store, name)


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[CountingStore, Store]]:
    """This process's store (counted) and a second one on the same file: another process."""
    url = f"sqlite:///{tmp_path / 'live.db'}"
    ours, other = await open_store(url), await open_store(url)
    try:
        yield CountingStore(ours), other
    finally:
        await other.close()
        await ours.close()


@pytest.fixture
async def hub(stores) -> AsyncIterator[MentionHub]:
    """A hub on this process's (counted) store that publishes at once and never polls."""
    hub = MentionHub(stores[0], poll_interval=30, coalesce=0)  # type: ignore[arg-type]
    try:
        yield hub
    finally:
        await hub.close()


async def _ids(sub: Subscription, count: int) -> list[str]:
    """External ids of the next ``count`` mentions ``sub`` receives."""
    got: list[str] = []
    while len(got) < count:
        batch = await sub.next(2)
        assert batch is not None, f"only {got} arrived"
        got += [m.post.external_id for m in batch.mentions]
    return got


async def _ingest(store: CountingStore | Store, hub: MentionHub | None, *external_ids: str) -> None:
    """What ingest does: store a batch, then wake this process's hub (``None``: another
    process stored it, or this one died before the wake-up)."""
    await store.save_mentions("t", [Mention(post(i)) for i in external_ids], None)
    if hub is not None:
        hub.notify(len(external_ids))


async def test_mentions_are_read_from_their_events_one_range_read_a_page(stores, hub) -> None:
    ours, _ = stores
    await _ingest(ours, None, "before")  # stored before the dashboard opened: history
    sub = await hub.subscribe()
    await _ingest(ours, hub, "1", "2", "3")
    assert await _ids(sub, 3) == ["1", "2", "3"]
    assert ours.reads == 1
    assert await sub.next(0.1) is None


async def test_events_naming_no_mention_in_ascii_digits_are_skipped_not_fatal(stores, hub) -> None:
    # Another writer of the outbox (a newer release, a hand-made repair) names subjects the hub
    # cannot read: "²" and "¹²" are digits to str.isdigit but not to int(), and "٣" (Arabic-
    # Indic three) would read as mention 3, someone else's mention; 5,000 digits are more than
    # int() reads, 25 more than the store's integers hold.
    ours, _ = stores
    await _ingest(ours, None, "1", "2", "3")  # mentions 1-3: history, before the dashboard
    sub = await hub.subscribe()
    hostile = [NewEvent(MENTION_STORED, text)
               for text in ("²", "¹²", "٣", "", "-1", " 3", "3\n", "9" * 5000, "9" * 25)]
    await ours.unit_of_work().run(lambda uow: uow.events.record(hostile, T0))
    await _ingest(ours, hub, "live")
    assert await _ids(sub, 1) == ["live"]
    assert await sub.next(0.1) is None  # nothing else: not mention 3, and the hub still reads
    await _ingest(ours, hub, "after")
    assert await _ids(sub, 1) == ["after"]


async def test_another_process_and_a_lost_wake_up_lose_nothing_and_repeat_nothing(stores) -> None:
    ours, other = stores
    hub = MentionHub(ours, poll_interval=0.1, coalesce=0)  # type: ignore[arg-type]
    try:
        sub = await hub.subscribe()
        await _ingest(ours, hub, "1")
        assert await _ids(sub, 1) == ["1"]
        await _ingest(other, None, "elsewhere")  # nobody wakes this hub: its poll reads it
        await _ingest(ours, None, "2")           # this process died before its wake-up
        await _ingest(ours, hub, "3")
        assert await _ids(sub, 3) == ["elsewhere", "2", "3"]
        assert await sub.next(0.3) is None  # nothing published twice
    finally:
        await hub.close()


async def test_a_backfill_between_live_mentions_is_not_published(stores, hub) -> None:
    ours, _ = stores
    sub = await hub.subscribe()
    await _ingest(ours, None, "live-1")
    # An import of last year's posts (no events) between two live mentions: thousands of
    # ids apart in one page of events, read one by one instead of as one range.
    await ours.save_mentions("import", [Mention(post(f"old-{n}"), backfill=True) for n in range(600)], None)
    await _ingest(ours, hub, "live-2")
    assert await _ids(sub, 2) == ["live-1", "live-2"]
    assert await sub.next(0.1) is None


async def test_nothing_is_kept_while_nobody_listens(stores, hub) -> None:
    ours, _ = stores
    first = await hub.subscribe()
    first.close()
    await _ingest(ours, hub, "1")  # nobody listens: history, not news
    later = await hub.subscribe()
    await _ingest(ours, hub, "2")
    assert await _ids(later, 1) == ["2"]
    assert await later.next(0.1) is None


async def test_batches_gather_longer_the_more_dashboards_listen(stores) -> None:
    ours, _ = stores
    hub = MentionHub(ours, poll_interval=30, coalesce=0.05,  # type: ignore[arg-type]
                     coalesce_per_subscriber=0.1, max_coalesce=0.25)
    try:
        assert hub.batch_interval() == 0.05
        one = await hub.subscribe()
        assert hub.batch_interval() == 0.1
        others = [await hub.subscribe() for _ in range(4)]
        assert hub.batch_interval() == 0.25  # capped
        await _ingest(ours, hub, "1")
        await _ingest(ours, hub, "2")
        # Both batches of the burst reach every dashboard as one.
        for sub in (one, *others):
            batch = await sub.next(2)
            assert batch is not None and [m.post.external_id for m in batch.mentions] == ["1", "2"]
    finally:
        await hub.close()


async def _ingest_handed(store: CountingStore, hub: MentionHub, *external_ids: str) -> None:
    """What this process's ingest does: store a batch, then hand the mentions as stored
    (with their ids) to the hub."""
    result = await store.save_mentions("t", [Mention(post(i)) for i in external_ids], None)
    hub.hand_over(result.stored)


async def test_mentions_this_process_handed_over_are_not_read_back(stores, hub) -> None:
    ours, _ = stores
    sub = await hub.subscribe()
    await _ingest_handed(ours, hub, "1", "2", "3")
    batch = await sub.next(2)
    assert batch is not None and [m.post.external_id for m in batch.mentions] == ["1", "2", "3"]
    assert all(m.id is not None for m in batch.mentions)
    assert ours.reads == 0  # the events only: the mentions came from memory
    assert await sub.next(0.1) is None


async def test_only_the_mentions_not_handed_over_are_read_back_in_event_order(stores) -> None:
    ours, other = stores
    hub = MentionHub(ours, poll_interval=30, coalesce=0.2)  # type: ignore[arg-type]
    try:
        sub = await hub.subscribe()
        await _ingest(other, None, "elsewhere-1")   # another process: nobody hands it over
        await _ingest_handed(ours, hub, "mine-1", "mine-2")
        await _ingest(other, None, "elsewhere-2")
        # One wake-up gathers all four, in commit order, whatever their origin.
        assert await _ids(sub, 4) == ["elsewhere-1", "mine-1", "mine-2", "elsewhere-2"]
        assert ours.reads == 1  # one read, for the two stored elsewhere
        assert await sub.next(0.3) is None
    finally:
        await hub.close()


async def test_a_hand_over_while_nobody_listens_is_not_published_later(stores, hub) -> None:
    ours, _ = stores
    first = await hub.subscribe()
    first.close()
    await _ingest_handed(ours, hub, "unwatched")
    later = await hub.subscribe()
    await _ingest_handed(ours, hub, "watched")
    assert await _ids(later, 1) == ["watched"]
    assert await later.next(0.1) is None


async def test_the_pages_of_events_one_wake_up_finds_go_out_as_one_batch(stores) -> None:
    ours, _ = stores
    # Three events a page: a burst of 8 mentions is three pages, and each batch costs one
    # write per dashboard, so they are handed out together.
    hub = MentionHub(ours, poll_interval=30, coalesce=0, batch_size=3)  # type: ignore[arg-type]
    try:
        sub = await hub.subscribe()
        await _ingest(ours, None, *(f"burst-{n}" for n in range(8)))
        hub.notify(8)
        batch = await sub.next(2)
        assert batch is not None
        assert [m.post.external_id for m in batch.mentions] == [f"burst-{n}" for n in range(8)]
        assert await sub.next(0.1) is None
    finally:
        await hub.close()


async def test_a_batch_never_grows_beyond_max_batch(stores) -> None:
    ours, _ = stores
    hub = MentionHub(ours, poll_interval=30, coalesce=0, batch_size=2,  # type: ignore[arg-type]
                     max_batch=4)
    try:
        sub = await hub.subscribe()
        await _ingest(ours, None, *(f"burst-{n}" for n in range(7)))
        hub.notify(7)
        sizes = []
        while sum(sizes) < 7:
            batch = await sub.next(2)
            assert batch is not None
            sizes.append(len(batch.mentions))
        assert sizes == [4, 3]
    finally:
        await hub.close()


async def test_the_runtime_hands_the_mentions_a_source_run_stored_to_its_hub(tmp_path: Path) -> None:
    config = load_settings(environ={}, overrides={"store": {"url": f"sqlite:///{tmp_path / 'rt.db'}"}})
    async with open_runtime(config, with_nlp=False) as runtime:
        assert runtime.live is not None and runtime.sources.on_stored is not None
        hook = runtime.sources.on_stored
        as_stored: list[Mention] = []

        async def seen_by_the_hook(mentions: Sequence[Mention]) -> None:
            as_stored.extend(mentions)
            await hook(mentions)

        dashboard = await runtime.live.subscribe()
        await store_posts(runtime.store, NoNlp(), "x:acme", [post("1", "the app is slow")], None,
                          seen_by_the_hook)
        batch = await dashboard.next(10)
        assert batch is not None and [m.post.external_id for m in batch.mentions] == ["1"]
        # The very mention the insert returned: published from memory, not read back.
        assert batch.mentions[0] is as_stored[0] and as_stored[0].id is not None
        dashboard.close()


async def test_a_hand_over_after_its_event_was_read_is_not_kept(stores, hub) -> None:
    ours, _ = stores
    sub = await hub.subscribe()
    # The pump's poll read the event between the commit and the hand-over: the mention went
    # out read back, and the late hand-over must not wait for an event that has passed.
    result = await ours.save_mentions("t", [Mention(post("raced"))], None)
    hub.notify(1)
    assert await _ids(sub, 1) == ["raced"]
    hub.hand_over(result.stored)
    await _ingest_handed(ours, hub, "next")
    assert await _ids(sub, 1) == ["next"]
    assert hub.handed_waiting == 0
    assert await sub.next(0.1) is None
