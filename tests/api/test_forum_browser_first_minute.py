"""The forum's first minute, in real headless Chromium at a desktop (1440×900) and a phone
(390×844), light and dark: a branded header (the name's initials when no logo is configured)
that takes one row on a phone, a "Suggest an idea" box beside the list that offers similar
ideas while the title is typed (and posts without JavaScript; signed out it asks to sign in and
keeps the title), and a roadmap that says when each idea moved to its column.  axe-core finds
no violation on any of them.  Screenshots go to ``test-artifacts/first_minute_<page>_<size>_<scheme>.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.api.a11y_checks import axe_violations
from tests.api.test_forum_brand import png_image
from tests.browser_helpers import PASSWORD, api_sign_up, browser_tab, forum_server, needs_chromium, screenshot

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
BRAND = "Anvil Ideas"
CUSTOMER = "jo@acmeanvils.example"

pytestmark = needs_chromium

IDEAS = [  # title, body, statuses it moves through
    ("Export invoices as CSV", "Our accountants close the month in a spreadsheet.", ("planned",)),
    ("Single sign-on with Okta", "Our IT department requires SSO for every tool we buy.",
     ("planned", "in-progress", "done")),
    ("Dark mode", "Easier on the eyes in the evening.", ("in-progress",)),
    ("Slack alerts for urgent mentions", "A message in the account team's channel.", ()),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``crmsphere serve`` branded without a logo; yields the base URL and a manager's token."""
    tmp = tmp_path_factory.mktemp("forum-first-minute")
    # This module signs the same customer in a dozen times within a minute: the browser tests'
    # configuration lets that through (``browser_test_config``).
    config = f'[forum]\ntrust_signup_email = true\nbrand_name = "{BRAND}"\naccent_color = "#0e7c66"\n'
    with forum_server(tmp, "pat@crmsphere.example", "Pat", None, config) as running:
        yield running


@pytest.fixture(scope="module")
def ideas(browser, server) -> dict[str, int]:
    """A customer's ideas, some moved along the roadmap by staff; their ids by title."""
    base, manager_token = server
    staff = {"Authorization": f"Bearer {manager_token}"}
    with browser_tab(browser, base) as tab:
        api = tab.context.request
        csrf = api_sign_up(api, CUSTOMER, "Jo Rivera")
        made = {}
        for title, body, statuses in IDEAS:
            answer = api.post("/api/ideas", data={"title": title, "body": body}, headers=csrf)
            assert answer.status == 201, answer.text()
            made[title] = answer.json()["id"]
            for status in statuses:
                moved = api.post(f"/api/ideas/{made[title]}/status", headers=staff,
                                 data={"status": status, "response": "Moved along."})
                assert moved.status == 200, moved.text()
    return made


def _open(browser, server, size: str, scheme: str = "light", *, signed_in: bool = False, script: bool = True):
    """A watched tab at ``size`` in ``scheme``, signed in as the customer if ``signed_in``;
    closed on leaving."""
    return browser_tab(browser, server[0], size=SIZES[size], sign_in_as=CUSTOMER if signed_in else None,
                       color_scheme=scheme, java_script_enabled=script)


def _check(page, name: str, size: str, scheme: str) -> None:
    """Screenshot; no console error; no axe violation; on a phone no sideways scroll."""
    page.wait_for_load_state("load")
    screenshot(page, f"first_minute_{name}_{size}_{scheme}.png", full_page=True)
    assert page.errors == [], (name, size, scheme, page.errors)
    assert axe_violations(page) == [], (name, size, scheme)
    if size == "phone":
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, name


