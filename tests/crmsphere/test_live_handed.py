"""The live hub publishes what ingest hands it without reading the store, and every mention
exactly once, in id order, also when another process stores mentions in between."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crmsphere.domain import Mention
from crmsphere.live import MentionHub, Subscription
from storage import open_store
from storage.base import Store
from tests.conftest import post


class CountingStore:
    """The real store, counting the hub's reads of new mentions."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.reads = 0

    async def mentions_after(self, after_id: int, limit: int) -> list[Mention]:
        """Count, then read."""
        self.reads += 1
        return await self._store.mentions_after(after_id, limit)

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


async def _ingest(store: CountingStore, hub: MentionHub, *external_ids: str) -> None:
    """What ingest does: store a batch, then hand the stored mentions to the hub."""
    result = await store.save_mentions("t", [Mention(post(i)) for i in external_ids], None)
    await hub.on_mentions_stored(result.stored)


async def test_handed_mentions_are_published_without_a_store_read(stores, hub) -> None:
    ours, _ = stores
    sub = await hub.subscribe()
    await _ingest(ours, hub, "1", "2")
    await _ingest(ours, hub, "3")
    assert await _ids(sub, 3) == ["1", "2", "3"]
    assert ours.reads == 0


async def test_another_process_in_between_is_read_and_nothing_repeats(stores, hub) -> None:
    ours, other = stores
    sub = await hub.subscribe()
    await _ingest(ours, hub, "1")
    assert await _ids(sub, 1) == ["1"]
    await other.save_mentions("t", [Mention(post("elsewhere"))], None)
    await _ingest(ours, hub, "2")  # its id does not follow on from "1": a gap
    assert await _ids(sub, 2) == ["elsewhere", "2"]
    assert ours.reads == 1
    await _ingest(ours, hub, "3")  # follows on again: no read
    assert await _ids(sub, 1) == ["3"]
    assert ours.reads == 1
    assert await sub.next(0.1) is None  # nothing published twice


async def test_mentions_a_read_published_first_are_not_published_again(stores, hub) -> None:
    ours, _ = stores
    sub = await hub.subscribe()
    first = await ours.save_mentions("t", [Mention(post("1"))], None)
    second = await ours.save_mentions("t", [Mention(post("2"))], None)
    hub.notify(2)  # e.g. the push route: the pump reads both
    assert await _ids(sub, 2) == ["1", "2"]
    # Their hooks run late and out of order: already published.
    await hub.on_mentions_stored(second.stored)
    await hub.on_mentions_stored(first.stored)
    await _ingest(ours, hub, "3")
    assert await _ids(sub, 1) == ["3"]
    assert await sub.next(0.1) is None


async def test_mentions_without_ids_are_read_from_the_store(stores, hub) -> None:
    ours, _ = stores
    sub = await hub.subscribe()
    unsaved = [Mention(post("1"))]
    await ours.save_mentions("t", unsaved, None)
    await hub.on_mentions_stored(unsaved)  # a hook caller that has no ids
    assert await _ids(sub, 1) == ["1"]
    assert ours.reads >= 1


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
