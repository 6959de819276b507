"""What customers see, in real headless Chromium at a desktop (1440×900) and a phone (390×844):
the forum list, an idea page, the roadmap, the submit form and the sign-in page of a forum
branded from ``[forum]`` (name and accent colour).  Each page is saved as a screenshot in
``test-artifacts/design_<page>_<size>.png``; no console error on any; on the phone no page
scrolls sideways and the vote buttons and navigation links are at least 44 px each way.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser_helpers import api_sign_up, browser_tab, forum_server, needs_chromium, screenshot

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
ACCENT = "#0e7c66"
BRAND = "Anvil Ideas"

pytestmark = needs_chromium

IDEAS = [
    ("Export invoices as CSV", "Our accountants close the month in a spreadsheet. Today they copy every "
     "invoice by hand from the billing page, which takes a day and is error-prone. A **CSV export** "
     "with the invoice number, customer, amount and tax would save that day.", "billing, export"),
    ("Slack alerts for urgent mentions", "When a customer we watch posts something negative we want a "
     "Slack message in the account team's channel within minutes.", "integrations, alerts"),
    ("Single sign-on with Okta", "Our IT department requires SSO for every tool we buy.", "security"),
    ("Dark mode", "Easier on the eyes in the evening.", "ui"),
    ("Bulk-edit customer segments", "Moving fifty customers from SMB to mid-market one by one is slow.", ""),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``crmsphere serve`` with a brand name and accent colour; yields the base URL and a
    manager's API token."""
    tmp = tmp_path_factory.mktemp("forum-design")
    config = f'[forum]\ntrust_signup_email = true\nbrand_name = "{BRAND}"\naccent_color = "{ACCENT}"\n'
    with forum_server(tmp, "pat@crmsphere.example", "Pat", None, config) as running:
        yield running


@pytest.fixture(scope="module")
def ideas(browser, server) -> list[int]:
    """Five ideas by a customer, with tags, votes of three customers, comments of a customer and
    of staff, statuses with staff responses (one idea planned, then in progress, then done)."""
    base, manager_token = server
    staff = {"Authorization": f"Bearer {manager_token}"}
    with browser_tab(browser, base) as tab:
        api = tab.context.request
        csrf = api_sign_up(api, "jo@acmeanvils.example", "Jo Rivera")
        made = []
        for title, body, tags in IDEAS:
            answer = api.post("/api/ideas", data={"title": title, "body": body, "tags": tags}, headers=csrf)
            assert answer.status == 201, answer.text()
            made.append(answer.json()["id"])
        for idea_id in made[:3]:
            assert api.post(f"/api/ideas/{idea_id}/vote", headers=csrf).status == 201
        for customer in ("cus_acme", "cus_target"):
            for idea_id in made[:2]:
                voted = api.post(f"/api/ideas/{idea_id}/vote", headers=staff,
                                 data={"customer_id": customer, "note": "on a call", "source": "call"})
                assert voted.status in (200, 201), voted.text()
        for status, response, idea_id in (
                ("planned", "Planned for the spring release: CSV first, Excel later.", made[0]),
                ("under-review", "We are looking at how many teams need this.", made[1]),
                ("planned", "Scheduled after the SAML work.", made[2]),
                ("in-progress", "Being built now.", made[2]),
                ("done", "Shipped in 4.2: Okta and any SAML 2.0 provider.", made[2]),
                ("in-progress", "Started: the palette is done.", made[3])):
            moved = api.post(f"/api/ideas/{idea_id}/status", data={"status": status, "response": response},
                             headers=staff)
            assert moved.status == 200, moved.text()
        said = api.post(f"/api/ideas/{made[0]}/comments", headers=csrf,
                        data={"body": "We would need the tax column split by rate, too."})
        assert said.status == 201, said.text()
        assert api.post(f"/api/ideas/{made[0]}/comments", headers=staff,
                        data={"body": "Noted: one column per tax rate.", "parent_id": said.json()["id"]}).status == 201
    return made


def _open(browser, server, size: str, *, signed_in: bool):
    """A watched tab at ``size``, signed in as Jo if ``signed_in``; closed on leaving."""
    return browser_tab(browser, server[0], size=SIZES[size],
                       sign_in_as="jo@acmeanvils.example" if signed_in else None)


def _check(page, name: str, size: str) -> None:
    """Screenshot, no console error, and on the phone no sideways scroll."""
    page.wait_for_load_state("load")
    screenshot(page, f"design_{name}_{size}.png", full_page=True)
    assert page.errors == [], (name, size, page.errors)
    if size == "phone":
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls {overflow} px sideways on a phone"


def _small_targets(page, selector: str) -> list[str]:
    """The elements of ``selector`` (visible ones) smaller than 44×44 px, described."""
    small = []
    for element in page.locator(selector).all():
        box = element.bounding_box()
        if box and (box["width"] < 44 or box["height"] < 44):
            small.append(f"{selector} {element.inner_text()!r}: {box['width']:.0f}×{box['height']:.0f}")
    return small


