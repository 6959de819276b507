"""The stream of a demo whose reply sources are not set up, in real headless Chromium against
``crmsphere serve``: one calm notice above the stream naming every source whose replies
are off (not an orange badge on every card, nor a line per source), and each card's reply fold saying it quietly inside,
with Send disabled and described, at phone and desktop sizes; axe finds nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from domain import Analysis, Author, Mention, RawPost
from storage import open_store
from tests.api.a11y_checks import axe_violations
from tests.browser_helpers import browser_tab, forum_server, needs_chromium, password_hash, screenshot

pytestmark = needs_chromium

MANAGER = "morgan@nimbus.example"
#: Demo-like posts: imported (the demo's ``demo:posts``), as ``crmsphere demo load`` stores them.
POSTS = [
    ("reddit", "t3_1h9x2kq", "kanban_kat", "Nimbus boards keep losing my column order after the update. Anyone else?"),
    ("reddit", "t3_1h9x7zz", "pm_on_fire", "Moved our team from Trello to Nimbus last week, the import was painless"),
    ("reddit", "t3_1h9y0ab", "devops_dan", "Is there a Nimbus API for bulk-archiving cards? Docs are thin."),
    ("x", "1866012345678901234", "sarah_ships", "@nimbushq the new timeline view is exactly what we needed"),
    ("hackernews", "42345678", "throwaway_hn", "Nimbus vs Asana for a 12 person agency? Curious about pricing."),
]


async def _seed(url: str) -> None:
    store = await open_store(url)
    try:
        now = datetime.now(timezone.utc)
        mentions = [Mention(RawPost(source, external_id, Author(handle), text, now - timedelta(minutes=n),
                                    url=f"https://{source}.example/{external_id}"), Analysis())
                    for n, (source, external_id, handle, text) in enumerate(POSTS)]
        await store.save_mentions("demo:posts", mentions, None)
        # Read by a configured Mastodon source that has no reply table: its own notice.
        toot = RawPost("mastodon", "113601234567890123", Author("ops@fosstodon.example"),
                       "Does Nimbus have a self-hosted option?", now, url="https://fosstodon.example/@ops/1")
        await store.save_mentions("mastodon-fosstodon", [Mention(toot, Analysis())], None)
    finally:
        await store.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("notices")
    with forum_server(tmp, MANAGER, "Morgan", password_hash(), '''
[scheduler]
enabled = false
[[sources]]
kind = "mastodon"
name = "mastodon-fosstodon"
instance = "http://127.0.0.1:9"
hashtags = ["nimbus"]
''') as (base, _token):
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _seed(f"sqlite:///{tmp / 'db.sqlite'}")).result()
        yield base


@pytest.mark.parametrize("size", [(390, 844), (1280, 900)], ids=["phone", "desktop"])
def test_replies_off_are_one_calm_notice_naming_the_sources_not_a_badge_per_card(browser, served, size) -> None:
    with browser_tab(browser, served, size=size, sign_in_as=MANAGER) as page:
        page.goto("/dashboard")
        cards = page.locator("#stream li.mention")
        cards.nth(len(POSTS)).wait_for()
        notice = page.locator("#reply-notices")
        notice.wait_for()
        # One calm line for every source whose replies are off, whatever the number of cards
        # (three Reddit cards, one X, one Mastodon): Hacker News needs no account, so is not named.
        # ("Why" says what it is about to a screen reader: "Why replies are off".)
        assert page.locator(".reply-notice").count() == 1
        assert " ".join(notice.inner_text().split()) == (
            "Replies to Mastodon, Reddit and X are off · drafts are kept · Why replies are off")
        name = "phone" if size[0] < 600 else "desktop"
        screenshot(page, f"stream_reply_notices_{name}.png", full_page=False)
        # What to set, per source, is one tap away.
        notice.get_by_text("Why").click()
        reasons = notice.locator(".reply-notice-why li")
        reasons.first.wait_for()
        texts = [" ".join(t.split()) for t in reasons.all_inner_texts()]
        assert [t.split(":")[0] for t in texts] == ["mastodon-fosstodon (Mastodon)", "Reddit", "X"], texts
        assert "has no [sources.reply] table" in texts[0]
        assert texts[1].startswith("Reddit: no reddit source is configured: add a [[sources]] table")
        assert "client_id_env" in texts[1]
        assert texts[2].startswith("X: no x source is configured"), texts[2]
        screenshot(page, f"stream_reply_notices_why_{name}.png", full_page=False)
        assert page.locator("#reply-notices").is_visible()
        # The notice comes before the stream, where the eye starts.
        assert page.locator("#reply-notices").bounding_box()["y"] < cards.first.bounding_box()["y"]
        # No card shouts: no warning badge on any fold, a quiet word instead.
        assert page.locator("#stream .badge.reply-fold-off").count() == 0
        reddit = cards.filter(has_text="column order")
        fold = reddit.locator("summary.reply-fold")
        assert " ".join(fold.inner_text().split()) == "Reply on reddit drafts only"
        quiet = fold.locator(".reply-drafts").evaluate("el => getComputedStyle(el).color")
        warning = page.locator("#reply-notices").evaluate(
            "el => getComputedStyle(document.documentElement).getPropertyValue('--warning').trim()")
        assert quiet != warning
        hn = cards.filter(has_text="12 person agency")
        assert "drafts only" not in hn.locator("summary.reply-fold").inner_text()
        fold.click()
        note = reddit.locator(".reply-note")
        note.wait_for()
        assert "no reddit source is configured" in note.inner_text() and "draft" in note.inner_text()
        send = reddit.get_by_role("button", name="Send reply")
        assert send.is_disabled()
        assert send.get_attribute("aria-describedby") == note.get_attribute("id")
        assert reddit.get_by_role("button", name="Save as draft").is_enabled()
        screenshot(page, f"stream_reply_fold_off_{name}.png", full_page=False)
        assert axe_violations(page) == []
        page.emulate_media(color_scheme="dark")
        page.locator("#reply-notices").scroll_into_view_if_needed()
        screenshot(page, f"stream_reply_notices_{name}_dark.png", full_page=False)
        assert axe_violations(page) == []
        assert not page.errors, page.errors
