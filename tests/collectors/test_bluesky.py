"""The Bluesky collector against a fake Jetstream replaying recorded-shape events."""

from __future__ import annotations

import json
import asyncio
import time
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

import pytest
from aiohttp.test_utils import TestServer, unused_port

from collectors import create_collector
from collectors.base import Batch, Collector
from domain import Author, RawPost
from domain.errors import AuthFailed, NotConfigured, SourceUnavailable
from crmsphere.ingest import run_collector
from nlp.runner import Analyzer
from storage import Store
from tests.collectors.fake_bluesky import FakeJetstream
from tests.conftest import acme_customers

# Who is who in the fixture (jetstream_events.jsonl).
JO = "did:plc:q4vbh2kzt7mwx3nrcd6ly5ej"          # identity event: jo-rivera.bsky.social
ASKER = "did:plc:7xkd3fmw2hnq5tpbzv4rlcya"       # no identity event in the stream
REPLIER = "did:plc:hx4r7ctm2qnbz5kdw3yjvlp6"
GERMAN = "did:plc:t3wq6ndz5kbx2mjrv7hcly4f"
SKYWARD = "did:plc:z7nd4kq2xwb5tmhc3rjvyl6e"     # identity event: skyward-ops.bsky.social
HQ = "did:plc:nkmb2shq3vk4xz5tr6wq7yda"

# time_us of fixture events, by line number.
T = {0: 1793534401021408, 3: 1793534402302151, 5: 1793534403510022, 7: 1793534405044913,
     8: 1793534405691305, 9: 1793534406230771, 11: 1793534407105640, 15: 1793534409377861,
     17: 1793534410488057, 18: 1793534411020940}


def uri(did: str, rkey: str) -> str:
    return f"at://{did}/app.bsky.feed.post/{rkey}"


#: The posts that mention "nimbus" or @nimbushq.bsky.social, in stream order.
KEYWORD_POSTS = [uri(ASKER, "3mzar4j462n2l"), uri(REPLIER, "3mzar4lpujx2l"),
                 uri(GERMAN, "3mzar4mu2lz2l"), uri(SKYWARD, "3mzar4pu3wl2l"),
                 uri(JO, "3mzar4qvy472l")]
KEYWORDS = ["nimbus", "NimbusHQ.bsky.social"]

