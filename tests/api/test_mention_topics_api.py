"""Topic evidence in the mention JSON and managers' topic labels (``POST /api/mentions/{id}/topics``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from api.app import create_app
from api.keys import RUNTIME
from config.settings import load_settings
from crmsphere.ingest import store_posts
from tests.api.forum_helpers import token_for
from tests.conftest import acme_customers, post
from tests.helpers import sign_in_staff


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path) -> TestClient:
    settings = load_settings(environ={}, overrides={
        "api.trust_loopback": True, "store.url": f"sqlite:///{tmp_path / 'api.db'}"})
    app = create_app(settings)
    client = await aiohttp_client(app)
    rt = app[RUNTIME]
    await rt.store.upsert_customers(acme_customers())
    await rt.reload_customers()
    await store_posts(rt.store, rt.analyzer, "test", [
        post("1", "I was charged twice on my invoice", minutes=1),
        post("2", "nice weather today", minutes=2),
    ], None)
    return client


async def _ids(client: TestClient) -> dict[str, int]:
    body = await (await client.get("/api/mentions")).json()
    return {m["external_id"]: m["id"] for m in body["items"]}


async def test_mentions_carry_topic_evidence(client: TestClient) -> None:
    body = await (await client.get("/api/mentions")).json()
    by_ext = {m["external_id"]: m for m in body["items"]}
    evidence = by_ext["1"]["topic_evidence"]
    assert by_ext["1"]["topics"] == ["billing"]
    assert evidence == [{"topic": "billing", "rule": "phrase", "phrase": "charged twice", "span": [6, 19]}]
    assert by_ext["2"]["topic_evidence"] == []
    one = await (await client.get(f"/api/mentions/{by_ext['1']['id']}")).json()
    assert one["topic_evidence"] == evidence and one["topic_label"] is None


async def test_a_manager_sets_the_topics_of_a_mention(client: TestClient) -> None:
    ids = await _ids(client)
    resp = await client.post(f"/api/mentions/{ids['1']}/topics", json={"topics": ["ui", "billing", "ui"]})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["topics"] == ["billing", "ui"]  # the taxonomy's order, once each
    assert body["topic_label"]["topics"] == ["billing", "ui"] and body["topic_label"]["by"] == "operator"
    assert [e["rule"] for e in body["topic_evidence"]] == ["phrase", "manager"]
    feed = await (await client.get("/api/mentions", params={"topic": "ui"})).json()
    assert [m["external_id"] for m in feed["items"]] == ["1"]
    one = await (await client.get(f"/api/mentions/{ids['1']}")).json()
    assert one["topic_label"]["topics"] == ["billing", "ui"]
    # An empty set: about none of the topics.
    resp = await client.post(f"/api/mentions/{ids['1']}/topics", json={"topics": []})
    assert resp.status == 200 and (await resp.json())["topics"] == []
    assert await client.app[RUNTIME].store.topic_label_examples() == [("I was charged twice on my invoice", ())]


BAD = [
    ({"topics": ["billing", "astrology"]}, "astrology"),
    ({"topics": ["x" * 100_000]}, "x" * 64),
    ({"topics": "billing"}, "list"),
    ({"topics": [1, 2]}, "'topics[0]': Input should be a valid string"),
    ({"topics": [None]}, "'topics[0]': Input should be a valid string"),
    ({}, "topics"),
    (["billing"], "JSON object"),
]


async def test_bad_labels_are_refused_and_change_nothing(client: TestClient) -> None:
    ids = await _ids(client)
    for body, words in BAD:
        resp = await client.post(f"/api/mentions/{ids['1']}/topics", json=body)
        assert resp.status == 400, (body, await resp.text())
        error = (await resp.json())["error"]
        assert words in error["message"] and len(error["message"]) < 2_000, (body, error)
    resp = await client.post(f"/api/mentions/{ids['1']}/topics", data=b"{not json",
                             headers={"Content-Type": "application/json"})
    assert resp.status == 400
    for missing in ("987654", "99999999999999999999999"):
        resp = await client.post(f"/api/mentions/{missing}/topics", json={"topics": []})
        assert resp.status == 404, await resp.text()
        assert (await client.get(f"/api/mentions/{missing}")).status == 404
    one = await (await client.get(f"/api/mentions/{ids['1']}")).json()
    assert one["topics"] == ["billing"] and one["topic_label"] is None


async def test_labels_need_staff_and_csrf(client: TestClient) -> None:
    ids = await _ids(client)
    url = f"/api/mentions/{ids['1']}/topics"
    customer = await token_for(client, "jo@acmeanvils.example", customer_id="cus_acme")
    assert (await client.post(url, json={"topics": []}, headers=customer)).status == 403
    # A staff member signed in through the browser needs the session's CSRF token.
    session_csrf = await sign_in_staff(client, "pm@crm.example", "team", "Pm")
    assert (await client.post(url, json={"topics": ["ui"]})).status == 403
    resp = await client.post(url, json={"topics": ["ui"]}, headers={"X-CSRF-Token": session_csrf})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["topic_label"]["by"] == "Pm"
