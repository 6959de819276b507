"""The manager's pages beyond the stream, in real headless Chromium, signed in as a manager
(a browser session with its CSRF token, not an admin token): the stream card's way to the
original post and the thread view.  Screenshots at 1440×900 and 390×844 are kept in
``tmp_path`` for a person to look at."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.push import sign
from tests.browser_helpers import (
    FIND_SCRIPTED_ATTRIBUTES, SIZES, api_sign_up, browser_tab, forum_server, needs_chromium, password_hash,
)

pytestmark = needs_chromium

MANAGER = "mo@crmsphere.example"
SECRET = "push-secret-of-the-360-tests"
# What sticks out to the right of the screen (the outermost such elements, not clipped by a parent).
WIDER_THAN_SCREEN = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1
                && el.parentElement.getBoundingClientRect().right <= window.innerWidth + 1
                // inside a row that scrolls by itself (the nav on a phone) nothing sticks out
                && getComputedStyle(el.parentElement).overflowX === 'visible')
  .map(el => el.tagName + '.' + el.className + '#' + el.id)"""
NOW = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _post(external_id: str, text: str, handle: str, **kw) -> dict:
    return {"source": "reddit", "external_id": external_id, "author": {"handle": handle, "name": None},
            "text": text, "created_at": kw.pop("created_at", NOW), **kw}


