"""Routing over real HTTP: a complaint from a big customer is routed on ingest, queued with its
customer context, delivered to the team's signed webhook by the app's worker; queue actions,
routing by hand, SLA flags, dead letters and team editing."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from api.keys import RUNTIME
from domain import utcnow
from tests.conftest import post
from tests.helpers import outbox_settled, serve_hook

SECRET = "api-test-secret"

CONFIG = """
[routing]
poll_interval = 0.05
max_attempts = 2
backoff_base = 0.0
public_url = "http://crm.example"

[[routing.teams]]
key = "product"
name = "Product"
webhook_url = "{hook}"
webhook_secret_env = "ROUTING_TEST_SECRET"
ack_sla_minutes = 30

[[routing.teams]]
key = "support"
name = "Support"
ack_sla_minutes = 1

[[routing.rules]]
id = "big-customer-billing"
keywords = ["invoices", "billing"]
revenue_at_least = 1000000
team = "product"
priority = "high"

[[routing.rules]]
id = "never"
sources = ["nowhere"]
team = "support"
"""


class Hook:
    """The product team's webhook receiver."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = 200
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        stamp = request.headers["X-Crmsphere-Timestamp"]
        mac = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        if request.headers["X-Crmsphere-Signature"] != f"sha256={mac}":
            return web.Response(status=401)
        if self.status != 200:
            return web.Response(status=self.status, text="down")
        self.bodies.append(json.loads(body))
        self.arrived.set()
        return web.Response(status=204)


@pytest.fixture
async def setup(app_client, aiohttp_server, monkeypatch) -> tuple[TestClient, Hook]:
    hook = Hook()
    hook_url = await serve_hook(aiohttp_server, hook.handle)
    # The worker reads the signing secret from the process environment, as in production.
    monkeypatch.setenv("ROUTING_TEST_SECRET", SECRET)
    client = await app_client(CONFIG.replace("{hook}", hook_url), customers=True, route=True, posts=[
        post("1", "Acme Anvils invoices are broken again", handle="acmeanvils", minutes=1),
        post("2", "billing page looks nice", handle="x_stranger", minutes=2),
    ])
    return client, hook


async def _queue(client: TestClient, team: str = "product", **params: str) -> dict[str, Any]:
    resp = await client.get(f"/api/teams/{team}/queue", params=params)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_routed_on_ingest_queued_and_delivered(setup) -> None:
    client, hook = setup
    body = await _queue(client)
    (entry,) = body["items"]  # the stranger's post has no big customer behind it
    assert entry["rule"] == "big-customer-billing" and entry["priority"] == "high"
    assert entry["customer"] == {"id": "cus_acme", "name": "Acme Anvils", "company": "Acme Anvils",
                                 "segment": "enterprise", "revenue": 5_000_000,
                                 "linked_mentions": 1}
    assert entry["item"]["text"].startswith("Acme Anvils invoices") and entry["overdue"] is False
    assert body["team"]["channels"]["webhook_secret_env"] == "ROUTING_TEST_SECRET"
    await asyncio.wait_for(hook.arrived.wait(), 60)  # the app's own worker sent it
    (sent,) = hook.bodies
    assert sent["routed_id"] == entry["id"] and sent["item"]["customer_id"] == "cus_acme"
    assert sent["queue_url"] == "http://crm.example/api/teams/product/queue"


async def test_acknowledge_status_comment_and_log(setup) -> None:
    client, _ = setup
    (entry,) = (await _queue(client))["items"]
    rid = entry["id"]
    resp = await client.post(f"/api/routed/{rid}/acknowledge", json={"by": "ana"})
    assert resp.status == 200 and (await resp.json())["acknowledged_by"] == "ana"
    resp = await client.post(f"/api/routed/{rid}/status", json={"status": "in_progress", "by": "ana"})
    assert (await resp.json())["status"] == "in_progress"
    resp = await client.post(f"/api/routed/{rid}/comments", json={"text": "on it", "by": "bo"})
    assert resp.status == 201
    detail = await (await client.get(f"/api/routed/{rid}")).json()
    assert [e["action"] for e in detail["log"]] == ["routed", "acknowledged", "status", "comment"]
    assert detail["log"][-1]["detail"] == {"text": "on it"}
    assert [e["id"] for e in (await _queue(client, status="in_progress,done"))["items"]] == [rid]
    assert (await _queue(client, status="new"))["items"] == []


async def test_bad_queue_requests(setup) -> None:
    client, _ = setup
    (entry,) = (await _queue(client))["items"]
    resp = await client.post(f"/api/routed/{entry['id']}/status", json={"status": "lost"})
    assert resp.status == 400 and "status must be one of" in (await resp.json())["error"]["message"]
    resp = await client.post(f"/api/routed/{entry['id']}/status", data="not json")
    assert resp.status == 400
    resp = await client.post(f"/api/routed/{entry['id']}/comments", json={"text": ""})
    assert (await resp.json())["error"]["details"]["field"] == "text"
    assert (await client.post("/api/routed/999/acknowledge")).status == 404
    assert (await client.get("/api/teams/nobody/queue")).status == 404
    assert (await client.get("/api/teams/product/queue", params={"status": "zzz"})).status == 400