def _header_is_one_row(page) -> None:
    """The header is one row: at most 64 px tall, and every link of it sits in that row."""
    header = page.locator(".site-header").bounding_box()
    assert page.locator(".nav-tabs a").first.is_visible()
    assert page.locator(".nav-account a:visible, .nav-account button:visible").count() >= 1  # sign in or out
    assert header and header["height"] <= 64, header
    for link in page.locator(".site-header .brand, .nav-account a, .nav-account button, .nav-tabs a").all():
        box = link.bounding_box()
        if box is None:  # not shown on a phone (sign-up: the board's box and the sign-in page offer it)
            continue
        assert box["y"] >= header["y"] and box["y"] + box["height"] <= header["y"] + header["height"] + 1, \
            (link.inner_text(), box, header)


def _badges_in_sight(page) -> list[tuple[str, str]]:
    """The header's count badges a person can see: shown, and not scrolled out of the tab
    strip (the link each sits in, and its text)."""
    strip = page.locator(".nav-tabs").bounding_box()
    seen = []
    for badge in page.locator(".site-header .badge:visible").all():
        box = badge.bounding_box()
        in_strip = badge.locator("xpath=ancestor::*[contains(@class, 'nav-tabs')]").count() > 0
        if box and not (in_strip and strip and box["x"] + box["width"] > strip["x"] + strip["width"]):
            seen.append((badge.locator("xpath=ancestor::a[1]").get_attribute("href"), badge.inner_text()))
    return seen


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", SIZES)
def test_the_board_has_a_brand_a_suggest_box_and_a_compact_header(browser, server, ideas, size: str,
                                                                  scheme: str) -> None:
    for signed_in in (False, True):
        with _open(browser, server, size, scheme, signed_in=signed_in) as page:
            page.goto("/forum")
            who = "customer" if signed_in else "visitor"
            _check(page, f"board_{who}", size, scheme)
            # The brand: its initials as the mark, its name the link's text (shown on a desktop).
            assert page.inner_text(".site-header .brand-mark") == "AI"
            assert page.locator(".site-header .brand").get_attribute("href") == "/forum"
            assert page.locator(".site-header .brand .brand-name").text_content() == BRAND
            name_box = page.locator(".site-header .brand-name").bounding_box()
            assert name_box and (name_box["width"] > 50) is (size == "desktop"), name_box
            # On a phone the board names the brand instead, above its title.
            assert page.locator(".board-brand").is_visible() is (size == "phone")
            if size == "phone":
                _header_is_one_row(page)
            if signed_in:
                # The unread count is in sight at every size (on a phone the tab strip hides
                # Notifications, so it sits by the account; once, never twice).
                in_sight = _badges_in_sight(page)
                assert len(in_sight) == 1, in_sight
                assert in_sight[0][0] == "/forum/notifications" and int(in_sight[0][1]) > 0
            # One call to action on the board: its box, not also a header button.
            assert page.locator(".site-header a.suggest").count() == 0
            box = page.locator("#suggest")
            assert box.is_visible() and box.locator("h2").inner_text() == "Suggest an idea"
            button = box.locator("button[type=submit]")
            assert button.is_enabled()
            assert button.inner_text() == ("Post idea" if signed_in else "Sign in to post")
            if signed_in:
                # On a phone the details field waits until the customer starts on the title.
                details = box.locator("textarea[name=body]")
                assert details.is_visible() is (size == "desktop")
                box.locator("#idea-title").focus()
                details.wait_for(state="visible")
            if size == "desktop":
                # Beside the list, not above it.
                list_box = page.locator(".board-list").bounding_box()
                assert box.bounding_box()["x"] + box.bounding_box()["width"] <= list_box["x"]


@pytest.mark.parametrize("size", SIZES)
def test_typing_a_title_offers_similar_ideas_and_the_box_posts_it(browser, server, ideas, size: str) -> None:
    with _open(browser, server, size, signed_in=True) as page:
        page.goto("/forum")
        page.locator("#idea-title").press_sequentially("export invoices to csv", delay=20)
        offered = page.locator("#similar-ideas a", has_text="Export invoices as CSV")
        offered.wait_for()
        assert offered.get_attribute("href") == f"/forum/ideas/{ideas['Export invoices as CSV']}"
        item = page.locator("#similar-ideas li", has=page.locator("a", has_text="Export invoices as CSV"))
        assert item.locator(".similar-meta").inner_text() == "0 votes · Planned"
        _check(page, "board_similar", size, "light")
        title = f"Export credit notes as CSV <b>too</b> ({size})"
        page.fill("#idea-title", title)
        page.fill("#idea-details", "Credit notes are missing from the invoice export & we need them.")
        page.click("#suggest button[type=submit]")
        page.wait_for_url(re.compile(r".*/forum/ideas/\d+$"))
        assert page.inner_text("main h1") == title


