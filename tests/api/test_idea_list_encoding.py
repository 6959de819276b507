"""A listed page of ideas is written from ideas already encoded (``listed_idea``): each idea's
bytes are kept for its exact value, author and the viewer's vote, so a change to any of them
is written afresh and a second reader of unchanged ideas does not encode them again."""

from __future__ import annotations

from api.forum.serialize import listed_idea
from api.keys import RUNTIME
from domain import utcnow
from domain.forum import NewIdea
from tests.api.forum_helpers import forum_client, token_for
from tests.forum_rules import create_idea

#: every anonymous request reads the store, as a signed-in reader's always does
NO_PAGE_CACHE = {"forum.public_cache_entries": 0}


async def _listed(client, headers=None) -> dict[int, dict]:
    resp = await client.get("/api/ideas?sort=top", headers=headers or {})
    assert resp.status == 200, await resp.text()
    return {i["id"]: i for i in (await resp.json())["items"]}


async def test_a_listed_idea_changed_in_any_way_is_written_afresh(aiohttp_client, tmp_path) -> None:
    client = await forum_client(aiohttp_client, tmp_path, **NO_PAGE_CACHE)
    store = client.app[RUNTIME].store
    author = await store.create_account("ann@acmeanvils.example", "Ann", None, "customer")
    idea = await create_idea(store, NewIdea("Dark mode", "Please **add** it", author.id, "open"), utcnow())
    jo = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")

    first = (await _listed(client))[idea.id]
    assert (first["author"]["name"], first["vote_count"], first["voted"]) == ("Ann", 0, None)
    assert first["body_html"] == "<p>Please <strong>add</strong> it</p>"
    assert (await client.post(f"/api/ideas/{idea.id}/vote", headers=jo)).status == 201
    await store.update_account(author.id, name="Ann Baker")

    anonymous = (await _listed(client))[idea.id]
    assert (anonymous["author"]["name"], anonymous["vote_count"], anonymous["voted"]) == ("Ann Baker", 1, None)
    # The same idea, author and count, read by two customers: each sees their own vote
    assert (await _listed(client, jo))[idea.id]["voted"] is True
    other = await token_for(client, "buyer@target.example", customer_id="cus_target")
    assert (await _listed(client, other))[idea.id]["voted"] is False
    assert (await _listed(client, jo))[idea.id]["voted"] is True


async def test_unchanged_ideas_are_not_encoded_again_for_the_next_reader(aiohttp_client, tmp_path) -> None:
    client = await forum_client(aiohttp_client, tmp_path, **NO_PAGE_CACHE)
    store = client.app[RUNTIME].store
    for title in ("Dark mode", "Export to CSV", "SSO"):
        await create_idea(store, NewIdea(title, "", None, "open"), utcnow())
    first = await client.get("/api/ideas?sort=top")
    misses = listed_idea.cache_info().misses
    again = await client.get("/api/ideas?sort=top")
    assert await again.read() == await first.read()
    assert listed_idea.cache_info().misses == misses  # three ideas, none written again