async def test_route_by_hand_once_with_note_and_sla(setup) -> None:
    client, _ = setup
    resp = await client.post("/api/route", json={"mention_id": 2, "team": "support",
                                                 "priority": "urgent", "note": "send to support"})
    assert resp.status == 201
    routed = await resp.json()
    assert routed["rule"] == "manual:support" and routed["routed_by"] == "operator"
    again = await client.post("/api/route", json={"mention_id": 2, "team": "support"})
    assert again.status == 200 and (await again.json())["id"] == routed["id"]
    body = await _queue(client, "support")
    assert [e["id"] for e in body["items"]] == [routed["id"]] and body["overdue"] == 0
    # A minute later the support team's one-minute SLA has passed without acknowledgement.
    rt = client.app[RUNTIME]
    from community.routing import TeamQueue

    later = TeamQueue(rt.store, clock=lambda: utcnow() + timedelta(minutes=2))
    _, page = await later.entries("support")
    assert page.items[0].overdue
    await client.post(f"/api/routed/{routed['id']}/acknowledge", json={})
    _, page = await later.entries("support")
    assert not page.items[0].overdue
    for bad, field in (({"team": "support"}, "mention_id"), ({"mention_id": "2", "team": "support"}, "mention_id"),
                       ({"mention_id": 2}, "team")):
        resp = await client.post("/api/route", json=bad)
        assert resp.status == 400 and (await resp.json())["error"]["details"]["field"] == field
    assert (await client.post("/api/route", json={"mention_id": 2, "team": "nobody"})).status == 404
    assert (await client.post("/api/route", json={"mention_id": 999, "team": "support"})).status == 404
    resp = await client.post("/api/route", json={"mention_id": 2, "team": "support", "priority": "now"})
    assert resp.status == 400


async def test_dead_letters_listed_and_resent(setup) -> None:
    client, hook = setup
    await asyncio.wait_for(hook.arrived.wait(), 60)
    hook.status, hook.arrived = 503, asyncio.Event()
    await client.post("/api/route", json={"mention_id": 2, "team": "product"})
    await outbox_settled(client.app[RUNTIME])  # both attempts made: nothing waits to be sent
    (d,) = (await (await client.get("/api/deliveries", params={"state": "dead"})).json())["items"]
    assert d["attempts"] == 2 and "HTTP 503" in d["last_error"] and d["channel"] == "webhook"
    hook.status = 200
    resp = await client.post(f"/api/deliveries/{d['id']}/resend")
    assert resp.status == 202 and (await resp.json())["state"] == "pending"
    await asyncio.wait_for(hook.arrived.wait(), 60)
    assert hook.bodies[-1]["idempotency_key"] == d["idempotency_key"]
    again = await client.post(f"/api/deliveries/{d['id']}/resend")
    assert again.status == 400  # sent, not dead
    assert (await client.get("/api/deliveries", params={"state": "lost"})).status == 400


async def test_admin_edits_teams(setup) -> None:
    client, _ = setup
    resp = await client.put("/api/teams/design", json={
        "name": "Design", "members": ["di@example.com"], "mail_to": ["design@example.com"],
        "ack_sla_minutes": 120})
    assert resp.status == 200
    teams = {t["key"]: t for t in (await (await client.get("/api/teams")).json())["items"]}
    assert set(teams) == {"design", "product", "support"}
    assert teams["design"]["channels"]["mail_to"] == ["design@example.com"]
    resp = await client.put("/api/teams/design", json={"name": "Design", "webhook_url": "http://h/"})
    assert resp.status == 400 and "webhook_secret_env" in (await resp.json())["error"]["message"]
    resp = await client.put("/api/teams/design", json={"name": "Design", "ack_sla_minutes": -1})
    assert (await resp.json())["error"]["details"]["field"] == "ack_sla_minutes"
    resp = await client.put("/api/teams/Bad Key!", json={"name": "x"})
    assert resp.status == 400


async def test_put_team_takes_channel_tables_and_names_an_unknown_channel(setup) -> None:
    client, _ = setup
    resp = await client.put("/api/teams/design", json={
        "name": "Design", "channels": {"mail": {"to": ["design@example.com"]},
                                       "slack": {"url_env": "DESIGN_SLACK_URL"}}})
    assert resp.status == 200
    assert (await resp.json())["channels"] == {
        "discord": False, "discord_url_env": None,
        "mail_to": ["design@example.com"], "slack": True, "slack_url_env": "DESIGN_SLACK_URL",
        "webhook_url": None, "webhook_secret_env": None}
    resp = await client.put("/api/teams/design", json={"name": "Design", "channels": {"fax": {}}})
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert error["details"]["field"] == "channels.fax"
    assert "a routing channel among discord, mail, slack, webhook" in error["message"]
    resp = await client.put("/api/teams/design", json={
        "name": "Design", "channels": {"webhook": {"url": "http://127.0.0.1:9/h"}}})
    assert resp.status == 400 and "webhook.secret_env" in (await resp.json())["error"]["message"]


async def test_operator_endpoints_need_the_token(setup, monkeypatch) -> None:
    client, _ = setup
    monkeypatch.setenv("CRMSPHERE_ADMIN_TOKEN", "tok")
    assert (await client.put("/api/teams/x", json={"name": "X"})).status == 401
    assert (await client.post("/api/route", json={"mention_id": 1, "team": "support"})).status == 401
    resp = await client.put("/api/teams/x", json={"name": "X"}, headers={"Authorization": "Bearer tok"})
    assert resp.status == 200
