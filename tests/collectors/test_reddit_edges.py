"""The Reddit collector against a Reddit that misbehaves: the same ``after`` for ever, every
error prawcore raises, comments without a permalink; and searches inside one subreddit."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import prawcore.sessions
import pytest
from aiohttp import web

from collectors import Batch, create_collector
from collectors.reddit import RedditCollector
from domain.errors import AuthFailed, SourceUnavailable
from tests.collectors.fake_reddit import TOKEN, Failure, FakeReddit, clone, fixture_children

ALL_NEW = ["t3_1oq7f0b", "t3_1oq7j9w", "t3_1oq7j9x", "t3_1oq7k2m"]


@pytest.fixture(autouse=True)
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """prawcore sleeps 0-4 s between its two retries of a 5xx or dropped connection."""
    monkeypatch.setattr(prawcore.sessions.FiniteRetryStrategy, "_sleep_seconds", lambda self: None)


class ReplayingReddit(FakeReddit):
    """A caching proxy in front of Reddit: every request for new posts gets the first page
    again, with the same ``after``, whatever ``after`` was asked for."""

    async def listing(self, request: web.Request) -> web.StreamResponse:
        self.listing_calls += 1
        self.requests.append(("GET", request.path, dict(request.query)))
        page = self.listings["r/nimbuscloud/new"][:2] if "/new" in request.path else []
        return web.json_response({"kind": "Listing", "data": {
            "after": page[-1]["data"]["name"] if page else None, "dist": len(page), "modhash": None, "geo_filter": "",
            "children": page, "before": None}})


class RefusingGrantReddit(FakeReddit):
    """The token route answers 200 with an OAuth error, as Reddit does for a refused grant."""

    async def access_token(self, request: web.Request) -> web.Response:
        return web.json_response({"error": "invalid_grant"})


async def serve(aiohttp_server: Any, fake: FakeReddit) -> FakeReddit:
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    return fake


def reddit(fake: FakeReddit, **options: Any) -> RedditCollector:
    table = {"kind": "reddit", "name": "nimbus", "base_url": fake.url, "subreddits": ["nimbuscloud"],
             "client_id_env": "REDDIT_CLIENT_ID", "client_secret_env": "REDDIT_CLIENT_SECRET",
             "credentials": {"client_id": fake.client_id, "client_secret": fake.client_secret}}
    table.update(options)
    collector = create_collector("reddit", "reddit:nimbus", table)
    assert isinstance(collector, RedditCollector)
    return collector


async def drain(collector: RedditCollector, cursor: dict | None = None) -> list[Batch]:
    # A generous bound: the run ends on its own in well under a second; before the guard it
    # never ended.
    async def read() -> list[Batch]:
        return [batch async for batch in collector.fetch(cursor)]
    return await asyncio.wait_for(read(), timeout=120)


def post_ids(batches: list[Batch]) -> list[str]:
    return [p.external_id for b in batches for p in b.posts]


async def test_a_repeated_after_ends_the_run(aiohttp_server: Any) -> None:
    fake = await serve(aiohttp_server, ReplayingReddit())
    collector = reddit(fake, max_items=1000, page_size=2)
    batches = await drain(collector)

    # new: page 1, page 2 repeats the same after -> stop; comments: one empty page.
    assert fake.listing_calls == 3
    assert post_ids(batches) == ["t3_1oq7j9x", "t3_1oq7k2m"]
    assert any("repeated the page cursor 't3_1oq7j9x'" in stop for stop in collector.guard.stops)


async def test_items_at_or_below_the_cursor_are_ignored_when_reddit_replays(aiohttp_server: Any) -> None:
    fake = await serve(aiohttp_server, ReplayingReddit())
    newest = fixture_children("new_posts.json")[0]["data"]
    cursor = {"streams": {"r/nimbuscloud:new": {"newest_utc": newest["created_utc"], "seen": [newest["name"]]}}}
    batches = await drain(reddit(fake, page_size=2), cursor)
    assert [p for p in post_ids(batches) if p.startswith("t3_")] == []


async def test_the_page_cap_ends_a_run(aiohttp_server: Any) -> None:
    fake = await serve(aiohttp_server, FakeReddit())
    collector = reddit(fake, page_size=1, max_pages=2)
    await drain(collector)
    assert fake.listing_calls == 2
    assert any("page cap of 2 pages" in stop for stop in collector.guard.stops)


async def test_search_honours_the_configured_subreddit(aiohttp_server: Any) -> None:
    fake = await serve(aiohttp_server, FakeReddit())
    inside = clone(fixture_children("search.json")[0], "1oqs001", 1793534500.0)
    fake.add("r/nimbuscloud/search?q=nimbus sync", inside)
    batches = await drain(reddit(fake, subreddits=[], search=["nimbus sync"],
                                 search_subreddit="r/NimbusCloud"))

    assert post_ids(batches) == ["t3_1oqs001"]
    path, query = fake.requests[-1][1], fake.requests[-1][2]
    assert path.rstrip("/") == "/r/NimbusCloud/search"
    assert query["restrict_sr"] == "on" and query["q"] == "nimbus sync"
    assert batches[-1].cursor["streams"].keys() == {"r/nimbuscloud:search:nimbus sync"}


async def test_comments_without_a_permalink_get_a_url_from_their_ids(aiohttp_server: Any) -> None:
    fake = await serve(aiohttp_server, FakeReddit())
    for child in fake.listings["r/nimbuscloud/comments"]:
        child["data"].pop("permalink", None)
    for child in fake.listings["r/nimbuscloud/new"]:
        child["data"]["permalink"] = None
    batches = await drain(reddit(fake))
    urls = {p.external_id: p.url for b in batches for p in b.posts}
    comment = fixture_children("new_comments.json")[0]["data"]
    link_id = comment["link_id"].removeprefix("t3_")
    assert urls[comment["name"]] == f"https://www.reddit.com/comments/{link_id}/_/{comment['id']}/"
    assert urls["t3_1oq7k2m"] == "https://www.reddit.com/comments/1oq7k2m/"
    assert all(urls.values())


@pytest.mark.parametrize("status, error, needle", [
    (429, SourceUnavailable, "too many requests"),
    (503, SourceUnavailable, "server error (503)"),
])
async def test_prawcore_errors_become_messages_to_act_on(
        aiohttp_server: Any, status: int, error: type[Exception], needle: str) -> None:
    fake = await serve(aiohttp_server, FakeReddit())
    fake.fail(status, times=3)
    with pytest.raises(error) as caught:
        await drain(reddit(fake))
    assert needle in str(caught.value)


async def test_a_403_listing_names_the_subreddit_to_remove(aiohttp_server: Any) -> None:
    fake = await serve(aiohttp_server, FakeReddit())
    fake.fail(403)
    batches = await drain(reddit(fake))
    reasons = [r.reason for b in batches for r in b.failed if r.where == "reddit:r/nimbuscloud:new"]
    assert len(reasons) == 1 and "the subreddit is private; remove it from the source" in reasons[0]


async def test_a_404_listing_names_the_subreddit_to_correct(aiohttp_server: Any) -> None:
    fake = await serve(aiohttp_server, FakeReddit())
    fake.fail(404)
    batches = await drain(reddit(fake))
    reasons = [r.reason for b in batches for r in b.failed if r.where == "reddit:r/nimbuscloud:new"]
    assert reasons == ["not found on reddit (/r/nimbuscloud/new, 404): the subreddit does not "
                       "exist or was removed; correct 'subreddits'"]


async def test_another_status_is_a_plain_response_exception(aiohttp_server: Any) -> None:
    fake = await serve(aiohttp_server, FakeReddit())
    fake.failures.append(Failure(409, {}, json.dumps({"message": "Conflict", "error": 409})))
    with pytest.raises(SourceUnavailable, match="reddit answered HTTP 409 on /r/nimbuscloud/new"):
        await drain(reddit(fake))


async def test_a_refused_grant_is_an_oauth_failure(aiohttp_server: Any) -> None:
    fake = await serve(aiohttp_server, RefusingGrantReddit())
    with pytest.raises(AuthFailed, match=r"refused the app credentials \(invalid_grant\): check client_id"):
        await drain(reddit(fake))
    assert TOKEN["access_token"]  # the fixture token was never handed out


async def test_a_post_timed_beyond_any_date_is_rejected_and_kept_out_of_the_cursor(
        aiohttp_server: Any) -> None:
    fake = await serve(aiohttp_server, FakeReddit())
    template = fixture_children("new_posts.json")[0]
    newest_utc = template["data"]["created_utc"]
    # NaN is what Python's json writes for a float it lost; milliseconds where seconds belong
    # are some 50,000 years ahead.
    fake.add("r/nimbuscloud/new", clone(template, "1oqnan1", float("nan")))
    fake.add("r/nimbuscloud/new", clone(template, "1oqms01", (newest_utc + 60) * 1000))
    fake.add("r/nimbuscloud/new", clone(template, "1oqy3k1", 32503680000.0))  # 3000-01-01
    batches = await drain(reddit(fake, max_items=1000))
    stored = post_ids(batches)
    assert "t3_1oq7k2m" in stored and not {"t3_1oqnan1", "t3_1oqms01", "t3_1oqy3k1"} & set(stored)
    assert len([r for b in batches for r in b.rejected if "created_utc" in r.reason]) == 3
    newest = batches[-1].cursor["streams"]["r/nimbuscloud:new"]["newest_utc"]
    assert newest <= newest_utc  # not the bogus time: later posts are still read


@pytest.mark.parametrize("category", [["moderator"], {"by": "author"}])
async def test_a_removal_category_of_another_shape_removes_only_its_post(
        aiohttp_server: Any, category: Any) -> None:
    fake = await serve(aiohttp_server, FakeReddit())
    every = post_ids(await drain(reddit(fake)))
    removed = fake.listings["r/nimbuscloud/new"][0]["data"]
    removed["removed_by_category"] = category
    batches = await drain(reddit(fake))
    assert post_ids(batches) == [i for i in every if i != removed["name"]]
    assert [r.reason for b in batches for r in b.rejected if r.where.endswith(removed["name"])] == ["removed"]
