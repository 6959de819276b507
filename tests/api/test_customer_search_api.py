"""``GET /api/customers?q=`` as the customer picker calls it on every keystroke: a word prefix
of name, company, e-mail or handle, folded, plain text whatever is typed, a clear 400 for a
query no one types."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from api.app import create_app
from storage import open_store
from tests.api.hostile_app import _JsonErrorTestServer
from tests.conftest import acme_customers
from tests.helpers import app_settings


async def seed_customers(tmp_path: Path) -> None:
    store = await open_store(app_settings(tmp_path).store.url)
    try:
        await store.upsert_customers(acme_customers())
    finally:
        await store.close()


@pytest.fixture
async def client(app_client) -> TestClient:
    return await app_client(customers=True)


async def _ids(client: TestClient, q: str, **params: str) -> list[str]:
    resp = await client.get("/api/customers", params={"q": q, **params})
    assert resp.status == 200, await resp.text()
    return [c["id"] for c in (await resp.json())["items"]]


async def test_the_picker_finds_by_name_company_address_and_handle(client: TestClient) -> None:
    assert await _ids(client, "ji") == []
    assert await _ids(client, "jo") == ["cus_jo"]
    assert await _ids(client, "RIVE") == ["cus_jo"]
    assert await _ids(client, "acme") == ["cus_acme", "cus_jo"]  # the name first, then a company
    assert await _ids(client, "jo@acmeanvils.ex") == ["cus_jo"]
    assert await _ids(client, "@jorivera") == ["cus_jo"]
    assert await _ids(client, "target@mastodon") == ["cus_target"]
    assert await _ids(client, "Tárget") == ["cus_target"]


async def test_the_limit_bounds_the_answer_and_the_cursor_goes_on(client: TestClient) -> None:
    first = await (await client.get("/api/customers", params={"q": "a", "limit": "1"})).json()
    assert [c["id"] for c in first["items"]] == ["cus_acme"]
    after = await (await client.get("/api/customers", params={
        "q": "a", "limit": "1", "cursor": first["next_cursor"]})).json()
    assert [c["id"] for c in after["items"]] == ["cus_jo"]  # "Acme Anvils" is Jo's company
    too_many = await client.get("/api/customers", params={"q": "a", "limit": "100000"})
    assert too_many.status == 400
    assert (await too_many.json())["error"]["details"]["parameter"] == "limit"


@pytest.mark.parametrize("q", ["%", "_", "%_%", ".*", "(", "\\", '"', "*", "NEAR(", "' OR 1=1 --",
                               '{"$ne": null}'])
async def test_query_syntax_of_any_engine_is_plain_text(client: TestClient, q: str) -> None:
    assert await _ids(client, q) == []


async def test_a_query_longer_than_a_name_is_a_400_naming_q(client: TestClient) -> None:
    resp = await client.get("/api/customers", params={"q": "acme " * 1000})  # 5 KB
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert error["details"]["parameter"] == "q" and error["message"]


async def test_a_ten_kilobyte_query_is_a_json_400_as_served(aiohttp_client, tmp_path: Path) -> None:
    # Past aiohttp's request-line limit the HTTP parser refuses it before the app: served as
    # ``crmsphere serve`` serves it, the refusal is still the API's JSON error.
    await seed_customers(tmp_path)
    client = await aiohttp_client(_JsonErrorTestServer(create_app(app_settings(tmp_path))))
    resp = await client.get("/api/customers", params={"q": "acme " * 2048})
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert "request line" in error["message"] and "acme" not in error["message"]


async def test_a_cursor_of_another_listing_is_a_400(client: TestClient) -> None:
    plain = await (await client.get("/api/customers", params={"limit": "1"})).json()
    resp = await client.get("/api/customers", params={"q": "a", "cursor": plain["next_cursor"]})
    assert resp.status == 400
    assert (await resp.json())["error"]["message"]
