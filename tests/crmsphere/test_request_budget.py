"""The daily request budget: counted in the store across runs and processes, the source
paused until 00:00 UTC when it is spent."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import aiohttp
import pytest

from config.settings import SourceSettings
from crmsphere.sources import SourceRunner
from nlp.runner import Analyzer
from storage import Store
from tests.collectors.fake_hackernews import Algolia, make_app


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 21, 30, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def analyzer():
    a = Analyzer()
    await a.start([])
    yield a
    await a.close()


@pytest.fixture
async def algolia(aiohttp_server) -> Algolia:
    index = Algolia()
    index.load_captured()
    server = await aiohttp_server(make_app(index))
    index.base_url = str(server.make_url(""))
    return index


def hn_source(algolia: Algolia, **options) -> SourceSettings:
    return SourceSettings(kind="hackernews", name="hn", interval=60, base_url=algolia.base_url,
                          queries=["nimbus"], **options)


async def runner(store: Store, analyzer: Analyzer, http: aiohttp.ClientSession, clock: Clock,
                 source: SourceSettings, holder: str) -> SourceRunner:
    r = SourceRunner(store, analyzer, [source], http=http, environ={}, clock=clock, holder=holder)
    await r.start()
    return r


async def test_a_spent_budget_pauses_the_source_until_the_next_utc_day(
        store: Store, analyzer: Analyzer, algolia: Algolia) -> None:
    clock = Clock()
    source = hn_source(algolia, daily_request_budget=3)
    async with aiohttp.ClientSession() as http:
        first = await runner(store, analyzer, http, clock, source, holder="A")
        for expected in (1, 3):  # a first run (one page), then a probe and a window
            health = await first.run_once("hn", force=True)
            assert (health.state, health.requests_today) == ("ok", expected)
        assert len(algolia.requests) == 3

        # Another process, same store: the count holds, no request is made, and it says why.
        second = await runner(store, analyzer, http, clock, source, holder="B")
        health = await second.run_once("hn", force=True)
        assert health.state == "paused"
        assert health.error == "daily request budget of 3 spent; resumes at 00:00 UTC"
        assert health.next_attempt_at == datetime(2026, 11, 2, tzinfo=timezone.utc)
        assert len(algolia.requests) == 3
        assert (await second.run_once("hn")).state == "paused"  # the scheduler waits too

        clock.now += timedelta(hours=3)  # 00:30 UTC the next day
        health = await second.run_once("hn")
        assert (health.state, health.requests_today, health.error) == ("ok", 2, None)
        assert len(algolia.requests) == 5


async def test_a_budget_spent_in_the_middle_of_a_run_stops_it(
        store: Store, analyzer: Analyzer, algolia: Algolia) -> None:
    clock = Clock()
    source = hn_source(algolia, daily_request_budget=2, hits_per_page=1, max_items=3)
    async with aiohttp.ClientSession() as http:
        r = await runner(store, analyzer, http, clock, source, holder="A")
        health = await r.run_once("hn", force=True)
    assert health.state == "paused" and "budget of 2 spent" in (health.error or "")
    assert health.requests_today == 2 and len(algolia.requests) == 2
