"""The forum's faces in headless Chromium at a desktop (1280×800) and a phone (390×844), light
and dark: the account's things (Notifications, Settings, Sign out) behind the avatar's menu one
tap from the header, usable by keyboard; roadmap cards that vote (in place with JavaScript, as
a plain form without, and through sign-in for a visitor); the operator's welcome above the
board.  axe-core finds no violation.  Screenshots: ``test-artifacts/faces_<page>_<size>_<scheme>.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.a11y_checks import axe_violations
from tests.browser_helpers import PASSWORD, forum_server, needs_chromium, sign_in, watched_page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
CUSTOMER = "jo@acmeanvils.example"
WELCOME = ("**Welcome to Anvil Ideas!** Tell us what would save you time, and vote for what you need "
           "most. See what we are building on the [roadmap](/forum/roadmap).")

pytestmark = needs_chromium

IDEAS = [  # title, body, status it is moved to (None: stays new)
    ("Export invoices as CSV", "Our accountants close the month in a spreadsheet.", "planned"),
    ("Single sign-on with Okta", "Our IT department requires SSO for every tool we buy.", "done"),
    ("Dark mode", "Easier on the eyes in the evening.", "in-progress"),
    ("Reminders before an invoice is due, by e-mail and in the app, three days and one day "
     "before the due date, with the amount and a link to pay", "So nobody pays late again.", "planned"),
    ("Slack alerts for urgent mentions", "A message in the account team's channel.", None),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``crmsphere serve`` with a welcome message; yields the base URL and a manager's token."""
    tmp = tmp_path_factory.mktemp("forum-faces")
    # Many sign-ins of one customer within a minute: past the default limit (checked elsewhere).
    config = ('[forum]\ntrust_signup_email = true\nbrand_name = "Anvil Ideas"\naccent_color = "#0e7c66"\n'
              f'welcome = "{WELCOME}"\n'
              '[forum.rate_limits]\nsign_in_per_account = { limit = 200, window_seconds = 60 }\n')
    with forum_server(tmp, "pat@crmsphere.example", "Pat", None, config) as running:
        yield running


@pytest.fixture(scope="module")
def ideas(browser, server) -> dict[str, int]:
    """The customer's ideas, moved along the roadmap by staff (so the customer has unread
    notifications); their ids by title."""
    base, manager_token = server
    context = browser.new_context(base_url=base)
    staff = {"Authorization": f"Bearer {manager_token}"}
    try:
        api = context.request
        assert api.post("/api/auth/signup", data={"email": CUSTOMER, "password": PASSWORD,
                                                  "name": "Jo Rivera"}).status == 202
        signed = api.post("/api/auth/login", data={"email": CUSTOMER, "password": PASSWORD})
        csrf = {"X-CSRF-Token": signed.json()["csrf_token"]}
        made = {}
        for title, body, status in IDEAS:
            answer = api.post("/api/ideas", data={"title": title, "body": body}, headers=csrf)
            assert answer.status == 201, answer.text()
            made[title] = answer.json()["id"]
            if status:
                moved = api.post(f"/api/ideas/{made[title]}/status", headers=staff,
                                 data={"status": status, "response": "Moved along."})
                assert moved.status == 200, moved.text()
    finally:
        context.close()
    return made


def _open(browser, server, size: str, scheme: str = "light", *, signed_in: bool = False, script: bool = True):
    width, height = SIZES[size]
    context = browser.new_context(base_url=server[0], viewport={"width": width, "height": height},
                                  color_scheme=scheme, java_script_enabled=script)
    page = watched_page(context)
    if signed_in:
        sign_in(page, CUSTOMER)
    return context, page


def _check(page, name: str, size: str, scheme: str, *, full_page: bool = True) -> None:
    """Screenshot; no console error; no axe violation; on a phone no sideways scroll."""
    page.wait_for_load_state("load")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"faces_{name}_{size}_{scheme}.png"), full_page=full_page)
    assert page.errors == [], (name, size, scheme, page.errors)
    assert axe_violations(page) == [], (name, size, scheme)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, name


