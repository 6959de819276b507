"""The X filtered-stream collector: Tweepy's streaming client sent to a fake X by a client middleware."""

from __future__ import annotations

import copy
import json
import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from collectors import Batch, create_collector
from collectors.x_stream import XStreamCollector
from domain import Author, RawPost
from domain.errors import AuthFailed, NotConfigured, SourceUnavailable
from tests.collectors.fake_x_stream import BEARER, ERRORS, STREAM_LINES, Connection, FakeXStream

LINE_IDS = [line["data"]["id"] for line in STREAM_LINES]
FOREIGN_ID = LINE_IDS[4]  # matched only by another tool's rule
OUR_IDS = [i for i in LINE_IDS if i != FOREIGN_ID]
RULES = [{"value": "nimbus -is:retweet", "tag": "brand"}, '"nimbus sync"']


@pytest.fixture
async def fake(aiohttp_server: Any) -> FakeXStream:
    fake = FakeXStream()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    return fake


class Sleeps(list):
    """A stand-in for asyncio.sleep that records the delays instead of waiting."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def stream(fake: FakeXStream, http: aiohttp.ClientSession | None = None, **options: Any) -> XStreamCollector:
    table = {"kind": "x_stream", "name": "nimbus", "interval": 60, "enabled": True, "base_url": fake.url,
             "stream_rules": RULES, "bearer_token_env": "X_BEARER_TOKEN", "max_seconds": 0.4,
             "credentials": {"bearer_token": BEARER}}
    table.update(options)
    collector = create_collector("x_stream", "x_stream:nimbus", table, http)
    assert isinstance(collector, XStreamCollector)
    collector.sleep = Sleeps()
    return collector


async def drain(collector: XStreamCollector, cursor: dict | None = None) -> list[Batch]:
    return [batch async for batch in collector.fetch(cursor)]


def ids(batches: list[Batch]) -> list[str]:
    return [p.external_id for b in batches for p in b.posts]


def later_line(n: int, text: str) -> dict[str, Any]:
    """A copy of the first fixture line, ``n`` steps newer, with ``text``."""
    line = copy.deepcopy(STREAM_LINES[0])
    new_id = str(int(LINE_IDS[-1]) + (n << 22))
    line["data"].update(id=new_id, edit_history_tweet_ids=[new_id], conversation_id=new_id, text=text)
    return line


async def test_first_run_syncs_rules_and_maps_tweets(fake: FakeXStream) -> None:
    async with aiohttp.ClientSession() as shared:
        collector = stream(fake, http=shared, batch_size=3)
        started = time.monotonic()
        # The idle stream sends keep-alives for ever: only max_seconds ends the run (the
        # bound catches a run that never ends; how long past it took is the machine's).
        batches = await asyncio.wait_for(drain(collector), 60)
        elapsed = time.monotonic() - started
        assert not shared.closed

    # Ours made to match the config; the other tool's rule is untouched.
    assert fake.rule_tags() == {"othertool:competitors": "(cirrus OR stratus) -is:retweet",
                                "nimbus:brand": "nimbus -is:retweet", "nimbus": '"nimbus sync"'}
    assert fake.rule_posts == [{"delete": {"ids": ["1857361062946201602"]}},
                               {"add": [{"value": '"nimbus sync"', "tag": "nimbus"}]}]
    assert fake.connects == [{"expansions": "author_id",
                              "tweet.fields": "created_at,lang,conversation_id,in_reply_to_user_id,"
                                              "referenced_tweets,public_metrics,author_id",
                              "user.fields": "username,name"}]
    assert elapsed > 0.35  # read for max_seconds while the idle stream sent keep-alives

    assert ids(batches) == OUR_IDS
    assert [len(b.posts) for b in batches] == [3, 3, 1]
    assert all(not b.rejected for b in batches)
    assert [b.cursor for b in batches] == [{"newest_id": OUR_IDS[2]}, {"newest_id": OUR_IDS[5]},
                                           {"newest_id": OUR_IDS[6]}]
    reply = batches[0].posts[1]
    assert reply == RawPost(
        source="x", external_id=LINE_IDS[1], author=Author("nimbushq", "Nimbus", "1422874110953365504"),
        text="@dana_ops Sorry about that, a fix for the Nimbus sync E-409 error is rolling out now.",
        created_at=datetime(2026, 11, 1, 12, 0, 7, 13000, tzinfo=UTC),
        url=f"https://x.com/nimbushq/status/{LINE_IDS[1]}", parent_id=LINE_IDS[0], thread_id=LINE_IDS[0],
        language="en", engagement={"likes": 1, "reposts": 0, "replies": 0, "quotes": 0,
                                   "bookmarks": 0, "impressions": 0})
    posts = {p.external_id: p for b in batches for p in b.posts}
    assert posts[LINE_IDS[3]].language == "de"
    assert posts[LINE_IDS[6]].language is None  # "und"
    assert posts[LINE_IDS[5]].text == '"nimbus sync" works again on my laptop, thanks @nimbushq'


async def test_rules_in_step_are_left_alone_and_a_changed_tag_is_replaced(fake: FakeXStream) -> None:
    await drain(stream(fake, max_items=1))
    fake.rule_posts.clear()
    await drain(stream(fake, max_items=1))
    assert fake.rule_posts == []  # nothing to change

    await drain(stream(fake, stream_rules=[{"value": "nimbus -is:retweet", "tag": "product"}], max_items=1))
    # Deleted before added: X refuses a value that is still there under the old tag.
    assert [list(p) for p in fake.rule_posts] == [["delete"], ["add"]]
    assert fake.rule_tags() == {"othertool:competitors": "(cirrus OR stratus) -is:retweet",
                                "nimbus:product": "nimbus -is:retweet"}


async def test_max_items_ends_the_run_early(fake: FakeXStream) -> None:
    # max_seconds far past any wait of ours: ended within the bound, the run was ended by
    # max_items (the stream would have kept it open the whole hour).
    batches = await asyncio.wait_for(drain(stream(fake, max_items=2, max_seconds=3600)), 60)
    assert ids(batches) == OUR_IDS[:2]
    assert batches[-1].cursor == {"newest_id": OUR_IDS[1]}


async def test_next_run_reads_only_what_came_since(fake: FakeXStream) -> None:
    first = await drain(stream(fake))
    cursor = first[-1].cursor
    for n, text in enumerate(["Nimbus webhooks are flaky today", "Loving the new Nimbus timeline"], 1):
        fake.backlog.append(later_line(n, text))

    second = await drain(stream(fake), cursor)
    assert [p.text for b in second for p in b.posts] == ["Nimbus webhooks are flaky today",
                                                        "Loving the new Nimbus timeline"]
    assert not set(ids(first)) & set(ids(second))
    assert second[-1].cursor == {"newest_id": str(int(LINE_IDS[-1]) + (2 << 22))}

    third = await drain(stream(fake), second[-1].cursor)  # nothing new: no batch, cursor kept
    assert third == []


async def test_malformed_lines_are_rejected_and_the_rest_kept(fake: FakeXStream) -> None:
    fake.inject("{not json at all", position=1)
    fake.inject(json.dumps(ERRORS["operational_disconnect"]), position=3)
    orphan = later_line(1, "Nimbus from an author X did not include")
    orphan["includes"] = {"users": []}
    fake.backlog.insert(5, orphan)

    batches = await drain(stream(fake))
    assert ids(batches) == OUR_IDS
    rejected = [r for b in batches for r in b.rejected]
    assert [(r.where, r.reason) for r in rejected] == [
        ("x_stream:line 2", "stream line is not JSON"),
        ("x_stream:line 4", ("stream line has no 'data' object: operational-disconnect: "
                             "This stream has been disconnected upstream for operational reasons.")),
        (f"x_stream:{orphan['data']['id']}", "author 1587392041269321728 missing from includes.users"),
    ]


@pytest.mark.parametrize("end", ["drop", "close"])
async def test_dropped_stream_reconnects_and_continues(fake: FakeXStream, end: str) -> None:
    fake.plan(Connection(after=2, end=end), Connection(after=3, end=end))
    collector = stream(fake, batch_size=2)
    batches = await drain(collector)

    assert ids(batches) == OUR_IDS  # each exactly once, in order
    assert len(fake.connects) == 3
    assert collector.sleep == [1.0, 1.0]  # each connection delivered tweets: back-off starts over


async def test_silent_stream_is_treated_as_dead_and_reconnected(fake: FakeXStream) -> None:
    fake.keep_alive_every = 5  # X sends one every 20 s; past stall_seconds of silence it is gone
    collector = stream(fake, stall_seconds=0.15, max_seconds=0.5)
    batches = await drain(collector)
    assert ids(batches) == OUR_IDS
    assert len(fake.connects) >= 2
    assert collector.sleep[:1] == [1.0]


async def test_5xx_reconnects_with_growing_backoff(fake: FakeXStream) -> None:
    fake.plan(Connection(503), Connection(503), Connection(503))
    collector = stream(fake)
    batches = await drain(collector)
    assert ids(batches) == OUR_IDS
    assert collector.sleep == [1.0, 2.0, 4.0]
    assert len(fake.connects) == 4


async def test_too_many_reconnects_yields_what_was_read_then_fails(fake: FakeXStream) -> None:
    fake.plan(Connection(after=2), *[Connection(503)] * 6)
    collector = stream(fake, max_reconnects=4, max_backoff=4)
    batches: list[Batch] = []
    with pytest.raises(SourceUnavailable, match="5 times"):
        async for batch in collector.fetch(None):
            batches.append(batch)
    assert ids(batches) == OUR_IDS[:2]
    assert batches[-1].cursor == {"newest_id": OUR_IDS[1]}
    assert collector.sleep == [1.0, 2.0, 4.0, 4.0]  # capped at max_backoff
    assert len(fake.connects) == 5


async def test_429_on_connect_is_unavailable_until_the_reset(fake: FakeXStream) -> None:
    reset = int(time.time()) + 600
    fake.plan(Connection(429, headers={"x-rate-limit-limit": "50", "x-rate-limit-remaining": "0",
                                       "x-rate-limit-reset": str(reset)}))
    collector = stream(fake)
    with pytest.raises(SourceUnavailable) as caught:
        await drain(collector)
    assert caught.value.retry_after is not None and 595 < caught.value.retry_after <= 600
    assert collector.rate_limit_remaining == 0
    assert collector.rate_limit_reset == reset
    assert collector.sleep == []  # no reconnect: X said when to come back


async def test_401_on_connect_is_auth_failed(fake: FakeXStream) -> None:
    fake.plan(Connection(401))
    collector = stream(fake)
    with pytest.raises(AuthFailed):
        await drain(collector)
    assert collector.sleep == []


async def test_wrong_token_fails_at_the_rules(fake: FakeXStream) -> None:
    with pytest.raises(AuthFailed):
        await drain(stream(fake, credentials={"bearer_token": "wrong"}))
    assert fake.connects == []


@pytest.mark.parametrize("options, message", [
    ({"credentials": {}}, "X_BEARER_TOKEN"),
    ({"stream_rules": []}, "stream_rules"),
    ({"stream_rules": [{"tag": "brand"}]}, "value"),
    ({"max_seconds": 0}, "max_seconds"),
])
def test_missing_configuration_is_not_configured(options: dict[str, Any], message: str) -> None:
    table = {"kind": "x_stream", "name": "nimbus", "base_url": None, "stream_rules": RULES,
             "bearer_token_env": "X_BEARER_TOKEN", "credentials": {"bearer_token": BEARER}}
    table.update(options)
    with pytest.raises(NotConfigured, match=message):
        create_collector("x_stream", "x_stream:nimbus", table, None)


async def test_an_error_body_tweepy_cannot_read_is_a_health_message(aiohttp_server: Any) -> None:
    """A proxy answering the rules request 404 with ``errors`` that are not objects."""
    class Broken(FakeXStream):
        async def get_rules(self, request: web.Request) -> web.Response:
            return web.json_response({"errors": [404], "title": "Not Found Error"}, status=404)

    broken = Broken()
    server = await aiohttp_server(broken.app())
    broken.url = str(server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    with pytest.raises(SourceUnavailable, match="while syncing the stream rules"):
        await drain(stream(broken))