def test_the_box_works_without_javascript(browser, server, ideas) -> None:
    with _open(browser, server, "phone", signed_in=True, script=False) as page:
        page.goto("/forum")
        page.fill("#idea-title", "Reminders before an invoice is due")
        page.click("#suggest button[type=submit]")
        page.wait_for_url(re.compile(r".*/forum/ideas/\d+$"))
        assert page.inner_text("main h1") == "Reminders before an invoice is due"


def test_a_visitor_is_asked_to_sign_in_and_keeps_the_title(browser, server, ideas) -> None:
    with _open(browser, server, "phone") as page:
        page.goto("/forum")
        # Signed out, the similar ideas come too: the visitor may find theirs and vote.
        page.locator("#idea-title").press_sequentially("dark mode please", delay=20)
        page.locator("#similar-ideas a", has_text="Dark mode").wait_for()
        page.fill("#idea-title", 'Export to DATEV & "Lexware"')
        page.click("#suggest button[type=submit]")
        page.wait_for_url(re.compile(r".*/forum/signin\?next=.*"))
        page.fill("input[name=email]", CUSTOMER)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/forum/signin'] button[type=submit]")
        page.wait_for_url(re.compile(r".*/forum/submit\?title=.*"))
        assert page.input_value("input[name=title]") == 'Export to DATEV & "Lexware"'


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", SIZES)
def test_the_roadmap_says_when_ideas_moved_to_their_column(browser, server, ideas, size: str, scheme: str) -> None:
    with _open(browser, server, size, scheme) as page:
        page.goto("/forum/roadmap")
        _check(page, "roadmap", size, scheme)
        # Away from the board's box, the header offers to suggest an idea.
        assert page.locator(".site-header a.suggest").get_attribute("href") == "/forum/submit"
        done = page.locator(".lane.status-done .lane-card", has_text="Single sign-on with Okta")
        assert re.fullmatch(r"Done \d{1,2} [A-Z][a-z]{2}( \d{4})?", done.locator("time").inner_text())
        planned = page.locator(".lane.status-planned .lane-card", has_text="Export invoices as CSV")
        assert planned.locator("time").inner_text().startswith("Planned ")
        if size == "phone":
            _header_is_one_row(page)


@pytest.fixture(scope="module")
def logo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``crmsphere serve`` with a logo file in its data directory."""
    tmp = tmp_path_factory.mktemp("forum-logo")
    (tmp / "data").mkdir()
    (tmp / "data" / "logo.png").write_bytes(png_image(64, 64))
    config = (f'[forum]\nbrand_name = "{BRAND}"\naccent_color = "#0e7c66"\n'
              f'brand_logo_file = "{(tmp / "data" / "logo.png").as_posix()}"\n')
    with forum_server(tmp, "pat@crmsphere.example", "Pat", None, config) as running:
        yield running


@pytest.mark.parametrize("size", SIZES)
def test_a_logo_file_shows_in_the_header(browser, logo_server, size: str) -> None:
    with _open(browser, logo_server, size) as page:
        page.goto("/forum")
        logo = page.locator(".site-header .brand img.brand-logo")
        assert logo.get_attribute("src") == "/forum/brand-logo"
        # Loaded (the page's CSP let it in): a 64 px image drawn at 32 px, no mark instead.
        assert logo.evaluate("img => img.complete && img.naturalWidth") == 64
        assert page.locator(".brand-mark").count() == 0
        _check(page, "board_logo", size, "light")
