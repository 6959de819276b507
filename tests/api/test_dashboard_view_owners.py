"""Saved views belong to an account (or the operator), never to a display name."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from api.app import create_app
from config.settings import load_settings
from tests.api.forum_helpers import token_for


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path, monkeypatch) -> TestClient:
    monkeypatch.delenv("CRMSPHERE_ADMIN_TOKEN", raising=False)
    settings = load_settings(environ={}, overrides={
        "api.trust_loopback": True, "store.url": f"sqlite:///{tmp_path / 'd.db'}"})
    return await aiohttp_client(create_app(settings))


async def _names(client: TestClient, headers: dict[str, str] | None = None) -> list[str]:
    resp = await client.get("/api/dashboard/views", headers=headers or {})
    assert resp.status == 200
    return [v["name"] for v in (await resp.json())["items"]]


async def test_two_staff_with_one_name_keep_apart(client: TestClient) -> None:
    first = await token_for(client, "sam@one.example", role="team")
    second = await token_for(client, "sam@two.example", role="manager")  # also named "sam"
    resp = await client.post("/api/dashboard/views", headers=first,
                             json={"name": "Angry", "filters": {"sentiment": "negative"}})
    assert resp.status == 201
    view = await resp.json()
    assert (await client.post("/api/dashboard/views", headers=second,
                              json={"name": "Angry", "filters": {"source": "x"}})).status == 201
    assert await _names(client, first) == ["Angry"]
    mine = await (await client.get("/api/dashboard/views", headers=second)).json()
    assert [v["filters"] for v in mine["items"]] == [{"source": "x"}]
    assert mine["items"][0]["id"] != view["id"]
    # The other "sam" cannot delete the first one's view.
    assert (await client.delete(f"/api/dashboard/views/{view['id']}", headers=second)).status == 404
    assert await _names(client, first) == ["Angry"]
    assert (await client.delete(f"/api/dashboard/views/{view['id']}", headers=first)).status == 200
    assert await _names(client, first) == []
    assert await _names(client, second) == ["Angry"]


async def test_an_account_named_operator_is_not_the_operator(client: TestClient) -> None:
    # The anonymous loopback caller is the operator here (no admin token configured).
    assert (await client.post("/api/dashboard/views", json={"name": "Ops", "filters": {}})).status == 201
    named_operator = await token_for(client, "operator@crm.example", role="admin")
    assert await _names(client, named_operator) == []
    assert (await client.post("/api/dashboard/views", headers=named_operator,
                              json={"name": "Mine", "filters": {}})).status == 201
    assert await _names(client) == ["Ops"]
    assert await _names(client, named_operator) == ["Mine"]


async def test_customers_get_no_views(client: TestClient) -> None:
    customer = await token_for(client, "cu@acme.example")
    assert (await client.get("/api/dashboard/views", headers=customer)).status in (401, 403)
    assert (await client.post("/api/dashboard/views", headers=customer,
                              json={"name": "x", "filters": {}})).status in (401, 403)