@pytest.mark.parametrize("size", SIZES)
def test_customer_pages_look_finished_at_desktop_and_phone_sizes(browser, server, ideas, size: str) -> None:
    with _open(browser, server, size, signed_in=True) as page:
        page.goto("/forum?sort=top")
        _check(page, "list", size)
        # The brand, not the product's name; no staff links for a customer.
        assert page.locator(".site-header .brand .brand-name").text_content() == BRAND
        assert "crmsphere" not in page.inner_text("body").lower()
        assert page.locator("a[href='/dashboard']").count() == 0
        # Tags are chips of their own, not "billingexport".
        card = page.locator(f"#idea-{ideas[0]}")
        assert card.locator(".tag").all_inner_texts() == ["billing", "export"]
        assert "billingexport" not in card.inner_text().replace("#", "")
        assert card.locator(".status").inner_text().lower() == "planned"
        assert "Acme Anvils" in card.locator(".byline").inner_text()
        # The comment count where there are comments; no bare "0" beside an idea without any.
        assert card.locator(".comment-count").inner_text() == "2"
        assert page.locator(f"#idea-{ideas[4]} .comment-count").count() == 0
        # The voted state is drawn in the configured accent colour.
        voted = card.locator("button.vote[aria-pressed=true]")
        assert voted.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(14, 124, 102)"
        if size == "phone":
            assert _small_targets(page, "button.vote") == []
            assert _small_targets(page, ".forum-nav a") == []

        page.goto(f"/forum/ideas/{ideas[0]}")
        _check(page, "idea", size)
        assert page.inner_text(".voters") == "▲ Voted for by Acme Anvils and 2 others"
        assert "CSV first" in page.inner_text(".response")
        assert page.locator(".timeline-item").count() == 1

        page.goto(f"/forum/ideas/{ideas[2]}")
        _check(page, "idea_history", size)
        assert page.locator(".timeline-item").count() == 3

        page.goto("/forum/roadmap")
        _check(page, "roadmap", size)
        lanes = page.locator("section.lane")
        assert lanes.count() == 3
        first, second = lanes.nth(0).bounding_box(), lanes.nth(1).bounding_box()
        if size == "desktop":
            assert first["y"] == second["y"] and second["x"] > first["x"], "columns side by side"
        else:
            assert second["y"] > first["y"] + first["height"] - 1, "columns stacked on a phone"

        page.goto("/forum/submit")
        _check(page, "submit", size)
        for field in ("input[name=title]", "textarea[name=body]", "input[name=tags]", "#submit-idea button"):
            box = page.locator(field).bounding_box()
            assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= SIZES[size][0], field

        for name in ("notifications", "settings"):
            page.goto(f"/forum/{name}")
            _check(page, name, size)


@pytest.mark.parametrize("size", SIZES)
def test_sign_in_page_at_desktop_and_phone_sizes(browser, server, size: str) -> None:
    with _open(browser, server, size, signed_in=False) as page:
        page.goto("/forum/signin")
        _check(page, "signin", size)
        assert page.locator(".site-header .brand .brand-name").text_content() == BRAND
        if size == "phone":
            assert _small_targets(page, ".forum-nav a") == []
            assert _small_targets(page, "form[action='/forum/signin'] button, form[action='/forum/signin'] input:not([type=hidden])") == []
        page.goto("/forum/ideas/999999")
        # the answer's status (as a response and its console line), nothing else
        assert page.errors and all("404" in error for error in page.errors), page.errors
        page.errors.clear()
        _check(page, "not_found", size)
        assert page.locator(".site-header .brand .brand-name").text_content() == BRAND


def test_dark_mode_follows_the_system_setting(browser, server, ideas) -> None:
    with browser_tab(browser, server[0], size="desktop", sign_in_as="jo@acmeanvils.example",
                     color_scheme="dark") as page:
        for name, path in (("list", "/forum?sort=top"), ("idea", f"/forum/ideas/{ideas[0]}")):
            page.goto(path)
            _check(page, f"{name}_dark", "desktop")
            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
            text = page.evaluate("getComputedStyle(document.body).color")
            assert background == "rgb(15, 17, 23)" and text == "rgb(231, 233, 238)", (background, text)


@pytest.mark.parametrize("size", SIZES)
def test_staff_see_their_links_and_tools_without_breaking_the_phone_layout(browser, server, ideas, size: str) -> None:
    width, height = SIZES[size]
    with browser_tab(browser, server[0], size=(width, height),
                     extra_http_headers={"Authorization": f"Bearer {server[1]}"}) as page:
        page.goto(f"/forum/ideas/{ideas[0]}")
        _check(page, "idea_staff", size)
        assert page.locator(".site-header a[href='/dashboard']").inner_text() == "Dashboard"
        assert page.locator("section.staff form[action$='/status']").count() == 1
        page.goto("/forum/moderation")
        _check(page, "moderation", size)
        # The staff links of the forum's frame lead to pages, never to raw JSON
        assert [a.get_attribute("href") for a in page.locator(".staff-nav a").all()] == [
            "/dashboard", "/dashboard/analytics", "/teams"]
        page.goto("/")  # staff land on the dashboard
        assert page.url.endswith("/dashboard")
        _check(page, "root_staff", size)
