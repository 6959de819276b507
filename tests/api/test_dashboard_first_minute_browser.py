"""A manager's first minute on the staff pages of a fresh install (no mention collected yet,
one team, one push source), in real headless Chromium against ``crmsphere serve``, at
desktop (1280×900) and phone (390×844) size: table headers never break inside a word, no
page scrolls sideways, an empty list says what it means instead of showing an empty table,
and a chart with nothing to draw says so instead of a flat line at zero.  Screenshots go to
the module's temporary directory."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from storage import open_store
from tests.conftest import customer
from tests.browser_helpers import (
    browser_tab, forum_server, needs_chromium, password_hash, sign_in, viewport, wait_until, watched_page,
)

MANAGER = "morgan@crmsphere.example"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
STAFF_PAGES = ["/dashboard", "/dashboard/analytics", "/teams", "/teams/support", "/deliveries?state=dead"]

pytestmark = needs_chromium

# JavaScript run in the page: the words of table cells that the browser split over two
# lines (a Range over one word that yields more than one box was broken inside it).
WORDS_BROKEN_IN_TABLES = """() => {
  const broken = [];
  for (const th of document.querySelectorAll('th, td')) {
    if (!th.getClientRects().length) continue;  // not rendered
    const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (lines.size > 1) broken.push(match[0]);
      }
    }
  }
  return broken;
}"""


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's temporary directory: store, config, server log and screenshots."""
    return tmp_path_factory.mktemp("dashboard-first-minute")


@pytest.fixture(scope="module")
def server(tmp: Path) -> Iterator[str]:
    """``crmsphere serve`` on a store with customers and a manager but no mention, with a
    support team and a push source that has received nothing."""
    config = ('[[routing.teams]]\nkey = "support"\nname = "Customer support"\nack_sla_minutes = 240\n'
              '[[sources]]\nkind = "push"\nname = "partner"\nsecret_env = "FIRST_MINUTE_PUSH_SECRET"\n')
    with forum_server(tmp, MANAGER, "Morgan", password_hash(), config) as (base, _):
        async def add_customer() -> None:
            store = await open_store(f"sqlite:///{tmp / 'db.sqlite'}")
            try:
                await store.upsert_customers([customer(
                    "cus_acme_ops", "Acme Anvils Operations", segment="enterprise",
                    emails=("support@acmeanvils.example.com", "ops@acmeanvils.example.com"))])
            finally:
                await store.close()

        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, add_customer()).result()
        yield base


@pytest.fixture(scope="module")
def manager_contexts(browser, server) -> Iterator[dict]:
    """A browser context per size, each signed in once as the manager (its tests open their
    tabs in it, without a sign-in of their own)."""
    contexts = {}
    try:
        for name, size in SIZES.items():
            contexts[name] = browser.new_context(base_url=server, viewport=viewport(size))
            sign_in(watched_page(contexts[name]), MANAGER)
        yield contexts
    finally:
        for context in contexts.values():
            context.close()


@pytest.fixture(params=list(SIZES), ids=list(SIZES))
def manager_page(request, manager_contexts):
    """A signed-in manager's new tab at the parametrised size."""
    page = watched_page(manager_contexts[request.param])
    page.size_name = request.param
    yield page
    page.close()


