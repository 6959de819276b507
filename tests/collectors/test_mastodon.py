"""The Mastodon collector against a fake instance on 127.0.0.1."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from collectors import create_collector
from collectors.base import Batch
from domain import MentionQuery
from domain.errors import AuthFailed, NotConfigured, SourceUnavailable
from crmsphere.ingest import run_collector
from nlp.runner import Analyzer
from storage import open_store
from tests.conftest import acme_customers
from tests.collectors.fake_mastodon import RESET, Instance, fixture, make_app

NOW = RESET.timestamp() - 60  # the collector's clock: one minute before the rate limit resets
NEWEST_TAGGED = "115600000000000103"


@pytest.fixture
async def instance(aiohttp_server) -> Instance:
    state = Instance(tags={"nimbus": fixture("tag_timeline.json")}, notifications=fixture("notifications.json"))
    server = await aiohttp_server(make_app(state))
    state.base_url = str(server.make_url(""))
    return state


def mastodon(instance: Instance, http: aiohttp.ClientSession, **kw: Any):
    options = {"kind": "mastodon", "name": "masto", "interval": 60, "enabled": True,
               "instance": "https://mastodon.example", "base_url": instance.base_url,
               "hashtags": ["#Nimbus"], "credentials": {}, **kw}
    collector = create_collector("mastodon", "mastodon:masto", options, http)
    collector.clock = lambda: NOW
    return collector


async def drain(collector, cursor: dict | None = None) -> list[Batch]:
    return [batch async for batch in collector.fetch(cursor)]


def ids(batches: list[Batch]) -> list[str]:
    return [p.external_id for b in batches for p in b.posts]


def more_statuses(instance: Instance, count: int, first: int = 115600000000001000) -> list[str]:
    return [instance.add_status("nimbus", first + i)["id"] for i in range(count)]


async def test_first_run_reads_the_hashtag_timeline(instance: Instance, http) -> None:
    collector = mastodon(instance, http)
    [batch] = await drain(collector)
    assert [p.external_id for p in batch.posts] == ["115600000000000101", "115600000000000102"]
    local, remote = batch.posts
    assert local.source == "mastodon"
    assert local.author.handle == "target@mastodon.example"  # local account: the instance host appended
    assert local.author.name == "Target Logistics"
    assert local.author.platform_id == "https://mastodon.example/@target"
    assert local.text == "Switching our dispatch team to #Nimbus next week. Anyone tried the bulk routing API? <3"
    assert local.created_at == datetime(2026, 11, 20, 9, 15, tzinfo=timezone.utc)
    assert local.url == "https://mastodon.example/@target/115600000000000101"
    assert (local.parent_id, local.thread_id, local.language) == (None, "115600000000000101", "en")
    assert dict(local.engagement) == {"replies": 2, "reblogs": 1, "favourites": 5}
    assert remote.author.handle == "bob@fosstodon.example"
    assert remote.text == ("pricing rant\n\n@target same here. The new #Nimbus pricing doubles our bill.\n\n"
                           "Details: https://blog.fosstodon.example/2026/11/nimbus-pricing")
    assert (remote.parent_id, remote.thread_id) == ("115600000000000101", None)
    # The media-only status is skipped, but the cursor moves past it.
    assert batch.cursor == {"streams": {"tag:nimbus": {"min_id": NEWEST_TAGGED}}}
    assert batch.rejected == ()
    assert instance.requests == [  # the second page, older than the first, is empty
        ("/api/v1/timelines/tag/nimbus", {"limit": "40"}, None),
        ("/api/v1/timelines/tag/nimbus", {"limit": "40", "max_id": "115600000000000101"}, None)]
    assert (collector.rate_limit_remaining, collector.rate_limit_reset) == (298, RESET.timestamp())
    assert instance.faults.requests[0][1]["User-Agent"] == "crmsphere/0.1.0"


async def test_stored_through_ingest_once_and_linked_by_the_global_handle(
        instance: Instance, http, tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'store.db'}")
    await store.upsert_customers(acme_customers())
    analyzer = Analyzer(workers=0)
    await analyzer.start(acme_customers())
    try:
        collector = mastodon(instance, http)
        first = await run_collector(collector, store, analyzer)
        again = await run_collector(collector, store, analyzer)
        cursor = await store.get_cursor("mastodon:masto")
        page = await store.list_mentions(MentionQuery(customer_id="cus_target"))
    finally:
        await analyzer.close()
        await store.close()
    assert (first.accepted, first.duplicates, again.accepted, again.duplicates) == (2, 0, 0, 0)
    assert cursor == {"streams": {"tag:nimbus": {"min_id": NEWEST_TAGGED}}}
    # "target" is local to mastodon.example; the customer registry knows it as target@mastodon.example.
    rules = {m.post.external_id: [link.rule for link in m.analysis.links] for m in page.items}
    assert rules["115600000000000101"] == ["author_handle"]


async def test_mentions_are_read_with_the_token_and_private_ones_skipped(instance: Instance, http) -> None:
    collector = mastodon(instance, http, hashtags=[], mentions_of="@acme",
                         credentials={"access_token": "token-of-acme"})
    [batch] = await drain(collector)
    assert [p.external_id for p in batch.posts] == ["115600000000000150", "115600000000000201"]
    german, complaint = batch.posts
    assert german.language == "de" and german.author.handle == "target@mastodon.example"
    assert complaint.text == "@acme your CSV export drops the last row & nobody answers support mail."
    assert batch.cursor == {"streams": {"mentions:acme": {"min_id": "3403"}}}  # past the direct message
    path, query, auth = instance.requests[0]
    assert path == "/api/v1/notifications"
    assert query["types[]"] == "mention" and auth == "Bearer token-of-acme"


async def test_resuming_walks_forward_with_min_id_without_gaps_or_repeats(instance: Instance, http) -> None:
    collector = mastodon(instance, http)
    cursor = (await drain(collector))[-1].cursor
    made = more_statuses(instance, 90)
    instance.requests.clear()
    batches = await drain(collector, cursor)
    assert [len(b.posts) for b in batches] == [40, 40, 10]
    assert ids(batches) == made
    assert [b.cursor["streams"]["tag:nimbus"]["min_id"] for b in batches] == [made[39], made[79], made[89]]
    assert [q.get("min_id") for _, q, _ in instance.requests] == [NEWEST_TAGGED, made[39], made[79], made[89]]
    instance.requests.clear()
    assert await drain(collector, batches[-1].cursor) == []
    assert len(instance.requests) == 1


async def test_a_connection_dropped_mid_pagination_resumes_from_the_last_batch(instance: Instance, http) -> None:
    collector = mastodon(instance, http)
    cursor = {"streams": {"tag:nimbus": {"min_id": NEWEST_TAGGED}}}
    made = more_statuses(instance, 90)
    instance.faults.plan("/api/v1/timelines/tag/", drop=True, after=1)
    first: list[Batch] = []
    with pytest.raises(SourceUnavailable, match="connection failed"):
        async for batch in collector.fetch(cursor):
            first.append(batch)
    assert ids(first) == made[:40]
    second = await drain(collector, first[-1].cursor)
    assert ids(first) + ids(second) == made
    assert max(Counter(ids(first) + ids(second)).values()) == 1


async def test_first_run_reads_only_the_newest_max_items(instance: Instance, http) -> None:
    made = more_statuses(instance, 100)
    batches = await drain(mastodon(instance, http, max_items=50))
    assert ids(batches) == made[-50:]
    assert [q for _, q, _ in instance.requests] == [{"limit": "40"}, {"limit": "10", "max_id": made[-40]}]
    assert batches[-1].cursor["streams"]["tag:nimbus"]["min_id"] == made[-1]


async def test_a_malformed_status_is_rejected_and_the_rest_kept(instance: Instance, http) -> None:
    made = more_statuses(instance, 3)
    instance.tags["nimbus"][-2]["account"] = None
    instance.tags["nimbus"][-3]["created_at"] = "last Tuesday"
    batches = await drain(mastodon(instance, http), {"streams": {"tag:nimbus": {"min_id": NEWEST_TAGGED}}})
    assert ids(batches) == [made[2]]
    reasons = {r.where: r.reason for b in batches for r in b.rejected}
    assert reasons[f"mastodon tag:nimbus {made[1]}"] == "status has no account acct"
    assert "created_at" in reasons[f"mastodon tag:nimbus {made[0]}"]
    assert batches[-1].cursor["streams"]["tag:nimbus"]["min_id"] == made[2]


async def test_a_status_without_uri_or_url_is_rejected_not_stored_under_a_bare_id(instance: Instance, http) -> None:
    """Its address is what makes a status one mention across instances: without one, its id
    (only unique on this instance) would be taken for another server's post."""
    made = more_statuses(instance, 2)
    instance.tags["nimbus"][-2].update(uri=None, url=None)
    batches = await drain(mastodon(instance, http), {"streams": {"tag:nimbus": {"min_id": NEWEST_TAGGED}}})
    assert ids(batches) == [made[1]]
    assert [(r.where, r.reason) for b in batches for r in b.rejected] == [
        (f"mastodon tag:nimbus {made[0]}", "status has no uri")]


