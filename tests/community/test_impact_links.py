"""Impact follows customers through linked mentions too: a refresh for a customer rescores the
ideas linked to its mentions, and attaching a person to a customer refreshes that customer."""

from __future__ import annotations

from tests.forum_rules import add_vote, create_idea
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from api.app import create_app
from api.keys import RUNTIME
from community.impact import idea_impact, rescore, vote_impact
from community.impact_refresh import refresh_impact
from config.forum import ImpactSettings
from config.settings import load_settings
from domain import Analysis, CustomerLink, Mention, utcnow
from domain.forum import NewIdea, Vote
from crmsphere.ingest import store_posts
from storage import Store, open_store
from tests.conftest import acme_customers, customer, post
from tests.stored import stored_mention_ids

WEIGHTS = ImpactSettings()


@pytest.fixture
async def db(tmp_path: Path) -> Any:
    store = await open_store(f"sqlite:///{tmp_path / 'impact.db'}")
    yield store
    await store.close()


async def _idea_linked_to(store: Store, title: str, external_id: str) -> int:
    idea = await create_idea(store, NewIdea(title, "body", None, "open"), utcnow())
    (mention_id,) = (await stored_mention_ids(store, [("x", external_id)])).values()
    assert await store.link_mention(idea.id, mention_id)
    await rescore(store, idea.id, WEIGHTS)
    return idea.id


async def test_refresh_rescores_ideas_linked_to_the_customers_mentions(db: Store) -> None:
    await db.upsert_customers([customer("cus_a", "A", segment="smb"), customer("cus_b", "B")])
    await db.save_mentions("x", [
        Mention(post("1", "anvils"), Analysis((CustomerLink("cus_a", 0.9, "author_handle", "@a"),))),
        Mention(post("2", "anvils"), Analysis((CustomerLink("cus_b", 0.9, "author_handle", "@b"),)))],
        None)
    linked = await _idea_linked_to(db, "Linked to A", "1")
    other = await _idea_linked_to(db, "Linked to B", "2")
    # Voted by cus_a AND linked to a cus_a mention: rescored once.
    both = await _idea_linked_to(db, "Both", "1")
    assert await add_vote(db, Vote(both, "cus_a", None, utcnow()),
                             vote_impact(customer("cus_a", "A", segment="smb"), WEIGHTS))
    before = (await db.get_idea(linked)).impact
    await db.upsert_customers([customer("cus_a", "A", segment="enterprise", annual_revenue=9_000_000)])
    await db.set_impact(other, 42.0)  # stale on purpose: not a cus_a idea, must not be touched
    assert await refresh_impact(db, ["cus_a"], WEIGHTS) == 2
    for idea_id in (linked, both):
        assert (await db.get_idea(idea_id)).impact == pytest.approx(
            (await idea_impact(db, idea_id, WEIGHTS)).total)
    assert (await db.get_idea(linked)).impact > before
    assert (await db.get_idea(other)).impact == 42.0


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path) -> TestClient:
    settings = load_settings(environ={}, overrides={
        "api.trust_loopback": True, "store.url": f"sqlite:///{tmp_path / 'people.db'}"})
    app = create_app(settings)
    client = await aiohttp_client(app)
    rt = app[RUNTIME]
    await rt.store.upsert_customers(acme_customers())
    await rt.reload_customers()
    await store_posts(rt.store, rt.analyzer, "test",
                      [post("1", "nice weather", handle="pat_w", name="Pat W")], None)
    return client


async def test_attaching_a_person_rescores_ideas_linked_to_their_mentions(client: TestClient) -> None:
    rt = client.app[RUNTIME]
    weights = rt.settings.forum.impact
    idea = await create_idea(rt.store, NewIdea("Lighter anvils", "body", None, "open"), utcnow())
    (mention_id,) = (await stored_mention_ids(rt.store, [("x", "1")])).values()
    assert await rt.store.link_mention(idea.id, mention_id)
    unknown_author = (await rescore(rt.store, idea.id, weights)).total
    (person,) = (await (await client.get("/api/people", params={"q": "pat_w"})).json())["items"]
    resp = await client.post(f"/api/people/{person['id']}/attach", json={"customer_id": "cus_acme"})
    assert resp.status == 200
    kept = (await rt.store.get_idea(idea.id)).impact
    # The mention now weighs by an enterprise customer, and the kept score says so.
    assert kept > unknown_author
    assert kept == pytest.approx((await idea_impact(rt.store, idea.id, weights)).total)
