"""The ideas forum in real headless Chromium against ``crmsphere serve`` on a temporary store.

Hostile titles, bodies, comments and staff responses are posted through the running
server's JSON API (a customer's session and CSRF token, a manager's API token); then the
idea page, the list and the roadmap are opened and nothing may run: no dialog, no global
set by a payload, no ``javascript:`` URL or inline event handler in the DOM, no console
error — while the payload text is still shown to the reader.  A second browser context
with JavaScript switched off signs up, signs out and in, submits, votes and comments
through the plain forms.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser_helpers import (
    ARTIFACTS, PASSWORD, api_sign_up, browser_tab, forum_server, needs_chromium, sign_in, wait_until,
)
from tests.browser_helpers import assert_nothing_ran as assert_nothing_ran_at


# Every payload tries to set window.__xss and to open a dialog; any success fails the test.
TITLE = ("<script>window.__xss=1;alert('title')</script> Dark mode "
         "<img src=x onerror=\"window.__xss=2;alert(2)\"> <svg onload=\"window.__xss=3\">")
BODY = """Please add **dark mode**.

<script>window.__xss = 4; alert("body")</script>
<img src=x onerror="window.__xss=5;alert(5)">
<svg/onload="window.__xss=6">
<a href="javascript:window.__xss=7">raw link</a>
[click me](javascript:window.__xss=8)
<javascript:alert(9)>
<iframe src="javascript:window.__xss=10"></iframe>
"""
COMMENT = ("me too <script>window.__xss=11</script> <img src=x onerror=window.__xss=12> "
           "[docs](javascript:alert(13)) <svg onload=alert(14)>")
RESPONSE = "Planned! <script>window.__xss=15</script> [more](javascript:alert(16))"

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``crmsphere serve`` on a temporary store; yields its base URL and a manager's API token."""
    tmp = tmp_path_factory.mktemp("forum-browser")
    with forum_server(tmp, "pat@crmsphere.example", "Pat", None,
                      "[forum]\ntrust_signup_email = true\n") as running:
        yield running


@pytest.fixture(scope="module")
def hostile_idea(browser, server) -> int:
    """An idea with hostile title, body, comments and staff response, made through the API."""
    base, manager_token = server
    with browser_tab(browser, base) as tab:
        api = tab.context.request
        csrf = api_sign_up(api, "jo@acmeanvils.example", "Jo <b onmouseover=x>")
        made = api.post("/api/ideas", data={"title": TITLE, "body": BODY}, headers=csrf)
        assert made.status == 201, made.text()
        idea_id = made.json()["id"]
        said = api.post(f"/api/ideas/{idea_id}/comments", data={"body": COMMENT}, headers=csrf)
        assert said.status == 201, said.text()
        reply = api.post(f"/api/ideas/{idea_id}/comments",
                         data={"body": "<script>window.__xss=17</script>reply", "parent_id": said.json()["id"]},
                         headers=csrf)
        assert reply.status == 201, reply.text()
        assert api.post(f"/api/ideas/{idea_id}/vote", headers=csrf).status == 201
        staff = {"Authorization": f"Bearer {manager_token}"}
        moved = api.post(f"/api/ideas/{idea_id}/status", data={"status": "planned", "response": RESPONSE},
                         headers=staff)
        assert moved.status == 200, moved.text()
    return idea_id


@pytest.fixture
def page(browser, server):
    """A watched tab (errors and dialogs recorded) of a fresh context on the server."""
    with browser_tab(browser, server[0], size=(1280, 900)) as tab:
        yield tab


def assert_nothing_ran(page, shot: str) -> None:
    """No payload ran and none can (``tests.browser_helpers.assert_nothing_ran``); the screenshot
    goes to ``test-artifacts/forum_<shot>.png``."""
    assert_nothing_ran_at(page, ARTIFACTS / f"forum_{shot}.png")


def test_idea_page_shows_hostile_text_without_running_it(page, hostile_idea) -> None:
    page.goto(f"/forum/ideas/{hostile_idea}")
    assert_nothing_ran(page, "idea")
    assert page.inner_text("h1") == TITLE
    body = page.inner_text("article .body")
    for shown in ('<script>window.__xss = 4; alert("body")</script>', "raw link", "click me",
                  '<svg/onload="window.__xss=6">', "dark mode"):
        assert shown in body
    comments = page.inner_text("#comments")
    assert "me too <script>window.__xss=11</script>" in comments and "<svg onload=alert(14)>" in comments
    assert "<script>window.__xss=17</script>reply" in comments
    assert "<script>window.__xss=15</script>" in page.inner_text(".response")
    assert page.get_by_text("Jo <b onmouseover=x>").first.is_visible()


