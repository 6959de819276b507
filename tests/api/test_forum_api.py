"""The ideas forum JSON API over real HTTP: accounts, tokens, roles, ideas, votes, comments, merge."""

from __future__ import annotations

import asyncio

import pytest

from api.keys import RUNTIME
from tests.api.forum_helpers import token_for


@pytest.fixture
async def client(app_client):
    return await app_client(customers=True)


async def test_signup_login_logout_with_secure_cookie_and_csrf(client) -> None:
    resp = await client.post("/api/auth/signup", json={
        "email": "jo@acmeanvils.example", "password": "correct horse battery", "name": "Jo"})
    assert resp.status == 202, await resp.text()
    assert "Set-Cookie" not in resp.headers  # signing up is not signing in (see below)
    signed_up = await resp.json()
    resp = await client.post("/api/auth/login", json={"email": "jo@acmeanvils.example",
                                                      "password": "correct horse battery"})
    assert resp.status == 200, await resp.text()
    cookie = resp.headers["Set-Cookie"]
    assert "crmsphere_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP here; Secure when served over TLS
    csrf = (await resp.json())["csrf_token"]
    me = await (await client.get("/api/auth/me")).json()
    assert me["signed_in"] and me["account"]["email"] == "jo@acmeanvils.example"
    # A cookie-authenticated write without the CSRF header is refused.
    resp = await client.post("/api/ideas", json={"title": "Dark mode", "body": ""})
    assert resp.status == 403
    resp = await client.post("/api/ideas", json={"title": "Dark mode", "body": ""},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status == 201
    assert (await client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})).status == 200
    assert not (await (await client.get("/api/auth/me")).json())["signed_in"]
    resp = await client.post("/api/auth/login", json={"email": "jo@acmeanvils.example", "password": "nope nope nope"})
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "unauthorized"
    resp = await client.post("/api/auth/login", json={"email": "JO@acmeanvils.example",
                                                      "password": "correct horse battery"})
    assert resp.status == 200
    # Signing up with a registered address answers exactly as for a new one (no 409 that
    # would tell anyone the address is registered); the account is unchanged.
    resp = await client.post("/api/auth/signup", json={"email": "jo@acmeanvils.example",
                                                       "password": "an attacker's choice", "name": "Eve"})
    assert resp.status == 202 and await resp.json() == signed_up and "Set-Cookie" not in resp.headers
    resp = await client.post("/api/auth/login", json={"email": "jo@acmeanvils.example",
                                                      "password": "an attacker's choice"})
    assert resp.status == 401


@pytest.mark.parametrize("body, content_type, status", [
    ("{not json", "application/json", 400),
    ("[1, 2]", "application/json", 400),
    ("email=a@b.example", "application/x-www-form-urlencoded", 415),
    ('{"email": "a@b.example", "password": "x", "name": "A"}', "application/json", 400),
])
async def test_signup_rejects_malformed_bodies(client, body, content_type, status) -> None:
    resp = await client.post("/api/auth/signup", data=body, headers={"Content-Type": content_type})
    assert resp.status == status
    assert set((await resp.json())["error"]) == {"code", "message", "details"}


async def test_tokens_roles_and_revocation(client) -> None:
    team = await token_for(client, "team@crm.example", "team")
    weak = await token_for(client, "team2@crm.example", "team", token_role="customer")
    customer = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    idea = await (await client.post("/api/ideas", json={"title": "Offline mode"}, headers=customer)).json()
    status = {"status": "planned", "response": "On the roadmap for Q3"}
    assert (await client.post(f"/api/ideas/{idea['id']}/status", json=status, headers=customer)).status == 403
    assert (await client.post(f"/api/ideas/{idea['id']}/status", json=status, headers=weak)).status == 403
    resp = await client.post(f"/api/ideas/{idea['id']}/status", json=status, headers=team)
    assert resp.status == 200 and (await resp.json())["status"] == "planned"
    resp = await client.post("/api/tokens", json={"name": "escalate", "role": "admin"}, headers=team)
    assert resp.status == 403
    made = await (await client.post("/api/tokens", json={"name": "ci"}, headers=team)).json()
    new = {"Authorization": f"Bearer {made['token']}"}
    assert (await (await client.get("/api/auth/me", headers=new)).json())["role"] == "team"
    listed = await (await client.get("/api/tokens", headers=team)).json()
    assert all("token" not in t for t in listed["items"])
    assert (await client.delete(f"/api/tokens/{made['id']}", headers=team)).status == 204
    assert (await client.get("/api/auth/me", headers=new)).status == 401
    assert (await client.get("/api/ideas", headers={"Authorization": "Bearer cst_bogus"})).status == 401
    assert (await client.get("/api/accounts", headers=team)).status == 403


async def test_fifty_concurrent_votes_by_one_customer_and_by_fifty(client) -> None:
    jo = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    idea = await (await client.post("/api/ideas", json={"title": "Offline mode"}, headers=jo)).json()
    responses = await asyncio.gather(*(client.post(f"/api/ideas/{idea['id']}/vote", headers=jo)
                                       for _ in range(50)))
    assert sorted(r.status for r in responses) == [200] * 49 + [201]
    body = await (await client.get(f"/api/ideas/{idea['id']}", headers=jo)).json()
    assert body["vote_count"] == 1 and body["voted"] is True

    store = client.app[RUNTIME].store
    from tests.conftest import customer
    await store.upsert_customers([customer(f"cus_{n}", f"Customer {n}") for n in range(50)])
    voters = [await token_for(client, f"v{n}@example.com", customer_id=f"cus_{n}") for n in range(50)]
    second = await (await client.post("/api/ideas", json={"title": "Webhooks"}, headers=jo)).json()
    responses = await asyncio.gather(*(client.post(f"/api/ideas/{second['id']}/vote", headers=h)
                                       for h in voters))
    assert [r.status for r in responses] == [201] * 50
    assert (await store.get_idea(second["id"])).vote_count == 50
    resp = await client.delete(f"/api/ideas/{second['id']}/vote", headers=voters[0])
    assert (await resp.json())["vote_count"] == 49


