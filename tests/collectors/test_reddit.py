"""The Reddit collector: PRAW pointed at a fake Reddit serving captured-shape listings."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

import prawcore.sessions
import pytest

from collectors import Batch, create_collector
from collectors.reddit import RedditCollector
from domain import Author, RawPost
from domain.errors import AuthFailed, NotConfigured, SourceUnavailable
from tests.collectors.fake_reddit import FakeReddit, clone, fixture_children

B = 1793534400.0  # 2026-11-01T12:00:00Z, the newest post in the fixture
ALL_NEW = ["t3_1oq7f0b", "t3_1oq7j9w", "t3_1oq7j9x", "t3_1oq7k2m"]
ALL_COMMENTS = ["t1_m2x99yy", "t1_m2x9a1b", "t1_m2x9a2d"]
ALL_SEARCH = ["t3_1oq5x3r", "t3_1oq6z1q"]


@pytest.fixture(autouse=True)
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """prawcore sleeps 0-4 s between its two retries of a 5xx or dropped connection."""
    monkeypatch.setattr(prawcore.sessions.FiniteRetryStrategy, "_sleep_seconds", lambda self: None)


@pytest.fixture
async def fake(aiohttp_server: Any) -> FakeReddit:
    fake = FakeReddit()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    return fake


def reddit(fake: FakeReddit, **options: Any) -> RedditCollector:
    table = {"kind": "reddit", "name": "nimbus", "interval": 60, "enabled": True, "base_url": fake.url,
             "subreddits": ["nimbuscloud"], "client_id_env": "REDDIT_CLIENT_ID",
             "client_secret_env": "REDDIT_CLIENT_SECRET",
             "credentials": {"client_id": fake.client_id, "client_secret": fake.client_secret}}
    table.update(options)
    collector = create_collector("reddit", "reddit:nimbus", table)
    assert isinstance(collector, RedditCollector)
    return collector


async def drain(collector: RedditCollector, cursor: dict | None = None) -> list[Batch]:
    return [batch async for batch in collector.fetch(cursor)]


def handed_on(batches: list[Batch]) -> list[str]:
    """Fullnames of everything the batches account for: posts and rejected items, in order."""
    names: list[str] = []
    for batch in batches:
        names += [r.where.rsplit(":", 1)[1] for r in batch.rejected]
        names += [p.external_id for p in batch.posts]
    return names


def post_ids(batches: list[Batch], prefix: str = "") -> list[str]:
    return [p.external_id for b in batches for p in b.posts if p.external_id.startswith(prefix)]


async def test_first_run_reads_posts_comments_and_searches_oldest_first(fake: FakeReddit) -> None:
    collector = reddit(fake, search=["nimbus sync"], page_size=2)
    batches = await drain(collector)

    assert [[p.external_id for p in b.posts] for b in batches] == [ALL_NEW, ALL_COMMENTS, ALL_SEARCH]
    posts = {p.external_id: p for b in batches for p in b.posts}
    assert posts["t3_1oq7k2m"] == RawPost(
        source="reddit", external_id="t3_1oq7k2m", author=Author("dana_ops", None, "t2_8x1kq2"),
        text="Nimbus sync keeps failing after the 4.2 update\n\n"
             "Since yesterday every sync ends with error E-409. Reinstalling did not help. Anyone else?",
        created_at=datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc),
        url="https://www.reddit.com/r/nimbuscloud/comments/1oq7k2m/nimbus_sync_keeps_failing_after_the/",
        engagement={"score": 14, "comments": 3})
    assert posts["t1_m2x9a2d"] == RawPost(
        source="reddit", external_id="t1_m2x9a2d", author=Author("nimbus_team", None, "t2_5r0w7c"),
        text="Thanks for the report, a fix for E-409 is rolling out today.",
        created_at=datetime(2026, 11, 1, 12, 2, tzinfo=timezone.utc),
        url="https://www.reddit.com/r/nimbuscloud/comments/1oq7k2m/nimbus_sync_keeps_failing_after_the/m2x9a2d/",
        parent_id="t1_m2x9a1b", thread_id="t3_1oq7k2m", engagement={"score": 9})
    link_post = posts["t3_1oq7j9x"]
    assert link_post.text == "Nimbus 4.2 release notes"  # a link post has no selftext
    assert posts["t1_m2x99yy"].text == "Boards \u2192 Share \u2192 Export gives you CSV on the Team plan."

    rejected = {r.where: r.reason for b in batches for r in b.rejected}
    assert rejected == {"reddit:r/nimbuscloud:new:t3_1oq7h4c": "removed",
                        "reddit:r/nimbuscloud:new:t3_1oq7g1a": "deleted",
                        "reddit:r/nimbuscloud:comments:t1_m2x99zz": "deleted"}
    assert batches[-1].cursor == {"streams": {
        "r/nimbuscloud:new": {"newest_utc": B, "seen": ["t3_1oq7k2m"]},
        "r/nimbuscloud:comments": {"newest_utc": B + 120, "seen": ["t1_m2x9a2d"]},
        "search:nimbus sync": {"newest_utc": B - 1400, "seen": ["t3_1oq6z1q"]}}}

    listing_requests = [(path, q) for method, path, q in fake.requests if method == "GET"]
    new_pages = [q for path, q in listing_requests if path == "/r/nimbuscloud/new"]
    assert [q.get("after") for q in new_pages] == [None, "t3_1oq7j9x", "t3_1oq7h4c"]
    assert all(q["raw_json"] == "1" and q["limit"] == "2" for _, q in listing_requests)
    search = [q for path, q in listing_requests if path == "/search"]
    assert search[0]["q"] == "nimbus sync" and search[0]["sort"] == "new"
    # The rate-limit window Reddit reported with the last answer.
    assert collector.rate_limit_remaining == int(fake.remaining)
    assert collector.rate_limit_reset == pytest.approx(time.time() + fake.reset, abs=5)


async def test_first_run_is_bounded_by_max_items(fake: FakeReddit) -> None:
    batches = await drain(reddit(fake, max_items=3, page_size=2))
    assert post_ids(batches, "t3_") == ["t3_1oq7j9w", "t3_1oq7j9x", "t3_1oq7k2m"]
    new_pages = [q for m, path, q in fake.requests if path == "/r/nimbuscloud/new"]
    assert len(new_pages) == 2


async def test_resuming_neither_repeats_nor_skips_posts_of_the_same_second(fake: FakeReddit) -> None:
    collector = reddit(fake, page_size=2)
    first = await drain(collector)
    cursor = first[-1].cursor
    assert await drain(collector, cursor) == []

    template = fixture_children("new_posts.json")[0]
    fake.add("r/nimbuscloud/new", clone(template, "1oq7k2a", B, title="Posted in the same second"))
    fake.add("r/nimbuscloud/new", clone(template, "1oq7m00", B + 90, title="A newer post"))
    fake.add("r/nimbuscloud/comments", clone(fixture_children("new_comments.json")[0], "m2x9b00", B + 600))
    second = await drain(collector, cursor)

    assert post_ids(second) == ["t3_1oq7k2a", "t3_1oq7m00", "t1_m2x9b00"]
    assert second[-1].cursor["streams"]["r/nimbuscloud:new"] == {"newest_utc": B + 90, "seen": ["t3_1oq7m00"]}
    assert await drain(collector, second[-1].cursor) == []


async def test_every_batch_cursor_resumes_with_exactly_the_rest(fake: FakeReddit) -> None:
    # batch_size=1 cuts between the two posts created in the same second (t3_1oq7j9w/x).
    collector = reddit(fake, batch_size=1, page_size=2)
    batches = await drain(collector)
    everything = handed_on(batches)
    assert len(everything) == len(set(everything)) == 10
    for k, batch in enumerate(batches):
        rest = handed_on(await drain(collector, batch.cursor))
        assert rest == everything[k + 1:], f"resuming after batch {k}"


async def test_a_malformed_item_is_rejected_and_the_rest_kept(fake: FakeReddit) -> None:
    template = fixture_children("new_posts.json")[0]
    fake.add("r/nimbuscloud/new", clone(template, "1oq7n01", B + 10, title=None))
    fake.add("r/nimbuscloud/new", clone(template, "1oq7n02", B + 20, author={"name": "x"}))
    undated = clone(template, "1oq7n03", B + 30)
    undated["data"]["created_utc"] = "yesterday"
    fake.listings["r/nimbuscloud/new"].insert(0, undated)
    batches = await drain(reddit(fake))

    assert post_ids(batches, "t3_") == ALL_NEW
    reasons = {r.where: r.reason for b in batches for r in b.rejected}
    assert reasons["reddit:r/nimbuscloud:new:t3_1oq7n01"] == "field 'title' must be a string, got NoneType"
    assert reasons["reddit:r/nimbuscloud:new:t3_1oq7n02"] == "field 'author' must be a string, got dict"
    assert reasons["reddit:r/nimbuscloud:new:start+0"] == "item without a fullname or created_utc"


async def test_429_is_source_unavailable_until_reddit_resets(fake: FakeReddit) -> None:
    fake.fail(429, **{"x-ratelimit-remaining": "0", "x-ratelimit-used": "1000", "x-ratelimit-reset": "287"})
    collector = reddit(fake)
    with pytest.raises(SourceUnavailable) as caught:
        await drain(collector)
    assert caught.value.retry_after == 287
    assert collector.rate_limit_remaining == 0
    assert collector.rate_limit_reset == pytest.approx(time.time() + 287, abs=5)


async def test_a_spent_rate_limit_stops_the_run_before_the_next_request(fake: FakeReddit) -> None:
    fake.remaining = 1.0  # the first listing answer says 0 left, resetting in 412 s
    collector = reddit(fake, page_size=2, max_wait=60)
    with pytest.raises(SourceUnavailable) as caught:
        await drain(collector)
    assert caught.value.retry_after == pytest.approx(fake.reset, abs=5)
    assert fake.listing_calls == 1


@pytest.mark.parametrize("failures, ok", [(2, True), (3, False)])
async def test_server_errors_are_retried_twice_by_prawcore_then_unavailable(
        fake: FakeReddit, failures: int, ok: bool) -> None:
    fake.fail(503, times=failures)
    collector = reddit(fake, subreddits=[], search=["nimbus sync"])
    if ok:
        assert post_ids(await drain(collector)) == ALL_SEARCH
    else:
        with pytest.raises(SourceUnavailable, match="server error"):
            await drain(collector)
    assert fake.listing_calls == 3


async def test_refused_app_credentials_are_auth_failed(fake: FakeReddit) -> None:
    fake.client_secret = "rotated"
    with pytest.raises(AuthFailed):
        await drain(reddit(fake, credentials={"client_id": "app-id", "client_secret": "app-secret"}))


async def test_a_forbidden_subreddit_is_a_failed_part_and_the_others_are_read(fake: FakeReddit) -> None:
    fake.fail(403)  # the first listing: a private subreddit
    batches = await drain(reddit(fake))
    failed = [(r.where, r.reason) for b in batches for r in b.failed]
    assert len(failed) == 1 and "(403)" in failed[0][1] and "private" in failed[0][1]
    assert [p for b in batches for p in b.posts], "the other listings are still read"


@pytest.mark.parametrize("missing, env", [("client_id", "REDDIT_CLIENT_ID"),
                                          ("client_secret", "REDDIT_CLIENT_SECRET")])
async def test_missing_credentials_are_not_configured(fake: FakeReddit, missing: str, env: str) -> None:
    credentials = {"client_id": "app-id", "client_secret": "app-secret"}
    del credentials[missing]
    with pytest.raises(NotConfigured, match=env):
        reddit(fake, credentials=credentials)


async def test_a_connection_dropped_mid_pagination_loses_and_repeats_nothing(fake: FakeReddit) -> None:
    expected = ALL_NEW + ALL_COMMENTS + ALL_SEARCH
    collector = reddit(fake, search=["nimbus sync"], page_size=2)
    fake.drop_from = 5  # new: 3 pages; comments: page 1, then page 2 never answers
    yielded: list[Batch] = []
    with pytest.raises(SourceUnavailable, match="unreachable"):
        async for batch in collector.fetch(None):
            yielded.append(batch)
    assert post_ids(yielded) == ALL_NEW
    assert fake.listing_calls == 7  # prawcore tried page 2 three times

    fake.drop_from = None
    rest = await drain(collector, yielded[-1].cursor)
    assert post_ids(yielded) + post_ids(rest) == expected


async def test_an_unknown_subreddit_is_reported_and_the_others_read(fake: FakeReddit) -> None:
    batches = await drain(reddit(fake, subreddits=["doesnotexist", "nimbuscloud"]))
    assert post_ids(batches) == ALL_NEW + ALL_COMMENTS
    missing = [r for b in batches for r in b.failed if r.where.startswith("reddit:r/doesnotexist")]
    assert [r.where for r in missing] == ["reddit:r/doesnotexist:new", "reddit:r/doesnotexist:comments"]
    assert all("not found" in r.reason for r in missing)