def test_list_and_roadmap_show_hostile_titles_without_running_them(page, hostile_idea) -> None:
    page.goto("/forum?sort=top")
    assert_nothing_ran(page, "list")
    assert page.inner_text(f"a.title[href='/forum/ideas/{hostile_idea}']") == TITLE
    page.goto("/forum/roadmap")
    assert_nothing_ran(page, "roadmap")
    lane = page.locator("section.lane", has_text="Planned")
    assert lane.locator(f"a[href='/forum/ideas/{hostile_idea}']").inner_text() == TITLE


def test_similar_ideas_while_typing_show_titles_as_text(page, server, hostile_idea) -> None:
    sign_in(page, "jo@acmeanvils.example")
    page.goto("/forum/submit")
    page.fill("#idea-title", "dark mode please")
    suggestion = page.wait_for_selector(f"#similar-ideas a[href='/forum/ideas/{hostile_idea}']", timeout=5000)
    assert suggestion.inner_text() == TITLE
    assert_nothing_ran(page, "submit_similar")


def test_core_flows_work_without_javascript(browser, server) -> None:
    with browser_tab(browser, server[0], java_script_enabled=False) as page:
        page.goto("/forum/signup")
        page.fill("input[name=email]", "sam@acmeanvils.example")
        page.fill("input[name=password]", PASSWORD)
        page.fill("input[name=name]", "Sam")
        page.click("form[action='/forum/signup'] button[type=submit]")
        # Signing up says the same for any address, then asks for the password.
        assert "Check your e-mail" in page.inner_text("main .notice")
        page.goto("/forum/signin")
        page.fill("input[name=email]", "sam@acmeanvils.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/forum/signin'] button[type=submit]")
        assert page.inner_text(".forum-nav .who") == "Sam"
        page.click(".forum-nav details.account-menu summary")  # Sign out is in the account's menu
        page.click(".forum-nav form[action='/forum/signout'] button")
        assert page.locator(".forum-nav .who").count() == 0

        sign_in(page, "sam@acmeanvils.example")
        assert page.inner_text(".forum-nav .who") == "Sam"

        page.goto("/forum/submit")
        page.fill("input[name=title]", "Export invoices as CSV")
        page.fill("textarea[name=body]", "For our *accountants*.")
        page.click("#submit-idea button[type=submit]")
        assert page.inner_text("h1") == "Export invoices as CSV"
        assert page.inner_text("article .body em") == "accountants"

        vote = page.locator("article form.vote button")
        assert vote.get_attribute("aria-pressed") == "false" and vote.inner_text().split() == ["0", "Vote"]
        vote.click()
        vote = page.locator("article form.vote button")
        assert vote.get_attribute("aria-pressed") == "true" and vote.inner_text().split() == ["1", "Voted"]

        page.fill("#comments > form textarea[name=body]", "Monthly would be enough")
        page.click("#comments > form button[type=submit]")
        assert "Monthly would be enough" in page.inner_text("#comments .comment .body")

        page.goto("/forum?sort=new")
        assert page.locator("a.title", has_text="Export invoices as CSV").count() == 1
        # The list's one vote form, without JavaScript: back to the same list, at the card.
        listed = page.get_by_role("button", name="Remove your vote for Export invoices as CSV")
        assert listed.get_attribute("aria-pressed") == "true" and listed.inner_text().split() == ["1", "Voted"]
        listed.click()
        assert "/forum?sort=new#idea-" in page.url
        listed = page.get_by_role("button", name="Vote for Export invoices as CSV")
        assert listed.get_attribute("aria-pressed") == "false" and listed.inner_text().split() == ["0", "Vote"]
        listed.click()
        assert page.get_by_role("button", name="Remove your vote for Export invoices as CSV").inner_text().split() == [
            "1", "Voted"]


def test_vote_counts_update_without_a_reload(page, server, hostile_idea) -> None:
    """The live vote count: a vote cast elsewhere shows on an open list without reloading it."""
    base, manager_token = server
    page.goto("/forum?sort=top")
    counter = page.locator(f'[data-vote-count="{hostile_idea}"]').first
    before = int(counter.inner_text())
    page.evaluate("window.__marker = 'same page'")  # gone if the page were reloaded
    voted = page.context.request.post(
        f"/api/ideas/{hostile_idea}/vote", headers={"Authorization": f"Bearer {manager_token}"},
        data={"customer_id": "cus_target", "note": "on a call", "source": "call"})
    assert voted.status in (200, 201), voted.text()
    page.evaluate("window.crmsphereRefreshVotes()")  # the next tick of the poll, now
    wait_until(
        page,
        f"document.querySelector('[data-vote-count=\"{hostile_idea}\"]').textContent === '{before + 1}'",
        timeout=5000)
    assert page.evaluate("window.__marker") == "same page"
    assert_nothing_ran(page, "live_votes")
