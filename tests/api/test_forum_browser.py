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

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from community.access import Viewer
from community.accounts import Accounts
from config.forum import ForumSettings
from storage import open_store
from tests.conftest import acme_customers
from tests.helpers import wait_healthy_blocking
from tests.serve_helpers import free_port, start_serve, stop_serve

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery staple"

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

# JavaScript run in the page: every attribute that could run code.
FIND_SCRIPTED_ATTRIBUTES = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
      if (attr.name.startsWith('on') || value.startsWith('javascript:') || value.startsWith('data:text/html')) {
        bad.push(el.tagName + ' ' + attr.name + '=' + attr.value);
      }
    }
  }
  return bad;
}"""

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f"Debian's chromium is not installed at {CHROMIUM} "
                                       f"(make test installs it)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``crmsphere serve`` on a temporary store; yields its base URL and a manager's API token."""
    tmp = tmp_path_factory.mktemp("forum-browser")
    url = f"sqlite:///{tmp / 'db.sqlite'}"

    async def seed() -> str:
        store = await open_store(url)
        try:
            await store.upsert_customers(acme_customers())
            manager = await store.create_account("pat@crmsphere.example", "Pat", None, "manager")
            plain, _ = await Accounts(store, ForumSettings()).create_token(
                Viewer(account=manager, role="manager", via="session"), "browser test")
            return plain
        finally:
            await store.close()

    # pytest's event loop may be running in this thread: seed from a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        token = pool.submit(asyncio.run, seed()).result()
    port = free_port()
    config = tmp / "crmsphere.toml"
    config.write_text(f'[server]\nport = {port}\n[store]\nurl = "{url}"\n'
                      f"[forum]\ntrust_signup_email = true\n")
    log = tmp / "serve.log"
    proc = start_serve(config, tmp, log, env={"CRMSPHERE_ADMIN_TOKEN": ""})  # no admin token
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy_blocking(base, proc, log, timeout=30)
        yield base, token
    finally:
        code = stop_serve(proc)
    assert code == 0, log.read_text()[-2000:]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def hostile_idea(browser, server) -> int:
    """An idea with hostile title, body, comments and staff response, made through the API."""
    base, manager_token = server
    context = browser.new_context(base_url=base)
    try:
        api = context.request
        signed = api.post("/api/auth/signup", data={"email": "jo@acmeanvils.example",
                                                    "password": PASSWORD, "name": "Jo <b onmouseover=x>"})
        assert signed.status == 201, signed.text()
        csrf = {"X-CSRF-Token": signed.json()["csrf_token"]}
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
    finally:
        context.close()
    return idea_id


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server[0], viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.errors, tab.dialogs = [], []  # checked by the tests
    tab.on("console", lambda msg: msg.type == "error" and tab.errors.append(msg.text))
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    tab.on("response", lambda resp: resp.status >= 400 and tab.errors.append(f"{resp.status} {resp.url}"))
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    try:
        yield tab
    finally:
        context.close()


def assert_nothing_ran(page, shot: str) -> None:
    """No payload ran and none can: no dialog, no global, no scripted attribute, no console error."""
    page.wait_for_load_state("load")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"forum_{shot}.png"), full_page=True)
    assert page.dialogs == []
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate(FIND_SCRIPTED_ATTRIBUTES) == []
    assert page.locator("main script:not([src^='/static/']), main iframe, main svg, main img").count() == 0
    assert page.errors == []


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
    page.goto("/forum/signin")
    page.fill("input[name=email]", "jo@acmeanvils.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/forum/signin'] button[type=submit]")
    page.goto("/forum/submit")
    page.fill("#idea-title", "dark mode please")
    suggestion = page.wait_for_selector(f"#similar-ideas a[href='/forum/ideas/{hostile_idea}']", timeout=5000)
    assert suggestion.inner_text() == TITLE
    assert_nothing_ran(page, "submit_similar")


def test_core_flows_work_without_javascript(browser, server) -> None:
    context = browser.new_context(base_url=server[0], java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/forum/signup")
        page.fill("input[name=email]", "sam@acmeanvils.example")
        page.fill("input[name=password]", PASSWORD)
        page.fill("input[name=name]", "Sam")
        page.click("form[action='/forum/signup'] button[type=submit]")
        assert page.inner_text(".forum-nav .who") == "Sam"
        page.click(".forum-nav form[action='/forum/signout'] button")
        assert page.locator(".forum-nav .who").count() == 0

        page.goto("/forum/signin")
        page.fill("input[name=email]", "sam@acmeanvils.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/forum/signin'] button[type=submit]")
        assert page.inner_text(".forum-nav .who") == "Sam"

        page.goto("/forum/submit")
        page.fill("input[name=title]", "Export invoices as CSV")
        page.fill("textarea[name=body]", "For our *accountants*.")
        page.click("#submit-idea button[type=submit]")
        assert page.inner_text("h1") == "Export invoices as CSV"
        assert page.inner_text("article .body em") == "accountants"

        vote = page.locator("article form.vote button")
        assert vote.get_attribute("aria-pressed") == "false" and vote.inner_text().strip() == "▲ 0"
        vote.click()
        vote = page.locator("article form.vote button")
        assert vote.get_attribute("aria-pressed") == "true" and vote.inner_text().strip() == "▲ 1"

        page.fill("#comments > form textarea[name=body]", "Monthly would be enough")
        page.click("#comments > form button[type=submit]")
        assert "Monthly would be enough" in page.inner_text("#comments .comment .body")

        page.goto("/forum?sort=new")
        assert page.locator("a.title", has_text="Export invoices as CSV").count() == 1
    finally:
        context.close()


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
    page.wait_for_function(
        f"document.querySelector('[data-vote-count=\"{hostile_idea}\"]').textContent === '{before + 1}'",
        timeout=5000)
    assert page.evaluate("window.__marker") == "same page"
    assert_nothing_ran(page, "live_votes")
