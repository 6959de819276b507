"""Loopback as the operator is a setting (``api.trust_loopback``, off by default), and the admin
token reads the public forum like anyone."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from tests.api.forum_helpers import token_for
from tests.helpers import json_of

#: What a reverse proxy on this machine forwards: the public name in Host (allowed here), the
#: browser's address in X-Forwarded-For, and the connection itself from 127.0.0.1.
PROXIED = {"Host": "crm.example.com", "X-Forwarded-For": "203.0.113.7",
           "X-Forwarded-Proto": "https", "X-Real-IP": "203.0.113.7"}


@pytest.fixture
async def proxied(app_client, monkeypatch) -> TestClient:
    """The app as a default install behind a proxy on the same machine: no admin token, no
    ``trust_loopback`` (the test fixtures' default of it is switched back off)."""
    monkeypatch.delenv("CRMSPHERE_ADMIN_TOKEN", raising=False)
    return await app_client(customers=True, overrides={
        "api.trust_loopback": False, "server.allowed_hosts": ["crm.example.com"]})


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/api/customers", None),
    ("GET", "/api/sources", None),
    ("GET", "/api/dashboard/mentions", None),
    ("PUT", "/api/teams/care", {"name": "Care", "webhook_url": "http://127.0.0.1:9/x",
                                "webhook_secret_env": "CARE_SECRET"}),
    ("PUT", "/api/routing/rules", {"rules": []}),
])
async def test_loopback_is_not_the_operator_by_default(proxied: TestClient, method: str, path: str,
                                                       body: dict | None) -> None:
    resp = await proxied.request(method, path, json=body, headers=PROXIED)
    assert resp.status == 401, await resp.text()
    message = (await resp.json())["error"]["message"]
    assert "CRMSPHERE_ADMIN_TOKEN" in message and "api.trust_loopback" in message


async def test_loopback_pages_send_an_anonymous_proxied_visitor_away(proxied: TestClient) -> None:
    resp = await proxied.get("/dashboard", headers=PROXIED, allow_redirects=False)
    assert resp.status == 401
    assert "Acme" not in await resp.text()


async def test_trust_loopback_makes_this_machine_the_operator(app_client, monkeypatch) -> None:
    monkeypatch.delenv("CRMSPHERE_ADMIN_TOKEN", raising=False)
    client = await app_client(customers=True, overrides={"api.trust_loopback": True})
    body = await json_of(await client.get("/api/customers"))
    assert any(c["name"] == "Acme Anvils" for c in body["items"])


async def test_the_admin_token_still_works_without_trusting_loopback(proxied: TestClient,
                                                                     monkeypatch) -> None:
    monkeypatch.setenv("CRMSPHERE_ADMIN_TOKEN", "Zq3v-admin-token-for-tests")
    admin = {**PROXIED, "Authorization": "Bearer Zq3v-admin-token-for-tests"}
    assert (await proxied.get("/api/customers", headers=admin)).status == 200
    assert (await proxied.get("/api/customers", headers=PROXIED)).status == 401


async def test_admin_token_reads_the_public_forum(app_client, monkeypatch) -> None:
    monkeypatch.setenv("CRMSPHERE_ADMIN_TOKEN", "Zq3v-admin-token-for-tests")
    client = await app_client(customers=True)
    customer = await token_for(client, "jo@acmeanvils.example", customer_id="cus_acme")
    made = await json_of(await client.post("/api/ideas", json={
        "title": "Export invoices as CSV", "body": "For our accountants."}, headers=customer), 201)
    admin = {"Authorization": "Bearer Zq3v-admin-token-for-tests"}
    listed = await json_of(await client.get("/api/ideas", headers=admin))
    assert [i["id"] for i in listed["items"]] == [made["id"]]
    one = await json_of(await client.get(f"/api/ideas/{made['id']}", headers=admin))
    assert one["title"] == "Export invoices as CSV"
    assert (await client.get("/forum", headers=admin)).status == 200
    assert (await client.get("/forum/roadmap", headers=admin)).status == 200
    me = await json_of(await client.get("/api/auth/me", headers=admin))
    assert me["signed_in"] is False
    # Having no account, it cannot write as somebody (nor is it asked for a CSRF token).
    resp = await client.post("/api/ideas", json={"title": "As nobody", "body": ""}, headers=admin)
    assert resp.status == 401 and "sign in" in (await resp.json())["error"]["message"]
    # A wrong admin token is still refused outright, as any unknown bearer token is.
    resp = await client.get("/api/ideas", headers={"Authorization": "Bearer Zq3v-wrong"})
    assert resp.status == 401


async def test_behind_a_trusted_proxy_the_visitor_not_the_proxy_is_judged(app_client, monkeypatch) -> None:
    """With trust_loopback on (a one-person machine) and the local proxy named in
    ``server.trusted_proxies``, a visitor the proxy forwards is not this machine's user."""
    monkeypatch.delenv("CRMSPHERE_ADMIN_TOKEN", raising=False)
    client = await app_client(customers=True, overrides={
        "api.trust_loopback": True, "server.allowed_hosts": ["crm.example.com"],
        "server.trusted_proxies": ["127.0.0.1", "::1"]})
    assert (await client.get("/api/customers", headers=PROXIED)).status == 403
    # A visitor writing a loopback address into the header gains nothing: the proxy appends
    # the address it really saw, and that is the one believed.
    spoofed = {**PROXIED, "X-Forwarded-For": "127.0.0.1, 203.0.113.7"}
    assert (await client.get("/api/customers", headers=spoofed)).status == 403
    # The machine's own user, straight to the server (no proxy hop), is still the operator.
    assert (await client.get("/api/customers")).status == 200
