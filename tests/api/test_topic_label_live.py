"""A manager's topic label reaches open dashboards as an ``updated`` event for the mention,
so the stream shows the new topics in place (even where they no longer match its filter)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from api.app import create_app
from api.keys import RUNTIME
from config.settings import load_settings
from crmsphere.ingest import store_posts
from tests.conftest import post


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path, monkeypatch) -> TestClient:
    monkeypatch.delenv("CRMSPHERE_ADMIN_TOKEN", raising=False)
    settings = load_settings(environ={}, overrides={
        "api.trust_loopback": True, "store.url": f"sqlite:///{tmp_path / 'live.db'}"})
    client = await aiohttp_client(create_app(settings))
    rt = client.app[RUNTIME]
    await store_posts(rt.store, rt.analyzer, "test",
                      [post("1", "I was charged twice on my invoice", minutes=1)], None)
    return client


async def test_a_topic_label_is_published_as_an_update(client: TestClient) -> None:
    rt = client.app[RUNTIME]
    (mention,) = await rt.store.mentions_after(0, 10)
    assert mention.analysis.topics == ("billing",)
    resp = await client.get("/api/stream/mentions", params={"topic": "billing"},
                            headers={"Accept-Encoding": "identity"})
    assert b"event: ready" in await asyncio.wait_for(resp.content.readuntil(b"\n\n"), 3)
    labelled = await client.post(f"/api/mentions/{mention.id}/topics", json={"topics": ["ui"]})
    assert labelled.status == 200
    event = (await asyncio.wait_for(resp.content.readuntil(b"\n\n"), 3)).decode()
    head, data = event.split("data: ", 1)
    # No id line: the dashboard's reconnect point (Last-Event-ID) must not move back.
    assert head == "event: updated\n"
    body = json.loads(data)
    assert body["id"] == mention.id and body["analysis"]["topics"] == ["ui"]
    # New mentions still go by the filter and carry their ids.
    await store_posts(rt.store, rt.analyzer, "test",
                      [post("2", "charged twice again", minutes=2)], None, rt.sources.on_stored)
    event = (await asyncio.wait_for(resp.content.readuntil(b"\n\n"), 3)).decode()
    assert event.startswith(f"id: {mention.id + 1}\nevent: mention\n")
    resp.close()


async def test_labelling_with_nobody_watching_publishes_nothing(client: TestClient) -> None:
    rt = client.app[RUNTIME]
    (mention,) = await rt.store.mentions_after(0, 10)
    assert rt.live is not None and rt.live.subscribers == 0
    resp = await client.post(f"/api/mentions/{mention.id}/topics", json={"topics": []})
    assert resp.status == 200 and (await resp.json())["topics"] == []
