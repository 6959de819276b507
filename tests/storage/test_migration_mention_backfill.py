"""Migration 0061 adds ``mentions.backfill``: mentions stored before it are live ones, and a
store upgraded in place routes them as before (a lost event of the last day is recorded by
0070 and routed by the routing consumer)."""

from __future__ import annotations

from tests.storage.old_schema import database_before
from pathlib import Path

from community.routing import Router
from community.routing_consumer import RoutingConsumer
from config.routing import RoutingSettings, RuleSettings, TeamSettings
from domain import utcnow
from storage import open_store
from tests.stored import stored_mention_ids


async def test_mentions_from_before_0061_stay_routable(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = database_before(path, 61)
    now = utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    conn.execute(
        "INSERT INTO mentions (source, external_id, author_handle, text, created_at, ingested_at) "
        "VALUES ('x', '1', 'someone', 'refund please, the app double charged me', ?, ?)", (now, now))
    conn.close()

    store = await open_store(f"sqlite:///{path}")  # applies 0061
    try:
        (mention_id,) = (await stored_mention_ids(store, [("x", "1")])).values()
        assert (await store.get_mention(mention_id)).backfill is False
        settings = RoutingSettings(teams=(TeamSettings(key="care", name="Care"),),
                                   rules=(RuleSettings(id="refunds", keywords=("refund",), team="care"),))
        router = Router(store, settings)
        await router.start()
        assert await RoutingConsumer(store, router).run_once() == 1
        assert [r.item.id for r in (await store.team_queue("care")).items] == [str(mention_id)]
    finally:
        await store.close()
