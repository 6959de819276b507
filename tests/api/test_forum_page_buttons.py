"""The idea page's buttons, the notification pages and the moderation page, without
JavaScript over real HTTP: edit, delete, follow, comment edit/delete, mark read, settings,
approve, block — each a form that needs the session's CSRF token."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from api.keys import RUNTIME
from domain import utcnow
from domain.forum import StatusChange
from tests.api.test_forum_pages import XSS
from tests.helpers import sign_in_customer
from tests.forum_rules import add_report, set_status


@pytest.fixture
async def client(app_client):
    return await app_client(customers=True, overrides={"forum.trust_signup_email": True})


async def _submit(client, csrf: str, title: str = "Dark mode") -> str:
    resp = await client.post("/forum/submit", data={"csrf": csrf, "title": title, "body": "please"},
                             allow_redirects=False)
    assert resp.status == 303
    return resp.headers["Location"]


async def _post(client, url: str, data: dict, status: int = 303):
    resp = await client.post(url, data=data, allow_redirects=False)
    assert resp.status == status, await resp.text()
    return resp


async def test_author_edits_follows_and_manages_comments(client) -> None:
    csrf = await sign_in_customer(client)
    store = client.app[RUNTIME].store
    url = await _submit(client, csrf)
    idea_id = int(url.rsplit("/", 1)[1])
    html = await (await client.get(url)).text()
    assert f'href="{url}/edit"' in html and "Unfollow" in html and f'action="{url}/delete"' not in html

    form = await (await client.get(f"{url}/edit")).text()
    assert 'value="Dark mode"' in form
    await _post(client, f"{url}/edit", {"title": "Dark mode " + XSS, "body": "now **bold**", "tags": "ui"}, 403)
    await _post(client, f"{url}/edit", {"csrf": csrf, "title": "Dark mode " + XSS, "body": "now **bold**",
                                        "tags": "ui"})
    html = await (await client.get(url)).text()
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html and "<strong>bold</strong>" in html
    assert (await store.get_idea(idea_id)).tags[0].name == "ui"

    await _post(client, f"{url}/follow", {"csrf": csrf, "action": "unfollow"})
    assert await store.followers(idea_id) == []
    assert ">Follow<" in await (await client.get(url)).text()
    await _post(client, f"{url}/follow", {"csrf": csrf, "action": "follow"})
    assert len(await store.followers(idea_id)) == 1
    await _post(client, f"{url}/follow", {"csrf": csrf, "action": "maybe"}, 400)

    await _post(client, f"{url}/comments", {"csrf": csrf, "body": "first"})
    comment = (await store.list_comments(idea_id, False))[0]
    assert f'/forum/comments/{comment.id}/edit' in await (await client.get(url)).text()
    assert "first" in await (await client.get(f"/forum/comments/{comment.id}/edit")).text()
    await _post(client, f"/forum/comments/{comment.id}/edit", {"csrf": csrf, "body": "second " + XSS})
    html = await (await client.get(url)).text()
    assert "second" in html and "<img src=x onerror" not in html
    await _post(client, f"/forum/comments/{comment.id}/delete", {"body": ""}, 403)
    await _post(client, f"/forum/comments/{comment.id}/delete", {"csrf": csrf})
    assert (await store.get_comment(comment.id)).deleted

    # A customer may not delete ideas.
    await _post(client, f"{url}/delete", {"csrf": csrf}, 403)


async def test_past_the_edit_window_the_author_cannot_edit(app_client) -> None:
    client = await app_client(customers=True, overrides={
        "forum.trust_signup_email": True, "forum.edit_window_minutes": 0})
    csrf = await sign_in_customer(client)
    url = await _submit(client, csrf)
    await _post(client, f"{url}/comments", {"csrf": csrf, "body": "first"})
    html = await (await client.get(url)).text()
    assert f'href="{url}/edit"' not in html and "/forum/comments/" not in html  # no edit or delete
    await _post(client, f"{url}/edit", {"csrf": csrf, "title": "Too late", "body": ""}, 403)


async def test_staff_delete_and_moderation_page(client) -> None:
    csrf = await sign_in_customer(client)
    store = client.app[RUNTIME].store
    url = await _submit(client, csrf, "Spam " + XSS)
    idea_id = int(url.rsplit("/", 1)[1])
    assert (await client.get("/forum/moderation")).status == 403
    other = await store.create_account("al@target.example", "Al", None)
    me = (await store.get_login("jo@acmeanvils.example"))[0]
    await store.update_account(me.id, role="manager")
    await add_report(store, "idea", idea_id, other.id, "looks like <b>spam</b>", utcnow())
    page = await (await client.get("/forum/moderation")).text()
    assert "looks like &lt;b&gt;spam&lt;/b&gt;" in page and "<script>alert(1)" not in page
    assert f'action="/forum/moderation/ideas/{idea_id}"' in page
    await _post(client, f"/forum/moderation/ideas/{idea_id}", {"action": "spam"}, 403)
    await _post(client, f"/forum/moderation/ideas/{idea_id}", {"csrf": csrf, "action": "spam"})
    assert (await store.get_idea(idea_id)).spam and await store.open_reports() == []
    await _post(client, f"/forum/moderation/ideas/{idea_id}", {"csrf": csrf, "action": "nonsense"}, 400)
    await _post(client, f"/forum/moderation/accounts/{other.id}", {"csrf": csrf, "action": "block"})
    assert (await store.get_account(other.id)).blocked
    await _post(client, f"{url}/delete", {"csrf": csrf})
    assert (await client.get(url)).status == 404


async def test_approval_queue_on_pages(app_client) -> None:
    client = await app_client(customers=True, overrides={
        "forum.trust_signup_email": True, "forum.moderation.approve_ideas": True})
    csrf = await sign_in_customer(client)
    url = await _submit(client, csrf, "Waiting idea")
    assert "waiting for a moderator" in await (await client.get(url)).text()
    listing = await (await client.get("/forum")).text()
    assert "Waiting idea" in listing and "waiting for a moderator" in listing  # its author sees it
    await client.post("/forum/signout", data={"csrf": csrf})
    assert (await client.get(url)).status == 404
    assert "Waiting idea" not in await (await client.get("/forum")).text()


async def test_notification_list_unread_count_and_settings(client) -> None:
    csrf = await sign_in_customer(client)
    store = client.app[RUNTIME].store
    url = await _submit(client, csrf, "Export " + XSS)
    idea_id = int(url.rsplit("/", 1)[1])
    me = (await store.get_login("jo@acmeanvils.example"))[0]
    staff = await store.create_account("pm@crm.example", "PM", None, "team")
    ideas_events = client.app[RUNTIME].idea_events
    for n, (old, new) in enumerate((("open", "planned"), ("planned", "in-progress"))):
        change = StatusChange(idea_id, old, new, f"Step {n} <b>!</b>", staff.id,
                              utcnow() + timedelta(seconds=n))
        idea = await store.get_idea(idea_id)
        items = await ideas_events.status_notifications(idea, change, (me.id,))
        await set_status(store, change, items)

    html = await (await client.get("/forum")).text()
    assert re.search(r'class="badge"[^>]*>2<', html)
    page = await (await client.get("/forum/notifications")).text()
    assert "Step 0 &lt;b&gt;!&lt;/b&gt;" in page and "<script>alert(1)" not in page
    first = (await store.list_notifications(me.id))[1]
    await _post(client, "/forum/notifications/read", {"id": str(first.id)}, 403)
    await _post(client, "/forum/notifications/read", {"csrf": csrf, "id": str(first.id)})
    assert await store.unread_count(me.id) == 1
    await _post(client, "/forum/notifications/read", {"csrf": csrf})
    assert await store.unread_count(me.id) == 0
    assert 'class="badge"' not in await (await client.get("/forum")).text()

    settings = await (await client.get("/forum/settings")).text()
    assert "Export &lt;script&gt;" in settings and 'name="mail" value="1" checked' in settings
    await _post(client, "/forum/settings", {"csrf": csrf, "digest": "1"})
    assert await store.mail_enabled([me.id]) == {me.id: False}
    assert await store.digest_enabled([me.id]) == {me.id: True}
    settings = await (await client.get("/forum/settings?saved=1")).text()
    assert 'name="digest" value="1" checked' in settings and "Saved." in settings
    await _post(client, f"{url}/follow", {"csrf": csrf, "action": "unfollow", "next": "https://evil.example/"})
    assert await store.followed_ideas(me.id) == []
    assert (await client.get("/forum/notifications", allow_redirects=False)).status == 200
    await client.post("/forum/signout", data={"csrf": csrf})
    assert (await client.get("/forum/notifications", allow_redirects=False)).status == 303


async def test_live_vote_counts_endpoint_and_markup(client) -> None:
    csrf = await sign_in_customer(client)
    url = await _submit(client, csrf)
    idea_id = int(url.rsplit("/", 1)[1])
    html = await (await client.get("/forum")).text()
    assert f'data-vote-count="{idea_id}"' in html and "/static/forum_votes.js" in html
    await _post(client, f"{url}/vote", {"csrf": csrf})
    got = await (await client.get(f"/api/ideas/votes?ids={idea_id},999")).json()
    assert got == {"items": {str(idea_id): 1}}
    assert (await client.get("/api/ideas/votes?ids=1,x")).status == 400
    assert (await client.get("/api/ideas/votes")).status == 400
    assert (await client.get("/static/forum_votes.js")).status == 200