async def test_429_is_unavailable_until_the_reset(instance: Instance, http) -> None:
    instance.faults.plan("/api/v1/timelines/tag/", 429, body={"error": "Too many requests"}, headers={
        "X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "2026-11-20T12:05:00.000000Z"})
    collector = mastodon(instance, http)
    with pytest.raises(SourceUnavailable) as caught:
        await drain(collector)
    assert caught.value.retry_after == pytest.approx(60)
    assert collector.rate_limit_remaining == 0


async def test_no_requests_left_stops_before_earning_a_429(instance: Instance, http) -> None:
    collector = mastodon(instance, http)
    more_statuses(instance, 90)
    instance.remaining = 2
    batches: list[Batch] = []
    with pytest.raises(SourceUnavailable, match="rate limit used up") as caught:
        async for batch in collector.fetch({"streams": {"tag:nimbus": {"min_id": NEWEST_TAGGED}}}):
            batches.append(batch)
    assert len(batches) == 2 and len(instance.requests) == 2
    assert caught.value.retry_after == pytest.approx(60)


async def test_server_error_is_unavailable(instance: Instance, http) -> None:
    instance.faults.plan("/api/v1/timelines/tag/", 503, body="<html>Mastodon is down for maintenance</html>")
    with pytest.raises(SourceUnavailable, match="HTTP 503"):
        await drain(mastodon(instance, http))


async def test_a_refused_token_is_an_auth_failure(instance: Instance, http) -> None:
    collector = mastodon(instance, http, mentions_of="acme", credentials={"access_token": "revoked"})
    with pytest.raises(AuthFailed, match="The access token is invalid"):
        await drain(collector)


async def test_an_instance_without_public_preview_needs_a_token(instance: Instance, http) -> None:
    instance.tags_need_token = True
    with pytest.raises(AuthFailed):
        await drain(mastodon(instance, http))
    [batch] = await drain(mastodon(instance, http, credentials={"access_token": "token-of-acme"}))
    assert len(batch.posts) == 2


@pytest.mark.parametrize("options, message", [
    ({"hashtags": ["x"]}, "instance"),
    ({"instance": "https://m.example"}, "hashtags"),
    ({"instance": "https://m.example", "mentions_of": "acme"}, "access_token"),
])
def test_missing_options_are_not_configured(options: dict, message: str) -> None:
    with pytest.raises(NotConfigured, match=message):
        create_collector("mastodon", "m", {"kind": "mastodon", "name": "m", **options}, object())


def test_without_an_http_session_it_is_not_configured() -> None:
    with pytest.raises(NotConfigured, match="HTTP session"):
        create_collector("mastodon", "m", {"kind": "mastodon", "name": "m", "instance": "https://m.example",
                                           "hashtags": ["x"]}, None)
