"""``POST /api/ideas/{id}/vote`` writes in one transaction: one hop to the SQLite writer thread
for the whole request (token, checks, rate count, vote, count, follower, events)."""

from __future__ import annotations

from api.keys import RUNTIME
from crmsphere.domain import utcnow
from crmsphere.domain_events import IDEA_VOTED
from crmsphere.domain_forum import NewIdea
from tests.api.forum_helpers import forum_client, token_for


async def test_a_vote_request_is_one_writer_hop(aiohttp_client, tmp_path) -> None:
    client = await forum_client(aiohttp_client, tmp_path)
    store = client.app[RUNTIME].store
    headers = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    idea = await store.create_idea(NewIdea("Dark mode", "", None, "open"), utcnow())
    warm = await client.post(f"/api/ideas/{idea.id}/vote", headers=headers)  # first use of the token
    assert warm.status == 201
    other = await store.create_idea(NewIdea("Export", "", None, "open"), utcnow())
    handed = store._writer._handed
    resp = await client.post(f"/api/ideas/{other.id}/vote", headers=headers)
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["vote_count"] == 1
    assert store._writer._handed - handed == 1
    events = await store.read_events(0, [IDEA_VOTED], 10)
    assert [(e.subject_id, e.payload["customer_id"]) for e in events] == [
        (str(idea.id), "cus_jo"), (str(other.id), "cus_jo")]