async def test_comments_and_internal_notes(client) -> None:
    jo = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    team = await token_for(client, "team@crm.example", "team")
    idea = await (await client.post("/api/ideas", json={"title": "Offline mode"}, headers=jo)).json()
    url = f"/api/ideas/{idea['id']}/comments"
    top = await (await client.post(url, json={"body": "**Yes** please"}, headers=jo)).json()
    assert top["body_html"] == "<p><strong>Yes</strong> please</p>"
    reply = await client.post(url, json={"body": "noted", "parent_id": top["id"]}, headers=team)
    assert reply.status == 201
    assert (await client.post(url, json={"body": "secret", "internal": True}, headers=jo)).status == 403
    note = await (await client.post(url, json={"body": "VIP customer", "internal": True}, headers=team)).json()
    seen_by_customer = await (await client.get(url, headers=jo)).json()
    assert note["id"] not in [c["id"] for c in seen_by_customer["items"]]
    anonymous = await (await client.get(f"/api/ideas/{idea['id']}")).json()
    assert "VIP customer" not in str(anonymous)
    seen_by_team = await (await client.get(url, headers=team)).json()
    assert note["id"] in [c["id"] for c in seen_by_team["items"]]
    assert (await client.post(url, json={"body": ""}, headers=jo)).status == 400


async def test_merge_unmerge_similar_and_sorting(client) -> None:
    jo = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    acme = await token_for(client, "boss@acmeanvils.example", customer_id="cus_acme")
    team = await token_for(client, "team@crm.example", "team")
    keep = await (await client.post("/api/ideas", json={"title": "Dark mode for the dashboard"}, headers=jo)).json()
    dup = await (await client.post("/api/ideas", json={"title": "Dark theme please"}, headers=acme)).json()
    await client.post(f"/api/ideas/{dup['id']}/vote", headers=acme)
    found = await (await client.get("/api/ideas/similar", params={"title": "dark mode dashbord"})).json()
    assert found["items"][0]["id"] == keep["id"]
    # With its votes and status, so the box offering it can say whether to vote there instead.
    assert {i["id"]: (i["vote_count"], i["status"], i["status_label"]) for i in found["items"]} == {
        keep["id"]: (0, "open", "Open"), dup["id"]: (1, "open", "Open")}
    assert (await client.get("/api/ideas/similar")).status == 400
    assert (await client.post(f"/api/ideas/{dup['id']}/merge", json={"into": keep["id"]}, headers=jo)).status == 403
    resp = await client.post(f"/api/ideas/{dup['id']}/merge", json={"into": keep["id"]}, headers=team)
    assert resp.status == 201 and (await resp.json())["moved"]["votes"] == 1
    top = await (await client.get("/api/ideas", params={"sort": "top"})).json()
    assert [i["id"] for i in top["items"]] == [keep["id"]] and top["items"][0]["vote_count"] == 1
    resp = await client.post(f"/api/ideas/{dup['id']}/unmerge", headers=team)
    assert resp.status == 200
    top = await (await client.get("/api/ideas", params={"sort": "impact"})).json()
    assert [i["id"] for i in top["items"]] == [dup["id"], keep["id"]]
    detail = await (await client.get(f"/api/ideas/{dup['id']}", headers=team)).json()
    assert detail["impact_breakdown"]["by_segment"]["enterprise"]["votes"] == 1
    public = await (await client.get(f"/api/ideas/{dup['id']}", headers=jo)).json()
    # A customer sees the total, never the points that could reveal a voter's revenue.
    assert public["impact_breakdown"]["votes"] == 1
    assert "by_segment" not in public["impact_breakdown"]
    assert "revenue_points" not in public["impact_breakdown"]
    assert (await client.get("/api/ideas", params={"sort": "loudest"})).status == 400
    assert (await client.get("/api/ideas/999")).status == 404


async def test_openapi_document_covers_the_forum_routes(client) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    for path, method in [("/api/ideas", "get"), ("/api/ideas", "post"), ("/api/ideas/{id}", "patch"),
                         ("/api/ideas/{id}/vote", "delete"), ("/api/ideas/{id}/comments", "post"),
                         ("/api/ideas/{id}/status", "post"), ("/api/ideas/{id}/merge", "post"),
                         ("/api/ideas/{id}/unmerge", "post"), ("/api/ideas/similar", "get"),
                         ("/api/auth/signup", "post"), ("/api/auth/login", "post"),
                         ("/api/auth/logout", "post"), ("/api/tokens", "post")]:
        assert method in doc["paths"][path], (path, method)
    # every documented route is really served
    served = {(r.method.lower(), r.resource.canonical.replace(r"{id:\d+}", "{id}"))
              for r in client.app.router.routes() if r.resource is not None}
    for path, ops in doc["paths"].items():
        for method in ops:
            assert (method, path) in served, (method, path)
