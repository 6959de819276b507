"""The "convert to idea" edit step over real HTTP: a draft prefilled from the mention that
creates nothing, and a conversion that can keep the author's handle (and the post's link,
which names them too) out of the public idea."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from api.keys import RUNTIME
from domain.forum import IdeaQuery
from tests.conftest import post
from tests.helpers import json_of
from tests.stored import stored_mention_ids

HANDLE = "Dana_Q"  # as the platform spells it; the check is case-blind


@pytest.fixture
async def client(app_client) -> TestClient:
    return await app_client(posts=[post(
        "1", "Please add dark mode to the mobile app, my eyes hurt at night 🌙", handle=HANDLE,
        url=f"https://x.example/{HANDLE}/status/1")])


async def _mention_id(client: TestClient) -> int:
    return (await stored_mention_ids(client.app[RUNTIME].store, [("x", "1")]))[("x", "1")]


async def _idea_count(client: TestClient) -> int:
    _, total = await client.app[RUNTIME].store.list_ideas(IdeaQuery(
        include_hidden=True, include_unapproved=True))
    return total


async def test_the_draft_is_prefilled_and_creates_nothing(client: TestClient) -> None:
    mid = await _mention_id(client)
    draft = await json_of(await client.get(f"/api/mentions/{mid}/idea-draft"))
    assert draft["title"].startswith("Please add dark mode") and draft["handle"] == HANDLE
    assert f"@{HANDLE}" in draft["body"] and "x.example" in draft["body"]
    assert HANDLE.lower() not in draft["body_without_handle"].lower()
    assert "x.example" not in draft["body_without_handle"]
    assert await _idea_count(client) == 0
    assert (await client.get("/api/mentions/999999/idea-draft")).status == 404


async def test_hiding_the_handle_keeps_it_out_of_the_public_idea(client: TestClient) -> None:
    mid = await _mention_id(client)
    made = await json_of(await client.post(f"/api/mentions/{mid}/idea", json={
        "title": "Dark mode on mobile", "hide_handle": True}), 201)
    idea_id = made["idea"]["id"]
    public = await (await client.get(f"/forum/ideas/{idea_id}")).text()
    assert "Dark mode on mobile" in public and "my eyes hurt" in public
    assert HANDLE.lower() not in public.lower() and "x.example" not in public
    assert mid in made["idea"]["mention_ids"]  # still a signal on the idea


@pytest.mark.parametrize("fields, field", [
    ({"hide_handle": True, "body": f"From @{HANDLE.lower()}: dark mode please"}, "body"),
    ({"hide_handle": True, "title": f"{HANDLE} wants dark mode"}, "title"),
    ({"hide_handle": True, "body": f"see https://x.example/{HANDLE}/status/1"}, "body"),
    ({"hide_handle": "yes"}, "hide_handle"),
])
async def test_a_handle_left_in_a_hidden_conversion_is_refused(client: TestClient, fields,
                                                               field: str) -> None:
    mid = await _mention_id(client)
    body = await json_of(await client.post(f"/api/mentions/{mid}/idea", json=fields), 400)
    assert body["error"]["details"]["field"] == field
    assert await _idea_count(client) == 0
