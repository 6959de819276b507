"""Alerts, facets, saved views and the new analytics over real HTTP on 127.0.0.1."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from api.app import create_app
from api.keys import RUNTIME
from config.settings import load_settings
from domain import utcnow
from domain.dashboard import SpikeAlert
from crmsphere.ingest import store_posts
from tests.conftest import acme_customers, post


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path, monkeypatch) -> TestClient:
    monkeypatch.delenv("CRMSPHERE_ADMIN_TOKEN", raising=False)
    settings = load_settings(environ={}, overrides={
        "api.trust_loopback": True,
        "store.url": f"sqlite:///{tmp_path / 'd.db'}",
        "dashboard.brand": {"name": "Acme Anvils", "aliases": ["acmeanvils"]},
        "dashboard.competitors": [{"name": "Target Logistics", "aliases": ["Target"]},
                                  {"name": "Nobody Inc"}]})
    app = create_app(settings)
    client = await aiohttp_client(app)
    rt = app[RUNTIME]
    await rt.store.upsert_customers(acme_customers())
    await rt.reload_customers()
    now = utcnow()
    posts = [post("1", "Acme Anvils invoices are broken", handle="jorivera"),
             post("2", "dark mode please, Target does it", handle="x_stranger"),
             post("3", "Target Logistics loves the mobile app", source="mastodon")]
    posts = [p.__class__(**{**{f: getattr(p, f) for f in p.__slots__},
                            "created_at": now - timedelta(minutes=10 - i)}) for i, p in enumerate(posts)]
    await store_posts(rt.store, rt.analyzer, "test", posts, None)
    return client


async def test_facets_count_the_current_filters(client: TestClient) -> None:
    body = await (await client.get("/api/dashboard/facets")).json()
    assert set(body) == {"source", "topic", "sentiment", "intent", "status", "since"}
    assert {(f["value"], f["count"]) for f in body["source"]} == {("x", 2), ("mastodon", 1)}
    assert body["status"] == [{"value": "open", "count": 3}]
    only_x = await (await client.get("/api/dashboard/facets", params={"source": "x"})).json()
    assert sum(f["count"] for f in only_x["sentiment"]) == 2
    assert (await client.get("/api/dashboard/facets", params={"status": "nope"})).status == 400



async def test_facets_are_documented_with_the_filters_the_page_sends_and_no_paging(
        client: TestClient) -> None:
    # The document gave /facets the listing's query (StreamPage): cursor and limit, which the
    # counts never read, and a limit=0 the page never sends was refused with a 400.
    doc = await (await client.get("/api/openapi.json")).json()
    facets = {p["name"] for p in doc["paths"]["/api/dashboard/facets"]["get"]["parameters"]
              if p["in"] == "query"}
    assert not facets & {"cursor", "limit"}, facets
    listing = {p["name"] for p in doc["paths"]["/api/dashboard/mentions"]["get"]["parameters"]
               if p["in"] == "query"}
    assert facets == listing - {"cursor", "limit"}
    # What the page's filter form sends (stream.js sends every named control of #filters but
    # those marked data-not-a-filter: the customer's name box, whose id is the filter).
    page = await (await client.get("/dashboard")).text()
    form = page[page.index('<form id="filters"'):]
    controls = re.findall(r'<(?:input|select)[^>]*>', form[:form.index("</form>")])
    sent = {re.search(r'\bname="([a-z_]+)"', c)[1] for c in controls
            if re.search(r'\bname="', c) and "data-not-a-filter" not in c}
    assert any('name="customer_name"' in c and "data-not-a-filter" in c for c in controls)
    assert {"q", "source", "customer", "topic", "status", "assignee", "tag"} <= sent
    assert sent <= facets, sent - facets
    resp = await client.get("/api/dashboard/facets", params={name: "" for name in sent})
    assert resp.status == 200, await resp.text()
    # A parameter the route does not read is ignored, as on every route (Query).
    resp = await client.get("/api/dashboard/facets", params={"limit": "0", "cursor": "²"})
    assert resp.status == 200, await resp.text()

async def test_saved_views_round_trip_and_validate(client: TestClient) -> None:
    resp = await client.post("/api/dashboard/views", json={
        "name": "Angry X", "filters": {"source": "x", "sentiment": "negative", "q": " "}})
    assert resp.status == 201
    view = await resp.json()
    assert view["filters"] == {"source": "x", "sentiment": "negative"}
    listed = await (await client.get("/api/dashboard/views")).json()
    assert [v["name"] for v in listed["items"]] == ["Angry X"]
    for bad, fragment in [({"name": ""}, "name"), ({"name": "a", "filters": []}, "filters"),
                          ({"name": "a", "filters": {"evil": "1"}}, "'filters.evil' is unknown here (known: q, source"),
                          ({"name": "a", "filters": {"q": 5}}, "field 'filters.q': Input should be a valid string")]:
        resp = await client.post("/api/dashboard/views", json=bad)
        assert resp.status == 400 and fragment in (await resp.json())["error"]["message"], bad
    assert (await client.delete(f"/api/dashboard/views/{view['id']}")).status == 200
    assert (await client.delete(f"/api/dashboard/views/{view['id']}")).status == 404
    assert (await (await client.get("/api/dashboard/views")).json())["items"] == []


async def test_alerts_list_names_customers(client: TestClient) -> None:
    store = client.app[RUNTIME].store
    now = utcnow()
    await store.record_spike_alerts([SpikeAlert("customer", "cus_jo", now, now, 14, 2.0, 5.0),
                                     SpikeAlert("topic", "billing", now, now, 30, 3.0, 9.0)])
    items = (await (await client.get("/api/dashboard/alerts")).json())["items"]
    assert {(a["kind"], a["subject_name"], a["count"]) for a in items} == {
        ("customer", "Jo Rivera", 14), ("topic", "billing", 30)}
    assert (await client.get("/api/dashboard/alerts", params={"days": "0"})).status == 400


async def test_topics_sentiment_voice_and_first_response(client: TestClient) -> None:
    topics = await (await client.get("/api/dashboard/analytics/topics", params={"days": "7"})).json()
    assert len(topics["days"]) == 7 and len(topics["baseline"]) == 7
    assert sum(t["mentions"] for t in topics["share"]) == sum(topics["total"])
    trend = await (await client.get("/api/dashboard/analytics/sentiment")).json()
    assert sum(t["mentions"] for t in trend["items"]) == 3
    voice = await (await client.get("/api/dashboard/analytics/share-of-voice")).json()
    assert voice["configured"] is True
    assert [(v["name"], v["mentions"], v["ours"]) for v in voice["items"]] == [
        ("Acme Anvils", 1, True), ("Target Logistics", 2, False), ("Nobody Inc", 0, False)]
    assert sum(v["share"] for v in voice["items"]) == pytest.approx(1.0)
    ids = [m["id"] for m in (await (await client.get("/api/dashboard/mentions")).json())["items"]]
    await client.post("/api/dashboard/triage", json={"mention_ids": ids[:2], "status": "pending"})
    frt = await (await client.get("/api/dashboard/analytics/first-response")).json()
    assert len(frt["items"]) >= 1 and sum(d["responded"] for d in frt["items"]) == 2
    assert all(0 < d["median_seconds"] <= d["p90_seconds"] for d in frt["items"])
