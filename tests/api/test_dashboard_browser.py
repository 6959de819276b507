"""The dashboard's stream page in real headless Chromium against ``crmsphere serve`` on a
temporary store: live mentions, triage, saved views, evidence, link review, routing, ideas made
from mentions and the source panel.  One server for the module (``tests/api/dashboard_server.py``:
it requires an admin token, which the browser context sends on every request).
"""

from __future__ import annotations

import json

import pytest

from nlp.calibration import CONFIDENCE
from tests.api.dashboard_server import page, server  # noqa: F401 (fixtures)
from tests.api.dashboard_server import TOKEN, posted_now, push, request
from tests.browser_helpers import needs_chromium, wait_until

pytestmark = needs_chromium


def test_pushed_mention_appears_live_and_triage_persists(page, server) -> None:  # noqa: F811
    page.goto("/dashboard")
    page.wait_for_selector("#live-state.on", timeout=30000)
    push(server, posted_now(1, "Acme Anvils invoices are broken again", "jorivera"))
    # Live: the page is neither reloaded nor re-queried (the stream list only grows from the
    # page's EventSource), so the row can only come from the push; how soon is the machine's.
    row = page.wait_for_selector("#stream li.mention:has-text('invoices are broken again')", timeout=30000)
    assert page.locator("#live-state.on").count() == 1
    assert "jorivera" in row.inner_text()

    # Keyboard: j selects the newest, p marks it pending; then assign, tag and a note.
    page.keyboard.press("j")
    page.wait_for_selector("#detail:not([hidden])")
    page.keyboard.press("p")
    page.wait_for_selector("#stream li.mention.status-pending")
    page.wait_for_selector("#detail-assignee option:text-is('ana')", state="attached")
    page.select_option("#detail-assignee", label="ana")
    page.fill("#detail-tags", "billing, vip")
    page.click("#detail-save")
    page.wait_for_selector("#stream li.mention .assignee:has-text('ana')")
    page.fill("#note-body", "Called Jo, fix due Friday")
    page.click("#note-add")
    page.wait_for_selector("#notes li:has-text('Called Jo')")

    page.reload()
    row = page.wait_for_selector("#stream li.mention:has-text('invoices are broken again')")
    assert "status-pending" in row.get_attribute("class")
    assert "→ ana" in row.inner_text() and "#billing" in row.inner_text() and "#vip" in row.inner_text()
    row.click()
    page.wait_for_selector("#notes li:has-text('Called Jo, fix due Friday')")
    # The status filter sees the change too.
    page.select_option("#filters [name=status]", "closed")
    wait_until(page, "document.querySelectorAll('#stream li.mention').length === 0")
    assert not page.errors, page.errors


def test_saved_views_facets_alerts_and_help(page, server) -> None:  # noqa: F811
    push(server, posted_now(3, "Acme Anvils invoices double charged", "billing_bob"),
         posted_now(4, "Acme Anvils mobile app is lovely", "happy_hana"))
    page.goto("/dashboard")
    page.wait_for_selector("#stream li.mention:has-text('double charged')")
    # Counts per filter, for the current filter set.
    page.wait_for_selector("#facets [data-facet=source] .chip")
    page.wait_for_selector("#alerts li.alert:has-text('billing')")
    page.fill("#filters [name=q]", "double charged")
    wait_until(page, "document.querySelectorAll('#stream li.mention').length === 1")
    wait_until(
        page,
        "[...document.querySelectorAll('#facets [data-facet=status] .chip')].map(c => c.textContent)"
        ".join() === 'open 1'")
    page.fill("#view-name", "Double charges")
    page.click("#view-save")
    page.wait_for_selector("#view-select option:has-text('Double charges')", state="attached")

    # A fresh page: choosing the saved view brings its filters back.
    page.goto("/dashboard")
    wait_until(page, "document.querySelectorAll('#stream li.mention').length > 1")
    page.select_option("#view-select", label="Double charges")
    wait_until(page, "document.querySelectorAll('#stream li.mention').length === 1")
    assert page.input_value("#filters [name=q]") == "double charged"
    page.click("#view-delete")
    wait_until(page, "!document.querySelector('#view-select').textContent.includes('Double')")

    # The keyboard help opens with ? and closes with Escape.
    page.evaluate("document.activeElement.blur()")  # keys go to the page, not a control
    page.keyboard.press("?")
    page.wait_for_selector("#help:not([hidden])")
    assert "attach to an existing idea" in page.inner_text("#help")
    page.keyboard.press("Escape")
    page.wait_for_selector("#help", state="hidden")
    assert not page.errors, page.errors


