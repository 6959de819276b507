"""The generic bridge: signed batch upserts in at POST /api/customers/sync, and the signed event
stream out to subscribers through the outbox (the webhook signature scheme)."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from api.keys import RUNTIME
from community.deliveries import DeliveryWorker
from community.deliveries_channels import sign
from config.settings import load_settings
from crm.outbound import CrmOutbound, CustomerEvent
from crm.records import apply_crm_batch
from domain import Analysis, CustomerLink, Mention
from domain.crm import CrmBatch, CrmCustomer
from domain.forum import Idea
from storage import open_store
from tests.conftest import T0, customer, post
from tests.helpers import signed_headers, start_app

SECRET = "bridge-secret-for-tests"


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("CRMSPHERE_CRM_BRIDGE_SECRET", SECRET)
    monkeypatch.delenv("CRMSPHERE_ADMIN_TOKEN", raising=False)
    return await start_app(aiohttp_client, tmp_path, None, {"routing.worker_enabled": False})


def signed(body: bytes, ts: float | None = None, secret: str = SECRET) -> dict[str, str]:
    return signed_headers(body, secret, ts)


BATCH = {"source": "pipedrive", "records": [
    {"type": "company", "id": "7", "properties": {
        "name": "Initech", "segment": "Enterprise", "annual_revenue": "12,000,000",
        "domains": "initech.example", "x": "@initech"}},
    {"type": "company", "id": "8", "properties": {"name": "Bad Co", "annual_revenue": "lots"}},
    {"type": "contact", "id": "70", "company_id": "7", "properties": {
        "name": "Peter Gibbons", "emails": "peter@initech.example;pg@initech.example"}},
    {"type": "planet", "id": "1"},
    {"type": "contact", "id": "71", "properties": {}},
]}


async def test_batch_upserts_the_valid_records_and_names_the_bad_ones(client: TestClient) -> None:
    body = json.dumps(BATCH).encode()
    resp = await client.post("/api/customers/sync", data=body, headers=signed(body))
    assert resp.status == 200
    result = await resp.json()
    assert result["inserted"] == 2
    assert [(r["where"], r["reason"]) for r in result["rejected"]] == [
        ("records[1] (company 8)", "annual_revenue: 'lots' is not a number"),
        ("records[3]", "type: 'planet' is neither company nor contact"),
        ("records[4] (contact 71)", "name: no value in name")]
    initech = await (await client.get("/api/customers/pipedrive:company:7")).json()
    assert initech["name"] == "Initech" and initech["segment"] == "enterprise"
    assert initech["annual_revenue"] == 12_000_000
    peter = await (await client.get("/api/customers/pipedrive:contact:70")).json()
    assert peter["emails"] == ["peter@initech.example", "pg@initech.example"]
    # The gazetteer was reloaded: a post by @initech links to the new customer.
    rt = client.app[RUNTIME]
    [analysis] = await rt.analyzer.analyse([post("1", "hello", handle="initech")])
    assert [k.customer_id for k in analysis.links] == ["pipedrive:company:7"]
    # Deleting and re-sending is idempotent.
    again = json.dumps({"source": "pipedrive", "records": [
        {"type": "company", "id": "7", "deleted": True}]}).encode()
    result = await (await client.post("/api/customers/sync", data=again,
                                      headers=signed(again, time.time() + 1))).json()
    assert result["deleted"] == 1
    assert (await client.get("/api/customers/pipedrive:company:7")).status == 404


@pytest.mark.parametrize("headers, message", [
    (lambda body: {**signed(body), "X-Crmsphere-Signature": "sha256=" + "0" * 64}, "signature does not match"),
    (lambda body: signed(body, secret="wrong"), "signature does not match"),
    (lambda body: signed(body, time.time() - 301), "stale"),
    (lambda body: {"Content-Type": "application/json"}, "missing"),
])
async def test_unsigned_forged_or_stale_requests_are_refused(client: TestClient, headers, message) -> None:
    body = json.dumps(BATCH).encode()
    resp = await client.post("/api/customers/sync", data=body, headers=headers(body))
    assert resp.status == 401
    error = (await resp.json())["error"]
    assert error["code"] == "unauthorized" and message in error["message"]
    assert (await client.get("/api/customers/pipedrive:company:7")).status == 404


async def test_replayed_request_is_refused(client: TestClient) -> None:
    body = json.dumps(BATCH).encode()
    headers = signed(body)
    assert (await client.post("/api/customers/sync", data=body, headers=headers)).status == 200
    again = await client.post("/api/customers/sync", data=body, headers=headers)
    assert again.status == 401 and "already received" in (await again.json())["error"]["message"]


@pytest.mark.parametrize("body, message", [
    (b"{not json", "not JSON"),
    (json.dumps({"source": "Bad Name", "records": []}).encode(), "source must be"),
    (json.dumps({"source": "hubspot", "records": []}).encode(), "built-in connector"),
    (json.dumps({"source": "pipedrive", "records": {}}).encode(), "records must be a list"),
])
async def test_malformed_bodies_are_bad_requests(client: TestClient, body: bytes, message: str) -> None:
    resp = await client.post("/api/customers/sync", data=body, headers=signed(body))
    assert resp.status == 400 and message in (await resp.json())["error"]["message"]


async def test_without_a_secret_sync_is_off(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    client.app[RUNTIME].crm.bridge.secret = ""
    body = json.dumps(BATCH).encode()
    resp = await client.post("/api/customers/sync", data=body, headers=signed(body))
    assert resp.status == 401 and "CRMSPHERE_CRM_BRIDGE_SECRET" in (await resp.json())["error"]["message"]


# -- the event stream out -------------------------------------------------------------------------
async def test_events_reach_subscribers_signed_like_webhooks(aiohttp_server, tmp_path: Path) -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/events", receive)
    server = await aiohttp_server(app)
    settings = load_settings(environ={}, overrides={"crm.bridge.subscribers": [
        {"url": str(server.make_url("/events")), "secret_env": "SUB_SECRET",
         "events": ["customer.mention.linked", "idea.status_changed"]}]})
    store = await open_store(f"sqlite:///{tmp_path / 'events.db'}")
    try:
        await apply_crm_batch(store, CrmBatch("pipedrive", "company", (
            CrmCustomer("pipedrive", "company", "7", customer("pipedrive:company:7", "Initech")),)), T0)
        outbound = CrmOutbound(store, settings.crm, "http://crm.example", {}, clock=lambda: T0)
        m = Mention(post("p1", "Initech TPS reports"), Analysis(links=(
            CustomerLink("pipedrive:company:7", 0.9, "company_name", "Initech"),)))
        stored = (await store.save_mentions("x", [m], None)).stored
        await outbound.mentions_linked(stored)
        await outbound.mentions_linked(stored)  # replayed: one event
        await outbound.publish(CustomerEvent("customer.voted", "vote:1", "s", "b", "u", T0,
                                             "pipedrive:company:7"))  # not subscribed
        await outbound.status_changed(Idea(id=3, title="Dark mode", body="b", author_id=None,
                                           status="planned", created_at=T0, updated_at=T0))
        async with aiohttp.ClientSession() as http:
            worker = DeliveryWorker(store, http, settings.routing, environ={"SUB_SECRET": "sub"},
                                    clock=lambda: T0 + timedelta(seconds=1))
            assert await worker.run_once() == 2
    finally:
        await store.close()
    by_event = {h["X-Crmsphere-Event"]: json.loads(b) for h, b in received}
    assert sorted(by_event) == ["customer.mention.linked", "idea.status_changed"]
    status = by_event["idea.status_changed"]
    assert status["customer"] is None and status["data"]["status"] == "planned"
    [(headers, body)] = [(h, b) for h, b in received if h["X-Crmsphere-Event"] != "idea.status_changed"]
    stamp = headers["X-Crmsphere-Timestamp"]
    assert headers["X-Crmsphere-Signature"] == sign("sub", stamp, body)
    assert headers["X-Crmsphere-Event"] == "customer.mention.linked"
    event: dict[str, Any] = json.loads(body)
    assert event["type"] == "customer.mention.linked"
    assert event["customer"]["id"] == "pipedrive:company:7"
    assert event["customer"]["crm"] == {"connector": "pipedrive", "object_type": "company", "crm_id": "7"}
    assert event["data"]["text"] == "Initech TPS reports" and event["idempotency_key"].startswith("bridge:")


async def test_a_record_with_a_cut_emoji_or_a_nul_is_stored_repaired(client: TestClient) -> None:
    batch = {"source": "pipedrive", "records": [
        {"type": "company", "id": "7", "properties": {"name": "Initech \ud83d"}},
        {"type": "company", "id": "9", "properties": {"name": "Chotchkie\x00s"}}]}
    body = json.dumps(batch).encode()  # the lone half travels as a \ud83d escape
    resp = await client.post("/api/customers/sync", data=body, headers=signed(body))
    result = await resp.json()
    assert resp.status == 200, result
    assert result["inserted"] == 2 and result["rejected"] == []
    initech = await (await client.get("/api/customers/pipedrive:company:7")).json()
    assert initech["name"] == "Initech \ufffd"
    chotchkies = await (await client.get("/api/customers/pipedrive:company:9")).json()
    assert chotchkies["name"] == "Chotchkie\ufffds"


async def test_aliases_shorter_than_three_letters_are_refused_and_common_words_flagged(
        aiohttp_client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CRM holding "IS" as an alias of Infinite Systems would have every "is" in every post
    wait for review: the bridge stores it nowhere and says so; "Bolt" and "Square" are kept and
    flagged as words that link only with a cue."""
    monkeypatch.setenv("CRMSPHERE_CRM_BRIDGE_SECRET", SECRET)
    client = await start_app(aiohttp_client, tmp_path, None, {
        "routing.worker_enabled": False, "crm.bridge.mapping.company.aliases": ["aliases"]})
    body = json.dumps({"source": "pipedrive", "records": [
        {"type": "company", "id": "1", "properties": {"name": "Infinite Systems", "aliases": "IS;Infinisys"}},
        {"type": "company", "id": "2", "properties": {"name": "Gopher Freight", "aliases": "Go"}},
        {"type": "company", "id": "3", "properties": {"name": "Bolt Technologies", "aliases": "Bolt"}},
        {"type": "company", "id": "4", "properties": {"name": "Square Inc", "aliases": "Square"}},
    ]}).encode()
    resp = await client.post("/api/customers/sync", data=body, headers=signed(body))
    assert resp.status == 200
    result = await resp.json()
    assert result["inserted"] == 4 and result["rejected"] == []
    notes = {(n["customer_id"], n["alias"]): (n["refused"], n["reason"]) for n in result["aliases"]}
    assert set(notes) == {("pipedrive:company:1", "IS"), ("pipedrive:company:2", "Go"),
                          ("pipedrive:company:3", "Bolt"), ("pipedrive:company:4", "Square")}
    for key in (("pipedrive:company:1", "IS"), ("pipedrive:company:2", "Go")):
        assert notes[key][0] is True and notes[key][1].startswith("shorter than 3 letters")
    for key in (("pipedrive:company:3", "Bolt"), ("pipedrive:company:4", "Square")):
        assert notes[key][0] is False and notes[key][1].startswith("a common word")
    infinite = await (await client.get("/api/customers/pipedrive:company:1")).json()
    assert infinite["aliases"] == ["Infinisys"]
    # The word "is" in an ordinary post links nobody (the gazetteer never saw the alias).
    rt = client.app[RUNTIME]
    [analysis] = await rt.analyzer.analyse([post("9", "The export IS broken again and is slow")])
    assert "pipedrive:company:1" not in [k.customer_id for k in analysis.links]
