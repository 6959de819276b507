"""A manager's topic label re-routes the mention (``POST /api/mentions/{id}/topics``): rules that
match the new topics route it once; labelling again routes nothing new."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import post
from tests.helpers import start_app

CONFIG = """
[routing]
worker_enabled = false
jobs_interval = 0

[[routing.teams]]
key = "design"
name = "Design"

[[routing.rules]]
id = "ui-to-design"
topics = ["ui"]
team = "design"
"""


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path) -> TestClient:
    return await start_app(aiohttp_client, tmp_path, CONFIG, customers=True, route=True, posts=[
        post("1", "I was charged twice on my invoice", minutes=1)])


async def _queue(client: TestClient) -> list[dict[str, Any]]:
    resp = await client.get("/api/teams/design/queue")
    assert resp.status == 200, await resp.text()
    return (await resp.json())["items"]


async def _label(client: TestClient, mention_id: int, topics: list[str]) -> dict[str, Any]:
    resp = await client.post(f"/api/mentions/{mention_id}/topics", json={"topics": topics})
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_a_new_topic_routes_the_mention_once(client: TestClient) -> None:
    (mention,) = (await (await client.get("/api/mentions")).json())["items"]
    assert mention["topics"] == ["billing"] and await _queue(client) == []
    body = await _label(client, mention["id"], ["billing", "ui"])
    assert body["topics"] == ["billing", "ui"] and body["routed"] == 1
    (entry,) = await _queue(client)
    assert (entry["rule"], entry["item"]["id"]) == ("ui-to-design", str(mention["id"]))
    assert (await _label(client, mention["id"], ["ui"]))["routed"] == 0
    assert len(await _queue(client)) == 1


async def test_a_label_matching_no_rule_routes_nothing(client: TestClient) -> None:
    (mention,) = (await (await client.get("/api/mentions")).json())["items"]
    assert (await _label(client, mention["id"], []))["routed"] == 0
    assert await _queue(client) == []
    resp = await client.post(f"/api/mentions/{mention['id']}/topics", json={"topics": "ui"})
    assert resp.status == 400
