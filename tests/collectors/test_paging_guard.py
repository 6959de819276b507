"""Every paging collector ends its run: a server that never stops paging meets the page cap,
and a slow stream meets the run time cap; the cursor keeps the rest for the next run."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from collectors import create_collector
from collectors.base import Batch
from tests.collectors.fake_discourse import Forum
from tests.collectors.fake_discourse import make_app as discourse_app
from tests.collectors.fake_hackernews import captured
from tests.collectors.fake_mastodon import Instance, fixture
from tests.collectors.fake_mastodon import make_app as mastodon_app


async def drain(collector: Any, cursor: dict | None = None) -> list[Batch]:
    # A generous bound: these runs end in well under a second; without the guard some never end.
    async def read() -> list[Batch]:
        return [batch async for batch in collector.fetch(cursor)]
    return await asyncio.wait_for(read(), timeout=120)


def ids(batches: list[Batch]) -> list[str]:
    return [p.external_id for b in batches for p in b.posts]


async def test_hacker_news_with_an_nbpages_that_never_ends(aiohttp_server: Any, http) -> None:
    """A broken index (or proxy) answering every page with the same hits and a huge nbPages."""
    answer = captured()
    answer.update(nbHits=900, nbPages=1_000_000)
    requests: list[dict[str, str]] = []

    async def search(request: web.Request) -> web.Response:
        requests.append(dict(request.query))
        return web.json_response(answer)

    app = web.Application()
    app.router.add_get("/api/v1/search_by_date", search)
    server = await aiohttp_server(app)
    collector = create_collector("hackernews", "hackernews:hn", {
        "kind": "hackernews", "name": "hn", "base_url": str(server.make_url("")),
        "queries": ["nimbus"], "max_pages": 6}, http)

    batches = await drain(collector, {"queries": {"nimbus": {"after": 1795000000, "ids_at": []}}})
    assert len(requests) == 6
    # A window is handed on only once read whole (oldest first), so the cursor stays put.
    assert batches == []
    assert collector.guard.stops == ["hackernews:nimbus: page cap of 6 pages per run reached; "
                                     "the next run goes on"]


async def test_mastodon_stops_at_the_page_cap_and_goes_on_next_run(aiohttp_server: Any, http) -> None:
    instance = Instance(tags={"nimbus": fixture("tag_timeline.json")}, notifications=[])
    server = await aiohttp_server(mastodon_app(instance))
    instance.base_url = str(server.make_url(""))
    options = {"kind": "mastodon", "name": "masto", "instance": "https://mastodon.example",
               "base_url": instance.base_url, "hashtags": ["nimbus"], "max_pages": 2}
    first = await drain(create_collector("mastodon", "mastodon:masto", options, http))
    added = [instance.add_status("nimbus", 115600000000001000 + i)["id"] for i in range(100)]

    collector = create_collector("mastodon", "mastodon:masto", options, http)
    second = await drain(collector, first[-1].cursor)
    assert ids(second) == added[:80]  # two pages of 40
    third = await drain(collector, second[-1].cursor)
    assert ids(third) == added[80:]


async def test_discourse_stops_at_the_page_cap_and_closes_the_gap_next_run(aiohttp_server: Any, http) -> None:
    forum = Forum()
    forum.load_captured()
    server = await aiohttp_server(discourse_app(forum))
    forum.base_url = str(server.make_url("")).rstrip("/")
    options = {"kind": "discourse", "name": "forum", "base_url": forum.base_url, "max_pages": 2}
    first = await drain(create_collector("discourse", "discourse:forum", options, http))
    added = [f"post:{forum.add_post(5000 + i, topic_id=900 + i // 10, number=2 + i % 10)['id']}"
             for i in range(160)]

    collector = create_collector("discourse", "discourse:forum", options, http)
    second = await drain(collector, first[-1].cursor)
    assert "gap" in second[-1].cursor and len(ids(second)) == 100  # two pages of 50
    third = await drain(collector, second[-1].cursor)
    assert sorted(ids(second) + ids(third)) == sorted(added)


@pytest.mark.parametrize("kind", ["x", "reddit", "hackernews", "mastodon", "discourse", "bluesky"])
def test_every_paging_collector_has_an_options_model(kind: str) -> None:
    from collectors import COLLECTORS

    model = COLLECTORS[kind].options_model
    assert model is not None and model.model_config.get("extra") == "forbid"
    assert {"max_pages", "max_run_seconds", "daily_request_budget"} <= set(model.model_fields)


async def test_a_session_without_end_still_ends_at_the_run_time_cap(aiohttp_server: Any) -> None:
    """A Jetstream that sends nothing: the run ends at max_run_seconds even with a long max_seconds."""
    async def subscribe(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str('{"did": "did:plc:x", "time_us": 1, "kind": "account"}')
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/subscribe", subscribe)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as http:
        collector = create_collector("bluesky", "bluesky:b", {
            "kind": "bluesky", "name": "b", "base_url": f"ws://127.0.0.1:{server.port}",
            "keywords": ["nimbus"], "max_seconds": 3600, "max_run_seconds": 0.5}, http)
        batches = await drain(collector)
    assert batches[-1].cursor == {"time_us": 1}
    assert collector.guard.requests == 1


async def test_mastodon_ignoring_min_id_hands_on_nothing_at_or_below_it(aiohttp_server: Any, http) -> None:
    """A server (or cache) that ignores min_id answers its newest page every time."""
    instance = Instance(tags={"nimbus": fixture("tag_timeline.json")}, notifications=[])
    added = [instance.add_status("nimbus", 115600000000001000 + i)["id"] for i in range(10)]
    pages: list[dict[str, str]] = []

    async def newest_page(request: web.Request) -> web.Response:
        pages.append(dict(request.query))
        newest = sorted(instance.tags["nimbus"], key=lambda s: (len(s["id"]), s["id"]), reverse=True)
        return web.json_response(newest[:40])

    app = web.Application()
    app.router.add_get("/api/v1/timelines/tag/{tag}", newest_page)
    server = await aiohttp_server(app)
    collector = create_collector("mastodon", "mastodon:masto", {
        "kind": "mastodon", "name": "masto", "instance": "https://mastodon.example",
        "base_url": str(server.make_url("")).rstrip("/"), "hashtags": ["nimbus"]}, http)
    batches = await drain(collector, {"streams": {"tag:nimbus": {"min_id": added[6]}}})
    assert ids(batches) == added[7:]
    assert len(pages) == 2  # the second answer holds nothing newer: the run ends
