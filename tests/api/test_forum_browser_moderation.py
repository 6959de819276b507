"""The staff moderation page and the customer's notification and settings pages in real
headless Chromium against ``crmsphere serve`` (approval queue on) on a temporary store.

Hostile idea titles, bodies, comments and report reasons are posted through the JSON API;
the pages must show them as text and run none of them (no dialog, no global set by a
payload, no scripted attribute, no console error).  The moderation buttons, mark-read and the
settings switches are then used through the plain forms with JavaScript switched off.
Screenshots go to the test's temporary directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser_helpers import (
    api_sign_up, assert_nothing_ran, browser_tab, forum_server, needs_chromium, password_hash, sign_in,
)

STAFF_EMAIL = "mo@crmsphere.example"
CUSTOMER_EMAIL = "jo@acmeanvils.example"

# Every payload tries to set window.__xss or open a dialog; any success fails the test.
IDEA_TITLE = "<script>window.__xss=21;alert(21)</script> Bulk export <img src=x onerror=\"window.__xss=22\">"
IDEA_BODY = """Export **everything**.

<script>window.__xss = 23; alert("body")</script>
<img src=x onerror="window.__xss=24;alert(24)">
<a href="javascript:window.__xss=25">raw link</a>
[click me](javascript:window.__xss=26)
"""
COMMENT = ("buy now <script>window.__xss=27</script> <img src=x onerror=window.__xss=28> "
           "[prize](javascript:alert(29))")
REASON = "spam <script>window.__xss=30</script> <a href=javascript:alert(31)>see</a>"

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's temporary directory: store, config, server log and screenshots."""
    return tmp_path_factory.mktemp("forum-browser-moderation")


@pytest.fixture(scope="module")
def server(tmp: Path) -> Iterator[tuple[str, str]]:
    """``crmsphere serve`` with the approval queue on; yields its base URL and a manager's
    API token (the manager signs in at ``STAFF_EMAIL`` with ``PASSWORD``)."""
    with forum_server(tmp, STAFF_EMAIL, "Mo", password_hash(),
                      "[forum]\ntrust_signup_email = true\n"
                      "[forum.moderation]\napprove_ideas = true\n"
                      "[notify]\ndigest_check_seconds = 0\n") as running:
        yield running


@pytest.fixture(scope="module")
def hostile(browser, server) -> dict[str, int]:
    """A customer's pending idea and a reported comment, all hostile, made through the API:
    ids of the staff idea commented on, the pending idea and the comment."""
    base, manager_token = server
    staff = {"Authorization": f"Bearer {manager_token}"}
    with browser_tab(browser, base) as tab:
        api = tab.context.request
        csrf = api_sign_up(api, CUSTOMER_EMAIL, "Jo <b onmouseover=x>")
        pending = api.post("/api/ideas", data={"title": IDEA_TITLE, "body": IDEA_BODY}, headers=csrf)
        assert pending.status == 201, pending.text()
        assert pending.json()["approval"] == "pending"
        public = api.post("/api/ideas", data={"title": "Calendar sync", "body": ""}, headers=staff)
        assert public.status == 201, public.text()
        said = api.post(f"/api/ideas/{public.json()['id']}/comments", data={"body": COMMENT}, headers=csrf)
        assert said.status == 201, said.text()
        reported = api.post(f"/api/comments/{said.json()['id']}/report", data={"reason": REASON},
                            headers=csrf)
        assert reported.status == 201, reported.text()
        return {"public": public.json()["id"], "pending": pending.json()["id"],
                "comment": said.json()["id"]}


def test_moderation_page_shows_hostile_items_as_text_and_its_forms_work(browser, server, hostile, tmp) -> None:
    """A manager sees the pending idea and the reported comment as text; hide and approve work."""
    with browser_tab(browser, server[0], size=(1280, 900), sign_in_as=STAFF_EMAIL) as page:
        page.goto("/forum/moderation")
        assert_nothing_ran(page, tmp / "moderation.png")
        pending = page.locator("section[aria-labelledby=pending-ideas] li.mod-item")
        assert pending.count() == 1
        assert pending.locator(f"a[href='/forum/ideas/{hostile['pending']}']").inner_text() == IDEA_TITLE
        body = pending.locator(".body").inner_text()
        for shown in ('<script>window.__xss = 23; alert("body")</script>', "raw link", "click me"):
            assert shown in body
        assert "Jo <b onmouseover=x>" in pending.inner_text()
        report = page.locator("section[aria-labelledby=reports] li.mod-item")
        assert report.count() == 1 and f"Comment #{hostile['comment']}" in report.inner_text()
        assert REASON in report.inner_text()
        shown = report.locator(".body").inner_text()
        assert "buy now <script>window.__xss=27</script>" in shown and "prize" in shown

    # The buttons are plain forms: they work with JavaScript off.
    with browser_tab(browser, server[0], sign_in_as=STAFF_EMAIL, java_script_enabled=False) as page:
        page.goto("/forum/moderation")
        page.click(f"form[action='/forum/moderation/comments/{hostile['comment']}'] button[value=hide]")
        assert page.url.endswith("/forum/moderation")
        assert page.locator("section[aria-labelledby=reports] li.mod-item").count() == 0
        page.click(f"form[action='/forum/moderation/ideas/{hostile['pending']}'] button[value=approve]")
        assert page.locator("section[aria-labelledby=pending-ideas] li.mod-item").count() == 0
        page.screenshot(path=str(tmp / "moderation_done.png"), full_page=True)
        assert page.errors == []

    # What a customer sees now: the approved idea listed, the hidden comment gone.
    with browser_tab(browser, server[0], java_script_enabled=False) as page:
        page.goto("/forum?sort=new")
        assert page.inner_text(f"a.title[href='/forum/ideas/{hostile['pending']}']") == IDEA_TITLE
        page.goto(f"/forum/ideas/{hostile['public']}")
        assert "buy now" not in page.inner_text("#comments")


