"""A rate-limit reset header the source's runner cannot place in time — one sent in
milliseconds (as some proxies and API gateways write it), or beyond any calendar — must not
stop the run from being recorded: the posts are kept, the health saved, the reset left unknown.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import pytest

from config.settings import SourceSettings
from crmsphere.sources import SourceRunner
from storage import open_store
from tests.collectors.fake_x import BEARER, FakeX, clone

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)


@pytest.fixture
async def store(tmp_path: Path):
    store = await open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield store
    await store.close()


@pytest.mark.parametrize("reset", ["1796117400000", "1e400", "nan", "-1e300"])
async def test_a_reset_header_beyond_any_date_keeps_the_run_and_its_health(
        aiohttp_server, store, analyzer, reset: str) -> None:
    fake = FakeX()
    fake.reset_at = reset  # type: ignore[assignment]  (what the server writes, as it writes it)
    server = await aiohttp_server(fake.app())
    newest = fake.newest_first()[0]
    fake.add(clone(newest, 60, "Nimbus tweet with an odd rate-limit header"))
    source = SourceSettings(kind="x", name="nimbus", interval=60,
                            base_url=str(server.make_url("")).rstrip("/"), queries=["nimbus"],
                            bearer_token_env="X_BEARER_TOKEN")
    async with aiohttp.ClientSession() as http:
        runner = SourceRunner(store, analyzer, [source], http=http,
                              environ={"X_BEARER_TOKEN": BEARER}, clock=lambda: NOW)
        await runner.start()
        health = await runner.run_once("nimbus")
    assert health.state == "ok", health.error
    assert health.last_items > 0
    assert health.rate_limit_reset is None
    assert await store.get_source_health("nimbus") == health
    assert (await store.counts())["mentions"] == health.last_items
