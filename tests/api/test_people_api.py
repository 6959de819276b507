"""People over real HTTP: authors kept at ingest, found by staff, merged and attached to customers."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from api.app import create_app
from api.keys import RUNTIME
from config.settings import load_settings
from crmsphere.ingest import store_posts
from tests.conftest import acme_customers, post


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path) -> TestClient:
    settings = load_settings(environ={}, overrides={
        "api.trust_loopback": True, "store.url": f"sqlite:///{tmp_path / 'people.db'}"})
    app = create_app(settings)
    client = await aiohttp_client(app)
    rt = app[RUNTIME]
    await rt.store.upsert_customers(acme_customers())
    await rt.reload_customers()
    await store_posts(rt.store, rt.analyzer, "test", [
        post("1", "thinking about acme for our shop", handle="Pat_W", name="Pat W", minutes=1),
        post("2", "nice weather", handle="pat_w", minutes=2),
        post("3", "hello from reddit", source="reddit", handle="patw", minutes=3),
        post("4", "hello from the other site", source="reddit", handle="jorivera", minutes=4),
        post("5", "my own post", source="x", handle="acmeanvils", minutes=5),
    ], None)
    return client


async def people(client: TestClient, **params: str) -> list[dict]:
    resp = await client.get("/api/people", params=params)
    assert resp.status == 200
    return (await resp.json())["items"]


async def test_unmatched_authors_are_kept_as_people(client: TestClient) -> None:
    found = await people(client)
    # The customer's own handle on its platform is no new person.
    assert sorted((p["name"], p["handles"]) for p in found if p["name"]) == [("Pat W", {"x": ["pat_w"]})]
    assert {h for p in found for hs in p["handles"].values() for h in hs} == {"pat_w", "patw", "jorivera"}
    assert [p["handles"] for p in await people(client, q="PATW")] == [{"reddit": ["patw"]}]
    one = (await people(client, q="pat_w"))[0]
    resp = await client.get(f"/api/people/{one['id']}")
    assert resp.status == 200 and (await resp.json()) == one


async def test_merge_then_attach_links_every_handle_and_past_mention(client: TestClient) -> None:
    builds = client.app[RUNTIME].analyzer.builds
    (pat_x,) = await people(client, q="pat_w")
    (pat_reddit,) = await people(client, q="patw")
    resp = await client.post(f"/api/people/{pat_reddit['id']}/merge", json={"into": pat_x["id"]})
    assert resp.status == 200
    merged = (await resp.json())["person"]
    assert merged["handles"] == {"reddit": ["patw"], "x": ["pat_w"]} and merged["customer_id"] is None

    resp = await client.post(f"/api/people/{pat_x['id']}/attach", json={"customer_id": "cus_acme"})
    assert resp.status == 200
    body = await resp.json()
    assert body["attached_mentions"] == 3 and body["person"]["customer_id"] == "cus_acme"
    customer = await (await client.get("/api/customers/cus_acme")).json()
    assert "patw" in customer["handles"]["reddit"] and "pat_w" in customer["handles"]["x"]
    listed = await (await client.get("/api/mentions", params={"customer": "cus_acme"})).json()
    assert {"1", "2", "3"} <= {m["external_id"] for m in listed["items"]}
    # The gazetteer learned the handles in place (no build): the person's next post on either
    # platform links by handle.
    (analysis,) = await client.app[RUNTIME].analyzer.analyse([post("9", "hi", source="reddit", handle="PatW")])
    assert ("cus_acme", "author_handle", "accepted") in {
        (k.customer_id, k.rule, k.status) for k in analysis.links}
    assert client.app[RUNTIME].analyzer.builds == builds


async def test_confirming_an_identity_link_attaches_the_person(client: TestClient) -> None:
    items = (await (await client.get("/api/links/review")).json())["items"]
    (item,) = [i for i in items if i["customer_id"] == "cus_jo"]
    resp = await client.post(f"/api/links/{item['id']}/confirm")
    assert resp.status == 200
    body = await resp.json()
    assert body["person_id"] is not None and body["link"]["status"] == "confirmed"
    person = await (await client.get(f"/api/people/{body['person_id']}")).json()
    assert person["customer_id"] == "cus_jo"
    customer = await (await client.get("/api/customers/cus_jo")).json()
    assert "jorivera" in customer["handles"]["reddit"]


async def test_bad_requests_have_clear_errors(client: TestClient) -> None:
    (pat_x,) = await people(client, q="pat_w")
    cases = [
        ("/api/people/abc/attach", {"customer_id": "cus_acme"}, 400, "person id"),
        ("/api/people/999999/attach", {"customer_id": "cus_acme"}, 404, "person"),
        (f"/api/people/{pat_x['id']}/attach", {"customer_id": "nobody"}, 404, "customer"),
        (f"/api/people/{pat_x['id']}/attach", {"customer_id": 7}, 400, "customer_id"),
        (f"/api/people/{pat_x['id']}/attach", ["cus_acme"], 400, "JSON object"),
        (f"/api/people/{pat_x['id']}/merge", {"into": "2"}, 400, "into"),
        (f"/api/people/{pat_x['id']}/merge", {"into": pat_x["id"]}, 400, "themselves"),
        (f"/api/people/{pat_x['id']}/merge", {"into": 999999}, 404, "person"),
    ]
    for url, body, status, words in cases:
        resp = await client.post(url, json=body)
        assert resp.status == status, (url, body)
        assert words in (await resp.json())["error"]["message"], (url, body)
    assert (await client.get("/api/people", params={"cursor": "zz!"})).status == 400
    assert (await client.get("/api/people/12x")).status == 400


async def test_people_are_staff_only(client: TestClient, monkeypatch) -> None:
    monkeypatch.setenv("CRMSPHERE_ADMIN_TOKEN", "s3cret")
    assert (await client.get("/api/people")).status == 401
    denied = await client.post("/api/people/1/attach", json={"customer_id": "cus_acme"})
    assert denied.status == 401
    ok = await client.get("/api/people", headers={"Authorization": "Bearer s3cret"})
    assert ok.status == 200 and (await ok.json())["items"]
