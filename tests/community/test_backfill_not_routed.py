"""A backfill (``crmsphere import posts``) is history: whatever process later reads what it
stored — the routing consumer of a server running beside it, an ingest hook, CRM outbound —
routes nothing and writes nothing to a CRM.  The import runs as a real subprocess against a
real store of each backend; the consumers run here, in another process, on the same store,
and once in a running ``crmsphere serve`` whose routing round runs every half second."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from community.routing import Router
from community.routing_consumer import CONSUMER, RoutingConsumer
from config.crm import BridgeSettings, BridgeSubscriber, CrmSettings
from config.routing import RoutingSettings, RuleSettings, TeamSettings
from crm.outbound import CrmOutbound
from crm.outbound_consumer import crm_consumer
from domain import MentionQuery
from domain.events import MENTION_STORED
from crmsphere.ingest import store_posts
from storage import Store, open_store
from tests.community.test_routing_events import NoNlp
from tests.conftest import acme_customers, post, write_jsonl
from tests.serve_helpers import wait_for
from tests.serving import Served
from tests.stored import stored_mention_ids

ROUTING = RoutingSettings(
    teams=(TeamSettings(key="care", name="Care", mail_to=("care@example.com",)),),
    rules=(RuleSettings(id="refunds", keywords=("refund",), team="care"),))


@pytest.fixture(params=["sqlite", "mongodb"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a fresh store of each backend, holding the Acme customers."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        from tests.storage.mongo_harness import database_url

        url = database_url(request.getfixturevalue("mongodb_server_uri"))
    store = await open_store(url)
    await store.upsert_customers(acme_customers())
    await store.close()
    yield url
    if request.param == "mongodb":
        store = await open_store(url)
        await store.database.client.drop_database(store.database.name)  # type: ignore[attr-defined]
        await store.close()


def _history(tmp_path: Path) -> Path:
    """Last year's posts, as a platform export gives them: complaints a rule routes."""
    rows = [{"source": "x", "external_id": f"17{n:017d}",
             "author": {"handle": "acmeanvils", "name": "Acme Anvils"},
             "text": text, "created_at": f"2025-0{n + 1}-14T09:1{n}:00Z",
             "url": f"https://x.com/acmeanvils/status/17{n:017d}"}
            for n, text in enumerate(["Still waiting on that refund 😤 #nimbus",
                                      "REFUND. NOW. third ticket this week",
                                      "can someone explain the refund policy??"])]
    return write_jsonl(tmp_path / "x-export-2025.jsonl", rows)


def _import(store_url: str, path: Path, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "crmsphere", "--store", store_url, "import", "posts",
                           str(path)], capture_output=True, text=True, cwd=tmp_path,
                          env=dict(os.environ), timeout=300)
    assert done.returncode == 0, done.stderr
    assert "posts: 3 new" in done.stdout


async def test_what_an_import_stored_is_never_routed_nor_written_to_the_crm(
        store_url: str, tmp_path: Path) -> None:
    _import(store_url, _history(tmp_path), tmp_path)
    store: Store = await open_store(store_url)
    try:
        imported = list((await store.list_mentions(MentionQuery())).items)
        assert len(imported) == 3 and all(m.backfill for m in imported)
        assert all(m.analysis.links for m in imported)  # analysed and linked all the same
        # A live post whose hook was lost (stored, never handed on): its event is recorded.
        await store_posts(store, NoNlp(), "x:live", [post("live-1", "refund please", handle="acmeanvils")],
                          None, None)
        router = Router(store, ROUTING)
        await router.start()
        # The routing consumer of a server running beside the import: only the live event.
        assert await RoutingConsumer(store, router).run_once() == 1
        queue = (await store.team_queue("care")).items
        assert [r.item.text for r in queue] == ["refund please"]
        # Handed to the ingest hooks of any process: still nothing routed, nothing written.
        await RoutingConsumer(store, router).wake(imported)
        assert await router.route_stored_mentions(imported) == 0
        assert len((await store.team_queue("care")).items) == 1
        deliveries_before = len((await store.list_deliveries()).items)
        crm = CrmOutbound(store, CrmSettings(bridge=BridgeSettings(subscribers=(
            BridgeSubscriber(url="https://crm.example/hooks/crmsphere", secret_env="BRIDGE_SECRET"),))),
            "https://listen.example", {})
        await crm.mentions_linked(imported)
        assert len((await store.list_deliveries()).items) == deliveries_before
        # Its consumer of recorded events writes the live mention and its routing (their
        # events are the only ones), once each.
        assert await crm_consumer(store, crm).run_once() == 2
        assert sorted(d.payload["type"] for d in (await store.list_deliveries()).items
                      if d.team_key == "@bridge") == ["customer.mention.linked", "item.routed"]
    finally:
        await store.close()


async def test_a_backfilled_post_arriving_again_live_stays_unrouted(store_url: str, tmp_path: Path) -> None:
    path = _history(tmp_path)
    _import(store_url, path, tmp_path)
    store = await open_store(store_url)
    try:
        # The same post arriving live later is a duplicate: it stays what it was stored as.
        report = await store_posts(store, NoNlp(), "x:live",
                                   [post("17" + "0" * 17, "Still waiting on that refund", handle="acmeanvils")],
                                   None, None)
        assert report.accepted == 0
        router = Router(store, ROUTING)
        await router.start()
        assert await RoutingConsumer(store, router).run_once() == 0
        assert (await store.team_queue("care")).items == ()
    finally:
        await store.close()


async def test_a_running_server_routes_nothing_an_import_beside_it_stored(served: Served, tmp_path: Path) -> None:
    """The issue as it happened: ``crmsphere serve`` running, its routing round on a short
    period, and ``crmsphere import posts`` in another process.  The import records no event,
    so the server routes none of it; a live mention stored by another process (whose hook
    never ran in the server) it does route, from its event, once."""
    done = subprocess.run([sys.executable, "-m", "crmsphere", "--config", str(served.config), "import",
                           "posts", str(_history(tmp_path))], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr

    async def check(store: Store) -> None:
        assert len(await stored_mention_ids(store, [("x", f"17{n:017d}") for n in range(3)])) == 3
        assert await store.read_events(0, [MENTION_STORED]) == []
        # The server's routing consumer does route a live mention stored without its hook.
        await store_posts(store, NoNlp(), "x:live", [post("live-1", "refund please", handle="acmeanvils")],
                          None, None)

        async def routed():
            return (await store.team_queue("care")).items

        queue = await wait_for(routed)
        assert [r.item.text for r in queue] == ["refund please"]

        async def consumed():
            last = (await store.read_events(0, [MENTION_STORED]))[-1].id
            return await store.get_event_cursor(CONSUMER) >= last

        await wait_for(consumed)

    await served.with_store(check)
    assert served.count("SELECT count(*) FROM routed_items") == 1