def _in_view(page, locator) -> bool:
    """Shown and wholly inside the viewport (no scrolling needed to reach it)."""
    box, view = locator.bounding_box(), page.viewport_size
    return bool(locator.is_visible() and box and box["x"] >= 0 and box["y"] >= 0
                and box["x"] + box["width"] <= view["width"] and box["y"] + box["height"] <= view["height"])


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", SIZES)
def test_notifications_and_settings_are_one_tap_behind_the_avatar(browser, server, ideas, size: str, scheme: str) -> None:
    context, page = _open(browser, server, size, scheme, signed_in=True)
    try:
        page.goto("/forum/roadmap")
        header = page.locator(".site-header").bounding_box()
        menu = page.locator(".site-header details.account-menu")
        summary = menu.locator("summary")
        # The avatar (and the name on a desktop) is in sight in the header: a target of 44 px.
        assert _in_view(page, summary)
        box = summary.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, box
        assert box["y"] + box["height"] <= header["y"] + header["height"] + 1
        notifications = menu.locator("a[href='/forum/notifications']")
        settings = menu.locator("a[href='/forum/settings']")
        assert not notifications.is_visible() and not settings.is_visible()
        # Not in the tab strip any more, where a phone scrolled them out of sight.
        assert page.locator(".nav-tabs a[href='/forum/notifications'], .nav-tabs a[href='/forum/settings']").count() == 0
        summary.click()  # one tap
        for link in (notifications, settings, menu.locator("button", has_text="Sign out")):
            assert _in_view(page, link), link
            assert link.bounding_box()["height"] >= 44
        _check(page, "account_menu_open", size, scheme, full_page=False)
        settings.click()
        page.wait_for_url(re.compile(r".*/forum/settings$"))
        assert page.inner_text("main h1")
    finally:
        context.close()


def test_the_account_menu_works_by_keyboard_and_closes_on_escape(browser, server, ideas) -> None:
    context, page = _open(browser, server, "phone", signed_in=True)
    try:
        page.goto("/forum")
        summary = page.locator("details.account-menu summary")
        # Its accessible name says whose account it is, with the name hidden on a phone.
        assert " ".join(summary.text_content().split()).endswith("Your account: Jo Rivera")
        assert summary.locator(".avatar").get_attribute("aria-hidden") == "true"
        summary.focus()
        page.keyboard.press("Enter")
        assert page.locator("details.account-menu").evaluate("d => d.open") is True
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == "/forum/notifications"
        page.keyboard.press("Escape")
        assert page.locator("details.account-menu").evaluate("d => d.open") is False
        assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
        # A click elsewhere closes it too.
        summary.click()
        page.mouse.click(20, 800)  # the page below the menu
        assert page.locator("details.account-menu").evaluate("d => d.open") is False
    finally:
        context.close()


def test_the_account_menu_opens_without_javascript(browser, server, ideas) -> None:
    context, page = _open(browser, server, "phone", signed_in=True, script=False)
    try:
        page.goto("/forum")
        page.locator("details.account-menu summary").click()
        page.locator("details.account-menu a[href='/forum/notifications']").click()
        page.wait_for_url(re.compile(r".*/forum/notifications$"))
        page.locator("details.account-menu summary").click()
        page.locator("details.account-menu button", has_text="Sign out").click()
        page.wait_for_load_state("load")
        assert page.locator(".forum-nav .who").count() == 0
    finally:
        context.close()


def _vote_button(page, idea_id: int):
    return page.locator(f"#idea-{idea_id} button.vote")


@pytest.mark.parametrize("size", SIZES)
def test_a_customer_votes_from_a_roadmap_card_in_place(browser, server, ideas, size: str) -> None:
    context, page = _open(browser, server, size, signed_in=True)
    idea = ideas["Dark mode"]
    try:
        page.goto("/forum/roadmap")
        button = _vote_button(page, idea)
        start = int(button.locator(".count").inner_text())
        assert button.get_attribute("aria-pressed") == "false"
        box = button.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, box
        button.click()
        page.locator(f"#idea-{idea} button.vote[aria-pressed=true]").wait_for()
        assert int(button.locator(".count").inner_text()) == start + 1
        assert page.url.endswith("/forum/roadmap")  # no reload
        _check(page, "roadmap_voted", size, "light")
        button.click()  # and back
        page.locator(f"#idea-{idea} button.vote[aria-pressed=false]").wait_for()
        assert int(button.locator(".count").inner_text()) == start
        # Closed (done): the count, no button.
        done = page.locator(f"#idea-{ideas['Single sign-on with Okta']}")
        assert done.locator("button.vote").count() == 0 and done.locator(".vote-closed .count").is_visible()
    finally:
        context.close()


