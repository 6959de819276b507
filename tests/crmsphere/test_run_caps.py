"""``SourceRunner`` ends every run: a collector stuck past its time cap is stopped, and why a
run stopped paging early shows in the source's health."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from collectors.base import Batch, Collector, SourceOptions
from collectors.registry import COLLECTORS, register
from config.settings import SourceSettings
from crmsphere.sources import SourceRunner
from nlp.runner import Analyzer
from storage import Store
from tests.collectors.fake_hackernews import captured

if "stalling" not in COLLECTORS:
    @register("stalling")
    class StallingSource(Collector):
        """A source whose request never answers and that ignores its own caps."""

        options_model = SourceOptions

        async def fetch(self, cursor: dict[str, Any] | None) -> AsyncIterator[Batch]:
            await asyncio.Event().wait()
            yield Batch((), {})


@pytest.fixture
async def analyzer():
    a = Analyzer()
    await a.start([])
    yield a
    await a.close()


def now() -> datetime:
    return datetime(2026, 11, 1, 12, tzinfo=timezone.utc)


async def test_a_run_stuck_past_its_time_cap_is_stopped(store: Store, analyzer: Analyzer) -> None:
    source = SourceSettings(kind="stalling", name="stuck", interval=60, max_run_seconds=0.2)
    runner = SourceRunner(store, analyzer, [source], environ={}, clock=now)
    runner.run_grace = 0.2
    await runner.start()
    health = await asyncio.wait_for(runner.run_once("stuck", force=True), timeout=120)
    assert health.state == "failing"
    assert health.error == ("run stopped after 0.4 s (its time cap max_run_seconds plus 0.2 s); "
                            "the next run goes on from the cursor")


async def test_the_page_cap_is_named_in_the_health(store: Store, analyzer: Analyzer, aiohttp_server: Any) -> None:
    answer = captured()
    answer.update(nbHits=900, nbPages=1_000_000)

    async def search(request: web.Request) -> web.Response:
        return web.json_response(answer)

    app = web.Application()
    app.router.add_get("/api/v1/search_by_date", search)
    server = await aiohttp_server(app)
    source = SourceSettings(kind="hackernews", name="hn", interval=60, base_url=str(server.make_url("")),
                            queries=["nimbus"], max_pages=3, max_items=1000, hits_per_page=1)
    async with aiohttp.ClientSession() as http:
        runner = SourceRunner(store, analyzer, [source], http=http, environ={}, clock=now)
        await runner.start()
        health = await runner.run_once("hn", force=True)
    assert health.state == "ok" and health.requests_today == 3
    assert health.error == "hackernews:nimbus: page cap of 3 pages per run reached; the next run goes on"
