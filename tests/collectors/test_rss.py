"""The RSS/Atom collector against a fake feed host on 127.0.0.1."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import aiohttp
import pytest

from collectors import create_collector
from collectors.base import Batch
from collectors.rss import SEEN_LIMIT
from collectors.web import html_to_text, parse_retry_after
from domain.errors import AuthFailed, NotConfigured, SourceUnavailable
from tests.collectors.fake_rss import ATOM_TYPE, FeedHost, fixture, make_app


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
async def host(aiohttp_server) -> FeedHost:
    state = FeedHost()
    state.put("/journal/feed/", fixture("rss2.xml"))
    state.put("/eng/atom.xml", fixture("atom.xml"), content_type=ATOM_TYPE)
    server = await aiohttp_server(make_app(state))
    state.base_url = str(server.make_url("/"))
    return state


def rss(host: FeedHost, http: aiohttp.ClientSession, *paths: str, **kw: Any):
    options = {"kind": "rss", "name": "blogs", "interval": 60, "enabled": True, "base_url": None,
               "feeds": [host.url(p) for p in paths], "credentials": {}, **kw}
    return create_collector("rss", "rss:blogs", options, http)


async def drain(collector, cursor: dict | None = None) -> list[Batch]:
    return [batch async for batch in collector.fetch(cursor)]


def posts_of(batches: list[Batch]):
    return [p for b in batches for p in b.posts]


async def test_first_run_reads_rss_and_atom(host: FeedHost, http) -> None:
    batches = await drain(rss(host, http, "/journal/feed/", "/eng/atom.xml"))
    assert len(batches) == 2
    journal, eng = batches[0].posts, batches[1].posts
    # Oldest first; ?p=1020 has no date and takes the channel's lastBuildDate, the date of
    # ?p=1042 above it in the feed: of one date, the lower in the feed comes first.
    assert [p.external_id for p in journal] == [
        "https://journal.anvilworks.example/?p=1031", "https://journal.anvilworks.example/?p=1020",
        "https://journal.anvilworks.example/?p=1042"]
    invoicing = journal[2]
    assert invoicing.source == "rss"
    assert invoicing.author.handle == "Jo Rivera"
    assert invoicing.text == (
        "Why we moved our invoicing to Nimbus\n\n"
        "After three years of spreadsheets, Acme Anvils switched its invoicing to Nimbus. "
        "The export & import took an afternoon\u2026\n\n"
        "The post Why we moved our invoicing to Nimbus appeared first on Anvil Works Journal.")
    assert invoicing.created_at == utc(2026, 11, 14, 16, 20, 5)
    assert invoicing.url == "https://journal.anvilworks.example/2026/11/14/why-we-moved-invoicing/"
    assert invoicing.thread_id == host.url("/journal/feed/")
    assert invoicing.language == "en"
    assert dict(invoicing.engagement) == {"comments": 7}
    assert journal[0].created_at == utc(2026, 11, 7, 8, 0)  # +0100 turned into UTC
    # No pubDate and no author: the channel's lastBuildDate and its title stand in.
    assert journal[1].created_at == utc(2026, 11, 14, 16, 20, 5)
    assert journal[1].author.handle == "Anvil Works Journal"

    assert [p.text.split("\n")[0] for p in eng] == [
        "On-call, one year in", "Routing 10\u00d7 faster with the Nimbus bulk API"]
    routing = eng[1]
    assert routing.external_id == "tag:eng.targetlogistics.example,2026-11-12:/bulk-routing"
    assert routing.author.handle == "Priya Natarajan"
    assert routing.author.platform_id == "https://eng.targetlogistics.example/people/priya/"
    assert routing.created_at == utc(2026, 11, 12, 17, 30)
    assert routing.text.endswith("The rate limits were the hard part \u2014 details.")
    assert eng[0].created_at == utc(2026, 10, 30, 8, 0)  # only <updated>
    assert eng[0].author.handle == "Target Logistics"  # the feed's author
    assert batches[0].rejected == () and batches[1].rejected == ()
    assert batches[0].failed == () and batches[1].failed == ()

    sent = host.hits("/journal/feed/")[0]
    assert sent["User-Agent"] == "crmsphere/0.1.0"
    assert "If-None-Match" not in sent
    state = batches[1].cursor["feeds"][host.url("/journal/feed/")]
    assert state["etag"] == host.feeds["/journal/feed/"].etag
    assert state["last_modified"] == "Sat, 14 Nov 2026 16:20:05 GMT"
    assert len(state["seen"]) == 3


async def test_unchanged_feed_is_asked_conditionally_and_yields_nothing(host: FeedHost, http) -> None:
    collector = rss(host, http, "/journal/feed/")
    cursor = (await drain(collector))[-1].cursor
    assert await drain(collector, cursor) == []
    again = host.hits("/journal/feed/")[-1]
    assert again["If-None-Match"] == host.feeds["/journal/feed/"].etag
    assert again["If-Modified-Since"] == "Sat, 14 Nov 2026 16:20:05 GMT"


async def test_a_changed_feed_yields_only_its_new_entries(host: FeedHost, http) -> None:
    collector = rss(host, http, "/journal/feed/")
    cursor = (await drain(collector))[-1].cursor
    new_item = (b"<item><title>Nimbus outage postmortem</title>"
                b"<link>https://journal.anvilworks.example/2026/11/20/postmortem/</link>"
                b"<guid isPermaLink=\"false\">https://journal.anvilworks.example/?p=1050</guid>"
                b"<pubDate>Fri, 20 Nov 2026 10:00:00 +0000</pubDate>"
                b"<description>Forty minutes of downtime.</description></item>")
    body = fixture("rss2.xml").replace(b"<item>", new_item + b"<item>", 1)
    # A server that ignores conditional GET: the seen ids alone keep old entries out.
    host.put("/journal/feed/", body, conditional=False)
    batches = await drain(collector, cursor)
    assert [p.external_id for p in posts_of(batches)] == ["https://journal.anvilworks.example/?p=1050"]
    assert posts_of(await drain(collector, batches[-1].cursor)) == []


async def test_first_run_takes_the_newest_entries_and_never_the_older_ones_later(host: FeedHost, http) -> None:
    host.feeds["/journal/feed/"].conditional = False
    collector = rss(host, http, "/journal/feed/", max_items=1)
    first = await drain(collector)
    assert [p.external_id for p in posts_of(first)] == ["https://journal.anvilworks.example/?p=1042"]
    again = await drain(collector, first[-1].cursor)
    assert posts_of(again) == []


async def test_seen_ids_are_bounded_but_keep_the_feeds_current_entries(host: FeedHost, http) -> None:
    url = host.url("/journal/feed/")
    old = [f"https://old.example/{i}" for i in range(SEEN_LIMIT + 100)]
    cursor = {"feeds": {url: {"etag": None, "last_modified": None, "seen": old}}}
    batches = await drain(rss(host, http, "/journal/feed/"), cursor)
    seen = batches[-1].cursor["feeds"][url]["seen"]
    assert len(seen) == SEEN_LIMIT
    assert seen[:3] == ["https://journal.anvilworks.example/?p=1042",
                        "https://journal.anvilworks.example/?p=1031",
                        "https://journal.anvilworks.example/?p=1020"]
    assert seen[3] == old[0]
    assert len(posts_of(batches)) == 3


async def test_a_broken_feed_yields_what_it_can_and_says_what_was_wrong(host: FeedHost, http) -> None:
    host.put("/weekly.xml", fixture("broken.xml"))
    batches = await drain(rss(host, http, "/weekly.xml"))
    posts = posts_of(batches)
    assert [p.external_id for p in posts] == ["https://weekly.forge.example/issues/87",
                                              "https://weekly.forge.example/issues/88"]
    assert posts[1].text == "Caf\u00e9 talk: Nimbus pricing\n\nThe new pricing page is confusing"
    assert posts[0].text == "Issue 87"
    assert posts[0].author.handle == "Forge & Anvil Weekly"
    # Entries were salvaged, but a malformed feed may have lost some: a part of the source failed.
    assert batches[0].rejected == ()
    [problem] = batches[0].failed
    assert problem.where == host.url("/weekly.xml")
    assert "not well-formed" in problem.reason


async def test_failing_feeds_are_reported_and_the_others_still_read(host: FeedHost, http) -> None:
    host.put("/status.html", b"<html><head><title>Status</title></head><body>All good</body></html>",
             content_type="text/html; charset=utf-8")
    host.put("/down.xml", b"<h1>Internal Server Error</h1>", status=500)
    host.faults.plan("/dropped.xml", drop=True)
    batches = await drain(rss(host, http, "/missing.xml", "/status.html", "/down.xml", "/dropped.xml",
                              "/eng/atom.xml"))
    assert len(posts_of(batches)) == 2
    assert all(b.rejected == () for b in batches)
    reasons = {r.where: r.reason for b in batches for r in b.failed}
    assert reasons[host.url("/missing.xml")] == "HTTP 404 Not Found"
    assert reasons[host.url("/status.html")].startswith("not an RSS or Atom feed")
    assert reasons[host.url("/down.xml")] == "HTTP 500 Internal Server Error"
    assert reasons[host.url("/dropped.xml")].startswith("connection failed")
    assert set(batches[-1].cursor["feeds"]) == {host.url("/eng/atom.xml")}


async def test_failing_feeds_after_the_last_good_one_travel_in_a_batch_of_their_own(host: FeedHost, http) -> None:
    batches = await drain(rss(host, http, "/eng/atom.xml", "/missing.xml"))
    assert len(batches) == 2
    assert batches[1].posts == ()
    assert [r.where for r in batches[1].failed] == [host.url("/missing.xml")]
    assert batches[1].cursor == batches[0].cursor


async def test_a_rate_limited_source_is_unavailable_when_every_feed_fails(host: FeedHost, http) -> None:
    host.faults.plan("/", 429, headers={"Retry-After": "120"}, body="Too Many Requests", times=2)
    with pytest.raises(SourceUnavailable) as caught:
        await drain(rss(host, http, "/journal/feed/", "/eng/atom.xml"))
    assert caught.value.retry_after == 120
    assert "HTTP 429" in str(caught.value)


async def test_server_errors_on_every_feed_make_the_source_unavailable(host: FeedHost, http) -> None:
    host.faults.plan("/", 503, body="<h1>Service Unavailable</h1>", times=2)
    with pytest.raises(SourceUnavailable) as caught:
        await drain(rss(host, http, "/journal/feed/", "/eng/atom.xml"))
    assert caught.value.retry_after is None


async def test_every_feed_refusing_access_is_an_auth_failure(host: FeedHost, http) -> None:
    host.faults.plan("/", 401, headers={"WWW-Authenticate": 'Basic realm="members"'}, times=2)
    with pytest.raises(AuthFailed):
        await drain(rss(host, http, "/journal/feed/", "/eng/atom.xml"))


async def test_a_dropped_feed_is_read_on_the_next_run_and_the_others_not_again(host: FeedHost, http) -> None:
    collector = rss(host, http, "/journal/feed/", "/eng/atom.xml")
    host.faults.plan("/eng/atom.xml", drop=True)
    first = await drain(collector)
    assert len(posts_of(first)) == 3
    cursor = first[-1].cursor
    assert set(cursor["feeds"]) == {host.url("/journal/feed/")}
    second = await drain(collector, cursor)
    assert [p.external_id for p in posts_of(second)] == [
        "tag:eng.targetlogistics.example,2026-10-30:/on-call",
        "tag:eng.targetlogistics.example,2026-11-12:/bulk-routing"]
    assert await drain(collector, second[-1].cursor) == []


@pytest.mark.parametrize("options, message", [
    ({}, "feeds"),
    ({"feeds": []}, "feeds"),
    ({"feeds": ["file:///etc/passwd"]}, "http"),
])
def test_missing_or_bad_feeds_are_not_configured(options: dict, message: str) -> None:
    with pytest.raises(NotConfigured, match=message):
        create_collector("rss", "rss:x", {"kind": "rss", "name": "x", **options}, object())


def test_without_an_http_session_it_is_not_configured() -> None:
    with pytest.raises(NotConfigured, match="HTTP session"):
        create_collector("rss", "rss:x", {"kind": "rss", "name": "x", "feeds": ["https://a.example/f"]}, None)


def test_html_to_text_keeps_the_words_and_drops_the_markup() -> None:
    html = ('<p>Hello&nbsp;<b>there</b> &amp; welcome&#8230;</p><script>evil()</script>'
            '<aside class="quote"><blockquote>someone else</blockquote></aside>'
            '<ul><li>one</li><li>two<br>lines</li></ul><p>5 &lt; 6</p>')
    assert html_to_text(html, skip_classes=["quote"]) == (
        "Hello there & welcome\u2026\n\none\ntwo\nlines\n\n5 < 6")
    assert html_to_text("plain words") == "plain words"


def test_retry_after_reads_seconds_and_dates() -> None:
    assert parse_retry_after("30", now=0) == 30
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 60) == 60
    assert parse_retry_after("soon", now=0) is None
    assert parse_retry_after(None, now=0) is None
    # What feeds' servers also send: another script's digits once crashed the run (ValueError
    # from float()), a negative number or a year past 9999 is no wait.
    for garbage in ("²", "١٢٠", "-30", "Fri, 31 Dec 99999 23:59:59 GMT"):
        assert parse_retry_after(garbage, now=0) is None, garbage


SLASH_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:slash="http://purl.org/rss/1.0/modules/slash/">
<channel><title>Ops notes</title><link>https://ops.example/</link>
<item><title>Nimbus sync outage write-up</title><guid>https://ops.example/p/1</guid>
<pubDate>Sat, 14 Nov 2026 16:20:05 GMT</pubDate><slash:comments>\xc2\xb2</slash:comments></item>
<item><title>Nimbus sync is back</title><guid>https://ops.example/p/2</guid>
<pubDate>Sat, 14 Nov 2026 18:20:05 GMT</pubDate><slash:comments>7</slash:comments></item>
</channel></rss>"""


