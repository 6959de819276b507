"""Anonymous list answers are kept while the store is unchanged, and never older than the
newest change to what they show, by any process (api/public_cache.py, ``Store.forum_stamp``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.keys import PUBLIC_CACHE, RUNTIME
from api.public_cache import MAX_BODY_BYTES, PublicCache
from domain import Mention
from storage import open_store
from tests.api.forum_helpers import token_for
from tests.forum_rules import count_rate_hit, create_idea


class Stamp:
    def __init__(self) -> None:
        self.value: int | None = 1

    def __call__(self) -> int | None:
        return self.value


def test_kept_answers_follow_the_stamp_and_stay_bounded() -> None:
    stamp = Stamp()
    cache = PublicCache(stamp, entries=2)
    at = cache.stamp()
    cache.put("/a", at, b"A")
    assert cache.get("/a", cache.stamp()) == b"A"
    stamp.value = 2  # something was committed: everything kept before is gone
    assert cache.get("/a", cache.stamp()) is None
    # An answer built before a commit is not kept under the newer stamp.
    cache.put("/a", at, b"old")
    assert cache.get("/a", cache.stamp()) is None
    now = cache.stamp()
    for key in ("/a", "/b", "/c"):
        cache.put(key, now, key.encode())
    assert cache.get("/a", now) is None and cache.get("/c", now) == b"/c"  # least recent dropped
    cache.put("/big", now, b"x" * (MAX_BODY_BYTES + 1))
    assert cache.get("/big", now) is None
    stamp.value = None  # a backend without a stamp: nothing cached
    assert cache.stamp() is None and cache.get("/c", None) is None
    assert PublicCache(Stamp(), entries=0).stamp() is None


async def test_sqlite_stamp_moves_with_idea_changes_of_any_process_only(tmp_path: Path) -> None:
    from domain import utcnow
    from domain.forum import NewIdea
    from tests.conftest import post

    url = f"sqlite:///{tmp_path / 's.db'}"
    one, other = await open_store(url), await open_store(url)
    try:
        author = await one.create_account("jo@acmeanvils.example", "Jo", None)
        before = one.forum_stamp()
        assert before is not None and one.forum_stamp() == before
        # Commits that no idea list shows leave it: meta, stored mentions, rate hits.
        await other.set_meta("k", "v")
        await other.save_mentions("x:acme", [Mention(post("1"))], None)
        await count_rate_hit(one, "votes", "account:1", 600, 0)
        assert one.forum_stamp() == before
        # An idea written by another connection (as another process would), or by this
        # store's own writer, moves it; so does an author's new name.
        idea = await create_idea(other, NewIdea("Dark mode", "b", author.id, "open"), utcnow())
        moved = one.forum_stamp()
        assert moved != before
        await one.set_impact(idea.id, 3.0)
        assert one.forum_stamp() != moved
        moved = one.forum_stamp()
        await other.update_account(author.id, name="Jo R.")
        assert one.forum_stamp() != moved
    finally:
        await one.close()
        await other.close()


@pytest.fixture
async def client(app_client):
    return await app_client(customers=True)


async def test_anonymous_lists_are_served_kept_and_fresh(client, tmp_path: Path) -> None:
    staff = await token_for(client, "pm@nimbus.example", "manager")
    voter = await token_for(client, "jo@acmeanvils.example", customer_id="cus_acme")
    for title in ("Dark mode", "CSV export"):
        assert (await client.post("/api/ideas", json={"title": title, "body": "b"}, headers=staff)).status == 201
    cache = client.app[PUBLIC_CACHE]
    first = await (await client.get("/api/ideas?sort=top")).json()
    hits = cache.hits
    again = await (await client.get("/api/ideas?sort=top")).json()
    assert again == first and cache.hits == hits + 1
    # The list writes its times as the single-idea answer does (orjson's, ISO 8601 with Z).
    idea = first["items"][0]["id"]
    one = await (await client.get(f"/api/ideas/{idea}")).json()
    listed = first["items"][0]
    assert listed["created_at"] == one["created_at"] and listed["created_at"].endswith("Z")
    assert listed["updated_at"] == one["updated_at"] and listed["status_changed_at"] is None
    # A vote through this process: the next anonymous answer has it.
    assert (await client.post(f"/api/ideas/{idea}/vote", headers=voter)).status == 201
    after = await (await client.get("/api/ideas?sort=top")).json()
    assert {i["id"]: i["vote_count"] for i in after["items"]}[idea] == 1
    # A write by another process on the same file: seen at once, not after some expiry.
    other = await open_store(client.app[RUNTIME].settings.store.url)
    try:
        await other.set_impact(idea, 99.0)
    finally:
        await other.close()
    fresh = await (await client.get("/api/ideas?sort=top")).json()
    assert {i["id"]: i["impact"] for i in fresh["items"]}[idea] == 99.0
    # Signed-in viewers are never answered from the cache: their answer has their vote.
    mine = await (await client.get("/api/ideas?sort=top", headers=voter)).json()
    assert {i["id"]: i["voted"] for i in mine["items"]}[idea] is True
    assert all(i["voted"] is None for i in fresh["items"])


async def test_trending_answers_are_kept_for_a_minute_at_most(client, monkeypatch) -> None:
    import api.ideas

    staff = await token_for(client, "pm@nimbus.example", "manager")
    assert (await client.post("/api/ideas", json={"title": "Dark mode", "body": "b"}, headers=staff)).status == 201
    cache = client.app[PUBLIC_CACHE]
    now = [30_000_000]
    monkeypatch.setattr(api.ideas, "_minute", lambda: now[0])
    await client.get("/api/ideas")  # trending is the default order
    hits = cache.hits
    await client.get("/api/ideas")
    assert cache.hits == hits + 1
    now[0] += 1  # its order moves with the clock alone: a minute later it is read again
    await client.get("/api/ideas")
    assert cache.hits == hits + 1 and cache.misses >= 1