def test_a_roadmap_card_votes_without_javascript(browser, server, ideas) -> None:
    context, page = _open(browser, server, "phone", signed_in=True, script=False)
    idea = ideas["Export invoices as CSV"]
    try:
        page.goto("/forum/roadmap")
        start = int(_vote_button(page, idea).locator(".count").inner_text())
        _vote_button(page, idea).click()
        page.wait_for_url(re.compile(rf".*/forum/roadmap#idea-{idea}$"))
        assert _vote_button(page, idea).get_attribute("aria-pressed") == "true"
        assert int(_vote_button(page, idea).locator(".count").inner_text()) == start + 1
        _vote_button(page, idea).click()  # take it back
        page.wait_for_load_state("load")
        assert _vote_button(page, idea).get_attribute("aria-pressed") == "false"
    finally:
        context.close()


def test_a_visitor_voting_from_the_roadmap_signs_in_and_comes_back_voted(browser, server, ideas) -> None:
    context, page = _open(browser, server, "phone")
    idea = ideas["Reminders before an invoice is due, by e-mail and in the app, three days and one day "
                 "before the due date, with the amount and a link to pay"]
    try:
        page.goto("/forum/roadmap")
        start = int(_vote_button(page, idea).locator(".count").inner_text())
        _vote_button(page, idea).click()
        page.wait_for_url(re.compile(r".*/forum/signin\?next=.*"))
        page.fill("input[name=email]", CUSTOMER)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/forum/signin'] button[type=submit]")
        page.wait_for_url(re.compile(rf".*/forum/roadmap#idea-{idea}$"))
        assert _vote_button(page, idea).get_attribute("aria-pressed") == "true"
        assert int(_vote_button(page, idea).locator(".count").inner_text()) == start + 1
        _vote_button(page, idea).click()  # leave the count as it was for the other tests
        page.locator(f"#idea-{idea} button.vote[aria-pressed=false]").wait_for()
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", SIZES)
def test_the_welcome_heads_the_board(browser, server, ideas, size: str, scheme: str) -> None:
    context, page = _open(browser, server, size, scheme)
    try:
        page.goto("/forum")
        welcome = page.locator("#welcome")
        assert welcome.is_visible()
        assert welcome.locator("strong").inner_text() == "Welcome to Anvil Ideas!"
        assert welcome.locator("a").get_attribute("href") == "/forum/roadmap"
        # Above the list, and not wider than the page's text.
        assert welcome.bounding_box()["y"] < page.locator(".board").bounding_box()["y"]
        _check(page, "board_welcome", size, scheme)
    finally:
        context.close()


WALK = {  # page name: (path, signed in only)
    "board": ("/forum", False),
    "idea": ("/forum/ideas/{idea}", False),
    "roadmap": ("/forum/roadmap", False),
    "submit": ("/forum/submit?title=Export+credit+notes+as+CSV", True),
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", SIZES)
def test_a_walk_through_the_forum_looks_finished(browser, server, ideas, size: str, scheme: str) -> None:
    """The board, an idea, the roadmap and the suggest form, signed out and in: screenshots,
    no console error, no axe violation, nothing wider than the screen."""
    idea = ideas["Reminders before an invoice is due, by e-mail and in the app, three days and one day "
                 "before the due date, with the amount and a link to pay"]
    for signed_in in (False, True):
        context, page = _open(browser, server, size, scheme, signed_in=signed_in)
        try:
            for name, (path, needs_account) in WALK.items():
                if needs_account and not signed_in:
                    continue
                page.goto(path.format(idea=idea))
                _check(page, f"walk_{name}_{'customer' if signed_in else 'visitor'}", size, scheme)
        finally:
            context.close()


def test_a_title_brought_to_the_suggest_form_shows_its_similar_ideas_at_once(browser, server, ideas) -> None:
    # From the empty search's "Suggest it" the form opens with the searched title: the similar
    # ideas came only once the customer typed, so they wrote a duplicate before seeing them.
    context, page = _open(browser, server, "phone", signed_in=True)
    try:
        page.goto("/forum/submit?title=export+invoices+to+csv")
        offered = page.locator("#similar-ideas a", has_text="Export invoices as CSV")
        offered.wait_for()
        assert offered.get_attribute("href") == f"/forum/ideas/{ideas['Export invoices as CSV']}"
        _check(page, "submit_similar", "phone", "light")
    finally:
        context.close()

