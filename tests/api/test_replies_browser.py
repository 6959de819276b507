"""Replies in real headless Chromium against ``crmsphere serve``: a manager replies from a stream
card and sees the reply on the thread; approves a batch of shipped-idea replies in one action.
The platform is a fake Mastodon on 127.0.0.1 (in a thread of this process)."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
from aiohttp import web

from domain import Analysis, Author, CustomerLink, Mention, RawPost
from domain.replies import Reply
from domain.routing import RoutableItem, RoutedItem
from storage import open_store
from tests.api.a11y_checks import axe_violations
from tests.browser_helpers import browser_tab, forum_server, needs_chromium, password_hash, screenshot
from tests.collectors.replies.fake_mastodon_writes import OUR_ACCOUNT, MastodonWrites
from tests.stored import stored_mention_ids

pytestmark = needs_chromium

MANAGER = "lee@crmsphere.example"
FIRST = 115600000000000101
OTHER = 115600000000000901


class FakeInThread:
    """The fake instance served on 127.0.0.1 from an event loop in a thread of its own."""

    def __init__(self) -> None:
        self.fake = MastodonWrites()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner: web.AppRunner | None = None

    def start(self) -> str:
        self.thread.start()

        async def serve() -> int:
            self.runner = web.AppRunner(self.fake.app())
            await self.runner.setup()
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            await site.start()
            return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

        port = asyncio.run_coroutine_threadsafe(serve(), self.loop).result(10)
        return f"http://127.0.0.1:{port}"

    def hold_posts(self) -> None:
        """Make the instance slow: posted statuses wait until ``release_posts``."""
        async def hold() -> None:
            self.fake.hold = asyncio.Event()
        asyncio.run_coroutine_threadsafe(hold(), self.loop).result(10)

    def release_posts(self) -> None:
        """Answer the posts held so far, and the next ones at once."""
        async def release() -> None:
            if self.fake.hold is not None:
                self.fake.hold.set()
            self.fake.hold = None
        asyncio.run_coroutine_threadsafe(release(), self.loop).result(10)

    def ours(self) -> list[dict]:
        """Our statuses on the instance (read on its own loop)."""
        async def read() -> list[dict]:
            return [s for s in self.fake.statuses.values() if s["account"]["id"] == OUR_ACCOUNT["id"]]
        return asyncio.run_coroutine_threadsafe(read(), self.loop).result(10)

    def stop(self) -> None:
        if self.runner is not None:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


async def _seed(url: str) -> None:
    store = await open_store(url)
    try:
        now = datetime.now(timezone.utc)
        mentions = []
        for n in range(4):
            post = RawPost("mastodon", str(FIRST + n), Author(f"target{n}@mastodon.example", "Target"),
                           f"Anyone tried the bulk routing API? ({n})", now,
                           url=f"https://mastodon.example/@target{n}/{FIRST + n}")
            mentions.append(Mention(post, Analysis(links=(CustomerLink("cus_acme", 0.95, "handle", "handle"),))))
        await store.save_mentions("mastodon-social", mentions, None)
        # Read by the second instance, which has no reply table: replies through it are off.
        other = RawPost("mastodon", str(OTHER), Author("ops@fosstodon.example", "Ops"),
                        "Is the bulk routing API on the roadmap? (fosstodon)", now,
                        url=f"https://fosstodon.example/@ops/{OTHER}")
        await store.save_mentions("mastodon-fosstodon", [Mention(other, Analysis())], None)
        routed = await stored_mention_ids(store, [("mastodon", str(FIRST)), ("mastodon", str(OTHER))])
        for (_, external_id), mention_id in sorted(routed.items()):
            item = RoutableItem(kind="mention", id=str(mention_id), source="mastodon",
                                text=f"Routed mention {external_id}", author="target0@mastodon.example")
            await store.route_item(RoutedItem(item=item, rule_id="manual", team_key="support",
                                              event="manual", routed_at=now), [])
        ids = await stored_mention_ids(store, [("mastodon", str(FIRST + n)) for n in range(1, 4)])
        await store.add_replies([Reply(mention_id=m, source="mastodon", drafted_by="system", drafted_at=now,
                                       text="Thanks for the idea: bulk routing shipped. https://ideas.example/forum/ideas/1",
                                       team_key="product", idea_id=1, batch_key="idea:1:done")
                                 for m in ids.values()], [""] * 3)
    finally:
        await store.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FakeInThread]]:
    tmp = tmp_path_factory.mktemp("replies")
    fake = FakeInThread()
    base_url = fake.start()
    for n in range(4):
        fake.fake.add_status(str(FIRST + n), f"Anyone tried the bulk routing API? ({n})")
    os.environ["BROWSER_MASTODON_REPLY_TOKEN"] = fake.fake.token  # read by the served process at start
    try:
        with forum_server(tmp, MANAGER, "Lee", password_hash(), f'''
[routing]
allow_private_targets = true
[replies]
require_approval = false
job_interval = 1
[[sources]]
kind = "mastodon"
name = "mastodon-social"
instance = "{base_url}"
hashtags = ["nimbus"]
interval = 3600
[sources.reply]
access_token_env = "BROWSER_MASTODON_REPLY_TOKEN"

[[sources]]
kind = "mastodon"
name = "mastodon-fosstodon"
instance = "{base_url}"
hashtags = ["nimbus"]
interval = 3600

[[routing.teams]]
key = "support"
name = "Customer support"
''') as (base, _token):
            with ThreadPoolExecutor(1) as pool:
                pool.submit(asyncio.run, _seed(f"sqlite:///{tmp / 'db.sqlite'}")).result()
            yield base, fake
    finally:
        del os.environ["BROWSER_MASTODON_REPLY_TOKEN"]
        fake.stop()


@pytest.fixture
def page(browser, served):
    with browser_tab(browser, served[0], size=(1280, 900), sign_in_as=MANAGER) as tab:
        yield tab


def test_a_manager_replies_from_a_stream_card_and_sees_it_on_the_thread(page, served) -> None:
    _, fake = served
    page.goto("/dashboard")
    card = page.locator("#stream li.mention", has_text="bulk routing API? (0)")
    card.locator("summary", has_text="Reply on mastodon").click()
    card.get_by_label("Your reply to @target0@mastodon.example").fill(
        "Thanks! Bulk routing is live: https://ideas.example/forum/ideas/1")
    fake.hold_posts()  # a slow instance: the page must not wait for it
    try:
        card.get_by_role("button", name="Send reply").click()
        page.wait_for_url("**/dashboard/mentions/*")
        # The answer came before the platform's: the reply is on its way, not sent yet.
        page.locator(".reply-item.state-approved, .reply-item.state-sending").wait_for()
        assert page.locator(".reply-item.state-sent").count() == 0
    finally:
        fake.release_posts()
    # Then shown sent in place (the page asks for its state), without a reload.
    sent = page.locator(".reply-item.state-sent")
    sent.wait_for(timeout=60_000)
    [ours] = fake.ours()
    assert ours["in_reply_to_id"] == str(FIRST)
    assert sent.locator("a.reply-url").get_attribute("href") == ours["url"]
    assert "sent by Lee" in sent.inner_text()
    screenshot(page, "replies_thread.png", full_page=True)
    assert axe_violations(page) == []
    assert not page.errors, page.errors


def test_a_manager_approves_a_batch_of_shipped_idea_replies_in_one_action(page, served) -> None:
    _, fake = served
    page.goto("/dashboard/replies")
    button = page.get_by_role("button", name="Approve all 3 replies about idea 1")
    assert page.locator(".reply-batch blockquote").count() == 1  # read one, approve three
    assert axe_violations(page) == []
    button.click()
    page.get_by_role("status").filter(has_text="3 replies approved").wait_for()
    # The approval woke the sender, which posts them off the request; the queue, asking for
    # their state, shows them sent without a reload.
    page.locator("#sent-title ~ ol .reply-item.state-sent").nth(2).wait_for(timeout=60_000)
    replied_to = sorted(s["in_reply_to_id"] for s in fake.ours())
    assert [str(FIRST + n) for n in range(1, 4)] == [r for r in replied_to if r != str(FIRST)]
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "replies_queue_phone.png", full_page=True)
    assert axe_violations(page) == []
    assert not page.errors, page.errors


#: The look of a reply fold's control, read from the page (a function Playwright calls; CSP
#: forbids only the page's own eval).
FOLD_LOOK = """el => { const c = getComputedStyle(el);
  return {border: c.borderTopStyle + " " + c.borderTopWidth, cursor: c.cursor, marker: c.listStyleType,
          height: el.getBoundingClientRect().height, outline: c.outlineStyle + " " + c.outlineWidth,
          focused: el === document.activeElement && el.matches(":focus-visible")}; }"""


def test_reply_folds_are_buttons_that_show_each_sources_own_state(page, served) -> None:
    """The fold on a stream card and on a team queue item is a control (a bordered button,
    tall enough to tap, focus ring from the keyboard, opened with Enter), and shows the
    source the reply goes out through: of two Mastodon instances, one's is off."""
    page.goto("/dashboard")
    ready = page.locator("#stream li.mention", has_text="bulk routing API? (0)")
    off = page.locator("#stream li.mention", has_text="(fosstodon)")
    fold = ready.locator("summary.reply-fold")
    assert fold.inner_text().split() == ["Reply", "on", "mastodon", "via", "mastodon-social"]
    other = off.locator("summary.reply-fold")
    assert "via mastodon-fosstodon" in other.inner_text() and "drafts only" in other.inner_text()
    assert off.locator(".badge.reply-fold-off").count() == 0  # said once above the stream
    # ...naming the source, not the platform: the other Mastodon instance's replies do go out.
    notice = page.locator("#reply-notices")
    assert " ".join(notice.inner_text().split()) == (
        "Replies to Mastodon via mastodon-fosstodon are off · drafts are kept · Why replies are off")
    look = fold.evaluate(FOLD_LOOK)
    assert look["border"] == "solid 1px" and look["cursor"] == "pointer" and look["marker"] == "none"
    assert look["height"] >= 44

    # From the keyboard: Tab lands on it with a visible ring, Enter opens it.
    fold.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    look = fold.evaluate(FOLD_LOOK)
    assert look["focused"] and look["outline"] == "solid 3px"
    page.keyboard.press("Enter")
    ready.get_by_label("Your reply to @target0@mastodon.example").wait_for()
    other.click()
    off.get_by_text("Sending is off: source 'mastodon-fosstodon' has no [sources.reply] table").wait_for()
    assert off.get_by_role("button", name="Send reply").is_disabled()
    assert ready.get_by_role("button", name="Send reply").is_enabled()
    screenshot(page, "replies_folds_stream.png", full_page=True)
    assert axe_violations(page) == []

    page.goto("/teams/support")
    folds = page.locator("summary.reply-fold")
    folds.first.wait_for()
    texts = sorted(" ".join(f.split()) for f in folds.all_inner_texts())
    assert texts == ["Reply on mastodon via mastodon-fosstodon drafts only",
                     "Reply on mastodon via mastodon-social"]
    assert folds.first.evaluate(FOLD_LOOK)["border"] == "solid 1px"
    page.locator("summary.reply-fold", has_text="drafts only").click()
    page.get_by_text("Sending is off: source 'mastodon-fosstodon'").wait_for()
    screenshot(page, "replies_folds_team.png", full_page=True)
    assert axe_violations(page) == []
    page.emulate_media(color_scheme="dark")  # the badge and "via" keep their contrast
    screenshot(page, "replies_folds_team_dark.png", full_page=True)
    assert axe_violations(page) == []
    assert not page.errors, page.errors
