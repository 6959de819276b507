"""The X collector against servers that misbehave: a cursor repeated for ever, since_id
ignored, a 404 on the user lookup, error bodies Tweepy cannot read."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web

from collectors import Batch, create_collector
from collectors.x import XCollector
from domain.errors import AuthFailed, SourceUnavailable
from tests.collectors.fake_x import BEARER, SEARCH, FakeX

FIXTURE_IDS = [t["id"] for t in SEARCH["data"]]  # newest first

#: X's answer to a user lookup of an account that does not exist, as v2 sends it with 404.
NOT_FOUND_ERRORS = {"errors": [{
    "value": "nimbushq_old", "detail": "Could not find user with username: [nimbushq_old].",
    "title": "Not Found Error", "resource_type": "user", "parameter": "username",
    "resource_id": "nimbushq_old", "type": "https://api.twitter.com/2/problems/resource-not-found"}]}
NOT_FOUND_PROBLEM = {"title": "Not Found Error", "detail": "Could not find user with username: "
                     "[nimbushq_old].", "type": "https://api.twitter.com/2/problems/resource-not-found",
                     "status": 404}


class ReplayingX(FakeX):
    """A caching proxy in front of X: every search answers the same page and the same next_token,
    whatever since_id or next_token is asked for."""

    async def search_recent(self, request: web.Request) -> web.Response:
        page = self.newest_first()[:10]
        users = list(self.users.values())
        return web.json_response({"data": page, "includes": {"users": users}, "meta": {
            "newest_id": page[0]["id"], "oldest_id": page[-1]["id"], "result_count": len(page),
            "next_token": "b26v89c19zqg8o3fpds8lt4kkh4x76fi8ohk3sx3wqrgd"}})


class MissingUserX(FakeX):
    """User lookups answered 404 with the body given."""

    def __init__(self, body: Any, content_type: str = "application/json") -> None:
        super().__init__()
        self.body, self.content_type = body, content_type

    async def user_by_username(self, request: web.Request) -> web.Response:
        return web.Response(text=json.dumps(self.body), status=404, content_type=self.content_type)


async def serve(aiohttp_server: Any, fake: FakeX) -> FakeX:
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    return fake


def x(fake: FakeX, **options: Any) -> XCollector:
    table = {"kind": "x", "name": "nimbus", "base_url": fake.url, "queries": ["nimbus"],
             "bearer_token_env": "X_BEARER_TOKEN", "credentials": {"bearer_token": BEARER}}
    table.update(options)
    collector = create_collector("x", "x:nimbus", table)
    assert isinstance(collector, XCollector)
    return collector


async def drain(collector: XCollector, cursor: dict | None = None) -> list[Batch]:
    # A generous bound: these runs end in well under a second; before the guard some never ended.
    async def read() -> list[Batch]:
        return [batch async for batch in collector.fetch(cursor)]
    return await asyncio.wait_for(read(), timeout=60)


def searches(fake: FakeX) -> int:
    return sum(1 for path, _ in fake.requests if path == "/2/tweets/search/recent")


async def test_a_repeated_next_token_ends_the_first_run(aiohttp_server: Any) -> None:
    fake = await serve(aiohttp_server, ReplayingX())
    collector = x(fake, max_items=1000)
    batches = await drain(collector)

    assert searches(fake) == 2  # the page, and the page its token asked for again
    got = [p.external_id for b in batches for p in b.posts]
    assert sorted(got) == sorted(FIXTURE_IDS)  # each tweet once
    assert any("repeated the page cursor" in stop for stop in collector.guard.stops)


async def test_tweets_at_or_below_since_id_are_ignored_when_the_server_replays(aiohttp_server: Any) -> None:
    fake = await serve(aiohttp_server, ReplayingX())
    since = FIXTURE_IDS[2]  # the two newest tweets are new; the rest were handed on before
    batches = await drain(x(fake), {"streams": {"search:nimbus": {"since_id": since}}})

    assert [p.external_id for b in batches for p in b.posts] == FIXTURE_IDS[:2]
    assert searches(fake) == 1  # the page reached since_id: no next page asked for
    assert batches[-1].cursor == {"streams": {"search:nimbus": {"since_id": FIXTURE_IDS[0]}}}


async def test_nothing_new_never_moves_the_cursor_back(aiohttp_server: Any) -> None:
    fake = await serve(aiohttp_server, ReplayingX())
    newest = {"streams": {"search:nimbus": {"since_id": FIXTURE_IDS[0]}}}
    batches = await drain(x(fake), newest)
    assert [p for b in batches for p in b.posts] == []
    assert all(b.cursor == newest for b in batches)
    assert searches(fake) == 1


async def test_the_page_cap_ends_a_run_and_the_next_run_goes_on(aiohttp_server: Any) -> None:
    fake = await serve(aiohttp_server, FakeX())
    collector = x(fake, max_items=1000, page_size=10, max_pages=1)
    fake.tweets.update({f"{int(t['id']) - 1}": {**t, "id": f"{int(t['id']) - 1}"} for t in SEARCH["data"]})
    first = await drain(collector)
    assert searches(fake) == 1
    assert "pending" in first[-1].cursor["streams"]["search:nimbus"]
    rest = await drain(collector, first[-1].cursor)
    handed = [p.external_id for b in first + rest for p in b.posts]
    assert len(handed) == len(set(handed)) == len(fake.tweets)


@pytest.mark.parametrize("body", [NOT_FOUND_ERRORS, NOT_FOUND_PROBLEM])
async def test_a_404_on_the_user_lookup_names_the_account_to_correct(aiohttp_server: Any, body: Any) -> None:
    fake = await serve(aiohttp_server, MissingUserX(body))
    batches = await drain(x(fake, queries=[], mentions_of="nimbushq_old"))
    assert [(r.where, r.reason) for b in batches for r in b.failed] == [
        ("x:mentions:nimbushq_old",
         "no X account named 'nimbushq_old': correct 'mentions_of' in the source's settings")]


@pytest.mark.parametrize("body", [
    {"errors": [404], "title": "Not Found Error"},  # errors that are not objects
    {"error": 34, "detail": "Sorry, that page does not exist"},
    ["not", "an", "object"],
])
async def test_error_bodies_tweepy_cannot_read_become_a_health_message(aiohttp_server: Any, body: Any) -> None:
    fake = await serve(aiohttp_server, MissingUserX(body))
    with pytest.raises(SourceUnavailable, match="while looking up the account @nimbushq_old"):
        await drain(x(fake, queries=[], mentions_of="nimbushq_old"))


async def test_a_403_says_what_to_check(aiohttp_server: Any) -> None:
    fake = await serve(aiohttp_server, FakeX())
    fake.fail(403)
    with pytest.raises(AuthFailed, match="access level in the X developer portal"):
        await drain(x(fake))


@pytest.mark.parametrize("refs", [5, True, None, "replied_to", {"type": "replied_to", "id": "1"}])
async def test_referenced_tweets_of_another_shape_neither_stop_the_run_nor_make_a_parent(
        aiohttp_server: Any, refs: Any) -> None:
    fake = FakeX()
    odd_id = fake.newest_first()[0]["id"]
    fake.tweets[odd_id]["referenced_tweets"] = refs
    await serve(aiohttp_server, fake)
    posts = {p.external_id: p for b in await drain(x(fake)) for p in b.posts}
    assert set(posts) == set(fake.tweets)
    assert posts[odd_id].parent_id is None