def test_evidence_on_hover_link_review_and_routing(page, server) -> None:  # noqa: F811
    push(server, posted_now(5, "I shop at Target every week", "shopper_sam"),
         posted_now(6, "Acme Anvils invoices are broken once more", "jorivera"))
    page.goto("/dashboard")
    row = page.wait_for_selector("#stream li.mention:has-text('broken once more')")
    evidence = row.query_selector(".link-evidence")
    assert "rule: company_name" in evidence.get_attribute("title")
    assert f"confidence: {CONFIDENCE['company_name']:.2f}" in evidence.get_attribute("title")
    assert "span" in evidence.get_attribute("title")
    assert "rule:" in row.query_selector(".badge.topic").get_attribute("title")
    assert "score:" in row.query_selector(".has-evidence[class*=sentiment-]").get_attribute("title")

    # Reject the ambiguous "Target" link from the stream: it leaves the mention.
    page.click("#stream li.mention:has-text('shop at Target') p.text")
    page.wait_for_selector("#detail-links li.link-pending .link-reject")
    page.click("#detail-links li.link-pending .link-reject")
    page.wait_for_selector("#detail-links li.empty")
    row = page.wait_for_selector("#stream li.mention:has-text('shop at Target')")
    assert row.query_selector(".link-evidence") is None

    # Route the current mention to a team.
    page.select_option("#route-team", "product")
    page.click("#route-send")
    page.wait_for_selector("#route-result:has-text('routed to product')")
    mention_id = row.get_attribute("data-id")
    status, body = request(server + "/api/teams/product/queue",
                            headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and mention_id in body.decode()
    assert not page.errors, page.errors


def _idea_total(base: str) -> int:
    status, body = request(base + "/api/ideas?limit=1")  # the public list
    assert status == 200, body
    return json.loads(body)["total"]


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_convert_to_idea_is_an_edit_step_first(page, server, size, tmp_path) -> None:  # noqa: F811
    handle = f"dark_dana_{size[0]}"
    push(server, posted_now(20 + size[0], f"Please add dark mode to the mobile app ({size[0]})", handle))
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto("/dashboard")
    page.click(f"#stream li.mention:has-text('mobile app ({size[0]})') p.text")
    page.wait_for_selector("#detail:not([hidden])")
    before = _idea_total(server)
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("i")  # convert: opens the edit step, creates nothing yet
    page.wait_for_selector("#idea-dialog[open]")
    assert page.input_value("#idea-title").startswith("Please add dark mode")
    assert f"@{handle}" in page.input_value("#idea-body")
    assert page.inner_text("#idea-handle") == f"@{handle}"
    assert _idea_total(server) == before
    page.screenshot(path=str(tmp_path / f"convert-step-{size[0]}x{size[1]}.png"))
    # Cancel leaves nothing behind.
    page.click("#idea-cancel")
    page.wait_for_selector("#idea-dialog", state="hidden")
    assert _idea_total(server) == before
    # Again, edited, with the handle hidden: the prefilled body follows the checkbox.
    page.click("#idea-convert")
    page.wait_for_selector("#idea-dialog[open]")
    page.fill("#idea-title", "Dark mode in the mobile app")
    page.check("#idea-hide-handle")
    assert handle not in page.input_value("#idea-body")
    page.click("#idea-create")
    result = page.wait_for_selector("#idea-result:has-text('idea #')")
    idea_id = result.inner_text().rsplit("#", 1)[1]
    assert idea_id.isdigit() and _idea_total(server) == before + 1
    page.wait_for_selector("#idea-dialog", state="hidden")
    status, public = request(server + f"/forum/ideas/{idea_id}")
    assert status == 200 and b"Dark mode in the mobile app" in public
    assert handle.encode() not in public
    assert not page.errors, page.errors


def test_convert_to_idea_and_attach_from_the_stream(page, server) -> None:  # noqa: F811
    push(server, posted_now(7, "Please add dark mode to the mobile app", "dark_dana"),
         posted_now(8, "Dark mode please, my eyes hurt at night", "night_nico"))
    page.goto("/dashboard")
    page.click("#stream li.mention:has-text('add dark mode') p.text")
    page.wait_for_selector("#detail:not([hidden])")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("i")  # convert to an idea: the edit step, then Create
    page.wait_for_selector("#idea-dialog[open]")
    page.click("#idea-create")
    result = page.wait_for_selector("#idea-result:has-text('idea #')")
    idea_id = result.inner_text().rsplit("#", 1)[1]
    assert idea_id.isdigit()

    page.click("#stream li.mention:has-text('my eyes hurt') p.text")
    page.fill("#idea-attach-id", idea_id)
    page.click("#idea-attach")
    page.wait_for_selector(f"#idea-result:has-text('attached to idea #{idea_id}')")
    # Attaching again is harmless; an unknown idea is refused with the API's message.
    page.fill("#idea-attach-id", "999999")
    page.click("#idea-attach")
    wait_until(page, "!document.querySelector('#idea-result').textContent.startsWith('attached')")
    assert page.inner_text("#idea-result") == "no idea 999999"
    # The browser logs the refused request itself; nothing else went wrong.
    assert [e for e in page.errors if "status of 404" not in e] == [], page.errors


def test_the_source_panel_shows_a_degraded_source_and_why(page, server, tmp_path) -> None:  # noqa: F811
    # A web form whose sender lost the author field: every post is rejected, nothing stored.
    rows = [{**posted_now(900 + i, f"form message {i}", "form"), "author": None} for i in range(3)]
    assert push(server, *rows, source="webform")["accepted"] == 0
    push(server, posted_now(910, "Nimbus invoices look right again", "sam"))  # partner stays ok
    page.goto("/dashboard")
    row = page.locator("#source-health tbody tr.state-degraded", has_text="webform")
    row.wait_for(timeout=30000)
    assert row.locator(".badge.source-state").inner_text() == "degraded"
    reason = page.locator("#source-health tr.health-reason.state-degraded")
    assert reason.inner_text() == ("nothing stored: all 3 item(s) rejected, e.g. posts[0]: "
                                   "field 'author' must be an object with a 'handle'")
    ok = page.locator("#source-health tbody tr", has_text="partner").locator(".badge.source-state")
    assert ok.inner_text() == "ok"
    # The badge has its own colour, amber, not the green of ok nor the red of failing.
    colours = page.evaluate("""() => [...document.querySelectorAll('#source-health .source-state')]
        .map(b => [b.textContent, getComputedStyle(b).backgroundColor])""")
    # The tints are design tokens mixed with transparency (``color(srgb r g b / a)``): compare hues.
    tint = {state: [float(c) for c in css[css.index("(") + 1:].split("/")[0].split()[1:4]]
            for state, css in colours}
    amber, green = tint["degraded"], tint["ok"]
    # red over green over blue, and blue well under green (a red has them about equal): amber
    assert amber[0] > amber[1] > 2 * amber[2], colours
    assert green[1] > green[0] and green[1] > green[2], colours  # green
    shot = tmp_path / "source_panel_degraded.png"  # the test's artefact
    page.locator("#source-health").screenshot(path=str(shot))
    page.screenshot(path=str(tmp_path / "dashboard_degraded.png"), full_page=True)
    assert shot.stat().st_size > 1000
    assert not page.errors, page.errors

