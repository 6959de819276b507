"""The link review queue over real HTTP: list, confirm (teaching), reject (negative example)."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from api.keys import RUNTIME
from tests.conftest import post


@pytest.fixture
async def client(app_client) -> TestClient:
    return await app_client(customers=True, posts=[
        # "acme" in lower case alone is a weak, queued link; the same author twice.
        post("1", "thinking about acme for our shop", handle="newbie", minutes=1),
        post("2", "acme again, anyone tried them?", handle="newbie", minutes=2),
        # Jo's X handle used on reddit: maybe Jo, maybe not — queued.
        post("3", "hello from the other site", source="reddit", handle="jorivera", minutes=3),
        post("4", "Acme Anvils invoices are broken 😡", handle="x_stranger", minutes=4),
    ])


async def queue(client: TestClient) -> list[dict]:
    resp = await client.get("/api/links/review")
    assert resp.status == 200
    return (await resp.json())["items"]


async def test_mentions_carry_the_analysis(client: TestClient) -> None:
    body = await (await client.get("/api/mentions", params={"sentiment": "negative"})).json()
    (m,) = body["items"]
    assert m["external_id"] == "4"
    assert m["sentiment"]["label"] == "negative" and m["sentiment"]["score"] < -0.05
    assert m["intent"] == "complaint" and "billing" in m["topics"]
    assert m["detected_language"] == "en"
    body = await (await client.get("/api/mentions", params={"topic": "billing"})).json()
    assert [m["external_id"] for m in body["items"]] == ["4"]
    bad = await client.get("/api/mentions", params={"intent": "rant"})
    assert bad.status == 400 and "intent" in (await bad.json())["error"]["message"]


async def test_queue_lists_low_confidence_links_with_evidence(client: TestClient) -> None:
    items = await queue(client)
    assert {(i["customer_id"], i["mention"]["external_id"]) for i in items} == {
        ("cus_acme", "1"), ("cus_acme", "2"), ("cus_jo", "3")}
    for item in items:
        assert item["status"] == "pending" and item["confidence"] < 0.6
        assert item["evidence"] and item["customer"]["id"] == item["customer_id"]
    page = await (await client.get("/api/links/review", params={"limit": "2"})).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = await (await client.get("/api/links/review", params={"limit": "2", "cursor": page["next_cursor"]})).json()
    assert len(rest["items"]) == 1


async def test_confirm_teaching_a_handle_links_the_authors_past_mentions(client: TestClient) -> None:
    (item,) = [i for i in await queue(client) if i["customer_id"] == "cus_jo"]
    resp = await client.post(f"/api/links/{item['id']}/confirm", json={"teach": "handle"})
    assert resp.status == 200
    body = await resp.json()
    assert body["link"]["status"] == "confirmed" and body["link"]["confidence"] == 1.0
    assert body["learned"] == "handle @jorivera on reddit" and body["relinked_mentions"] == 1
    customer = await (await client.get("/api/customers/cus_jo")).json()
    assert "jorivera" in customer["handles"]["reddit"]
    assert all(i["customer_id"] != "cus_jo" for i in await queue(client))
    # The gazetteer reloaded without a restart: a new reddit post by the author links surely.
    rt = client.app[RUNTIME]
    (analysis,) = await rt.analyzer.analyse([post("9", "hi", source="reddit", handle="jorivera")])
    assert {(k.customer_id, k.rule, k.status) for k in analysis.links} >= {
        ("cus_jo", "author_handle", "accepted")}


async def test_confirm_one_confirms_the_same_authors_other_pending_links(client: TestClient) -> None:
    first = next(i for i in await queue(client) if i["mention"]["external_id"] == "1")
    resp = await client.post(f"/api/links/{first['id']}/confirm")
    assert resp.status == 200
    assert all(i["customer_id"] != "cus_acme" for i in await queue(client))
    body = await (await client.get("/api/mentions", params={"customer": "cus_acme"})).json()
    statuses = {m["external_id"]: [k["status"] for k in m["links"] if k["customer_id"] == "cus_acme"]
                for m in body["items"]}
    assert statuses["1"] == ["confirmed"] and statuses["2"] == ["confirmed"]


async def test_reject_records_a_negative_and_relinks_the_author(client: TestClient) -> None:
    first = next(i for i in await queue(client) if i["mention"]["external_id"] == "1")
    resp = await client.post(f"/api/links/{first['id']}/reject")
    assert resp.status == 200
    body = await resp.json()
    assert body["decision"] == "rejected" and body["relinked_mentions"] == 2
    # Both of the author's mentions lost the weak Acme link, and it does not come back.
    assert all(i["customer_id"] != "cus_acme" for i in await queue(client))
    rt = client.app[RUNTIME]
    negatives = await rt.store.link_negatives()
    assert [(n.customer_id, n.author_handle, n.phrase) for n in negatives] == [("cus_acme", "newbie", "acme")]
    (analysis,) = await rt.analyzer.analyse([post("8", "acme is ok", handle="newbie")])
    assert all(k.customer_id != "cus_acme" for k in analysis.links)
    # Another author's "acme" is still queued as before.
    (other,) = await rt.analyzer.analyse([post("7", "acme is ok", handle="someone_else")])
    assert [k.customer_id for k in other.links] == ["cus_acme"]


async def test_bad_requests_have_clear_errors(client: TestClient) -> None:
    missing = await client.post("/api/links/99999/confirm")
    assert missing.status == 404 and (await missing.json())["error"]["code"] == "not_found"
    item = (await queue(client))[0]
    bad = await client.post(f"/api/links/{item['id']}/confirm", json={"teach": "everything"})
    assert bad.status == 400 and "teach" in (await bad.json())["error"]["message"]
    bad = await client.post(f"/api/links/{item['id']}/confirm", data=b"{not json",
                            headers={"Content-Type": "application/json"})
    assert bad.status == 400
    bad = await client.post(f"/api/links/{item['id']}/confirm", json=["a"])
    assert bad.status == 400
    page = await client.get("/api/links/review", params={"cursor": "zz!"})
    assert page.status == 400


async def test_reviews_need_staff_and_keep_customers_out(client: TestClient, monkeypatch) -> None:
    from api.identity import SESSION_COOKIE
    from community.accounts import Accounts
    from tests.api.forum_helpers import token_for

    monkeypatch.setenv("CRMSPHERE_ADMIN_TOKEN", "s3cret")  # loopback alone is no longer staff
    admin = {"Authorization": "Bearer s3cret"}
    rt = client.app[RUNTIME]
    items = (await (await client.get("/api/links/review", headers=admin)).json())["items"]
    assert len(items) == 3
    # Anonymous callers: 401; customers, by session or token: 403, and see no queue.
    assert (await client.get("/api/links/review")).status == 401
    assert (await client.post(f"/api/links/{items[0]['id']}/reject")).status == 401
    customer = await token_for(client, "jo@acmeanvils.example", customer_id="cus_acme")
    accounts = Accounts(rt.store, rt.settings.forum)
    sessions = {}
    for role in ("customer", "team"):
        account = await rt.store.create_account(f"{role}@example.com", role.title(), None, role=role)
        sessions[role] = await accounts.start_session(account)
    as_customer = {SESSION_COOKIE: sessions["customer"].token}
    for headers, cookies in ((customer, None), ({}, as_customer)):
        resp = await client.get("/api/links/review", headers=headers, cookies=cookies)
        assert resp.status == 403 and "jorivera" not in await resp.text()
        for verb in ("confirm", "reject"):
            resp = await client.post(f"/api/links/{items[0]['id']}/{verb}", headers={
                **headers, "X-CSRF-Token": sessions["customer"].session.csrf}, cookies=cookies)
            assert resp.status == 403, verb
    assert len((await (await client.get("/api/links/review", headers=admin)).json())["items"]) == 3

    # Staff signed in through the browser: reads freely, decides with the session's CSRF token.
    staff = {SESSION_COOKIE: sessions["team"].token}
    assert (await client.get("/api/links/review", cookies=staff)).status == 200
    assert (await client.post(f"/api/links/{items[0]['id']}/reject", cookies=staff)).status == 403
    resp = await client.post(f"/api/links/{items[0]['id']}/reject", cookies=staff,
                             headers={"X-CSRF-Token": sessions["team"].session.csrf})
    assert resp.status == 200 and (await resp.json())["decision"] == "rejected"
    # A staff API token needs no CSRF; the admin token still works.
    team_token = await token_for(client, "pm@crm.example", role="team")
    jo = next(i for i in await queue_as(client, team_token) if i["customer_id"] == "cus_jo")
    resp = await client.post(f"/api/links/{jo['id']}/confirm", headers=team_token)
    assert resp.status == 200 and (await resp.json())["decision"] == "confirmed"
    assert await queue_as(client, admin) == []


async def queue_as(client: TestClient, headers: dict[str, str]) -> list[dict]:
    resp = await client.get("/api/links/review", headers=headers)
    assert resp.status == 200
    return (await resp.json())["items"]
