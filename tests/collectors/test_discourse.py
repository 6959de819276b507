"""The Discourse collector against a fake forum on 127.0.0.1."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from collectors import create_collector
from collectors.base import Batch
from domain.errors import AuthFailed, NotConfigured, SourceUnavailable
from crmsphere.ingest import run_collector
from nlp.runner import Analyzer
from storage import open_store
from tests.conftest import acme_customers
from tests.collectors.fake_discourse import Forum, make_app

DONE = {"last_post_id": 4522, "last_topic_id": 815}  # the cursor after the captured posts


@pytest.fixture
async def forum(aiohttp_server) -> Forum:
    state = Forum()
    state.load_captured()
    server = await aiohttp_server(make_app(state))
    state.base_url = str(server.make_url("")).rstrip("/")
    return state


def discourse(forum: Forum, http: aiohttp.ClientSession, **kw: Any):
    options = {"kind": "discourse", "name": "forum", "interval": 60, "enabled": True,
               "base_url": forum.base_url, "credentials": {}, **kw}
    return create_collector("discourse", "discourse:forum", options, http)


async def drain(collector, cursor: dict | None = None) -> list[Batch]:
    return [batch async for batch in collector.fetch(cursor)]


def ids(batches: list[Batch]) -> list[str]:
    return [p.external_id for b in batches for p in b.posts]


def add_posts(forum: Forum, first: int, count: int) -> list[str]:
    return [f"post:{forum.add_post(first + i, topic_id=900 + i // 10, number=2 + i % 10)['id']}"
            for i in range(count)]


async def test_first_run_reads_the_latest_posts(forum: Forum, http) -> None:
    batches = await drain(discourse(forum, http))
    assert ids(batches) == ["post:4522", "post:4521", "post:4520", "post:4519"]
    by_id = {p.external_id: p for b in batches for p in b.posts}
    opening = by_id["post:4519"]
    assert opening.source == "discourse"
    assert opening.text == ("CSV export drops the last row\n\nSince the last update, exporting invoices to CSV "
                            "drops the last row. Acme Anvils relies on this export every month.")
    assert opening.author.handle == "jo_r" and opening.author.name == "Jo Rivera"
    assert opening.author.platform_id == "12"
    assert opening.created_at == datetime(2026, 11, 20, 9, 31, 45, 550000, tzinfo=timezone.utc)
    assert opening.url == f"{forum.base_url}/t/csv-export-drops-the-last-row/812/1"
    assert opening.thread_id == "812"
    assert dict(opening.engagement) == {"replies": 1, "reads": 20, "likes": 2, "views": 143,
                                        "topic_likes": 6, "posts": 3}
    # Quoted words and image captions are not the author's.
    assert by_id["post:4520"].text == "Same here since 4.2 & it breaks our month-end close."
    assert by_id["post:4521"].text.startswith("Thanks both, we can reproduce it")
    assert dict(by_id["post:4521"].engagement) == {"replies": 0, "reads": 12, "likes": 3}
    assert by_id["post:4522"].text.startswith("Dark mode for the dashboard?\n\nOur dispatchers work nights.")
    assert batches[-1].cursor == DONE
    assert [path for path, _ in forum.requests] == ["/latest.json", "/posts.json", "/posts.json?before=4519"]
    assert forum.requests[0][1]["User-Agent"] == "crmsphere/0.1.0"
    assert "Api-Key" not in forum.requests[0][1]


async def test_resuming_reads_only_new_posts(forum: Forum, http) -> None:
    collector = discourse(forum, http)
    made = add_posts(forum, 4523, 8)
    batches = await drain(collector, DONE)
    assert sorted(ids(batches)) == sorted(made)
    assert batches[-1].cursor == {"last_post_id": 4530, "last_topic_id": 900}
    forum.requests.clear()
    assert await drain(collector, batches[-1].cursor) == []
    assert [path for path, _ in forum.requests] == ["/latest.json", "/posts.json"]


async def test_many_new_posts_are_paged_back_with_before(forum: Forum, http) -> None:
    made = add_posts(forum, 5000, 120)
    batches = await drain(discourse(forum, http), DONE)
    assert [len(b.posts) for b in batches] == [50, 50, 20]
    assert sorted(ids(batches)) == sorted(made)
    assert batches[0].cursor["gap"] == {"top": 5119, "before": 5070, "left": None}
    assert batches[0].cursor["last_post_id"] == 4522
    assert batches[-1].cursor == {"last_post_id": 5119, "last_topic_id": 911}
    assert [p for p, _ in forum.requests if p.startswith("/posts")] == [
        "/posts.json", "/posts.json?before=5070", "/posts.json?before=5020"]


async def test_a_connection_dropped_mid_walk_resumes_without_gaps_or_repeats(forum: Forum, http) -> None:
    collector = discourse(forum, http)
    made = add_posts(forum, 5000, 120)
    forum.faults.plan("/posts.json", drop=True, after=1)
    first: list[Batch] = []
    with pytest.raises(SourceUnavailable, match="connection failed"):
        async for batch in collector.fetch(DONE):
            first.append(batch)
    assert len(ids(first)) == 50
    later = add_posts(forum, 6000, 5)  # posted while the source was down
    second = await drain(collector, first[-1].cursor)
    everything = ids(first) + ids(second)
    assert sorted(everything) == sorted(made + later)
    assert max(Counter(everything).values()) == 1
    assert second[-1].cursor["last_post_id"] == 6004 and "gap" not in second[-1].cursor


async def test_through_ingest_a_broken_walk_is_finished_by_the_next_run(
        forum: Forum, http, tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'store.db'}")
    await store.upsert_customers(acme_customers())
    analyzer = Analyzer(workers=0)
    await analyzer.start(acme_customers())
    collector = discourse(forum, http)
    try:
        await run_collector(collector, store, analyzer)
        add_posts(forum, 5000, 120)
        forum.faults.plan("/posts.json", drop=True, after=2)
        with pytest.raises(SourceUnavailable):
            await run_collector(collector, store, analyzer)
        stored_cursor = await store.get_cursor("discourse:forum")
        resumed = await run_collector(collector, store, analyzer)
        counts = await store.counts()
    finally:
        await analyzer.close()
        await store.close()
    assert stored_cursor["gap"] == {"top": 5119, "before": 5020, "left": None}
    assert (resumed.accepted, resumed.duplicates) == (20, 0)
    assert counts["mentions"] == 4 + 120


async def test_first_run_takes_the_newest_max_items_and_resumes_from_the_top(forum: Forum, http) -> None:
    made = add_posts(forum, 5000, 120)
    collector = discourse(forum, http, max_items=60)
    batches = await drain(collector)
    assert ids(batches) == list(reversed(made))[:60]
    assert batches[0].cursor["gap"] == {"top": 5119, "before": 5070, "left": 10}
    assert batches[-1].cursor["last_post_id"] == 5119
    newer = add_posts(forum, 6000, 2)
    assert sorted(ids(await drain(collector, batches[-1].cursor))) == newer


async def test_an_interrupted_first_run_keeps_its_bound(forum: Forum, http) -> None:
    made = add_posts(forum, 5000, 120)
    collector = discourse(forum, http, max_items=60)
    forum.faults.plan("/posts.json", drop=True, after=1)
    partial: list[Batch] = []
    with pytest.raises(SourceUnavailable):
        async for batch in collector.fetch(None):
            partial.append(batch)
    assert len(ids(partial)) == 50
    rest = await drain(collector, partial[-1].cursor)
    assert ids(partial) + ids(rest) == list(reversed(made))[:60]
    assert rest[-1].cursor["last_post_id"] == 5119


async def test_a_malformed_post_is_rejected_and_the_rest_kept(forum: Forum, http) -> None:
    forum.add_post(4523, username=None)
    forum.add_post(4524, created_at="yesterday")
    forum.add_post(4525)
    batches = await drain(discourse(forum, http), DONE)
    assert ids(batches) == ["post:4525"]
    reasons = {r.where.rsplit(" ", 1)[1]: r.reason for b in batches for r in b.rejected}
    assert reasons["4523"] == "post has no username"
    assert "created_at" in reasons["4524"]
    assert batches[-1].cursor["last_post_id"] == 4525


async def test_429_waits_as_long_as_retry_after_says(forum: Forum, http) -> None:
    body = {"errors": ["You\u2019ve performed this action too many times. Please wait 30 seconds before trying again."],
            "error_type": "rate_limit", "extras": {"wait_seconds": 30, "time_left": "30 seconds"}}
    forum.faults.plan("/latest.json", 429, body=body,
                      headers={"Retry-After": "30", "Discourse-Rate-Limit-Error-Code": "ip_10_secs_limit"})
    with pytest.raises(SourceUnavailable) as caught:
        await drain(discourse(forum, http))
    assert caught.value.retry_after == 30


async def test_429_without_retry_after_reads_the_wait_from_the_body(forum: Forum, http) -> None:
    body = {"errors": ["Slow down."], "error_type": "rate_limit", "extras": {"wait_seconds": 12, "time_left": "12 seconds"}}
    forum.faults.plan("/posts.json", 429, body=body)
    with pytest.raises(SourceUnavailable) as caught:
        await drain(discourse(forum, http))
    assert caught.value.retry_after == 12


async def test_server_error_is_unavailable(forum: Forum, http) -> None:
    forum.faults.plan("/posts.json", 502, body="<html><body>502 Bad Gateway</body></html>")
    with pytest.raises(SourceUnavailable, match="HTTP 502"):
        await drain(discourse(forum, http))


async def test_api_key_is_sent_and_a_wrong_one_is_an_auth_failure(forum: Forum, http) -> None:
    forum.api_key = "k-123"
    batches = await drain(discourse(forum, http, credentials={"api_key": "k-123", "api_username": "system"}))
    assert len(ids(batches)) == 4
    assert forum.requests[0][1]["Api-Key"] == "k-123" and forum.requests[0][1]["Api-Username"] == "system"
    with pytest.raises(AuthFailed, match="key is invalid"):
        await drain(discourse(forum, http, credentials={"api_key": "old", "api_username": "system"}))


@pytest.mark.parametrize("options, message", [
    ({}, "base_url"),
    ({"base_url": "https://f.example", "credentials": {"api_key": "k"}}, "api_username"),
])
def test_missing_options_are_not_configured(options: dict, message: str) -> None:
    with pytest.raises(NotConfigured, match=message):
        create_collector("discourse", "d", {"kind": "discourse", "name": "d", **options}, object())


def test_without_an_http_session_it_is_not_configured() -> None:
    with pytest.raises(NotConfigured, match="HTTP session"):
        create_collector("discourse", "d", {"kind": "discourse", "name": "d", "base_url": "https://f.example"}, None)
