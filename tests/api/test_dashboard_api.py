"""The dashboard's JSON, CSV and live stream over real HTTP on 127.0.0.1."""

from __future__ import annotations

from tests.forum_rules import add_vote, create_idea
import asyncio
import csv
import io
import json
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from api.app import create_app
from api.keys import RUNTIME
from community.spikes import volume_series
from config.settings import load_settings
from domain.triage import VolumeRow
from crmsphere.ingest import store_posts
from crmsphere.live import MentionFilter
from tests.conftest import acme_customers, post


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path, monkeypatch) -> TestClient:
    monkeypatch.delenv("CRMSPHERE_ADMIN_TOKEN", raising=False)
    settings = load_settings(environ={}, overrides={
        "api.trust_loopback": True, "store.url": f"sqlite:///{tmp_path / 'd.db'}"})
    app = create_app(settings)
    client = await aiohttp_client(app)
    rt = app[RUNTIME]
    await rt.store.upsert_customers(acme_customers())
    await rt.reload_customers()
    await store_posts(rt.store, rt.analyzer, "test", [
        post("1", "Acme Anvils invoices are broken", handle="jorivera", minutes=1),
        post("2", "=HYPERLINK(\"http://evil\") dark mode please", handle="x_stranger", minutes=2),
        post("3", "Target Logistics loves the mobile app", source="mastodon", minutes=3),
    ], None)
    return client


async def _ids(client: TestClient, **params) -> list[int]:
    body = await (await client.get("/api/dashboard/mentions", params=params)).json()
    return [m["id"] for m in body["items"]]


async def test_triage_bulk_and_filters(client: TestClient) -> None:
    ids = await _ids(client)
    assert len(ids) == 3
    ana = await client.app[RUNTIME].store.create_account("ana@crm.example", "Ana", None, "team")
    resp = await client.post("/api/dashboard/triage", json={
        "mention_ids": ids[:2], "status": "pending", "assignee": ana.id, "add_tags": ["Billing"]})
    assert resp.status == 200
    items = (await resp.json())["items"]
    assert {(t["status"], t["assignee"], t["assignee_name"], tuple(t["tags"])) for t in items} == {
        ("pending", f"account:{ana.id}", "Ana", ("billing",))}
    assert await _ids(client, status="pending") == ids[:2]
    assert await _ids(client, status="open") == ids[2:]
    assert await _ids(client, assignee="-") == ids[2:]
    assert await _ids(client, assignee=str(ana.id)) == ids[:2]
    assert await _ids(client, assignee=f"account:{ana.id}") == ids[:2]
    assert await _ids(client, tag="billing", source="mastodon") == ids[:1]
    body = await (await client.get("/api/dashboard/mentions", params={"status": "pending"})).json()
    assert body["items"][0]["triage"]["updated_by"] == "operator"
    assert "analysis" in body["items"][0]


BAD_TRIAGE = [
    ({"mention_ids": [], "status": "closed"}, "mention_ids"),
    ({"mention_ids": [1], "status": "done"}, "status"),
    ({"mention_ids": [1]}, "nothing to change"),
    ({"mention_ids": [1], "add_tags": ["<b>"]}, "invalid tag"),
    ({"mention_ids": ["1"], "status": "closed"}, "mention_ids"),
    ([1, 2], "JSON object"),
]


async def test_unknown_mention_and_bad_filters(client: TestClient) -> None:
    for body, fragment in BAD_TRIAGE:  # one server for all cases: its set-up is the slow part
        resp = await client.post("/api/dashboard/triage", json=body)
        assert resp.status == 400, body
        assert fragment in (await resp.json())["error"]["message"], body
    resp = await client.post("/api/dashboard/triage", json={"mention_ids": [999], "status": "closed"})
    assert resp.status == 404
    assert (await client.get("/api/dashboard/mentions", params={"status": "nope"})).status == 400
    resp = await client.get("/api/dashboard/mentions", params={"status": "open", "topic": "billing"})
    assert resp.status == 200  # triage and NLP filters combine
    assert all("billing" in [t if isinstance(t, str) else t.get("key") for t in m["topics"]]
               for m in (await resp.json())["items"])
    assert (await client.post("/api/dashboard/triage", data=b"{oops")).status == 400
    assert (await client.get("/api/stream/mentions", params={"after": "x"})).status == 400
    assert (await client.get("/dashboard/customers/nobody")).status == 404


