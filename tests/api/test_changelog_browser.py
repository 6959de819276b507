"""The changelog in real headless Chromium against ``crmsphere serve``: a manager writes an
entry in the dashboard editor, finds an idea by searching, previews and publishes; a customer
who voted for the idea finds the notice in the forum and the idea shows Done.  Screenshots of
the changelog and the editor at 1440×900 and 390×844 go to ``test-artifacts/``."""

from __future__ import annotations

from pathlib import Path

from tests.browser_helpers import (
    SIZES, api_sign_up, browser_tab, forum_server, needs_chromium, password_hash, screenshot, sign_in,
)

pytestmark = needs_chromium

MANAGER = "ana@crmsphere.example"
CUSTOMER = "jo@acmeanvils.example"


def _shots(page, name: str) -> None:
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        screenshot(page, f"changelog_{name}_{size}.png", full_page=True)
    page.set_viewport_size(SIZES["desktop"])


def test_a_manager_publishes_and_a_voter_hears_of_it(browser, tmp_path: Path) -> None:
    with (forum_server(tmp_path, MANAGER, "Ana", password_hash(),
                       "[forum]\ntrust_signup_email = true\n") as (base, manager_token),
          browser_tab(browser, base, size="desktop") as tab,
          browser_tab(browser, base, size="desktop", sign_in_as=MANAGER) as page):
        api = tab.context.request
        csrf = api_sign_up(api, CUSTOMER, "Jo Rivera")
        staff = {"Authorization": f"Bearer {manager_token}"}  # staff wrote it: Jo only voted
        idea = api.post("/api/ideas", headers=staff, data={
            "title": "Export invoices as CSV", "body": "Our accountants import them monthly."}).json()
        other = api.post("/api/ideas", headers=csrf, data={"title": "Dark mode", "body": ""}).json()
        assert api.post(f"/api/ideas/{idea['id']}/vote", headers=csrf).status == 201

        # The manager writes the entry, finds the idea by searching, previews, publishes.
        page.goto("/dashboard/changelog")
        page.get_by_role("link", name="New entry").click()
        page.get_by_label("Title", exact=True).fill("Invoices export to CSV <b>now</b>")
        page.get_by_label("What changed").fill(
            "Export your invoices as **CSV** from the billing page.\n\n- every invoice\n- any month")
        page.get_by_label("Find ideas by words in their title").fill("invoices")
        found = page.locator("#found input[name=idea]")
        found.first.wait_for()
        assert found.count() == 1 and found.first.get_attribute("value") == str(idea["id"])
        found.first.check()
        assert page.locator(f"#picked input[value='{idea['id']}']").is_checked()
        page.get_by_role("button", name="Preview").click()
        page.locator(".changelog-preview strong").wait_for()
        assert page.locator(".changelog-preview strong").inner_text() == "CSV"
        assert page.locator(f"#picked input[value='{idea['id']}']").is_checked()
        _shots(page, "editor")
        page.get_by_role("button", name="Publish and tell customers").click()
        page.get_by_role("status").filter(has_text="Published").wait_for()
        assert page.errors == []

        # The customer who voted (and so follows the idea) finds one notice: the idea is
        # done, with the team's response pointing at the changelog entry.
        sign_in(tab, CUSTOMER)
        tab.locator(".account-menu summary").click()  # the account's things are behind its menu
        tab.get_by_role("link", name="Notifications").click()
        notice = tab.get_by_role("link", name="\u201cExport invoices as CSV\u201d is now Done")
        notice.wait_for()
        assert tab.locator(".notification").count() == 1
        notice.click()
        tab.locator(".idea-header .status").first.wait_for()
        assert tab.locator(".idea-header .status").first.inner_text().strip().lower() == "done"
        # The response links the entry at the public address (routing.public_url).
        assert tab.locator(".response a[href$='/forum/changelog/1']").count() == 1
        tab.goto("/forum/changelog/1")
        tab.get_by_role("heading", level=1, name="Invoices export to CSV <b>now</b>").wait_for()
        shipped = tab.locator(".changelog-ideas a")
        assert shipped.count() == 1 and shipped.inner_text() == "Export invoices as CSV"
        tab.get_by_role("link", name="Changelog", exact=True).first.click()
        tab.locator(".changelog-entry").first.wait_for()
        _shots(tab, "page")
        assert tab.errors == []
        # The idea nobody shipped is untouched.
        assert api.get(f"/api/ideas/{other['id']}").json()["status"] == "open"