# A Reddit conversation as collected: the submission, a reply, a reply to the reply (whose
# permalink came back as a script URL) and a reply to a comment never collected.
THREAD = [
    _post("t3_inv", "Acme Anvils invoices are broken since Monday", "jo_r",
          url="https://www.reddit.com/r/saas/comments/inv/", created_at="2026-01-05T09:00:00Z"),
    _post("t1_a", "Same here, every invoice since the update", "sam_ops", parent_id="t3_inv",
          thread_id="t3_inv", url="https://www.reddit.com/r/saas/comments/inv/a/",
          created_at="2026-01-05T09:10:00Z"),
    _post("t1_b", "Did you try exporting again?", "kim_k", parent_id="t1_a", thread_id="t3_inv",
          url="javascript:alert(document.cookie)", created_at="2026-01-05T09:20:00Z"),
    _post("t1_c", "Replying to something deleted", "lee_l", parent_id="t1_gone", thread_id="t3_inv",
          created_at="2026-01-05T09:30:00Z"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("dashboard-360")
    os.environ["DASH360_PUSH_SECRET"] = SECRET  # read by the served process at start
    try:
        with forum_server(tmp, MANAGER, "Mo", password_hash(),
                          '[forum]\ntrust_signup_email = true\n'
                          '[[routing.teams]]\nkey = "billing"\nname = "Billing"\n'
                          '[[sources]]\nkind = "push"\nname = "partner"\n'
                          'secret_env = "DASH360_PUSH_SECRET"\n') as running:
            yield running
    finally:
        del os.environ["DASH360_PUSH_SECRET"]


def push(base: str, rows: list[dict]) -> None:
    """Posts sent the way a push sender signs them."""
    import urllib.request

    body = json.dumps({"posts": rows}).encode()
    stamp = str(int(time.time()))
    req = urllib.request.Request(base + "/api/ingest/partner", body, {
        "Content-Type": "application/json", "X-Crmsphere-Timestamp": stamp,
        "X-Crmsphere-Signature": sign(SECRET, stamp, body)})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 202


# Posts where an alias is an ordinary word: Target Logistics is aliased "Target", Acme "Acme".
ORDINARY_WORDS = [
    _post("t3_w1", "We hit our target this quarter, finally", "ops_olga"),
    _post("t3_w2", "The target date slipped again", "pm_pete"),
    _post("t3_w3", "I shop at Target every week", "shopper_sam"),
    _post("t3_w4", "Is the target audience even reading this?", "mk_mia"),
    # The linker now leaves the lower-case word alone; the shop's name still reaches the queue.
    _post("t3_w5", "Bought a new kettle at Target yesterday", "kettle_kai"),
    _post("t3_w6", "Does anyone know if Target is open on Sunday?", "sunday_sue"),
]


@pytest.fixture(scope="module")
def seeded(browser, server) -> str:
    """The thread pushed; Jo (customer cus_jo) posts an idea and votes on the forum; staff
    route Jo's mention to billing."""
    base, manager_token = server
    push(base, THREAD)
    push(base, ORDINARY_WORDS)
    with browser_tab(browser, base) as tab:
        api = tab.context.request
        csrf = api_sign_up(api, "jo@acmeanvils.example", "Jo Rivera")
        for title in ("Export invoices as CSV", "Dark mode <script>window.__xss=1</script>"):
            made = api.post("/api/ideas", data={"title": title, "body": "For our accountants."},
                            headers=csrf)
            assert made.status == 201, made.text()
            assert api.post(f"/api/ideas/{made.json()['id']}/vote", headers=csrf).status == 201
        staff = {"Authorization": f"Bearer {manager_token}"}
        mentions = api.get("/api/dashboard/mentions?customer=cus_jo", headers=staff).json()["items"]
        routed = api.post("/api/route", data={"mention_id": mentions[0]["id"], "team": "billing",
                                              "priority": "high"}, headers=staff)
        assert routed.status == 201, routed.text()
    return base


@pytest.fixture
def manager(browser, seeded) -> Iterator:
    """A signed-in manager's tab (console errors and failed requests recorded)."""
    with browser_tab(browser, seeded, size="desktop", sign_in_as=MANAGER) as tab:
        yield tab


def shots(page, name: str, folder: Path, ready: str) -> None:
    """Full-page screenshots at desktop and phone size, the page loaded at each size (as a
    phone would, charts drawn for it) until ``ready`` shows; nothing sticks out sideways."""
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.reload()
        page.wait_for_selector(ready)
        path = folder / f"{name}_{size}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 1000
        assert page.evaluate(WIDER_THAN_SCREEN) == [], (name, size)
    page.set_viewport_size(SIZES["desktop"])
    page.reload()
    page.wait_for_selector(ready)


def test_stream_cards_link_the_original_and_the_thread(manager, tmp_path) -> None:
    page = manager
    page.goto("/dashboard")
    card = page.locator("#stream li.mention", has_text="Same here, every invoice")
    card.wait_for()
    original = card.locator("a.original")
    assert original.get_attribute("href") == "https://www.reddit.com/r/saas/comments/inv/a/"
    assert original.get_attribute("target") == "_blank"
    assert original.get_attribute("rel") == "noopener noreferrer"
    # A script URL and a missing URL both say there is no link, and link nothing.
    for text in ("Did you try exporting", "Replying to something deleted"):
        other = page.locator("#stream li.mention", has_text=text)
        assert other.locator("a.original").count() == 0
        assert other.locator(".no-original").inner_text() == "No link to the original post"
    assert page.evaluate(FIND_SCRIPTED_ATTRIBUTES) == []
    shots(page, "stream", tmp_path, "#stream li.mention .card-links")

    # By keyboard: j/k to the card, v opens its thread at a URL of its own.
    page.evaluate("document.activeElement.blur()")
    for _ in range(10):
        page.keyboard.press("j")
        if "current" in (card.get_attribute("class") or ""):
            break
    mention_id = card.get_attribute("data-id")
    page.keyboard.press("v")
    page.wait_for_url(f"**/dashboard/mentions/{mention_id}")
    focused = page.locator("#thread li.focused")
    assert focused.get_attribute("data-id") == mention_id
    assert page.evaluate("document.activeElement.dataset.id") == mention_id
    assert page.locator("#thread li.mention .text").all_inner_texts() == [
        "Acme Anvils invoices are broken since Monday", "Same here, every invoice since the update",
        "Did you try exporting again?", "Replying to something deleted"]
    assert page.locator("#thread li.reply-note, #thread .reply-note").count() == 1
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.textContent").count("Did you try exporting") == 1
    assert page.errors == [], page.errors
    shots(page, "thread", tmp_path, "#thread li.focused")

    # From the card's link too.
    page.goto("/dashboard")
    page.locator("#stream li.mention", has_text="Replying to something deleted").locator("a.thread-link").click()
    page.wait_for_selector("#thread li.focused:has-text('Replying to something deleted')")
    assert page.errors == [], page.errors


def test_customer_360_shows_ideas_votes_and_routed_items(manager, tmp_path) -> None:
    page = manager
    page.goto("/dashboard/customers/cus_jo")
    page.wait_for_selector("#volume-chart[data-rendered]")
    assert page.inner_text("#c360-ideas h2 .count") == "2"
    ideas = page.locator("#c360-ideas li")
    assert ideas.locator("a").all_inner_texts() == ["Dark mode <script>window.__xss=1</script>",
                                                   "Export invoices as CSV"]
    assert ideas.first.locator(".badge.idea-status").inner_text() == "Open"
    assert page.inner_text("#c360-votes h2 .count") == "2"
    assert page.locator("#c360-votes li a").count() == 2
    queue = page.locator("#c360-routed a.badge.team")
    assert queue.inner_text() == "Billing queue" and queue.get_attribute("href") == "/teams/billing"
    assert page.locator("#c360-routed .badge.priority-high").count() == 1
    # The timeline cards lead to the original post and the thread too.
    card = page.locator("#timeline li.mention", has_text="invoices are broken since Monday")
    assert card.locator("a.original").get_attribute("rel") == "noopener noreferrer"
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate(FIND_SCRIPTED_ATTRIBUTES) == []
    shots(page, "customer_360", tmp_path, "#sentiment-chart[data-rendered]")
    # An idea's link opens it on the forum.
    ideas.locator("a", has_text="Export invoices as CSV").click()
    page.wait_for_url("**/forum/ideas/*")
    assert "Export invoices as CSV" in page.inner_text("h1")
    assert page.errors == [], page.errors


def test_review_queue_page_groups_and_decides_in_bulk(manager, tmp_path) -> None:
    page = manager
    bulk_requests = []
    page.on("request", lambda r: "/api/links/" in r.url and r.method == "POST" and bulk_requests.append(r.url))
    page.goto("/dashboard")
    page.click("header nav a:text-is('Review queue')")
    page.wait_for_url("**/dashboard/links")
    group = page.locator(".customer-group", has_text="Target Logistics").locator("li.group", has_text="target")
    group.wait_for()
    count = int(group.locator(".group-count").inner_text().split()[0])
    assert count >= 3
    assert group.locator(".badge.rule").inner_text() == "alias"
    assert group.locator(".snippet mark").first.inner_text().lower() == "target"
    assert page.locator("#rule-filter .chip", has_text="all rules").get_attribute("aria-pressed") == "true"
    assert page.evaluate(FIND_SCRIPTED_ATTRIBUTES) == []
    shots(page, "review_queue", tmp_path, ".customer-group li.group")

    # A selection of one link (from the group's examples), rejected in one request.
    group = page.locator(".customer-group", has_text="Target Logistics").locator("li.group", has_text="target")
    group.locator("button", has_text="Examples").click()
    assert group.locator("button", has_text="Hide examples").get_attribute("aria-expanded") == "true"
    group.locator(".examples input.select-link").first.check()
    assert page.inner_text("#selected-count") == "1 link selected"
    page.click("#reject-selected")
    page.wait_for_selector("#queue-status:has-text('1 link rejected')")
    assert len(bulk_requests) == 1 and bulk_requests[0].endswith("/api/links/review/bulk")
    group = page.locator(".customer-group", has_text="Target Logistics").locator("li.group", has_text="target")
    assert int(group.locator(".group-count").inner_text().split()[0]) == count - 1

    # Never link "target" as a word: asked once more inline, then stored.
    group.locator("button", has_text="as a word").click()
    page.locator("button", has_text="Yes, never link").click()
    page.wait_for_selector("#queue-status:has-text('never linked to Target Logistics as a word')")
    assert len(bulk_requests) == 2 and bulk_requests[1].endswith("/api/links/refused-aliases")
    assert page.locator(".customer-group", has_text="Target Logistics").locator("li.group", has_text="target").count() == 0
    refused = page.locator("#refused-list li")
    assert refused.locator("q").inner_text().lower() == "target" and "for Target Logistics" in refused.inner_text()
    assert page.locator("#queue-bar").is_hidden()  # nothing left to select
    shots(page, "review_queue_after", tmp_path, "#refused-list li")
    assert page.errors == [], page.errors
