"""The live hub: one read per batch for every subscriber, slow ones dropped, close ends all."""

from __future__ import annotations

import asyncio
from pathlib import Path

from domain import Mention
from crmsphere.live import MentionHub
from storage import open_store
from tests.conftest import post


async def test_fan_out_drop_and_close(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'live.db'}")
    try:
        await _fan_out_drop_and_close(store)
    finally:
        await store.close()


async def _fan_out_drop_and_close(store) -> None:
    hub = MentionHub(store, poll_interval=30, queue_size=1)
    fast, slow = await hub.subscribe(), await hub.subscribe()
    assert hub.subscribers == 2
    await store.save_mentions("t", [Mention(post("1"))], None)
    hub.notify(1)
    batch = await fast.next(2)
    assert [m.post.external_id for m in batch.mentions] == ["1"]
    await store.save_mentions("t", [Mention(post("2"))], None)
    hub.notify(1)
    assert [m.post.external_id for m in (await fast.next(2)).mentions] == ["2"]
    # ``slow`` never read: its queue of one overflowed and it was dropped.
    await asyncio.sleep(0)
    assert slow.dropped and hub.subscribers == 1
    await hub.close()
    try:
        await fast.next(1)
    except StopAsyncIteration:
        pass
    else:
        raise AssertionError("a closed hub must end its subscriptions")


async def test_a_dashboard_opened_after_a_quiet_spell_gets_only_new_mentions(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'quiet.db'}")
    hub = MentionHub(store, poll_interval=30, coalesce=0)
    try:
        first = await hub.subscribe()
        await store.save_mentions("t", [Mention(post("1"))], None)
        hub.notify(1)
        assert [m.post.external_id for m in (await first.next(2)).mentions] == ["1"]
        first.close()
        # Stored while no dashboard was open (the pump keeps running, idle).
        await store.save_mentions("t", [Mention(post(str(i), minutes=i)) for i in range(2, 6)], None)
        hub.notify(4)  # nobody listens: the pump stays idle (no time needs to pass for that)
        later = await hub.subscribe()
        await store.save_mentions("t", [Mention(post("9", minutes=9))], None)
        hub.notify(1)
        assert [m.post.external_id for m in (await later.next(2)).mentions] == ["9"]
    finally:
        await hub.close()
        await store.close()
