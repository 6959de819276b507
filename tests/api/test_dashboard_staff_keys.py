"""Triage assignees and note authors are accounts (by id), shown by name at answer time."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from api.app import create_app
from api.keys import RUNTIME
from config.settings import load_settings
from domain.triage import TriageChange
from crmsphere.ingest import store_posts
from tests.api.forum_helpers import token_for
from tests.conftest import post


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path, monkeypatch) -> TestClient:
    monkeypatch.delenv("CRMSPHERE_ADMIN_TOKEN", raising=False)
    settings = load_settings(environ={}, overrides={
        "api.trust_loopback": True, "store.url": f"sqlite:///{tmp_path / 'd.db'}"})
    app = create_app(settings)
    client = await aiohttp_client(app)
    rt = app[RUNTIME]
    await store_posts(rt.store, rt.analyzer, "test", [
        post("1", "invoices are broken", handle="jo", minutes=1),
        post("2", "dark mode please", handle="al", minutes=2)], None)
    return client


async def _mentions(client: TestClient, **params) -> list[dict]:
    resp = await client.get("/api/dashboard/mentions", params=params)
    assert resp.status == 200, await resp.text()
    return (await resp.json())["items"]


async def test_assignee_must_be_an_active_staff_account(client: TestClient) -> None:
    store = client.app[RUNTIME].store
    mid = (await _mentions(client))[0]["id"]
    customer = await store.create_account("cu@acme.example", "Cu", None, "customer")
    blocked = await store.create_account("gone@crm.example", "Gone", None, "team")
    await store.update_account(blocked.id, blocked=True)
    for value in ("ana", 999, customer.id, blocked.id, f"account:{customer.id}", True, 1.5, ["x"]):
        resp = await client.post("/api/dashboard/triage", json={"mention_ids": [mid], "assignee": value})
        assert resp.status == 400, value
        assert (await resp.json())["error"]["details"]["field"] == "assignee", value
    assert (await store.get_triage([mid]))[mid].updated_by is None  # nothing written
    resp = await client.get("/api/dashboard/mentions", params={"assignee": "ana"})
    assert resp.status == 400
    assert (await resp.json())["error"]["details"]["parameter"] == "assignee"


async def test_same_named_staff_stay_apart(client: TestClient) -> None:
    first_h = await token_for(client, "sam@one.example", role="team")
    second_h = await token_for(client, "sam@two.example", role="team")  # also named "sam"
    staff = await (await client.get("/api/dashboard/staff", headers=first_h)).json()
    assert [(s["name"], s["role"]) for s in staff["items"]] == [("sam", "team"), ("sam", "team")]
    first, second = (s["id"] for s in staff["items"])
    m1, m2 = (m["id"] for m in await _mentions(client))
    for mid, who in ((m1, first), (m2, second)):
        resp = await client.post("/api/dashboard/triage", headers=first_h,
                                 json={"mention_ids": [mid], "assignee": who})
        assert resp.status == 200
    assert [m["id"] for m in await _mentions(client, assignee=str(first))] == [m1]
    assert [m["id"] for m in await _mentions(client, assignee=str(second))] == [m2]
    got = {m["id"]: m["triage"] for m in await _mentions(client)}
    assert got[m1]["assignee"] == f"account:{first}" and got[m1]["assignee_name"] == "sam"
    assert got[m1]["updated_by"] == f"account:{first}" and got[m1]["updated_by_name"] == "sam"
    # Notes: each sam's note keeps their own account, shown by name.
    for headers, text in ((first_h, "one"), (second_h, "two")):
        resp = await client.post(f"/api/dashboard/mentions/{m1}/notes", headers=headers, json={"body": text})
        assert resp.status == 201
        assert (await resp.json())["author_name"] == "sam"
    notes = (await (await client.get(f"/api/dashboard/mentions/{m1}/notes")).json())["items"]
    assert [(n["author"], n["author_name"], n["body"]) for n in notes] == [
        (f"account:{first}", "sam", "one"), (f"account:{second}", "sam", "two")]


async def test_account_renamed_or_gone_is_shown_by_id(client: TestClient) -> None:
    store = client.app[RUNTIME].store
    ana = await store.create_account("ana@crm.example", "Ana", None, "team")
    m1, m2 = (m["id"] for m in await _mentions(client))
    assert (await client.post("/api/dashboard/triage",
                              json={"mention_ids": [m1], "assignee": f"account:{ana.id}"})).status == 200
    await store.update_account(ana.id, name="Ana Ortiz")
    # No account has id 999 (as after an account is removed).
    await store.update_triage([m2], TriageChange(assignee="account:999"), "account:999")
    await store.add_triage_note(m2, "account:999", "left a note")
    got = {m["id"]: m["triage"] for m in await _mentions(client)}
    assert got[m1]["assignee_name"] == "Ana Ortiz" and got[m1]["updated_by_name"] == "operator"
    assert got[m2]["assignee_name"] == "former staff" and got[m2]["updated_by_name"] == "former staff"
    notes = (await (await client.get(f"/api/dashboard/mentions/{m2}/notes")).json())["items"]
    assert notes[0]["author_name"] == "former staff"
    # Unassigning takes "".
    resp = await client.post("/api/dashboard/triage", json={"mention_ids": [m1], "assignee": ""})
    assert (await resp.json())["items"][0]["assignee"] is None


async def test_staff_list_is_staff_only(client: TestClient) -> None:
    customer = await token_for(client, "cu@acme.example")
    assert (await client.get("/api/dashboard/staff", headers=customer)).status in (401, 403)
    assert (await (await client.get("/api/dashboard/staff")).json())["items"] == []
