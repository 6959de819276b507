"""Several processes, one store: two API processes and one scheduler (``serve --role``).

Shown against a SQLite file and the MongoDB test server: the collector job runs
once (only the scheduler polls, the fake feed host counts its requests), and a
mention pushed into API process A reaches a dashboard stream connected to API
process B (the live hub's cross-process path: polling here, see crmsphere/live.py).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from collectors.push import sign
from tests.collectors.fake_rss import FeedHost
from tests.collectors.fake_rss import fixture as rss_fixture
from tests.collectors.fake_rss import make_app as rss_app
from tests.conftest import post_row
from tests.serve_helpers import (
    free_port,
    start_serve,
    stop_serve,
    wait_for,
    wait_healthy,
)

TOKEN = "staff-token-for-role-tests"
SECRET = "push-secret-for-role-tests"
FEED = "/journal/feed/"


@pytest.fixture(params=["sqlite", "mongodb"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh store URL of each backend (the MongoDB one dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db.sqlite'}"
        return
    from pymongo import AsyncMongoClient

    from storage.mongo.store import _take_option
    from tests.storage.mongo_harness import database_url

    url = database_url(request.getfixturevalue("mongodb_server_uri"))
    yield url
    client: AsyncMongoClient = AsyncMongoClient(_take_option(url, "crmsphere_transactions")[0])
    await client.drop_database(client.get_default_database().name)
    await client.close()


async def _next_mention(resp: aiohttp.ClientResponse, external_id: str) -> dict:
    """Read SSE events until a ``mention`` event for ``external_id``; its data."""
    event = None
    async for raw in resp.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "mention":
            data = json.loads(line[6:])
            if data.get("external_id") == external_id or external_id in json.dumps(data):
                return data
    raise AssertionError("the stream ended before the mention arrived")


async def test_two_api_processes_and_one_scheduler(aiohttp_server, tmp_path: Path,
                                                   store_url: str) -> None:
    feeds = FeedHost()
    feeds.put(FEED, rss_fixture("rss2.xml"))
    feed_server = await aiohttp_server(rss_app(feeds))
    ports = {"a": free_port(), "b": free_port(), "s": free_port()}
    roles = {"a": "api", "b": "api", "s": "scheduler"}
    procs, logs = {}, {}
    for name, port in ports.items():
        config = tmp_path / f"{name}.toml"
        config.write_text(f"""
[server]
port = {port}
[store]
url = "{store_url}"
[[sources]]
kind = "rss"
name = "blogs"
interval = 600
feeds = ["http://127.0.0.1:{feed_server.port}{FEED}"]
[[sources]]
kind = "push"
name = "partner"
secret_env = "TEST_PUSH_SECRET"
""")
        logs[name] = tmp_path / f"{name}.log"
        procs[name] = start_serve(config, tmp_path, logs[name], "--role", roles[name], env={
            "CRMSPHERE_ADMIN_TOKEN": TOKEN, "TEST_PUSH_SECRET": SECRET})
    base = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=90)) as http:
            await asyncio.gather(*(wait_healthy(http, base[n], procs[n], logs[n]) for n in procs))
            # A scheduler process serves /healthz only, and says it holds the lease.
            async with http.get(base["s"] + "/healthz") as resp:
                health = await resp.json()
            assert health["role"] == "scheduler"
            async with http.get(base["s"] + "/api/mentions", headers=auth) as resp:
                assert resp.status == 404
            # The job ran once, in the scheduler only: one request for the feed.
            await wait_for(lambda: _async(len(feeds.hits(FEED)) >= 1), timeout=30)
            for name in ("a", "b"):
                async with http.get(base[name] + "/api/sources", headers=auth) as resp:
                    assert (await resp.json())["scheduler"]["leader"] is False
            async with http.get(base["s"] + "/healthz") as resp:
                assert (await resp.json())["scheduler"]["leader"] is True

            # A dashboard on B; a mention pushed into A.
            async with http.get(base["b"] + "/api/stream/mentions", headers=auth) as stream:
                assert stream.status == 200, await stream.text()
                assert (await stream.content.readline()).startswith(b"retry:")
                body = json.dumps({"posts": [post_row(
                    1, external_id="role-test-1", text="Nimbus rocks across processes",
                    created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))]}).encode()
                stamp = str(int(time.time()))
                async with http.post(base["a"] + "/api/ingest/partner", data=body, headers={
                        "Content-Type": "application/json", "X-Crmsphere-Timestamp": stamp,
                        "X-Crmsphere-Signature": sign(SECRET, stamp, body)}) as resp:
                    assert resp.status == 202, await resp.text()
                    assert (await resp.json())["accepted"] == 1
                seen = await asyncio.wait_for(_next_mention(stream, "role-test-1"), 20)
            assert "across processes" in json.dumps(seen)
            assert len(feeds.hits(FEED)) == 1, "the collector job ran more than once"
    finally:
        codes = {name: stop_serve(proc) for name, proc in procs.items()}
    assert codes == {"a": 0, "b": 0, "s": 0}, {n: logs[n].read_text()[-1500:] for n in procs}


async def _async(value: bool) -> bool:
    return value
