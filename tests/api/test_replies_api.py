"""The replies JSON API over HTTP, with a fake Mastodon on 127.0.0.1 as the platform."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from api.keys import RUNTIME
from tests.api.forum_helpers import token_for
from tests.collectors.replies.fake_mastodon_writes import OUR_ACCOUNT, MastodonWrites
from tests.community.reply_fixtures import STATUS_ID, TOKEN_ENV, mastodon_mention, mastodon_source, served_mastodon
from tests.helpers import json_of, start_app

TEXT = "Thanks Target! Bulk routing shipped: https://ideas.nimbus.example/forum/ideas/3"


@pytest.fixture
async def platform() -> AsyncIterator[tuple[MastodonWrites, str]]:
    async with served_mastodon() as served:
        yield served


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, platform: tuple[MastodonWrites, str],
                 monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv(TOKEN_ENV, platform[0].token)
    return await start_app(aiohttp_client, tmp_path, mastodon_source(platform[1]))


async def test_draft_second_person_approves_and_the_reply_is_on_the_mention(
        client: TestClient, platform: tuple[MastodonWrites, str]) -> None:
    fake, _ = platform
    mention_id = await mastodon_mention(client.app[RUNTIME].store)
    first = await token_for(client, "lead@crm.example", role="manager")
    second = await token_for(client, "head@crm.example", role="manager")
    customer = await token_for(client, "jo@target.example")
    url = f"/api/mentions/{mention_id}/replies"

    assert (await client.post(url, json={"text": TEXT}, headers=customer)).status == 403
    state = await json_of(await client.get(url, headers=first))
    assert state["can_send"] is True and state["off_reason"] is None and "shipped" in state["saved"]
    draft = await json_of(await client.post(url, json={"text": TEXT, "team": "product"}, headers=first), 201)
    assert draft["state"] == "draft" and draft["drafted_by"] == "lead"
    refused = await client.post(f"/api/replies/{draft['id']}/approve", headers=first)
    assert refused.status == 403 and "second person" in (await refused.json())["error"]["message"]

    approved = await json_of(await client.post(f"/api/replies/{draft['id']}/approve", headers=second))

    assert approved["state"] == "approved" and approved["approved_by"] == "head"
    await client.app[RUNTIME].replies.sender.settled()  # the round the approval woke
    sent = await json_of(await client.get(f"/api/replies/{draft['id']}", headers=first))
    [posted] = [s for s in fake.statuses.values() if s["account"]["id"] == OUR_ACCOUNT["id"]]
    assert sent["state"] == "sent" and sent["platform_id"] == posted["id"] and sent["url"] == posted["url"]
    assert posted["in_reply_to_id"] == STATUS_ID
    shown = await json_of(await client.get(url, headers=first))
    assert [(r["id"], r["state"], r["approved_by"]) for r in shown["items"]] == [(draft["id"], "sent", "head")]
    detail = await json_of(await client.get(f"/api/replies/{draft['id']}", headers=first))
    assert [(a["action"], a["actor"]) for a in detail["audit"]] == [
        ("drafted", "lead"), ("approved", "head"), ("sending", "the replies job"), ("sent", "the replies job")]
    assert detail["sent_by"] == "head"  # posted on the approver's behalf
    listed = await json_of(await client.get("/api/replies?state=sent&team=product", headers=first))
    assert [r["id"] for r in listed["items"]] == [draft["id"]]
    again = await client.post(f"/api/replies/{draft['id']}/send", headers=second)
    assert again.status == 409 and len(fake.posts) == 1


async def test_rate_limit_answer_shows_when_it_goes_again(client: TestClient,
                                                          platform: tuple[MastodonWrites, str]) -> None:
    fake, _ = platform
    mention_id = await mastodon_mention(client.app[RUNTIME].store)
    first = await token_for(client, "lead@crm.example", role="manager")
    second = await token_for(client, "head@crm.example", role="manager")
    draft = await json_of(await client.post(f"/api/mentions/{mention_id}/replies",
                                            json={"text": TEXT}, headers=first), 201)
    fake.remaining = 0
    await json_of(await client.post(f"/api/replies/{draft['id']}/approve", headers=second))
    await client.app[RUNTIME].replies.sender.settled()
    waiting = await json_of(await client.get(f"/api/replies/{draft['id']}", headers=second))
    assert waiting["state"] == "approved" and waiting["retry_after"] is not None
    assert "rate limit" in waiting["failure"]


@pytest.mark.parametrize(("path", "body", "status", "says"), [
    ("/api/mentions/{m}/replies", {"text": TEXT, "colour": "red"}, 400, "colour"),
    ("/api/mentions/{m}/replies", {"text": "hi\u0000there"}, 400, "NUL"),
    ("/api/mentions/{m}/replies", {}, 400, "give 'text' or 'saved'"),
    ("/api/mentions/{m}/replies", {"saved": "shipped"}, 400, "needs an idea link"),
    ("/api/mentions/{m}/replies", {"saved": "nope"}, 400, "no saved reply 'nope'"),
    ("/api/mentions/{m}/replies", {"saved": "shipped", "idea_url": "javascript:alert(1)//https://x"}, 400,
     "idea_url"),
    ("/api/mentions/{m}/replies", {"text": "x" * 6000}, 400, "longer than 5000"),
    ("/api/mentions/{m}/replies", [TEXT], 400, "JSON object"),
    ("/api/mentions/999999999999/replies", {"text": TEXT}, 404, "no mention"),
    ("/api/replies/99999999999999999999/approve", None, 404, "no "),
    ("/api/replies/4242/approve", None, 404, "no reply 4242"),
    ("/api/replies/approve-batch", {"batch": ""}, 400, "batch"),
])
async def test_hostile_input_is_named(client: TestClient, path: str, body: Any, status: int, says: str) -> None:
    mention_id = await mastodon_mention(client.app[RUNTIME].store)
    manager = await token_for(client, "lead@crm.example", role="manager")
    resp = await client.post(path.format(m=mention_id), json=body, headers=manager)
    assert resp.status == status, await resp.text()
    assert says in (await resp.json())["error"]["message"]


async def test_a_platform_without_writer_or_credentials_says_why(
        aiohttp_client: Any, tmp_path: Path, platform: tuple[MastodonWrites, str]) -> None:
    client = await start_app(aiohttp_client, tmp_path, mastodon_source(platform[1]))  # the variable is not set
    store = client.app[RUNTIME].store
    mention_id = await mastodon_mention(store)
    manager = await token_for(client, "lead@crm.example", role="manager")
    state = await json_of(await client.get(f"/api/mentions/{mention_id}/replies", headers=manager))
    assert state["can_send"] is False and f"set {TOKEN_ENV}" in state["off_reason"]
    bad = await client.get("/api/replies?state=bogus", headers=manager)
    message = (await bad.json())["error"]["message"]
    assert bad.status == 400 and "parameter 'state'" in message and "'draft'" in message
    assert (await client.get("/api/replies")).status in (200,)  # the loopback operator is staff here


async def test_an_idea_shipped_through_the_api_drafts_one_batch_for_its_team(
        aiohttp_client: Any, tmp_path: Path, platform: tuple[MastodonWrites, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, platform[0].token)
    client = await start_app(aiohttp_client, tmp_path, mastodon_source(platform[1]) + '''
[[routing.teams]]
key = "product"
name = "Product"

[[routing.rules]]
id = "ideas"
kinds = ["idea"]
team = "product"
''')
    store = client.app[RUNTIME].store
    social = await mastodon_mention(store)
    blog = await mastodon_mention(store, "https://blog.example/p/1", source="rss", customer_id="cus_blog",
                                  name="Northwind Freight")
    staff = await token_for(client, "pm@crm.example", role="manager")
    idea = await json_of(await client.post("/api/ideas", json={"title": "Bulk routing", "body": ""},
                                           headers=staff), 201)
    for mention_id in (social, blog):
        await json_of(await client.post(f"/api/ideas/{idea['id']}/mentions", json={"mention_id": mention_id},
                                        headers=staff), 201)
    await json_of(await client.post(f"/api/ideas/{idea['id']}/status",
                                    json={"status": "done", "response": "Shipped in 4.2"}, headers=staff))

    drafts = (await json_of(await client.get(f"/api/replies?batch=idea:{idea['id']}:done", headers=staff)))["items"]
    assert [(r["mention_id"], r["team"], r["state"]) for r in drafts] == [(social, "product", "draft")]
    assert drafts[0]["text"].startswith("Thanks for the idea, Target Logistics: this shipped.")
    assert drafts[0]["text"].endswith(f"/forum/ideas/{idea['id']}")
    (routed,) = await store.routed_for_item("idea", str(idea["id"]))
    notes = [str(e.detail) for e in await store.routing_log(routed.id) if "Suggested public reply" in str(e.detail)]
    assert len(notes) == 1 and "Northwind Freight" in notes[0] and "Target Logistics" not in notes[0]
    approved = await json_of(await client.post("/api/replies/approve-batch",
                                               json={"batch": f"idea:{idea['id']}:done"}, headers=staff))
    assert approved["approved"] == 1 and approved["left_as_drafts"] == 0


async def test_approving_answers_before_the_platform_does_and_the_reply_goes_out_after(
        aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = MastodonWrites()
    fake.add_status(STATUS_ID, "Anyone tried the bulk routing API?")
    answer_post, post_arrived = asyncio.Event(), asyncio.Event()
    real_post = fake.post_status

    async def slow_post(request: web.Request) -> web.StreamResponse:
        post_arrived.set()
        await answer_post.wait()  # the instance is slow to answer: the manager must not wait for it
        return await real_post(request)

    fake.post_status = slow_post  # type: ignore[method-assign]
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    try:
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        client = await start_app(aiohttp_client, tmp_path, mastodon_source(str(server.make_url("")).rstrip("/")))
        mention_id = await mastodon_mention(client.app[RUNTIME].store)
        first = await token_for(client, "lead@crm.example", role="manager")
        second = await token_for(client, "head@crm.example", role="manager")
        draft = await json_of(await client.post(f"/api/mentions/{mention_id}/replies", json={"text": TEXT},
                                                headers=first), 201)

        # The answer comes while the platform has not answered (on the old path it never would:
        # the approval waited for the post, which waits for this test).
        approve = client.post(f"/api/replies/{draft['id']}/approve", headers=second)
        approved = await json_of(await asyncio.wait_for(approve, timeout=60))
        assert approved["state"] == "approved"
        await asyncio.wait_for(post_arrived.wait(), timeout=60)  # the woken round is posting
        assert (await json_of(await client.get(f"/api/replies/{draft['id']}", headers=first)))["state"] == "sending"
        answer_post.set()
        await client.app[RUNTIME].replies.sender.settled()
        sent = await json_of(await client.get(f"/api/replies/{draft['id']}", headers=first))
        assert sent["state"] == "sent" and len(fake.posts) == 1
    finally:
        answer_post.set()
        await server.close()