async def test_digits_int_cannot_read_in_a_header_or_a_count_stop_nothing(host: FeedHost, http) -> None:
    # "\xb2" is a stray byte of a Latin-1 header and "²" in text: str.isdigit() says yes, int() no.
    host.faults.plan("/journal/feed/", 429, headers={"Retry-After": "\xb2"}, body="Too Many Requests")
    host.put("/ops.xml", SLASH_FEED)
    batches = await drain(rss(host, http, "/journal/feed/", "/ops.xml"))
    posts = {p.external_id: p for p in posts_of(batches)}
    assert set(posts) == {"https://ops.example/p/1", "https://ops.example/p/2"}
    assert posts["https://ops.example/p/1"].engagement == {}
    assert posts["https://ops.example/p/2"].engagement == {"comments": 7}
    assert [(r.where, r.reason) for b in batches for r in b.failed] == [
        (host.url("/journal/feed/"), "HTTP 429 Too Many Requests")]
    assert parse_retry_after("\xb2", 0.0) is None


ZERO_DATE_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Release notes</title><link>https://notes.example/</link>
<item><title>Nimbus 4.2 draft notes</title><guid>https://notes.example/4-2</guid>
<pubDate>0000-00-00 00:00:00</pubDate></item>
<item><title>Nimbus 4.1 released</title><guid>https://notes.example/4-1</guid>
<pubDate>Sat, 14 Nov 2026 16:20:05 GMT</pubDate></item>
</channel></rss>"""


async def test_a_zero_date_of_a_php_blog_dates_the_entry_when_first_seen(host: FeedHost, http) -> None:
    # MySQL's zero date is written as it is by many PHP blogs; feedparser makes it the year -1.
    host.put("/notes.xml", ZERO_DATE_FEED)
    first_seen = utc(2026, 11, 20, 8, 0)
    options = {"kind": "rss", "name": "blogs", "feeds": [host.url("/notes.xml"), host.url("/eng/atom.xml")]}
    collector = create_collector("rss", "rss:blogs", options, http)
    collector.clock = lambda: first_seen
    batches = await drain(collector)
    dated = {p.external_id: p.created_at for p in posts_of(batches)}
    assert dated["https://notes.example/4-2"] == first_seen
    assert dated["https://notes.example/4-1"] == utc(2026, 11, 14, 16, 20, 5)
    assert len(dated) == 4  # the other feed's two entries too
    assert not [r for b in batches for r in b.failed]


SAME_GUID_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Status</title><link>https://status.example/</link>
<item><title>Nimbus sync degraded in eu-west</title><guid isPermaLink="false">status</guid>
<pubDate>Sat, 14 Nov 2026 18:20:05 GMT</pubDate></item>
<item><title>Nimbus sync degraded in eu-west</title><guid isPermaLink="false">status</guid>
<pubDate>Sat, 14 Nov 2026 18:20:05 GMT</pubDate></item>
<item><title>Nimbus API latency resolved</title><guid isPermaLink="false">status</guid>
<pubDate>Sat, 14 Nov 2026 16:20:05 GMT</pubDate></item>
</channel></rss>"""


