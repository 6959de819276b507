"""The Hacker News collector against a fake Algolia API on 127.0.0.1."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any

import aiohttp
import pytest

from collectors import create_collector
from collectors.base import Batch
from domain.errors import AuthFailed, NotConfigured, SourceUnavailable
from tests.collectors.fake_hackernews import PAGINATION_LIMIT, Algolia, make_app

NEWEST = 1795183391  # created_at_i of the newest captured hit (a comment)
T0 = 1795200000      # later hits are made from here on


@pytest.fixture
async def algolia(aiohttp_server) -> Algolia:
    index = Algolia()
    index.load_captured()
    server = await aiohttp_server(make_app(index))
    index.base_url = str(server.make_url(""))
    return index


def hn(index: Algolia, http: aiohttp.ClientSession, **kw: Any):
    options = {"kind": "hackernews", "name": "hn", "interval": 60, "enabled": True,
               "base_url": index.base_url, "queries": ["nimbus"], "credentials": {}, **kw}
    return create_collector("hackernews", "hackernews:hn", options, http)


async def drain(collector, cursor: dict | None = None) -> list[Batch]:
    return [batch async for batch in collector.fetch(cursor)]


def ids(batches: list[Batch]) -> list[str]:
    return [p.external_id for b in batches for p in b.posts]


async def test_first_run_reads_stories_and_comments(algolia: Algolia, http) -> None:
    [batch] = await drain(hn(algolia, http))
    assert [p.external_id for p in batch.posts] == ["46021337", "46021400", "46021502"]
    ask, show, comment = batch.posts
    assert comment.source == "hackernews"
    assert comment.author.handle == "jo_r"
    assert comment.text == ("We moved to Nimbus last year. The CSV import is great, but dark mode still "
                            "isn't there.\n\nAlso: the status page at https://status.nimbus.example/ is "
                            "\"green\" during outages >:(")
    assert comment.created_at == datetime(2026, 11, 20, 14, 3, 11, tzinfo=timezone.utc)
    assert comment.url == "https://news.ycombinator.com/item?id=46021502"
    assert (comment.parent_id, comment.thread_id) == ("46021337", "46021337")
    assert dict(comment.engagement) == {}
    assert show.text == "Show HN: Routing 10x faster with the Nimbus bulk API"
    assert dict(show.engagement) == {"points": 118, "comments": 2}
    assert (show.parent_id, show.thread_id) == (None, "46021400")
    assert ask.text.startswith("Ask HN: Nimbus or spreadsheets for a 12-person team?\n\n"
                               "Our team (12 people) is choosing")
    assert ask.text.endswith("Exports, permissions, pricing & support are what we care about.")
    assert batch.cursor == {"queries": {"nimbus": {"after": NEWEST, "ids_at": ["46021502"]}}}
    [request] = algolia.requests
    assert request["tags"] == "(story,comment)" and request["query"] == "nimbus"
    assert "numericFilters" not in request
    assert algolia.faults.requests[0][1]["User-Agent"] == "crmsphere/0.1.0"


async def test_first_run_is_bounded_by_max_items(algolia: Algolia, http) -> None:
    for i in range(250):
        algolia.add(50_000_000 + i, T0 + i)
    batches = await drain(hn(algolia, http, max_items=30, hits_per_page=20))
    assert ids(batches) == [str(50_000_000 + i) for i in range(220, 250)]
    assert [r["page"] for r in algolia.requests] == ["0", "1"]
    assert algolia.requests[1]["numericFilters"] == f"created_at_i<={T0 + 249}"
    assert batches[-1].cursor["queries"]["nimbus"] == {"after": T0 + 249, "ids_at": ["50000249"]}


async def test_resuming_takes_new_hits_once_including_late_ones_in_the_same_second(
        algolia: Algolia, http) -> None:
    collector = hn(algolia, http)
    cursor = (await drain(collector))[-1].cursor
    algolia.add(46021600, NEWEST)  # same second as the cursor, new id
    algolia.add(46021700, NEWEST + 5, kind="story", title="Nimbus 3.0 released", points=3, num_comments=0)
    algolia.requests.clear()
    batches = await drain(collector, cursor)
    assert ids(batches) == ["46021600", "46021700"]
    assert batches[-1].cursor["queries"]["nimbus"] == {"after": NEWEST + 5, "ids_at": ["46021700"]}
    assert algolia.requests[0]["numericFilters"] == f"created_at_i>={NEWEST}"
    assert await drain(collector, batches[-1].cursor) == []


async def test_more_than_a_thousand_hits_are_read_in_time_windows_oldest_first(algolia: Algolia, http) -> None:
    made = [str(60_000_000 + i) for i in range(2500)]
    for i, object_id in enumerate(made):
        algolia.add(int(object_id), T0 + i // 3)  # three hits a second
    cursor = {"queries": {"nimbus": {"after": NEWEST, "ids_at": ["46021502"]}}}
    batches = await drain(hn(algolia, http), cursor)
    assert ids(batches) == made
    times = [int(p.created_at.timestamp()) for b in batches for p in b.posts]
    assert times == sorted(times)
    afters = [b.cursor["queries"]["nimbus"]["after"] for b in batches]
    assert afters == sorted(afters) and afters[-1] == T0 + 2499 // 3
    # Every window read held at most 1,000 hits, so no page was beyond Algolia's limit.
    for request in algolia.requests:
        assert int(request["page"]) * int(request["hitsPerPage"]) < PAGINATION_LIMIT
    assert any("created_at_i<=" in r.get("numericFilters", "") and r["page"] == "0" for r in algolia.requests)


async def test_a_connection_dropped_mid_pagination_resumes_from_the_last_batch(algolia: Algolia, http) -> None:
    made = [str(60_000_000 + i) for i in range(2500)]
    for i, object_id in enumerate(made):
        algolia.add(int(object_id), T0 + i // 3)
    start = {"queries": {"nimbus": {"after": NEWEST, "ids_at": ["46021502"]}}}
    collector = hn(algolia, http)
    algolia.faults.plan("/api/v1/search_by_date", drop=True, after=20)
    first: list[Batch] = []
    with pytest.raises(SourceUnavailable, match="connection failed"):
        async for batch in collector.fetch(start):
            first.append(batch)
    assert 0 < len(ids(first)) < 2500
    second = await drain(collector, first[-1].cursor)
    assert ids(first) + ids(second) == made
    assert Counter(ids(first) + ids(second)).most_common(1)[0][1] == 1


async def test_a_malformed_hit_is_rejected_and_the_rest_kept(algolia: Algolia, http) -> None:
    algolia.add(46021800, NEWEST + 10, author=None)
    broken = algolia.add(46021900, NEWEST + 20)
    del broken["created_at_i"]
    algolia.add(46022000, NEWEST + 30)
    cursor = {"queries": {"nimbus": {"after": NEWEST, "ids_at": ["46021502"]}}}
    batches = await drain(hn(algolia, http), cursor)
    assert ids(batches) == ["46022000"]
    rejected = {r.where: r.reason for b in batches for r in b.rejected}
    assert rejected == {"hackernews:nimbus:46021800": "hit has no author"}
    assert batches[-1].cursor["queries"]["nimbus"]["after"] == NEWEST + 30


async def test_a_first_run_hit_without_time_is_rejected(algolia: Algolia, http) -> None:
    broken = algolia.add(46021900, NEWEST + 20)
    del broken["created_at_i"]
    [batch] = await drain(hn(algolia, http))
    assert [p.external_id for p in batch.posts] == ["46021337", "46021400", "46021502"]
    assert [r.where for r in batch.rejected] == ["hackernews:nimbus:46021900"]


async def test_queries_keep_their_own_cursor(algolia: Algolia, http) -> None:
    algolia.add(46022100, NEWEST + 1, comment_text="Acme Anvils pays for Nimbus")
    batches = await drain(hn(algolia, http, queries=["nimbus", "acme anvils"]))
    cursor = batches[-1].cursor["queries"]
    assert cursor["nimbus"] == {"after": NEWEST + 1, "ids_at": ["46022100"]}
    assert cursor["acme anvils"] == {"after": NEWEST + 1, "ids_at": ["46022100"]}
    assert ids(batches) == ["46021337", "46021400", "46021502", "46022100", "46022100"]


async def test_rate_limited_with_retry_after(algolia: Algolia, http) -> None:
    algolia.faults.plan("/api/v1/search_by_date", 429, headers={"Retry-After": "17"},
                        body={"message": "Too many requests", "status": 429})
    with pytest.raises(SourceUnavailable) as caught:
        await drain(hn(algolia, http))
    assert caught.value.retry_after == 17


async def test_rate_limited_without_retry_after_waits_a_minute(algolia: Algolia, http) -> None:
    algolia.faults.plan("/api/v1/search_by_date", 429, body={"message": "Too many requests", "status": 429})
    with pytest.raises(SourceUnavailable) as caught:
        await drain(hn(algolia, http))
    assert caught.value.retry_after == 60


async def test_server_error_is_unavailable(algolia: Algolia, http) -> None:
    algolia.faults.plan("/api/v1/search_by_date", 502, body="<html>502 Bad Gateway</html>")
    with pytest.raises(SourceUnavailable, match="HTTP 502"):
        await drain(hn(algolia, http))


async def test_refused_key_is_an_auth_failure(algolia: Algolia, http) -> None:
    algolia.faults.plan("/api/v1/search_by_date", 403,
                        body={"message": "Invalid Application-ID or API key", "status": 403})
    with pytest.raises(AuthFailed):
        await drain(hn(algolia, http))


async def test_garbage_answer_is_unavailable(algolia: Algolia, http) -> None:
    algolia.faults.plan("/api/v1/search_by_date", 200, body="<html>maintenance</html>")
    with pytest.raises(SourceUnavailable, match="invalid JSON"):
        await drain(hn(algolia, http))


@pytest.mark.parametrize("options", [{}, {"queries": []}, {"queries": [""]}])
def test_without_queries_it_is_not_configured(options: dict) -> None:
    with pytest.raises(NotConfigured, match="queries"):
        create_collector("hackernews", "hn", {"kind": "hackernews", "name": "hn", **options}, object())


def test_without_an_http_session_it_is_not_configured() -> None:
    with pytest.raises(NotConfigured, match="HTTP session"):
        create_collector("hackernews", "hn", {"kind": "hackernews", "name": "hn", "queries": ["x"]}, None)


@pytest.mark.parametrize("created_at_i", [(NEWEST + 40) * 1000, 10**20, 32503680000])  # 3000-01-01
async def test_a_hit_timed_beyond_any_date_is_rejected_and_the_cursor_not_moved_to_it(
        algolia: Algolia, http, created_at_i: int) -> None:
    # A time in milliseconds where seconds belong is some 50,000 years ahead; the year 3000
    # is a date, but as the cursor it would pass every hit to come.
    algolia.add(46022200, NEWEST + 40)["created_at_i"] = created_at_i
    algolia.add(46022300, NEWEST + 30)
    cursor = {"queries": {"nimbus": {"after": NEWEST, "ids_at": ["46021502"]}}}
    batches = await drain(hn(algolia, http), cursor)
    assert ids(batches) == ["46022300"]
    assert [r.where for b in batches for r in b.rejected] == ["hackernews:nimbus:46022200"]
    assert batches[-1].cursor["queries"]["nimbus"] == {"after": NEWEST + 30, "ids_at": ["46022300"]}
    # The next hit still comes: the cursor was not moved past it to the bogus time.
    algolia.add(46022400, NEWEST + 50)
    again = await drain(hn(algolia, http), batches[-1].cursor)
    assert ids(again) == ["46022400"]


async def test_an_answer_larger_than_any_page_is_refused_before_it_is_all_read(aiohttp_server, http) -> None:
    # A base_url pointing at a file server, or a hostile one: 64 MB streamed without a length.
    from aiohttp import web

    sent = {"bytes": 0}

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        chunk = b'{"hits": [' + b'{"objectID": "1"},' * 60_000
        try:
            for _ in range(64 * 1024 * 1024 // len(chunk)):
                await resp.write(chunk)
                sent["bytes"] += len(chunk)
        except (ConnectionResetError, RuntimeError):
            pass  # the client stopped reading
        return resp

    app = web.Application()
    app.router.add_get("/api/v1/search_by_date", endless)
    server = await aiohttp_server(app)
    index = Algolia(base_url=str(server.make_url("")))
    with pytest.raises(SourceUnavailable, match="answered more than 20971520 bytes"):
        await drain(hn(index, http))
