"""The X collector: Tweepy's async client sent to a fake X API by a client middleware."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import Any

import aiohttp
import pytest

from collectors import Batch, create_collector
from collectors.x import XCollector
from domain import Author, RawPost
from domain.errors import AuthFailed, NotConfigured, SourceUnavailable
from tests.collectors.fake_x import BEARER, SEARCH, FakeX, clone

FIXTURE_IDS = [t["id"] for t in SEARCH["data"]]  # newest first
REPLY_ID, ROOT_ID = FIXTURE_IDS[0], FIXTURE_IDS[5]


@pytest.fixture
async def fake(aiohttp_server: Any) -> FakeX:
    fake = FakeX()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    return fake


def x(fake: FakeX, http: aiohttp.ClientSession | None = None, **options: Any) -> XCollector:
    table = {"kind": "x", "name": "nimbus", "interval": 60, "enabled": True, "base_url": fake.url,
             "queries": ["nimbus"], "bearer_token_env": "X_BEARER_TOKEN",
             "credentials": {"bearer_token": BEARER}}
    table.update(options)
    collector = create_collector("x", "x:nimbus", table, http)
    assert isinstance(collector, XCollector)
    return collector


async def drain(collector: XCollector, cursor: dict | None = None) -> list[Batch]:
    return [batch async for batch in collector.fetch(cursor)]


def ids(batches: list[Batch]) -> list[str]:
    return [p.external_id for b in batches for p in b.posts]


def publish(fake: FakeX, count: int, after_seconds: float = 60) -> list[str]:
    """``count`` new tweets mentioning Nimbus, newer than everything so far; newest first."""
    newest = fake.newest_first()[0]
    new = [clone(newest, after_seconds + i, f"Nimbus tweet number {i}", seq=i) for i in range(count)]
    for tweet in new:
        fake.add(tweet)
    return [t["id"] for t in reversed(new)]


def search_requests(fake: FakeX) -> list[dict[str, str]]:
    return [q for path, q in fake.requests if path == "/2/tweets/search/recent"]


async def test_first_run_maps_tweets_and_authors(fake: FakeX) -> None:
    async with aiohttp.ClientSession() as shared:
        collector = x(fake, http=shared)
        batches = await drain(collector)
        assert not shared.closed  # only the session the collector made itself is closed

    assert ids(batches) == FIXTURE_IDS
    posts = {p.external_id: p for p in batches[0].posts}
    assert posts[REPLY_ID] == RawPost(
        source="x", external_id=REPLY_ID, author=Author("nimbushq", "Nimbus", "1422874110953365504"),
        text="@dana_ops A fix for the Nimbus sync E-409 error ships today, sorry for the trouble.",
        created_at=datetime(2026, 11, 1, 11, 58, 0, 14000, tzinfo=timezone.utc),
        url=f"https://x.com/nimbushq/status/{REPLY_ID}", parent_id=ROOT_ID, thread_id=ROOT_ID,
        language="en",
        engagement={"likes": 8, "reposts": 0, "replies": 1, "quotes": 0, "bookmarks": 0, "impressions": 288})
    assert posts[FIXTURE_IDS[3]].language == "de"
    assert posts[FIXTURE_IDS[4]].parent_id is None  # a quote is not a reply
    assert posts[FIXTURE_IDS[6]].language is None  # "und": X could not tell
    assert posts[FIXTURE_IDS[1]].text.endswith("every quarter \U0001F64F @nimbushq")
    assert batches[-1].cursor == {"streams": {"search:nimbus": {"since_id": FIXTURE_IDS[0]}}}

    (request,) = search_requests(fake)
    assert request["query"] == "nimbus" and request["expansions"] == "author_id"
    assert request["tweet.fields"].split(",") == ["created_at", "lang", "conversation_id", "in_reply_to_user_id",
                                                   "referenced_tweets", "public_metrics", "author_id"]
    assert "since_id" not in request
    assert collector.rate_limit_remaining == fake.remaining == 449
    assert collector.rate_limit_reset == fake.reset_at


async def test_pagination_within_the_first_run_window(fake: FakeX) -> None:
    newest = publish(fake, 25)
    batches = await drain(x(fake, page_size=10, max_items=15))

    assert ids(batches) == newest[:15]
    requests = search_requests(fake)
    assert [r["max_results"] for r in requests] == ["10", "10"]
    assert "next_token" not in requests[0] and requests[1]["next_token"]
    assert batches[0].cursor == {"streams": {"search:nimbus": {
        "since_id": None, "pending": {"newest_id": newest[0], "until_id": newest[9], "left": 5}}}}
    assert batches[-1].cursor == {"streams": {"search:nimbus": {"since_id": newest[0]}}}


async def test_resuming_from_the_cursor_reads_only_new_tweets(fake: FakeX) -> None:
    collector = x(fake)
    cursor = (await drain(collector))[-1].cursor
    new = publish(fake, 3)
    second = await drain(collector, cursor)

    assert ids(second) == new
    assert search_requests(fake)[-1]["since_id"] == FIXTURE_IDS[0]
    assert await drain(collector, second[-1].cursor) == []


async def test_a_connection_dropped_mid_pagination_loses_and_repeats_nothing(fake: FakeX) -> None:
    everything = publish(fake, 25) + FIXTURE_IDS  # 32 tweets: pages of 10, 10, 10, 2
    collector = x(fake, page_size=10)
    fake.drop_from = 3
    yielded: list[Batch] = []
    with pytest.raises(SourceUnavailable, match="unreachable"):
        async for batch in collector.fetch(None):
            yielded.append(batch)
    assert ids(yielded) == everything[:20]
    assert yielded[-1].cursor["streams"]["search:nimbus"]["pending"]["until_id"] == everything[19]

    fake.drop_from = None
    later = publish(fake, 2, after_seconds=3600)  # posted while the source was down
    rest = await drain(collector, yielded[-1].cursor)
    assert ids(rest) == everything[20:]
    assert search_requests(fake)[-2]["until_id"] == everything[19]
    newest = await drain(collector, rest[-1].cursor)
    assert ids(newest) == later
    collected = ids(yielded + rest + newest)
    assert len(collected) == len(set(collected)) and set(collected) == set(everything + later)


async def test_a_malformed_tweet_is_rejected_and_the_rest_kept(fake: FakeX) -> None:
    undated, stranger = (clone(fake.newest_first()[0], 60 + i, f"nimbus broken {i}", seq=i) for i in range(2))
    del undated["created_at"]
    stranger["author_id"] = "404404404"
    fake.add(undated)
    fake.add(stranger)
    batches = await drain(x(fake))

    assert ids(batches) == FIXTURE_IDS
    reasons = {r.where: r.reason for b in batches for r in b.rejected}
    assert reasons == {f"x:search:nimbus:{undated['id']}": "field 'created_at' must be an ISO 8601 string, "
                                                           "got NoneType",
                       f"x:search:nimbus:{stranger['id']}": "author 404404404 missing from includes.users"}
    assert batches[-1].cursor["streams"]["search:nimbus"]["since_id"] == stranger["id"]


async def test_429_with_a_near_reset_waits_and_retries_once(fake: FakeX) -> None:
    fake.fail(429, reset_in=1)
    # Waited for X's reset (1 s away), not for a back-off of minutes: that would outlast the
    # bound, which is generous so that a slow machine never fails it.  The fake refuses
    # every request until the reset, so two requests in all means none came too early.
    batches = await asyncio.wait_for(drain(x(fake)), 60)
    assert ids(batches) == FIXTURE_IDS
    assert len(search_requests(fake)) == 2


async def test_429_again_after_the_wait_is_source_unavailable(fake: FakeX) -> None:
    fake.fail(429, times=2, reset_in=1)
    collector = x(fake)
    with pytest.raises(SourceUnavailable) as caught:
        await drain(collector)
    assert caught.value.retry_after is not None and caught.value.retry_after <= 1
    assert len(search_requests(fake)) == 2
    assert collector.rate_limit_remaining == 0


@pytest.mark.parametrize("reset_in, max_wait", [(3600, 900), (30, 10)])
async def test_429_with_a_far_reset_is_source_unavailable(fake: FakeX, reset_in: int, max_wait: int) -> None:
    fake.fail(429, reset_in=reset_in)
    collector = x(fake, max_wait=max_wait)
    with pytest.raises(SourceUnavailable) as caught:
        await drain(collector)
    assert caught.value.retry_after == pytest.approx(reset_in, abs=2)
    assert collector.rate_limit_remaining == 0
    assert collector.rate_limit_reset == pytest.approx(time.time() + reset_in, abs=2)
    assert len(search_requests(fake)) == 1


@pytest.mark.parametrize("status, message", [(503, "server error"), (502, "without JSON")])
async def test_server_errors_are_source_unavailable(fake: FakeX, status: int, message: str) -> None:
    fake.fail(status)
    with pytest.raises(SourceUnavailable, match=message):
        await drain(x(fake))


async def test_max_items_zero_starts_from_the_newest_tweet(fake: FakeX) -> None:
    collector = x(fake, max_items=0)
    batches = await drain(collector)
    assert ids(batches) == []
    assert batches[-1].cursor == {"streams": {"search:nimbus": {"since_id": FIXTURE_IDS[0]}}}
    new = publish(fake, 1)
    assert ids(await drain(collector, batches[-1].cursor)) == new


async def test_401_is_auth_failed(fake: FakeX) -> None:
    with pytest.raises(AuthFailed):
        await drain(x(fake, credentials={"bearer_token": "revoked"}))


async def test_a_missing_bearer_token_is_not_configured(fake: FakeX) -> None:
    with pytest.raises(NotConfigured, match="X_BEARER_TOKEN"):
        x(fake, credentials={})


async def test_mentions_of_an_account(fake: FakeX) -> None:
    collector = x(fake, queries=[], mentions_of="@NimbusHQ")
    first = await drain(collector)
    assert ids(first) == [FIXTURE_IDS[1], ROOT_ID]  # the tweets naming @nimbushq
    state = first[-1].cursor["streams"]["mentions:nimbushq"]
    assert state == {"user_id": "1422874110953365504", "since_id": FIXTURE_IDS[1]}

    reply = clone(fake.newest_first()[0], 60, "@NimbusHQ where is the E-409 fix?")
    fake.add(reply)
    second = await drain(collector, first[-1].cursor)
    assert ids(second) == [reply["id"]]
    lookups = [p for p, _ in fake.requests if p.startswith("/2/users/by/username/")]
    assert lookups == ["/2/users/by/username/NimbusHQ"]  # the id is kept in the cursor


async def test_mentions_of_an_unknown_account_is_reported(fake: FakeX) -> None:
    batches = await drain(x(fake, mentions_of="nobody_here"))
    assert ids(batches) == FIXTURE_IDS
    assert [r for b in batches for r in b.rejected] == []
    assert [(r.where, r.reason) for b in batches for r in b.failed] == [
        ("x:mentions:nobody_here",
         "no X account named 'nobody_here': correct 'mentions_of' in the source's settings")]


async def test_a_since_id_older_than_the_search_window_restarts_the_stream(fake: FakeX) -> None:
    fake.oldest_since_id = int(FIXTURE_IDS[-1])
    stale = {"streams": {"search:nimbus": {"since_id": "1000"}}}
    batches = await drain(x(fake, max_items=3), stale)
    assert ids(batches) == FIXTURE_IDS[:3]
    assert batches[-1].cursor == {"streams": {"search:nimbus": {"since_id": FIXTURE_IDS[0]}}}
