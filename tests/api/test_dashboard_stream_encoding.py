"""The live stream over real HTTP: deflated (blocks shared by every dashboard) when the client
accepts it, plain otherwise, with the same events either way."""

from __future__ import annotations

import asyncio
import zlib
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from api.app import create_app
from api.dashboard.stream import ZLIB_HEADER, deflate_block
from api.keys import RUNTIME
from config.settings import load_settings
from crmsphere.ingest import store_posts
from tests.conftest import post


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path, monkeypatch) -> TestClient:
    monkeypatch.delenv("CRMSPHERE_ADMIN_TOKEN", raising=False)
    settings = load_settings(environ={}, overrides={
        "api.trust_loopback": True, "store.url": f"sqlite:///{tmp_path / 's.db'}"})
    return await aiohttp_client(create_app(settings))


def test_deflate_blocks_from_separate_compressors_make_one_stream() -> None:
    parts = [b"event: ready\n\n", b"id: 1\nevent: mention\ndata: {}\n\n" * 50, b": keep-alive\n\n"]
    stream = ZLIB_HEADER + b"".join(deflate_block(p) for p in parts)
    reader = zlib.decompressobj()
    # Each block decodes completely as soon as it arrives (a sync flush ends it).
    assert reader.decompress(ZLIB_HEADER + deflate_block(parts[0])) == parts[0]
    assert zlib.decompressobj().decompress(stream) == b"".join(parts)


async def _read_events(resp: aiohttp.ClientResponse, count: int) -> list[str]:
    got: list[str] = []
    while len(got) < count:
        block = await asyncio.wait_for(resp.content.readuntil(b"\n\n"), 3)
        if b"event: mention" in block:
            got.append(block.decode().split("\n", 1)[0])
    return got


async def test_deflated_and_plain_streams_carry_the_same_events(client: TestClient) -> None:
    rt = client.app[RUNTIME]
    # aiohttp's client asks for deflate and decodes it, as browsers do.
    deflated = await client.get("/api/stream/mentions")
    assert deflated.headers.get("Content-Encoding") == "deflate"
    plain = await client.get("/api/stream/mentions", headers={"Accept-Encoding": "identity"},
                             auto_decompress=False)
    assert "Content-Encoding" not in plain.headers
    for resp in (deflated, plain):
        assert b"event: ready" in await asyncio.wait_for(resp.content.readuntil(b"\n\n"), 3)
    await store_posts(rt.store, rt.analyzer, "test",
                      [post(str(i), f"post {i}", minutes=i) for i in range(1, 6)], None,
                      rt.sources.on_stored)
    first = await _read_events(deflated, 5)
    assert first == await _read_events(plain, 5)
    assert len(set(first)) == 5 and all(line.startswith("id: ") for line in first)
    deflated.close()
    plain.close()


async def test_a_reconnecting_dashboard_catches_up_deflated(client: TestClient) -> None:
    rt = client.app[RUNTIME]
    await store_posts(rt.store, rt.analyzer, "test", [post("1", "one"), post("2", "two", minutes=1)], None)
    first = (await rt.store.mentions_after(0, 10))[0].id
    resp = await client.get("/api/stream/mentions", headers={"Last-Event-ID": str(first)})
    assert resp.headers.get("Content-Encoding") == "deflate"
    assert b"event: ready" in await asyncio.wait_for(resp.content.readuntil(b"\n\n"), 3)
    assert await _read_events(resp, 1) == [f"id: {first + 1}"]
    resp.close()