async def test_notes(client: TestClient) -> None:
    mid = (await _ids(client))[0]
    resp = await client.post(f"/api/dashboard/mentions/{mid}/notes", json={"body": " called them "})
    assert resp.status == 201 and (await resp.json())["body"] == "called them"
    notes = await (await client.get(f"/api/dashboard/mentions/{mid}/notes")).json()
    assert [n["body"] for n in notes["items"]] == ["called them"]
    assert (await client.post(f"/api/dashboard/mentions/{mid}/notes", json={"body": ""})).status == 400
    assert (await client.post("/api/dashboard/mentions/999/notes", json={"body": "x"})).status == 404


async def test_csv_export_is_filtered_and_defuses_formulas(client: TestClient) -> None:
    resp = await client.get("/api/dashboard/mentions.csv", params={"q": "dark mode"})
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(await resp.text())))
    assert len(rows) == 1 and rows[0]["text"].startswith("'=HYPERLINK")
    assert rows[0]["status"] == "open"
    everything = list(csv.DictReader(io.StringIO(await (await client.get("/api/dashboard/mentions.csv")).text())))
    assert len(everything) == 3
    assert (await client.get("/api/dashboard/mentions.csv", params={"status": "x"})).status == 400


async def test_customer_360_and_analytics(client: TestClient) -> None:
    body = await (await client.get("/api/dashboard/customers/cus_jo")).json()
    assert body["handles"] == {"reddit": ["jo_r"], "x": ["jorivera"]}
    assert [m["external_id"] for m in body["timeline"]] == ["1"]
    assert len(body["volume"]["days"]) == 30
    page = await client.get("/dashboard/customers/cus_jo")
    html = await page.text()
    # The company's name is marked in the text: a link to its own 360.
    assert page.status == 200 and ('<a href="/dashboard/customers/cus_acme">Acme Anvils</a></mark>'
                                   ' invoices are broken') in html
    vol = await (await client.get("/api/dashboard/analytics/volume", params={"days": "7"})).json()
    assert len(vol["days"]) == 7 and len(vol["baseline"]) == 7
    assert (await client.get("/api/dashboard/analytics/volume", params={"days": "0"})).status == 400
    authors = await (await client.get("/api/dashboard/analytics/top-authors", params={"days": "365"})).json()
    assert isinstance(authors["items"], list)


async def test_sse_delivers_new_matching_mentions(client: TestClient) -> None:
    rt = client.app[RUNTIME]
    first = await rt.store.latest_mention_id()
    resp = await client.get("/api/stream/mentions", params={"source": "reddit", "after": str(first)})
    assert resp.status == 200 and resp.headers["Content-Type"] == "text/event-stream"
    assert b"event: ready" in await resp.content.readuntil(b"\n\n")
    await store_posts(rt.store, rt.analyzer, "test", [
        post("9", "not for this filter", source="x", minutes=9),
        post("10", "Jo Rivera says hi", source="reddit", minutes=10)], None,
        rt.sources.on_stored)
    event = await asyncio.wait_for(resp.content.readuntil(b"\n\n"), 2)
    data = json.loads(event.decode().split("data: ", 1)[1])
    assert data["external_id"] == "10" and data["triage"]["status"] == "open"
    resp.close()


def test_spikes_against_the_seven_day_baseline() -> None:
    history = [f"2026-11-{d:02d}" for d in range(1, 12)]
    rows = [VolumeRow(day, "x", 3) for day in history[:10]] + [VolumeRow(history[10], "x", 30),
                                                               VolumeRow(history[10], "reddit", 2)]
    series = volume_series(rows, history, shown=4)
    assert series.days == tuple(history[-4:])
    assert series.spikes == (history[10],) and series.baseline[-1] == 3.0
    assert series.by_key["reddit"] == [0, 0, 0, 2] and series.total[-1] == 32