async def test_entries_repeating_one_guid_are_named_not_dropped_silently(host: FeedHost, http) -> None:
    # Status pages and some CMS templates give every entry the same guid.
    host.put("/status.xml", SAME_GUID_FEED)
    batches = await drain(rss(host, http, "/status.xml"))
    assert [p.text for p in posts_of(batches)] == ["Nimbus sync degraded in eu-west"]
    # The exact repeat is the same entry; the other one is named.
    assert [(r.where, r.reason) for b in batches for r in b.rejected] == [
        (f"{host.url('/status.xml')} entry 3",
         f"repeats the id '{host.url('/status.xml')}#status' of an earlier entry of this feed "
         f"with other content; only the first is stored")]
    # Said once: the next poll of the unchanged feed reports nothing again.
    host.feeds["/status.xml"].conditional = False
    again = await drain(rss(host, http, "/status.xml"), batches[-1].cursor)
    assert posts_of(again) == [] and not [r for b in again for r in b.rejected]


FUTURE_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Nimbus community</title><link>https://community.example/</link>
<item><title>Pinned: how to report a Nimbus sync bug</title><guid>https://community.example/pinned</guid>
<pubDate>Tue, 01 Jan 2999 00:00:00 GMT</pubDate><atom:updated xmlns:atom="http://www.w3.org/2005/Atom">2999-01-01T00:00:00Z</atom:updated></item>
<item><title>Nimbus sync fixed (posted from UTC+14, written as UTC)</title><guid>https://community.example/fixed</guid>
<pubDate>Fri, 20 Nov 2026 21:00:00 GMT</pubDate></item>
</channel></rss>"""


async def test_an_entry_dated_centuries_ahead_is_dated_when_first_seen(host: FeedHost, http) -> None:
    # A date in 2999 keeps a pinned post on top of some CMSs; a mention dated then would fall
    # outside every dashboard period until that year.  Hours ahead (a zone written wrong) stand.
    host.put("/community.xml", FUTURE_FEED)
    first_seen = utc(2026, 11, 20, 8, 0)
    collector = rss(host, http, "/community.xml")
    collector.clock = lambda: first_seen
    dated = {p.external_id: p.created_at for p in posts_of(await drain(collector))}
    assert dated == {"https://community.example/pinned": first_seen,
                     "https://community.example/fixed": utc(2026, 11, 20, 21, 0)}