ServerFactory = Callable[[FakeJetstream], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[ServerFactory]:
    """Start a fake Jetstream; returns its ws:// base URL."""
    servers: list[TestServer] = []

    async def start(fake: FakeJetstream) -> str:
        server = TestServer(fake.app(), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return f"ws://127.0.0.1:{server.port}"

    yield start
    for server in servers:
        await server.close()


def bluesky(http: Any, base_url: str | None, **options: Any) -> Collector:
    options.setdefault("keywords", KEYWORDS)
    return create_collector("bluesky", "bluesky:test", {
        "kind": "bluesky", "name": "test", "interval": 60, "enabled": True,
        "base_url": base_url, "credentials": {}, **options}, http)


async def drain(collector: Collector, cursor: dict | None = None) -> list[Batch]:
    return [batch async for batch in collector.fetch(cursor)]


def posts_of(batches: list[Batch]) -> list[RawPost]:
    return [p for b in batches for p in b.posts]


async def test_first_run_keeps_new_posts_matching_keywords(http, serve) -> None:
    fake = FakeJetstream()
    batches = await drain(bluesky(http, await serve(fake)))

    query = fake.connections[0]
    assert query.getall("wantedCollections") == ["app.bsky.feed.post"]
    assert "cursor" not in query and "wantedDids" not in query  # live start, whole network
    posts = posts_of(batches)
    # Not kept: cumulonimbus (not the word), the delete and the edit of a nimbus post, a like.
    assert [p.external_id for p in posts] == KEYWORD_POSTS
    assert batches[-1].cursor == {"time_us": T[18]}  # past the trailing non-matching post

    reply = posts[1]
    assert reply == RawPost(
        source="bluesky", external_id=uri(REPLIER, "3mzar4lpujx2l"),
        author=Author(handle=REPLIER, name=None, platform_id=REPLIER),
        text="@nimbushq.bsky.social the CSV export keeps timing out since Tuesday, any ETA on a fix?",
        created_at=datetime(2026, 11, 1, 12, 0, 4, 864000, tzinfo=timezone.utc),
        url=f"https://bsky.app/profile/{REPLIER}/post/3mzar4lpujx2l",
        parent_id=uri(HQ, "3m4zcq5tjsc2x"),
        thread_id=uri(HQ, "3m4zb6ekdqk2c"),
        language="en", engagement={})
    german = posts[2]
    assert german.text == "Wir testen gerade NIMBUS im Team \u2013 M\u00fcller ist begeistert"
    assert unicodedata.is_normalized("NFC", german.text)
    assert german.language == "de"
    # Handles come from identity events seen earlier in the stream; otherwise the DID stands in.
    assert posts[0].author.handle == ASKER
    assert posts[3].author == Author("skyward-ops.bsky.social", None, SKYWARD)
    assert posts[4].author.handle == "jo-rivera.bsky.social"
    assert all(p.parent_id is None and p.thread_id is None for i, p in enumerate(posts) if i != 1)


async def test_malformed_frames_are_rejected_and_the_rest_kept(http, serve) -> None:
    batches = await drain(bluesky(http, await serve(FakeJetstream())))
    rejected = [r for b in batches for r in b.rejected]
    assert [(r.where, r.reason.split(":")[0]) for r in rejected] == [
        (f"jetstream frame after time_us {T[9]}", "frame is not JSON"),
        (uri(GERMAN, "3mzar4noqxo2l"), "field 'createdAt' is not an ISO 8601 time"),
        (f"jetstream frame after time_us {T[11]}", "event has no integer 'time_us'"),
    ]
    assert len(posts_of(batches)) == 5


async def test_odd_events_are_rejected_or_ignored_one_by_one(http, serve) -> None:
    def commit(us: int, **commit: Any) -> str:
        return json.dumps({"did": JO, "time_us": us, "kind": "commit", "commit": {
            "rev": "3mzar5aaaaa22", "operation": "create", "collection": "app.bsky.feed.post",
            "cid": "bafyreiexample", **commit}})

    record = {"$type": "app.bsky.feed.post", "createdAt": "2026-11-01T12:00:20Z", "text": "Nimbus"}
    frames = [
        "[1, 2]",
        json.dumps({"time_us": 20, "kind": "commit"}),                       # no did
        json.dumps({"did": JO, "time_us": 21, "kind": "commit"}),            # no commit object
        commit(22, record=record),                                           # no rkey
        commit(23, rkey="3mzar5aaaab22"),                                    # no record
        commit(24, rkey="3mzar5aaaac22", record={**record, "text": None}),   # followed, no text
        json.dumps({"did": JO, "time_us": 25, "kind": "sync", "sync": {}}),  # unknown kind
        commit(26, rkey="3mzar5aaaad22", record=record),                     # fine, no langs
    ]
    batches = await drain(bluesky(http, await serve(FakeJetstream(frames=frames)), dids=[JO]))
    assert [(r.where, r.reason) for b in batches for r in b.rejected] == [
        ("jetstream frame before any event time", "event must be a JSON object, got list"),
        ("jetstream event at time_us 20", "event has no 'did'"),
        ("jetstream event at time_us 21", "commit event has no 'commit' object"),
        ("jetstream event at time_us 22", "post commit has no valid 'rkey'"),
        (uri(JO, "3mzar5aaaab22"), "post commit has no 'record' object"),
        (uri(JO, "3mzar5aaaac22"), "post record has no string 'text'"),
    ]
    [post] = posts_of(batches)
    assert (post.external_id, post.text, post.language) == (uri(JO, "3mzar5aaaad22"), "Nimbus", None)
    assert batches[-1].cursor == {"time_us": 26}


async def test_batches_carry_the_time_of_their_last_event(http, serve) -> None:
    batches = await drain(bluesky(http, await serve(FakeJetstream()), batch_size=2))
    shape = [([p.external_id for p in b.posts], len(b.rejected), b.cursor["time_us"]) for b in batches]
    assert shape == [
        (KEYWORD_POSTS[0:2], 0, T[7]),
        (KEYWORD_POSTS[2:3], 1, T[9]),     # the bad frame has no time of its own
        ([], 2, T[11]),
        (KEYWORD_POSTS[3:5], 0, T[17]),
        ([], 0, T[18]),                    # nothing matched, but the cursor moves on
    ]


async def test_a_resumed_run_neither_repeats_nor_skips(http, serve) -> None:
    fake = FakeJetstream()
    url = await serve(fake)
    first = await drain(bluesky(http, url, max_items=2))
    assert [p.external_id for p in posts_of(first)] == KEYWORD_POSTS[:2]
    cursor = first[-1].cursor
    assert cursor == {"time_us": T[7]}

    second = await drain(bluesky(http, url), cursor)
    # Jetstream replays from the cursor inclusively; the event at the cursor is skipped.
    assert fake.connections[1]["cursor"] == str(T[7])
    assert [p.external_id for p in posts_of(second)] == KEYWORD_POSTS[2:]
    assert second[-1].cursor == {"time_us": T[18]}

    third = await drain(bluesky(http, url), second[-1].cursor)
    assert third == []  # only the event at the cursor came back


async def test_a_stream_dropped_mid_run_resumes_from_the_last_batch(http, serve) -> None:
    fake = FakeJetstream(drop_after=10)  # frames 0..9 arrive, then the TCP connection goes
    url = await serve(fake)
    first = await drain(bluesky(http, url, batch_size=2))
    assert [([p.external_id for p in b.posts], b.cursor) for b in first] == [
        (KEYWORD_POSTS[:2], {"time_us": T[7]}),
        (KEYWORD_POSTS[2:3], {"time_us": T[9]}),  # read before the drop: kept
    ]
    fake.drop_after = None
    second = await drain(bluesky(http, url, batch_size=2), first[-1].cursor)
    assert [p.external_id for p in posts_of(second)] == KEYWORD_POSTS[3:]
    assert len([r for b in second for r in b.rejected]) == 3  # each bad frame reported once
    ids = [p.external_id for p in posts_of(first + second)]
    assert ids == KEYWORD_POSTS


async def test_the_stored_cursor_resumes_a_dropped_stream_without_duplicates(
        http, serve, store: Store) -> None:
    analyzer = Analyzer(workers=0)
    await analyzer.start(acme_customers())
    try:
        fake = FakeJetstream(drop_after=10)
        collector = bluesky(http, await serve(fake), batch_size=2)
        first = await run_collector(collector, store, analyzer)
        assert (first.accepted, first.duplicates) == (3, 0)
        assert await store.get_cursor("bluesky:test") == {"time_us": T[9]}
        fake.drop_after = None
        second = await run_collector(collector, store, analyzer)
        assert (second.accepted, second.duplicates) == (2, 0)
        assert fake.connections[1]["cursor"] == str(T[9])
        assert await store.get_cursor("bluesky:test") == {"time_us": T[18]}
        assert (await store.counts())["mentions"] == 5
    finally:
        await analyzer.close()


async def test_max_seconds_ends_a_run_on_an_idle_stream(http, serve) -> None:
    url = await serve(FakeJetstream(after_replay="idle"))
    started = time.monotonic()
    # The stream stays open and idle for ever: only max_seconds can end the run (the bound
    # catches a run that would not end; how long past 0.3 s it took is the machine's).
    batches = await asyncio.wait_for(drain(bluesky(http, url, max_seconds=0.3)), 60)
    assert time.monotonic() - started >= 0.3  # it read for max_seconds, not less
    assert [p.external_id for p in posts_of(batches)] == KEYWORD_POSTS
    assert batches[-1].cursor == {"time_us": T[18]}

    # Nothing new at all: the run ends quietly and yields no batch (the cursor stands).
    assert await drain(bluesky(http, url, max_seconds=0.2), {"time_us": T[18]}) == []


async def test_followed_handles_are_learnt_from_identity_events(http, serve) -> None:
    fake = FakeJetstream()
    collector = bluesky(http, await serve(fake), keywords=None, handles=["@Jo-Rivera.bsky.social"])
    batches = await drain(collector)
    assert "wantedDids" not in fake.connections[0]  # the DID is unknown until the stream says
    # Jo's first post comes before the identity event that names Jo's DID.
    assert [(p.external_id, p.author.handle) for p in posts_of(batches)] == [
        (uri(JO, "3mzar4kazmm2l"), "jo-rivera.bsky.social"),
        (uri(JO, "3mzar4qvy472l"), "jo-rivera.bsky.social"),
    ]


async def test_followed_dids_are_asked_of_the_server(http, serve) -> None:
    fake = FakeJetstream()
    batches = await drain(bluesky(http, await serve(fake), keywords=None, dids=[JO]))
    assert fake.connections[0].getall("wantedDids") == [JO]
    assert [p.external_id for p in posts_of(batches)] == [
        uri(JO, "3mzar4hv3dg2l"), uri(JO, "3mzar4kazmm2l"), uri(JO, "3mzar4qvy472l")]
    assert [p.author.handle for p in posts_of(batches)] == [JO] + ["jo-rivera.bsky.social"] * 2
    assert batches[-1].cursor == {"time_us": T[17]}


async def test_a_rate_limited_handshake_says_when_to_retry(http, serve) -> None:
    reset = int(time.time()) + 40
    fake = FakeJetstream(refuse=(429, {"Retry-After": "7", "RateLimit-Limit": "3000",
                                       "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)}))
    collector = bluesky(http, await serve(fake))
    with pytest.raises(SourceUnavailable) as caught:
        await drain(collector)
    assert caught.value.retry_after == 7.0
    assert "429" in str(caught.value)
    assert (collector.rate_limit_remaining, collector.rate_limit_reset) == (0, float(reset))

    fake.refuse = (429, {"RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)})
    with pytest.raises(SourceUnavailable) as caught:
        await drain(collector)
    assert 35 <= caught.value.retry_after <= 40  # no Retry-After: wait for the reset


async def test_a_server_error_makes_the_source_unavailable(http, serve) -> None:
    url = await serve(FakeJetstream(refuse=(503, {})))
    with pytest.raises(SourceUnavailable) as caught:
        await drain(bluesky(http, url))
    assert "503" in str(caught.value) and caught.value.retry_after is None


async def test_an_unauthorised_handshake_is_an_auth_failure(http, serve) -> None:
    url = await serve(FakeJetstream(refuse=(401, {"WWW-Authenticate": "Bearer"})))
    with pytest.raises(AuthFailed):
        await drain(bluesky(http, url))


async def test_a_refused_connection_makes_the_source_unavailable(http) -> None:
    with pytest.raises(SourceUnavailable, match="cannot connect"):
        await drain(bluesky(http, f"ws://127.0.0.1:{unused_port()}"))


async def test_a_stream_dropped_before_any_event_makes_the_source_unavailable(http, serve) -> None:
    url = await serve(FakeJetstream(drop_after=0))
    with pytest.raises(SourceUnavailable, match="before any event"):
        await drain(bluesky(http, url))


@pytest.mark.parametrize("options, needle", [
    ({"keywords": None}, "'keywords', 'handles' or 'dids'"),
    ({"keywords": [], "handles": [" "]}, "'keywords', 'handles' or 'dids'"),
    ({"keywords": 42}, "list of strings"),
    ({"dids": ["jo-rivera.bsky.social"]}, "did:plc"),
    ({"max_items": 0}, "max_items"),
    ({"batch_size": 2.5}, "batch_size"),
    ({"max_seconds": "soon"}, "max_seconds"),
])
async def test_missing_or_bad_options_leave_the_source_out(http, options, needle) -> None:
    with pytest.raises(NotConfigured, match=needle.replace("(", r"\(")):
        bluesky(http, None, **options)


def test_it_needs_the_shared_http_session() -> None:
    with pytest.raises(NotConfigured, match="HTTP session"):
        bluesky(None, None)


async def test_defaults_point_at_the_public_jetstream(http) -> None:
    collector = bluesky(http, None)
    assert collector.url == "wss://jetstream2.us-east.bsky.network/subscribe"
    assert (collector.max_items, collector.max_seconds, collector.batch_size) == (1000, 30.0, 100)


async def test_a_post_created_in_the_future_is_dated_when_the_relay_saw_it(http, serve) -> None:
    # createdAt is written by the author's client: nothing stops 2099 (or a clock a day fast).
    seen_us = T[18] + 1_000_000
    record = {"$type": "app.bsky.feed.post", "createdAt": "2099-01-01T00:00:00Z", "text": "Nimbus rocks"}
    frame = json.dumps({"did": JO, "time_us": seen_us, "kind": "commit", "commit": {
        "rev": "3mzar5aaaaa22", "operation": "create", "collection": "app.bsky.feed.post",
        "rkey": "3mzar5future", "cid": "bafyreiexample", "record": record}})
    batches = await drain(bluesky(http, await serve(FakeJetstream(frames=[*FakeJetstream().frames, frame]))))
    posts = {p.external_id: p for p in posts_of(batches)}
    assert posts[uri(JO, "3mzar5future")].created_at == datetime.fromtimestamp(
        seen_us / 1_000_000, timezone.utc)
    # A post created before the relay saw it keeps its own time.
    assert posts[KEYWORD_POSTS[1]].created_at == datetime(2026, 11, 1, 12, 0, 4, 864000, tzinfo=timezone.utc)


@pytest.mark.parametrize("bogus_us", [10**30, T[18] * 1000, T[18] + 86_400 * 1_000_000])
async def test_an_event_timed_far_ahead_never_becomes_the_cursor(http, serve, bogus_us: int) -> None:
    # In microseconds a nanosecond time (x1000) is some 50,000 years ahead; as the cursor it
    # would make every later event look replayed, and the source read nothing ever again.
    record = {"$type": "app.bsky.feed.post", "createdAt": "2026-11-01T12:00:05Z", "text": "Nimbus is down"}
    bogus = json.dumps({"did": JO, "time_us": bogus_us, "kind": "commit", "commit": {
        "rev": "3mzar5aaaaa22", "operation": "create", "collection": "app.bsky.feed.post",
        "rkey": "3mzar5bogus", "cid": "bafyreiexample", "record": record}})
    frames = FakeJetstream().frames
    fake = FakeJetstream(frames=[*frames[:4], bogus, *frames[4:]])
    collector = bluesky(http, await serve(fake))
    collector.clock = lambda: T[18] / 1_000_000 + 60  # type: ignore[attr-defined]
    batches = await drain(collector)
    assert [p.external_id for p in posts_of(batches)] == KEYWORD_POSTS
    assert [r.reason for b in batches for r in b.rejected if "after now" in r.reason] == [
        f"event time_us {bogus_us} is after now; the cursor stays"]
    assert batches[-1].cursor == {"time_us": T[18]}
