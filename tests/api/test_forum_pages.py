"""Forum pages without JavaScript over real HTTP: sign-up, submit, vote, comment, roadmap, CSRF."""

from __future__ import annotations

import pytest

from api.keys import RUNTIME
from domain.forum import IdeaQuery
from tests.api.forum_helpers import token_for
from tests.helpers import csrf_of, sign_in_customer

XSS = '<script>alert(1)</script><img src=x onerror=alert(2)>[x](javascript:alert(3))'


@pytest.fixture
async def client(app_client):
    return await app_client(customers=True, overrides={"forum.trust_signup_email": True})


async def test_form_posts_without_valid_csrf_are_rejected(client) -> None:
    page = await client.get("/forum/signup")
    assert page.status == 200
    data = {"email": "jo@acmeanvils.example", "password": "correct horse battery", "name": "Jo"}
    assert (await client.post("/forum/signup", data=data, allow_redirects=False)).status == 403
    assert (await client.post("/forum/signup", data={**data, "csrf": "forged-token-value-123456"},
                              allow_redirects=False)).status == 403
    await sign_in_customer(client)
    resp = await client.post("/forum/submit", data={"title": "No token idea", "body": ""}, allow_redirects=False)
    assert resp.status == 403
    resp = await client.post("/forum/submit", data={"title": "Anon token", "csrf": csrf_of(await page.text())},
                             allow_redirects=False)
    assert resp.status == 403  # the pre-sign-in token is not the session's
    assert (await client.app[RUNTIME].store.list_ideas(IdeaQuery()))[1] == 0


async def test_submit_vote_comment_without_javascript(client) -> None:
    csrf = await sign_in_customer(client)
    resp = await client.post("/forum/submit", data={"csrf": csrf, "title": "Dark mode " + XSS,
                                                    "body": "**bold** " + XSS, "tags": "ui"},
                             allow_redirects=False)
    assert resp.status == 303
    url = resp.headers["Location"]
    html = await (await client.get(url)).text()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "onerror=alert(2)>" not in html and 'href="javascript:' not in html
    assert "<strong>bold</strong>" in html
    idea_id = int(url.rsplit("/", 1)[1])
    resp = await client.post(f"{url}/vote", data={"csrf": csrf}, allow_redirects=False)
    assert resp.status == 303
    assert (await client.app[RUNTIME].store.get_idea(idea_id)).vote_count == 1
    assert 'aria-pressed="true"' in await (await client.get(url)).text()
    await client.post(f"{url}/vote", data={"csrf": csrf, "action": "unvote"}, allow_redirects=False)
    assert (await client.app[RUNTIME].store.get_idea(idea_id)).vote_count == 0
    resp = await client.post(f"{url}/comments", data={"csrf": csrf, "body": "me too " + XSS},
                             allow_redirects=False)
    assert resp.status == 303
    html = await (await client.get(url)).text()
    assert "me too" in html and "<script>alert(1)" not in html
    listing = await (await client.get("/forum", params={"q": "dark"})).text()
    assert f'/forum/ideas/{idea_id}"' in listing and "<script>alert(1)" not in listing


async def test_customer_cannot_change_status_or_see_internal_notes(client) -> None:
    csrf = await sign_in_customer(client)
    team = await token_for(client, "team@crm.example", "team")
    made = await (await client.post("/api/ideas", json={"title": "Offline mode"}, headers=team)).json()
    await client.post(f"/api/ideas/{made['id']}/comments", json={"body": "VIP only note", "internal": True},
                      headers=team)
    resp = await client.post(f"/forum/ideas/{made['id']}/status",
                             data={"csrf": csrf, "status": "planned", "response": "sure"}, allow_redirects=False)
    assert resp.status == 403
    html = await (await client.get(f"/forum/ideas/{made['id']}")).text()
    assert "VIP only note" not in html and 'action="/forum/ideas/%d/status"' % made["id"] not in html
    assert "by revenue" not in html and "Impact" in html  # the total, not the revenue-bearing parts
    await client.post(f"/api/ideas/{made['id']}/status", json={"status": "planned", "response": "Q3"},
                      headers=team)
    roadmap = await (await client.get("/forum/roadmap")).text()
    assert "Offline mode" in roadmap and "Planned" in roadmap


async def test_signin_page_errors_and_redirects(client) -> None:
    resp = await client.get("/forum/submit", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/forum/signin")
    form = await (await client.get("/forum/signin?next=//evil.example")).text()
    assert 'name="next" value=""' in form and "evil.example" not in form  # no open redirect
    resp = await client.post("/forum/signin", data={"csrf": csrf_of(form), "email": "x@y.example",
                                                    "password": "wrong password"})
    assert resp.status == 401 and "wrong" in await resp.text()
    assert (await client.get("/forum/ideas/12345")).status == 404