def test_live_filter_matches() -> None:
    from domain import Mention
    m = Mention(post("1", "Dark Mode please", source="x"))
    assert MentionFilter(source="x", text="dark mode").matches(m)
    assert not MentionFilter(source="reddit").matches(m)
    assert not MentionFilter(customer_id="cus_1").matches(m)
    assert not MentionFilter(text="light").matches(m)


async def test_customer_accounts_are_refused_and_staff_accounts_let_in(client: TestClient, monkeypatch) -> None:
    from api.identity import SESSION_COOKIE
    from community.accounts import Accounts

    monkeypatch.setenv("CRMSPHERE_ADMIN_TOKEN", "operator-only")  # loopback alone is no longer staff
    rt = client.app[RUNTIME]
    accounts = Accounts(rt.store, rt.settings.forum)
    sessions = {}
    for role in ("customer", "manager"):
        account = await rt.store.create_account(f"{role}@example.com", role.title(), None, role=role)
        sessions[role] = (await accounts.start_session(account)).token
    routes = ["/dashboard", "/dashboard/analytics", "/dashboard/customers/cus_jo",
              "/api/dashboard/mentions", "/api/dashboard/mentions.csv",
              "/api/dashboard/analytics/volume", "/api/dashboard/customers/cus_jo"]
    for path in routes:
        anonymous = await client.get(path)
        assert anonymous.status == 401, path
        refused = await client.get(path, cookies={SESSION_COOKIE: sessions["customer"]})
        assert refused.status == 403, path
        assert "invoices" not in await refused.text()
        allowed = await client.get(path, cookies={SESSION_COOKIE: sessions["manager"]})
        assert allowed.status == 200, path
    resp = await client.post("/api/dashboard/triage", json={"mention_ids": [1], "status": "closed"},
                             cookies={SESSION_COOKIE: sessions["customer"]})
    assert resp.status == 403


async def test_customer_360_lists_ideas_votes_and_routed_items(client: TestClient) -> None:
    from datetime import datetime, timezone

    from domain.routing import RoutableItem, RoutedItem
    from domain.forum import NewIdea, Vote

    store = client.app[RUNTIME].store
    now = datetime.now(timezone.utc)
    jo = await store.create_account("jo@acmeanvils.example", "Jo", None, "customer")
    await store.update_account(jo.id, customer_id="cus_jo")
    mine = await create_idea(store, NewIdea("Export invoices <b>as CSV</b>", "please", jo.id, "planned"), now)
    theirs = await create_idea(store, NewIdea("Dark mode", "at night", None, "under-review"), now)
    await add_vote(store, Vote(theirs.id, "cus_jo", jo.id, now))
    mention_id = (await _ids(client, customer="cus_jo"))[0]
    await store.route_item(RoutedItem(
        item=RoutableItem(kind="mention", id=str(mention_id), text="Acme Anvils invoices are broken"),
        rule_id="billing-complaints", team_key="billing", event="mention.analysed", priority="high",
        routed_at=now), [])

    body = await (await client.get("/api/dashboard/customers/cus_jo")).json()
    assert body["ideas"]["count"] == 1
    idea = body["ideas"]["items"][0]
    assert (idea["id"], idea["status"], idea["status_label"], idea["url"]) == (
        mine.id, "planned", "Planned", f"/forum/ideas/{mine.id}")
    assert [(v["id"], v["status_label"]) for v in body["votes"]["items"]] == [(theirs.id, "Under review")]
    assert body["votes"]["count"] == 1
    routed = body["routed"]["items"]
    assert body["routed"]["count"] == 1 and routed[0]["queue_url"] == "/teams/billing"
    assert routed[0]["item_url"] == f"/dashboard/mentions/{mention_id}" and routed[0]["priority"] == "high"
    # Another customer's 360 shows none of it.
    other = await (await client.get("/api/dashboard/customers/cus_target")).json()
    assert (other["ideas"]["count"], other["votes"]["count"], other["routed"]["count"]) == (0, 0, 0)

    html = await (await client.get("/dashboard/customers/cus_jo")).text()
    assert f'<a href="/forum/ideas/{mine.id}">Export invoices &lt;b&gt;as CSV&lt;/b&gt;</a>' in html
    assert '<span class="badge idea-status is-planned">Planned</span>' in html
    assert '<a class="badge team" href="/teams/billing">billing queue</a>' in html