FOLLOWED_TITLE = "Dark <script>window.__xss=41;alert(41)</script> mode <img src=x onerror=\"window.__xss=42\">"
RESPONSE = "On it <script>window.__xss=43</script> [see](javascript:alert(44))"


def test_notifications_and_settings_pages_for_a_followed_idea(browser, server, hostile, tmp) -> None:
    """A voter sees the status change listed as text, marks it read, and the switches persist."""
    base, manager_token = server
    staff = {"Authorization": f"Bearer {manager_token}"}
    with browser_tab(browser, base, size=(1280, 900)) as page:
        api = page.context.request
        made = api.post("/api/ideas", data={"title": FOLLOWED_TITLE, "body": ""}, headers=staff)
        assert made.status == 201, made.text()
        idea_id = made.json()["id"]
        sign_in(page, CUSTOMER_EMAIL)
        page.goto(f"/forum/ideas/{idea_id}")  # voting follows the idea
        page.click("article form.vote button")
        # Wait for the vote's answer (the pressed button) before the status changes: the
        # vote is what makes the customer a follower.
        page.wait_for_selector("article form.vote button[aria-pressed='true']")
        moved = api.post(f"/api/ideas/{idea_id}/status", data={"status": "planned", "response": RESPONSE},
                         headers=staff)
        assert moved.status == 200, moved.text()

        page.goto("/forum/notifications")
        assert_nothing_ran(page, tmp / "notifications.png")
        note = page.locator("li.notification", has=page.locator(f"a[href='/forum/ideas/{idea_id}']"))
        assert note.count() == 1
        assert FOLLOWED_TITLE in note.locator("a").inner_text() and "Planned" in note.inner_text()
        assert RESPONSE in note.inner_text()
        assert "unread" in note.get_attribute("class")
        page.goto("/forum/settings")
        assert_nothing_ran(page, tmp / "settings.png")
        assert page.locator(f"ul.followed a[href='/forum/ideas/{idea_id}']").inner_text() == FOLLOWED_TITLE

    # Mark read and the switches are plain forms: they work with JavaScript off.
    with browser_tab(browser, base, sign_in_as=CUSTOMER_EMAIL, java_script_enabled=False) as page:
        page.goto("/forum/notifications")
        note = page.locator("li.notification", has=page.locator(f"a[href='/forum/ideas/{idea_id}']"))
        note.locator("form button[type=submit]").click()
        assert page.url.endswith("/forum/notifications")
        note = page.locator("li.notification", has=page.locator(f"a[href='/forum/ideas/{idea_id}']"))
        assert "unread" not in note.get_attribute("class") and note.locator("form").count() == 0

        page.goto("/forum/settings")
        mail, digest = page.locator("input[name=mail]"), page.locator("input[name=digest]")
        assert mail.is_checked() and not digest.is_checked()  # the defaults
        mail.uncheck()
        digest.check()
        page.click("form[action='/forum/settings'] button[type=submit]")
        assert page.locator("p.notice[role=status]").inner_text() == "Saved."
        page.goto("/forum/settings")  # a fresh load, not the redirect's page
        assert not page.locator("input[name=mail]").is_checked()
        assert page.locator("input[name=digest]").is_checked()
        page.screenshot(path=str(tmp / "settings_saved.png"), full_page=True)
        page.locator("input[name=mail]").check()
        page.locator("input[name=digest]").uncheck()
        page.click("form[action='/forum/settings'] button[type=submit]")
        # The form posts and redirects: wait for its answer before loading the page again
        # (a reload in the middle of that navigation fails in Chromium).
        assert page.locator("p.notice[role=status]").inner_text() == "Saved."
        page.goto("/forum/settings")
        assert page.locator("input[name=mail]").is_checked()
        assert not page.locator("input[name=digest]").is_checked()
        assert page.errors == []
