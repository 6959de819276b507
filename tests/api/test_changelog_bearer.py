"""The changelog's staff pages and bearer tokens: a program that sends a valid token gets the
page or JSON its token allows, never an HTML redirect to sign in; a bad token is a 401.  The
operator's browser on this machine (no credential sent) is still sent to sign in."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from tests.api.forum_helpers import token_for
from tests.helpers import json_of

ADMIN_TOKEN = "Zq3v-admin-token-for-tests"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
async def changelog(app_client, monkeypatch) -> tuple[TestClient, dict[str, str], dict]:
    monkeypatch.setenv("CRMSPHERE_ADMIN_TOKEN", ADMIN_TOKEN)
    client = await app_client(customers=True)
    pm = await token_for(client, "pm@crm.example", role="manager")
    shipped = await json_of(await client.post("/api/changelog", json={
        "title": "Invoices export to CSV", "body": "Find it under *Billing*."}, headers=pm), 201)
    await json_of(await client.post(f"/api/changelog/{shipped['id']}/publish", headers=pm))
    draft = await json_of(await client.post("/api/changelog", json={
        "title": "Secret plans for Q3", "body": "Not yet."}, headers=pm), 201)
    return client, pm, {"shipped": shipped, "draft": draft}


async def test_admin_token_gets_the_published_entries_not_a_sign_in_redirect(changelog) -> None:
    client, _, made = changelog
    page = await client.get("/dashboard/changelog", headers=ADMIN, allow_redirects=False)
    assert page.status == 200, page.headers.get("Location")
    html = await page.text()
    assert "Invoices export to CSV" in html and f'href="/forum/changelog/{made["shipped"]["id"]}"' in html
    # The token cannot see drafts (as on /api/changelog?drafts=true), and the page says why.
    assert "Secret plans" not in html and "drafts and writing need a manager" in html
    assert 'href="/dashboard/changelog/new"' not in html

    as_json = await client.get("/dashboard/changelog", allow_redirects=False,
                               headers={**ADMIN, "Accept": "application/json"})
    assert as_json.status == 200 and as_json.content_type == "application/json"
    body = await as_json.json()
    assert [e["title"] for e in body["items"]] == ["Invoices export to CSV"] and body["total"] == 1


@pytest.mark.parametrize("path", ["/dashboard/changelog/new", "/dashboard/changelog/{draft}"])
async def test_admin_token_is_told_it_cannot_write_rather_than_redirected(changelog, path: str) -> None:
    client, _, made = changelog
    resp = await client.get(path.format(draft=made["draft"]["id"]), headers=ADMIN, allow_redirects=False)
    assert resp.status == 403 and "Location" not in resp.headers
    assert "published in a manager" in await resp.text()


async def test_a_managers_api_token_gets_the_editor(changelog) -> None:
    client, pm, made = changelog
    listing = await client.get("/dashboard/changelog", headers=pm, allow_redirects=False)
    assert listing.status == 200
    html = await listing.text()
    assert "Secret plans for Q3" in html and 'href="/dashboard/changelog/new"' in html
    editor = await client.get(f"/dashboard/changelog/{made['draft']['id']}", headers=pm,
                              allow_redirects=False)
    assert editor.status == 200 and "Secret plans for Q3" in await editor.text()


@pytest.mark.parametrize("authorization", [
    f"Bearer {ADMIN_TOKEN}x", "Bearer cst_0000000000000000000000000000", "Bearer ", "Basic YWRtaW46YWRtaW4=",
    f"bearer  {ADMIN_TOKEN[:-1]}"])
@pytest.mark.parametrize("path", ["/dashboard/changelog", "/dashboard/changelog/new"])
async def test_a_bad_token_is_a_401_not_a_redirect(changelog, path: str, authorization: str) -> None:
    client, _, _ = changelog
    resp = await client.get(path, headers={"Authorization": authorization}, allow_redirects=False)
    assert resp.status == 401 and "Location" not in resp.headers


async def test_the_operators_browser_is_still_sent_to_sign_in(app_client, monkeypatch) -> None:
    # No token configured, loopback trusted (as `make run`): a browser with no credential.
    monkeypatch.delenv("CRMSPHERE_ADMIN_TOKEN", raising=False)
    client = await app_client(customers=True)
    resp = await client.get("/dashboard/changelog", allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"].startswith("/forum/signin?next=")
    assert resp.headers["Location"].endswith("/dashboard/changelog")
