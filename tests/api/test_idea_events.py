"""Idea events reach routing over real HTTP: an enterprise customer's idea is routed to the
product team's signed webhook on 127.0.0.1, once however often the event is replayed; a vote
threshold routes once; customers whose linked social mentions back an idea hear of its status."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web

from api.keys import RUNTIME
from crmsphere.ingest import store_posts
from tests.api.forum_helpers import token_for
from tests.conftest import post
from tests.helpers import outbox_settled, serve_hook
from tests.stored import stored_mention_ids

CONFIG = """
[routing]
poll_interval = 0.05
public_url = "http://crm.example"

[notify]
vote_thresholds = [2]

[[routing.teams]]
key = "product"
name = "Product"
webhook_url = "{hook}"
webhook_secret_env = "IDEA_EVENTS_SECRET"

[[routing.rules]]
id = "enterprise-ideas"
events = ["idea.created"]
kinds = ["idea"]
segments = ["enterprise"]
team = "product"

[[routing.rules]]
id = "popular-ideas"
events = ["idea.vote_threshold"]
votes_at_least = 2
team = "product"
notify = []
"""


@pytest.fixture
async def app_and_hook(app_client, aiohttp_server, smtp_inbox, monkeypatch):
    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(json.loads(await request.read()))
        return web.Response(status=204)

    hook_url = await serve_hook(aiohttp_server, hook)
    monkeypatch.setenv("IDEA_EVENTS_SECRET", "s3cret")
    inbox, port = smtp_inbox
    client = await app_client(CONFIG.replace("{hook}", hook_url), {"routing.smtp.port": port},
                              customers=True)
    return client, received, inbox


async def test_enterprise_idea_routed_once_and_threshold_once(app_and_hook) -> None:
    client, received, _ = app_and_hook
    rt = client.app[RUNTIME]
    author = await token_for(client, "ana@acmeanvils.example", customer_id="cus_acme")
    resp = await client.post("/api/ideas", json={"title": "Bulk invoice export", "body": "CSV"},
                             headers=author)
    assert resp.status == 201, await resp.text()
    idea_id = (await resp.json())["id"]
    await outbox_settled(rt)  # routed from its event, and the webhook delivered
    assert len(received) == 1
    item = received[0]["item"]
    assert received[0]["trigger"] == "idea.created" and received[0]["rule"] == "enterprise-ideas"
    assert item["kind"] == "idea" and item["id"] == str(idea_id) and item["segment"] == "enterprise"
    assert item["customer_id"] == "cus_acme" and item["url"] == f"http://crm.example/forum/ideas/{idea_id}"

    # A stranger's idea matches no enterprise rule.
    stranger = await token_for(client, "x@target.example", customer_id="cus_target")
    await client.post("/api/ideas", json={"title": "Small thing", "body": ""}, headers=stranger)

    # Replaying the event routes nothing new.
    idea = await rt.store.get_idea(idea_id)
    assert rt.idea_events is not None
    await rt.idea_events.idea_created(idea)
    assert [r.rule_id for r in await rt.store.routed_for_item("idea", str(idea_id))] == ["enterprise-ideas"]

    # The second vote crosses the threshold (2): routed once, replays change nothing.
    for who in (author, stranger):
        assert (await client.post(f"/api/ideas/{idea_id}/vote", headers=who)).status == 201
    await rt.idea_events.idea_scored(idea_id)
    # The vote answers after its transaction; routing reads the threshold's event on its
    # cursor (a wake-up in the background, the job's rounds): a round run here has routed it.
    assert rt.routing_events is not None
    await rt.routing_events.run_once()
    rules = sorted(r.rule_id for r in await rt.store.routed_for_item("idea", str(idea_id)))
    assert rules == ["enterprise-ideas", "popular-ideas"]
    assert not await rt.store.record_threshold(idea_id, "votes:2", idea.created_at)


async def test_linked_social_customers_hear_of_status(app_and_hook) -> None:
    client, _, inbox = app_and_hook
    rt = client.app[RUNTIME]
    await rt.reload_customers()
    await store_posts(rt.store, rt.analyzer, "test", [
        post("1", "please add bulk invoice export", handle="acmeanvils", minutes=1),
        post("2", "bulk export would be lovely", source="mastodon",
             handle="target@mastodon.example", minutes=2),
    ], None)
    author = await token_for(client, "ana@acmeanvils.example", customer_id="cus_acme")
    staff = await token_for(client, "pm@crm.example", role="team")
    # Acme's buyer has an account but does not follow the idea; Target has no account.
    await token_for(client, "buyer@acmeanvils.example", customer_id="cus_acme")
    idea_id = (await (await client.post("/api/ideas", json={"title": "Bulk invoice export",
                                                            "body": ""}, headers=author)).json())["id"]
    mentions = (await stored_mention_ids(rt.store, [("x", "1"), ("mastodon", "2")]))
    for mention_id in mentions.values():
        resp = await client.post(f"/api/ideas/{idea_id}/mentions", json={"mention_id": mention_id},
                                 headers=staff)
        assert resp.status == 201, await resp.text()
    resp = await client.post(f"/api/ideas/{idea_id}/status",
                             json={"status": "planned", "response": "Coming soon."}, headers=staff)
    assert resp.status == 200, await resp.text()
    await inbox.wait_for(2)
    assert sorted(m["To"] for m in inbox.messages) == ["ana@acmeanvils.example",
                                                        "buyer@acmeanvils.example"]
    buyer = inbox.to("buyer@acmeanvils.example")[0].get_content()
    assert "social media" in buyer and "Coming soon." in buyer
    # Target has no account: the team that owns the idea gets a note with a suggested reply.
    (routed,) = await rt.store.routed_for_item("idea", str(idea_id))
    notes = [e.detail.get("comment") or e.detail.get("text") or "" for e in
             await rt.store.routing_log(routed.id)]
    assert any("Target Logistics" in str(n) and "Suggested public reply" in str(n) for n in notes), notes
