"""RSS/Atom entries the world really sends: undated, without ids, in legacy encodings, refused
downstream; an entry with text is stored, and nothing is seen that was not stored."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from collectors import create_collector
from collectors.base import Batch
from domain import MentionQuery
from crmsphere.ingest import run_collector
from nlp.runner import Analyzer
from storage import open_store
from tests.collectors.fake_rss import FeedHost, fixture, make_app

FIRST_SEEN = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)


@pytest.fixture
async def host(aiohttp_server) -> FeedHost:
    state = FeedHost()
    server = await aiohttp_server(make_app(state))
    state.base_url = str(server.make_url("/"))
    return state


def rss(host: FeedHost, http: aiohttp.ClientSession, *paths: str, **kw: Any):
    options = {"kind": "rss", "name": "notes", "interval": 60, "enabled": True, "base_url": None,
               "feeds": [host.url(p) for p in paths], "credentials": {}, **kw}
    collector = create_collector("rss", "rss:notes", options, http)
    collector.clock = lambda: FIRST_SEEN
    return collector


async def drain(collector, cursor: dict | None = None) -> list[Batch]:
    return [batch async for batch in collector.fetch(cursor)]


def posts_of(batches: list[Batch]):
    return [p for b in batches for p in b.posts]


async def test_entries_without_a_date_or_any_id_are_stored_at_first_sight(host: FeedHost, http) -> None:
    host.put("/notes.xml", fixture("undated.xml"), conditional=False)
    [batch] = await drain(rss(host, http, "/notes.xml"))
    by_text = {p.text.split("\n")[0]: p for p in batch.posts}
    assert set(by_text) == {
        "Invoices exported today show the wrong VAT rate for Belgian customers. A fix is on its way.",
        "Mobile app login loops"}
    description_only = by_text["Invoices exported today show the wrong VAT rate for Belgian "
                               "customers. A fix is on its way."]
    assert description_only.external_id.startswith("text-sha256:")  # no guid, link or title
    assert description_only.created_at == FIRST_SEEN  # neither the item nor the channel is dated
    assert description_only.url is None
    assert description_only.author.handle == "Nimbus support desk notes"
    assert description_only.language == "en"
    login = by_text["Mobile app login loops"]
    assert login.external_id == "https://status.nimbus.example/notes/login-loop"
    assert login.created_at == FIRST_SEEN
    # The image-only item has nothing to read: refused, and not seen.
    [refused] = batch.rejected
    assert refused.where.endswith("#note-7781")
    assert refused.reason == "entry has neither title nor text"
    state = batch.cursor["feeds"][host.url("/notes.xml")]
    assert set(state["seen"]) == {description_only.external_id, login.external_id}
    assert list(state["refused"]) == [host.url("/notes.xml") + "#note-7781"]


async def test_a_date_added_later_makes_no_second_copy(host: FeedHost, http) -> None:
    host.put("/notes.xml", fixture("undated.xml"), conditional=False)
    collector = rss(host, http, "/notes.xml")
    cursor = (await drain(collector))[-1].cursor
    dated = fixture("undated.xml").replace(  # the two items with text
        b"<item>", b"<item><pubDate>Tue, 01 Dec 2026 08:00:00 GMT</pubDate>", 2)
    host.put("/notes.xml", dated, conditional=False)
    again = await drain(collector, cursor)
    assert posts_of(again) == []
    assert [r.reason for b in again for r in b.rejected] == []  # the refused item is unchanged


async def test_an_atom_entry_without_updated_is_stored_at_first_sight(host: FeedHost, http) -> None:
    host.put("/field-notes.atom", fixture("atom_no_updated.xml"),
             content_type="application/atom+xml")
    [batch] = await drain(rss(host, http, "/field-notes.atom"))
    [post] = batch.posts
    assert post.external_id == "tag:notes.corvid.example,2026:webhooks-under-load"
    assert post.created_at == FIRST_SEEN
    assert post.author.handle == "Sam Okafor"
    assert post.text.startswith("Nimbus webhooks drop events under load\n\nTwice this week")
    assert batch.rejected == () and batch.failed == ()


async def test_an_unreadable_date_no_longer_loses_the_entry(host: FeedHost, http) -> None:
    host.put("/digest.xml", fixture("no_dates.xml"))  # <pubDate>sometime last week</pubDate>
    [batch] = await drain(rss(host, http, "/digest.xml"))
    assert [(p.text.split("\n")[0], p.created_at) for p in batch.posts] == [
        ("Dark mode request, again", datetime(2026, 11, 16, 12, tzinfo=timezone.utc)),
        ("Export to CSV is broken", datetime(2026, 11, 17, 8, 30, tzinfo=timezone.utc)),
        ("Undated musings", FIRST_SEEN)]
    assert batch.rejected == ()


async def test_an_entry_without_text_is_reported_once_and_stored_when_it_gets_some(
        host: FeedHost, http) -> None:
    host.put("/notes.xml", fixture("undated.xml"), conditional=False)
    collector = rss(host, http, "/notes.xml")
    first = await drain(collector)
    assert [r.reason for b in first for r in b.rejected] == ["entry has neither title nor text"]
    unchanged = await drain(collector, first[-1].cursor)
    assert posts_of(unchanged) == [] and [r for b in unchanged for r in b.rejected] == []
    with_text = fixture("undated.xml").replace(
        b'<enclosure url="https://status.nimbus.example/media/7781.png"',
        b"<description>Status page screenshot: the EU region is degraded since 09:10.</description>"
        b'<enclosure url="https://status.nimbus.example/media/7781.png"')
    host.put("/notes.xml", with_text, conditional=False)
    later = await drain(collector, unchanged[-1].cursor if unchanged else first[-1].cursor)
    [post] = posts_of(later)
    assert post.external_id == host.url("/notes.xml") + "#note-7781"
    assert post.text == "Status page screenshot: the EU region is degraded since 09:10."
    state = later[-1].cursor["feeds"][host.url("/notes.xml")]
    assert post.external_id in state["seen"] and state["refused"] == {}


@pytest.mark.parametrize("name, content_type, title, text_start", [
    # Neither the XML declaration nor Content-Type names the charset.
    ("windows1251.xml", "application/rss+xml", "Приложение вылетает при оплате",
     "После последнего обновления Nimbus приложение вылетает"),
    ("cp1252.xml", "text/xml", "\u201cDéçu\u201d par la facturation à 49 € par mois\u2026",
     "Nimbus a changé ses tarifs \u2013 l\u2019export des factures"),
])
async def test_a_feed_in_a_legacy_encoding_without_a_charset_is_read_right(
        host: FeedHost, http, name: str, content_type: str, title: str, text_start: str) -> None:
    host.put("/feed.xml", fixture(name), content_type=content_type)
    [batch] = await drain(rss(host, http, "/feed.xml"))
    [post] = batch.posts
    assert post.text.split("\n\n")[0] == title
    assert post.text.split("\n\n")[1].startswith(text_start)
    # Guessing the encoding loses nothing: not a problem to report.
    assert batch.failed == () and batch.rejected == ()


async def test_a_feed_the_parser_chokes_on_fails_alone(host: FeedHost, http) -> None:
    # A character reference to half of a UTF-16 pair (a CMS encoding an emoji badly), in a
    # feed that is not well-formed either: feedparser's fallback parser raises on it.
    host.put("/reviews.xml", b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
             b"<title>Reviews</title><item><title>Love it &#55357;&#56832;</title>"
             b"<link>https://reviews.example/1</link><description>5 stars & more"
             b"</description></item></channel></rss>")
    host.put("/notes.xml", fixture("undated.xml"))
    batches = await drain(rss(host, http, "/reviews.xml", "/notes.xml"))
    assert len(posts_of(batches)) == 2
    [failed] = [r for b in batches for r in b.failed]
    assert failed.where == host.url("/reviews.xml")
    assert failed.reason.startswith("the feed could not be parsed: UnicodeEncodeError")


async def test_entries_refused_by_ingest_are_not_seen_and_come_again_once_fixed(
        host: FeedHost, http, tmp_path: Path) -> None:
    # A CMS that put a whole data: URI in the guid: longer than any id the store accepts.
    huge_guid = "data:text/html;base64," + "PGgxPk5pbWJ1cyBwcmljaW5nPC9oMT4" * 90
    item = ("<item><title>Nimbus pricing, again</title><guid isPermaLink=\"false\">{guid}</guid>"
            "<pubDate>Mon, 30 Nov 2026 10:00:00 GMT</pubDate>"
            "<description>The new tiers price us out.</description></item>")
    feed = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Forge</title>'
            "{item}<item><title>Kept</title><link>https://forge.example/kept</link>"
            "<pubDate>Sun, 29 Nov 2026 10:00:00 GMT</pubDate><description>Fine.</description>"
            "</item></channel></rss>")
    host.put("/forge.xml", feed.format(item=item.format(guid=huge_guid)).encode(), conditional=False)
    store = await open_store(f"sqlite:///{tmp_path / 'store.db'}")
    analyzer = Analyzer(workers=0)
    await analyzer.start([])
    try:
        collector = rss(host, http, "/forge.xml")
        first = await run_collector(collector, store, analyzer)
        state = (await store.get_cursor("rss:notes"))["feeds"][host.url("/forge.xml")]
        again = await run_collector(collector, store, analyzer)
        host.put("/forge.xml", feed.format(item=item.format(guid="forge-post-311")).encode(),
                 conditional=False)
        fixed = await run_collector(collector, store, analyzer)
        stored = (await store.list_mentions(MentionQuery(source="rss"))).items
    finally:
        await analyzer.close()
        await store.close()
    assert first.accepted == 1
    [refused] = first.rejected
    assert refused.reason == "its id is longer than 2000 characters"
    assert state["seen"] == ["https://forge.example/kept"]  # saved with the stored post
    assert list(state["refused"]) == [huge_guid]
    assert (again.accepted, again.rejected) == (0, [])  # unchanged: not reported again
    assert (fixed.accepted, fixed.rejected) == (1, [])
    assert sorted(m.post.external_id for m in stored) == [
        host.url("/forge.xml") + "#forge-post-311", "https://forge.example/kept"]
