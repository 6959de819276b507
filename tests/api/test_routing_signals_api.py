"""Over real HTTP: admins read and replace the routing rules (validated like the TOML, new
events only); staff convert a mention into an idea or attach it to one (directly or through
``/api/route``), which counts in the idea's impact and linked mentions; access and CSRF."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from api.keys import RUNTIME
from crmsphere.ingest import store_posts
from tests.api.forum_helpers import token_for
from tests.conftest import post
from tests.helpers import ROUTING_IDLE, sign_in_staff
from tests.stored import stored_mention_ids

CONFIG = ROUTING_IDLE + """
[[routing.teams]]
key = "product"
name = "Product"
mail_to = ["product@example.com"]

[[routing.teams]]
key = "support"
name = "Support"

[[routing.rules]]
id = "invoices"
keywords = ["invoices"]
team = "product"
"""


@pytest.fixture
async def client(app_client) -> TestClient:
    return await app_client(CONFIG, customers=True, route=True, posts=[
        post("1", "Acme Anvils invoices are broken again, please add bulk invoice export",
             handle="acmeanvils", minutes=1, url="https://x.example/1"),
        post("2", "bulk export would be lovely", handle="stranger", minutes=2),
        post("3", "crash on start", handle="stranger", minutes=3),
    ])


async def _ids(client: TestClient) -> dict[str, int]:
    found = await stored_mention_ids(client.app[RUNTIME].store, [("x", "1"), ("x", "2"), ("x", "3")])
    return {ext: mid for (_, ext), mid in found.items()}


async def test_admin_reads_and_replaces_rules(client: TestClient) -> None:
    body = await (await client.get("/api/routing/rules")).json()
    assert [r["id"] for r in body["rules"]] == ["invoices"] and body["rule_sets"] == {"default": "first_match"}
    assert body["updated_by"] == "config" and body["version"] >= 1
    new = {"mode": "all_match", "rules": [
        {"id": "crashes", "keywords": ["crash"], "team": "support", "priority": "urgent"},
        {"id": "everything", "team": "product", "notify": []}]}
    resp = await client.put("/api/routing/rules", json=new)
    assert resp.status == 200, await resp.text()
    saved = await resp.json()
    assert saved["rule_sets"] == {"default": "all_match"} and saved["version"] == body["version"] + 1
    assert [r["id"] for r in saved["rules"]] == ["crashes", "everything"]
    assert saved["rules"][0]["priority"] == "urgent" and saved["updated_by"] == "operator"
    assert (await (await client.get("/api/routing/rules")).json())["rules"] == saved["rules"]
    # Stored items keep their routings; a new event follows the new rules.
    rt = client.app[RUNTIME]
    ids = await _ids(client)
    assert [r.rule_id for r in await rt.store.routed_for_item("mention", str(ids["1"]))] == ["invoices"]
    assert await rt.store.routed_for_item("mention", str(ids["3"])) == []
    await store_posts(rt.store, rt.analyzer, "test", [post("4", "another crash", minutes=4)], None,
                      rt.routing_events.wake)
    (new_id,) = (await stored_mention_ids(rt.store, [("x", "4")])).values()
    assert sorted(r.rule_id for r in await rt.store.routed_for_item("mention", str(new_id))) == [
        "crashes", "everything"]


BAD_RULES = [
    ({"rules": [{"id": "x"}]}, "rules[0].team"),
    ({"rules": [{"id": "x", "team": "nobody"}]}, "rules[0].team"),
    ({"rules": [{"id": "x", "team": "product", "events": ["never"]}]}, "rules[0].events"),
    ({"rules": [{"id": "x", "team": "product", "sentiment_at_or_below": -3}]}, "rules[0].sentiment_at_or_below"),
    ({"rules": [{"id": "x", "team": "product"}, {"id": "x", "team": "product"}]}, "rules"),
    ({"rules": [{"id": "x", "team": "product", "set": "other"}]}, "body"),
    ({"rules": [{"id": "x", "team": "product", "colour": "red"}]}, "rules[0].colour"),
    # the field the caller sent is the one named (not "rule_sets.default", which mode stands for)
    ({"mode": "sometimes", "rules": []}, "mode"),
    ({"mode": ["first_match"], "rules": []}, "mode"),
    ({}, "rules"),
    ({"rules": "all"}, "rules"),
]


async def test_bad_rules_are_refused_and_change_nothing(client: TestClient) -> None:
    before = await (await client.get("/api/routing/rules")).json()
    for body, field in BAD_RULES:
        resp = await client.put("/api/routing/rules", json=body)
        assert resp.status == 400, await resp.text()
        error = (await resp.json())["error"]
        assert error["details"]["field"] == field, (body, error)
    assert await (await client.get("/api/routing/rules")).json() == before
    assert (await client.put("/api/routing/rules", data="{not json")).status == 400


async def test_rules_need_an_admin(client: TestClient, monkeypatch) -> None:
    staff = await token_for(client, "pm@crm.example", role="team")
    admin = await token_for(client, "root@crm.example", role="admin")
    assert (await client.get("/api/routing/rules", headers=staff)).status == 403
    assert (await client.put("/api/routing/rules", json={"rules": []}, headers=staff)).status == 403
    assert (await client.get("/api/routing/rules", headers=admin)).status == 200
    monkeypatch.setenv("CRMSPHERE_ADMIN_TOKEN", "tok")
    assert (await client.get("/api/routing/rules")).status == 401
    resp = await client.put("/api/routing/rules", json={"rules": []},
                            headers={"Authorization": "Bearer tok"})
    assert resp.status == 200 and (await resp.json())["rules"] == []


async def test_convert_mention_into_idea_for_its_customer(client: TestClient) -> None:
    rt = client.app[RUNTIME]
    buyer = await token_for(client, "buyer@acmeanvils.example", customer_id="cus_acme")
    ids = await _ids(client)
    resp = await client.post(f"/api/mentions/{ids['1']}/idea", json={"topic": "billing"})
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    idea = body["idea"]
    assert idea["title"].startswith("Acme Anvils invoices are broken") and idea["topic"] == "billing"
    assert "https://x.example/1" in idea["body"] and "@acmeanvils on x" in idea["body"]
    assert idea["author"]["name"] == "buyer"  # on behalf of the mention's customer
    assert idea["mention_ids"] == [ids["1"]] and idea["impact"] > 0
    # The customer's account follows the idea, so it hears of status changes.
    account = (await rt.store.accounts_for_customers(["cus_acme"], blocked=False))["cus_acme"][0]
    assert account in await rt.store.followers(idea["id"])
    staff = await token_for(client, "pm@crm.example", role="team")
    listed = await (await client.get(f"/api/ideas/{idea['id']}", headers=staff)).json()
    assert listed["mention_ids"] == [ids["1"]] and listed["impact"] == idea["impact"]
    assert (await client.get(f"/api/ideas/{idea['id']}", headers=buyer)).status == 200
    # A stranger's mention becomes an idea with no author, titled as asked.
    resp = await client.post(f"/api/mentions/{ids['2']}/idea", json={"title": "Bulk export",
                                                                      "body": "From social."})
    stranger_idea = (await resp.json())["idea"]
    assert resp.status == 201 and stranger_idea["author"] is None
    assert stranger_idea["title"] == "Bulk export" and stranger_idea["body"] == "From social."


async def test_attach_mention_to_idea_is_idempotent_and_weighs_in(client: TestClient) -> None:
    ids = await _ids(client)
    created = (await (await client.post(f"/api/mentions/{ids['2']}/idea", json={})).json())["idea"]
    before = created["impact"]
    resp = await client.post(f"/api/mentions/{ids['1']}/attach", json={"idea_id": created["id"]})
    assert resp.status == 201
    body = await resp.json()
    assert body["linked"] is True and body["idea"]["mention_ids"] == sorted([ids["1"], ids["2"]])
    assert body["idea"]["impact"] > before  # an enterprise customer's voice weighs more
    again = await client.post(f"/api/mentions/{ids['1']}/attach", json={"idea_id": created["id"]})
    assert again.status == 200 and (await again.json())["linked"] is False
    assert (await again.json())["idea"]["impact"] == body["idea"]["impact"]


async def test_convert_and_attach_through_route(client: TestClient) -> None:
    ids = await _ids(client)
    resp = await client.post("/api/route", json={"kind": "mention", "id": ids["3"],
                                                 "convert_to_idea": {"title": "Crash on start"}})
    assert resp.status == 201, await resp.text()
    made = await resp.json()
    assert made["created"] is True and made["routed"] is None
    assert made["idea"]["mention_ids"] == [ids["3"]]
    resp = await client.post("/api/route", json={"mention_id": ids["2"], "team": "support",
                                                 "attach_to_idea": made["idea"]["id"]})
    assert resp.status == 201
    attached = await resp.json()
    assert attached["linked"] is True and attached["routed"]["team"] == "support"
    assert attached["idea"]["mention_ids"] == sorted([ids["2"], ids["3"]])
    resp = await client.post("/api/route", json={"mention_id": ids["2"],
                                                 "attach_to_idea": made["idea"]["id"]})
    assert resp.status == 200 and (await resp.json())["linked"] is False


BAD_SIGNALS = [
    ("/api/mentions/999/idea", {}, 404, None),
    ("/api/mentions/{m}/idea", {"title": "x"}, 400, "title"),
    ("/api/mentions/{m}/idea", {"topic": "Not a topic!"}, 400, "topic"),
    ("/api/mentions/{m}/idea", {"colour": "red"}, 400, "colour"),
    ("/api/mentions/{m}/idea", ["a list"], 400, None),
    ("/api/mentions/{m}/attach", {}, 400, "idea_id"),
    ("/api/mentions/{m}/attach", {"idea_id": "1"}, 400, "idea_id"),
    ("/api/mentions/{m}/attach", {"idea_id": 999}, 404, None),
    ("/api/mentions/999/attach", {"idea_id": 1}, 404, None),
    ("/api/route", {"kind": "idea", "id": 1, "team": "support"}, 400, "kind"),
    ("/api/route", {"id": "{m}", "convert_to_idea": {}}, 400, "id"),
    ("/api/route", {"id": 1, "convert_to_idea": "yes"}, 400, "convert_to_idea"),
    ("/api/route", {"id": 1, "convert_to_idea": {}, "attach_to_idea": 1}, 400, "attach_to_idea"),
]


async def test_bad_signal_requests(client: TestClient) -> None:
    ids = await _ids(client)
    for path, body, status, field in BAD_SIGNALS:
        path = path.replace("{m}", str(ids["1"]))
        if isinstance(body, dict) and body.get("id") == "{m}":
            body = {**body, "id": str(ids["1"])}
        resp = await client.post(path, json=body)
        assert resp.status == status, (path, body, await resp.text())
        if field == "fields":
            assert (await resp.json())["error"]["details"]["fields"] == ["colour"]
        elif field is not None:
            assert (await resp.json())["error"]["details"]["field"] == field, (path, body)
    # Nothing was made by the bad requests.
    assert await client.app[RUNTIME].store.idea_mentions(1) == []


async def test_signals_need_staff_and_csrf(client: TestClient) -> None:
    ids = await _ids(client)
    customer = await token_for(client, "jo@acmeanvils.example", customer_id="cus_acme")
    resp = await client.post(f"/api/mentions/{ids['1']}/idea", json={}, headers=customer)
    assert resp.status == 403
    resp = await client.post(f"/api/mentions/{ids['1']}/attach", json={"idea_id": 1}, headers=customer)
    assert resp.status == 403
    # A staff member signed in through the browser needs the session's CSRF token.
    session_csrf = await sign_in_staff(client)
    assert (await client.post(f"/api/mentions/{ids['2']}/idea", json={})).status == 403
    resp = await client.post(f"/api/mentions/{ids['2']}/idea", json={},
                             headers={"X-CSRF-Token": session_csrf})
    assert resp.status == 201, await resp.text()


async def test_team_channels_are_validated(client: TestClient) -> None:
    bad = [({"webhook_url": "http://", "webhook_secret_env": "S"}, "webhook_url"),
           ({"webhook_url": "http://h:port/", "webhook_secret_env": "S"}, "webhook_url"),
           ({"webhook_url": "javascript:alert(1)", "webhook_secret_env": "S"}, "webhook_url"),
           ({"webhook_url": "https://h/x", "webhook_secret_env": "not a name"}, "webhook_secret_env"),
           ({"slack_url": "https://hooks slack/x"}, "slack_url"),
           ({"mail_to": ["no-at-sign"]}, "mail_to"),
           ({"mail_to": ["a@b\r\nBcc: x@y"]}, "mail_to"),
           ({"mail_to": "a@b.example"}, "mail_to"),
           ({"members": [""]}, "members")]
    for fields, field in bad:
        resp = await client.put("/api/teams/design", json={"name": "Design", **fields})
        assert resp.status == 400, (fields, await resp.text())
        assert (await resp.json())["error"]["details"]["field"].split(".")[0] == field, fields
    assert "design" not in {t["key"] for t in (await (await client.get("/api/teams")).json())["items"]}
    resp = await client.put("/api/teams/design", json={
        "name": "Design", "webhook_url": "https://127.0.0.1:9443/hook", "webhook_secret_env": "S",
        "mail_to": ["design@example.com"]})
    assert resp.status == 200