def test_table_cells_keep_their_words_whole_and_pages_do_not_scroll_sideways(manager_page, tmp: Path) -> None:
    page = manager_page
    for path in STAFF_PAGES:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        if path == "/dashboard":  # the source health rows come from /api/sources
            page.locator("#source-health td", has_text="partner (push)").wait_for()
        name = path.strip("/").replace("/", "-").replace("?state=", "-")
        page.screenshot(path=str(tmp / f"{name}-{page.size_name}.png"), full_page=True)
        assert page.evaluate(WORDS_BROKEN_IN_TABLES) == [], path
        width = page.viewport_size["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    assert page.errors == []


def test_no_dead_letters_says_so_without_an_empty_table(manager_page) -> None:
    page = manager_page
    page.goto("/deliveries?state=dead")
    empty = page.locator("main .empty")
    assert empty.is_visible()
    # What a dead letter is and what to do about one, in the page's own words.
    assert "gave up" in empty.inner_text() and "Re-send" in empty.inner_text()
    assert page.locator("table.deliveries").count() == 0
    assert page.errors == []


def test_charts_with_no_mention_say_so_instead_of_a_flat_line(manager_page) -> None:
    page = manager_page
    page.goto("/dashboard/analytics")
    for chart in ("#volume-chart", "#topic-chart"):
        note = page.locator(f"{chart}[data-rendered='empty'] .empty")
        note.wait_for()
        assert "No mentions" in note.inner_text()
        assert page.locator(f"{chart} svg").count() == 0, chart
    # Nothing drawn takes no room: no blank chart height, no table headers over no row.
    page.locator("#authors-chart[data-rendered='empty']").wait_for(state="attached")
    for chart in ("#volume-chart", "#topic-chart", "#topic-share-chart", "#authors-chart"):
        assert page.locator(chart).bounding_box()["height"] < 90, chart
    assert page.inner_text("#spikes").strip() == ""  # no spike rule explained over no mention
    for table in ("#topic-share", "#top-authors"):
        assert not page.locator(table).is_visible(), table
    page.goto("/dashboard")
    note = page.locator("#volume-chart[data-rendered='empty'] .empty")
    note.wait_for()
    assert "No mentions" in note.inner_text()
    wait_until(page, "document.querySelectorAll('#source-health td').length > 0")
    assert page.errors == []


@pytest.mark.parametrize("path", ["/teams", "/deliveries?state=dead", "/dashboard/changelog"])
def test_phone_nav_shows_the_page_one_is_on(manager_contexts, path: str) -> None:
    # The nav is one row that scrolls sideways on a phone; "Teams", "Dead letters" and
    # "Changelog" sat past the right edge, so nothing on screen said which page this was.
    page = watched_page(manager_contexts["phone"])
    try:
        page.goto(path)
        page.wait_for_load_state("load")
        current = page.locator(".dash-nav a[aria-current=page]")
        wait_until(page, "document.querySelector('.dash-nav').scrollLeft > 0")
        box = current.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= SIZES["phone"][0], box
        assert page.evaluate("document.documentElement.scrollWidth") <= SIZES["phone"][0]
        assert page.errors == []
    finally:
        page.close()


@pytest.fixture(scope="module")
def bare_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``crmsphere serve`` as first started: no source, no team (the operator on loopback)."""
    with forum_server(tmp_path_factory.mktemp("bare-install"), MANAGER, "Morgan", password_hash(), "") as (base, _):
        yield base


def test_no_source_says_how_to_add_one(browser, bare_server) -> None:
    with browser_tab(browser, bare_server, size=SIZES["desktop"]) as page:
        page.goto("/dashboard")
        empty = page.locator("#source-health td.empty")
        empty.wait_for()
        # "No sources configured." alone left a new operator at an empty stream with no way on.
        assert "[[sources]]" in empty.inner_text() and "crmsphere import posts" in empty.inner_text()
        assert page.errors == []


# JavaScript run in the page: how each e-mail address of the customer's facts is laid out, as
# the text of each line it takes.
EMAIL_LINES = """() => [...document.querySelectorAll('.facts dt')].filter(dt => dt.textContent === 'E-mail')
  .flatMap(dt => {
    const dd = dt.nextElementSibling, range = document.createRange(), lines = [];
    const walker = document.createTreeWalker(dd, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.data.length; i++) {
        range.setStart(node, i); range.setEnd(node, i + 1);
        const top = Math.round(range.getBoundingClientRect().top);
        if (!lines.length || lines[lines.length - 1].top !== top) lines.push({top, text: ''});
        lines[lines.length - 1].text += node.data[i];
      }
    }
    return lines.map(line => line.text.trim());
  })"""


def test_customer_addresses_wrap_after_their_at_sign_only(manager_page) -> None:
    # "support@acmeanvils.example." over "com," was how the desktop facts panel wrapped them.
    page = manager_page
    page.goto("/dashboard/customers/cus_acme_ops")
    page.locator(".facts").wait_for()
    lines = page.evaluate(EMAIL_LINES)
    whole = {"support@acmeanvils.example.com", "ops@acmeanvils.example.com"}
    allowed = whole | {"support@", "ops@", "acmeanvils.example.com"}
    assert lines and set(lines) <= allowed, lines
    assert "".join(lines) == "support@acmeanvils.example.comops@acmeanvils.example.com"
    assert page.errors == []
