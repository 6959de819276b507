"""Impact scores follow customers when the CRM changes them: a sync that changes revenue and
segment, a CRM merge that moves votes, the bridge's signed upserts and the customers CSV import."""

from __future__ import annotations

from tests.forum_rules import add_vote, create_idea
import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from api.keys import RUNTIME
from community.impact import vote_impact
from community.impact_refresh import refresh_impact
from config.forum import ImpactSettings
from crmsphere import cli
from domain import Customer, utcnow
from domain.forum import NewIdea, Vote
from storage import Store, open_store
from tests.conftest import T0, customer
from tests.crm.fake_hubspot import FakeHubSpot
from tests.crm.test_sync import _sync
from tests.helpers import signed_headers, start_app

BASE = int(T0.timestamp() * 1000)
WEIGHTS = ImpactSettings()
SECRET = "bridge-secret-for-impact-tests"


@pytest.fixture
async def db(tmp_path: Path) -> Any:
    store = await open_store(f"sqlite:///{tmp_path / 'crm.db'}")
    yield store
    await store.close()


async def _voted_idea(store: Store, title: str, *customer_ids: str) -> int:
    """An idea with one vote per customer, each adding its impact as the forum does."""
    idea = await create_idea(store, NewIdea(title, "body", None, "open"), utcnow())
    known = await store.get_customers(list(customer_ids))
    for cid in customer_ids:
        assert await add_vote(store, Vote(idea.id, cid, None, utcnow()),
                                    vote_impact(known.get(cid), WEIGHTS))
    return idea.id


def _weight(segment: str | None, revenue: int | None) -> float:
    return vote_impact(Customer("x", "X", segment=segment, annual_revenue=revenue), WEIGHTS)


async def test_refresh_rescores_only_the_ideas_those_customers_voted_on(db: Store) -> None:
    await db.upsert_customers([customer("cus_a", "A", segment="smb"), customer("cus_b", "B")])
    a_idea = await _voted_idea(db, "A's idea", "cus_a", "cus_b")
    b_idea = await _voted_idea(db, "B's idea", "cus_b")
    await db.upsert_customers([customer("cus_a", "A", segment="enterprise",
                                        annual_revenue=9_900_000)])
    await db.set_impact(b_idea, 42.0)  # stale on purpose: it must not be touched
    assert await refresh_impact(db, ["cus_a", "cus_a", ""], WEIGHTS) == 1
    assert (await db.get_idea(a_idea)).impact == pytest.approx(
        _weight("enterprise", 9_900_000) + _weight(None, None))
    assert (await db.get_idea(b_idea)).impact == 42.0
    assert await refresh_impact(db, [], WEIGHTS) == 0


async def test_refresh_pages_through_many_ideas(db: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import community.impact_refresh as refresh

    monkeypatch.setattr(refresh, "PAGE", 2)
    await db.upsert_customers([customer("cus_a", "A")])
    ideas = [await _voted_idea(db, f"Idea {n}", "cus_a") for n in range(5)]
    await db.upsert_customers([customer("cus_a", "A", segment="enterprise")])
    assert await refresh_impact(db, ["cus_a"], WEIGHTS) == 5
    assert [(await db.get_idea(i)).impact for i in ideas] == pytest.approx(
        [_weight("enterprise", None)] * 5)


async def test_crm_sync_revenue_change_moves_the_impact(db: Store, hub: FakeHubSpot) -> None:
    hub.add("companies", "1", BASE, name="Acme", crmsphere_segment="smb", annualrevenue="100000")
    hub.add("companies", "2", BASE + 1, name="Initech", crmsphere_segment="smb")
    sync = _sync(db, hub)
    await sync.start()
    await sync.sync("hubspot")
    acme_idea = await _voted_idea(db, "Dark mode", "hubspot:company:1")
    other = await _voted_idea(db, "Exports", "hubspot:company:2")
    assert (await db.get_idea(acme_idea)).impact == pytest.approx(_weight("smb", 100_000))
    hub.add("companies", "1", BASE + 10, crmsphere_segment="enterprise", annualrevenue="50000000")
    report = await sync.sync("hubspot")
    assert report.updated == 1
    assert (await db.get_idea(acme_idea)).impact == pytest.approx(_weight("enterprise", 50_000_000))
    assert (await db.get_idea(other)).impact == pytest.approx(_weight("smb", None))


async def test_crm_merge_moves_votes_and_the_impact_follows(db: Store, hub: FakeHubSpot) -> None:
    hub.add("companies", "1", BASE, name="Acme", crmsphere_segment="enterprise",
            annualrevenue="10000000")
    hub.add("companies", "2", BASE + 1, name="Acme Europe", crmsphere_segment="consumer")
    sync = _sync(db, hub)
    await sync.start()
    await sync.sync("hubspot")
    only_loser = await _voted_idea(db, "Only Europe voted", "hubspot:company:2")
    both = await _voted_idea(db, "Both voted", "hubspot:company:1", "hubspot:company:2")
    survivor = _weight("enterprise", 10_000_000)
    assert (await db.get_idea(both)).impact == pytest.approx(survivor + _weight("consumer", None))
    del hub.objects["companies"]["2"]
    hub.add("companies", "1", BASE + 10, hs_merged_object_ids="2")
    assert (await sync.sync("hubspot")).merged == 1
    moved, doubled = await db.get_idea(only_loser), await db.get_idea(both)
    assert (moved.vote_count, moved.impact) == (1, pytest.approx(survivor))
    # The double vote was dropped by the merge; the score no longer counts it.
    assert (doubled.vote_count, doubled.impact) == (1, pytest.approx(survivor))


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("CRMSPHERE_CRM_BRIDGE_SECRET", SECRET)
    monkeypatch.delenv("CRMSPHERE_ADMIN_TOKEN", raising=False)
    return await start_app(aiohttp_client, tmp_path, None, {"routing.worker_enabled": False})


async def _bridge(client: TestClient, **properties: str) -> dict:
    body = json.dumps({"source": "pipedrive", "records": [
        {"type": "company", "id": "7", "properties": {"name": "Initech", **properties}}]}).encode()
    resp = await client.post("/api/customers/sync", data=body,
                             headers=signed_headers(body, SECRET, None))
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_bridge_upsert_moves_the_impact(client: TestClient) -> None:
    store = client.app[RUNTIME].store
    assert (await _bridge(client, segment="smb"))["inserted"] == 1
    idea = await _voted_idea(store, "Dark mode", "pipedrive:company:7")
    assert (await store.get_idea(idea)).impact == pytest.approx(_weight("smb", None))
    assert (await _bridge(client, segment="Enterprise", annual_revenue="12,000,000"))["updated"] == 1
    assert (await store.get_idea(idea)).impact == pytest.approx(_weight("enterprise", 12_000_000))


def test_customers_csv_import_moves_the_impact(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"

    async def seed() -> int:
        store = await open_store(url)
        try:
            await store.upsert_customers([customer("cus_1", "Amara", segment="consumer")])
            return await _voted_idea(store, "Dark mode", "cus_1")
        finally:
            await store.close()

    async def impact(idea_id: int) -> float:
        store = await open_store(url)
        try:
            return (await store.get_idea(idea_id)).impact
        finally:
            await store.close()

    idea = asyncio.run(seed())
    csv = tmp_path / "customers.csv"
    csv.write_text("id,name,kind,segment,annual_revenue\ncus_1,Amara,person,mid-market,61400000\n")
    assert cli.main(["--store", url, "import", "customers", str(csv)]) == 0
    assert asyncio.run(impact(idea)) == pytest.approx(_weight("mid-market", 61_400_000))
