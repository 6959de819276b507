"""The JSON API and the mentions page over real HTTP on 127.0.0.1."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from tests.api.forum_helpers import token_for
from tests.conftest import post


@pytest.fixture
async def client(app_client) -> TestClient:
    return await app_client(customers=True, posts=[
        post("1", "Acme Anvils invoices are broken", handle="jorivera", minutes=1),
        post("2", "dark mode <script>alert(1)</script> please", handle="x_stranger", minutes=2),
        post("3", "Target Logistics loves the mobile app", source="mastodon", minutes=3),
    ])


async def test_healthz(client: TestClient) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "ok" and body["counts"]["mentions"] == 3


async def test_mentions_filter_by_customer_with_evidence(client: TestClient) -> None:
    resp = await client.get("/api/mentions", params={"customer": "cus_acme"})
    assert resp.status == 200
    body = await resp.json()
    assert [m["external_id"] for m in body["items"]] == ["1"]
    rules = {(k["customer_id"], k["rule"]): k for k in body["items"][0]["links"]}
    assert rules[("cus_acme", "company_name")]["evidence"].startswith("company name")
    assert rules[("cus_acme", "company_name")]["customer_name"] == "Acme Anvils"
    assert rules[("cus_jo", "author_handle")]["span"] is None


async def test_mentions_filters_and_pagination(client: TestClient) -> None:
    body = await (await client.get("/api/mentions", params={"source": "mastodon"})).json()
    assert [m["external_id"] for m in body["items"]] == ["3"]
    body = await (await client.get("/api/mentions", params={"q": "dark mode"})).json()
    assert [m["external_id"] for m in body["items"]] == ["2"]
    body = await (await client.get("/api/mentions", params={"since": "2026-11-01T12:02:00Z"})).json()
    assert [m["external_id"] for m in body["items"]] == ["3", "2"]
    page1 = await (await client.get("/api/mentions", params={"limit": "2"})).json()
    page2 = await (await client.get("/api/mentions", params={"limit": "2", "cursor": page1["next_cursor"]})).json()
    assert [m["external_id"] for m in page1["items"] + page2["items"]] == ["3", "2", "1"]
    assert page2["next_cursor"] is None


@pytest.mark.parametrize("path, params, status, parameter", [
    ("/api/mentions", {"limit": "many"}, 400, "limit"),
    ("/api/mentions", {"limit": "0"}, 400, "limit"),
    ("/api/mentions", {"since": "last week"}, 400, "since"),
    ("/api/mentions", {"cursor": "garbage!"}, 400, None),
    ("/api/customers/nobody", {}, 404, None),
    ("/api/mentions/999999", {}, 404, None),
    ("/api/nothing-here", {}, 404, None),
])
async def test_errors_have_one_shape(client: TestClient, path, params, status, parameter) -> None:
    resp = await client.get(path, params=params)
    assert resp.status == status
    error = (await resp.json())["error"]
    assert set(error) == {"code", "message", "details"} and error["message"]
    if parameter:
        assert error["details"]["parameter"] == parameter


async def test_customers_list_and_detail_with_recent_mentions(client: TestClient) -> None:
    body = await (await client.get("/api/customers", params={"q": "acme"})).json()
    assert {c["id"] for c in body["items"]} == {"cus_acme", "cus_jo"}
    jo = await (await client.get("/api/customers/cus_jo")).json()
    assert jo["handles"] == {"reddit": ["jo_r"], "x": ["jorivera"]}
    assert [m["external_id"] for m in jo["recent_mentions"]] == ["1"]


async def test_staff_land_on_the_dashboard(client: TestClient) -> None:
    """The root was a bare list of mentions linking customers to their JSON: staff now land on
    the dashboard's stream (each linked customer a link to their 360: the dashboard's tests)."""
    home = await client.get("/?limit=-1&cursor=%00", allow_redirects=False)  # it reads no parameter
    assert home.status == 302 and home.headers["Location"] == "/dashboard"
    resp = await client.get("/")
    assert resp.status == 200 and resp.url.path == "/dashboard"
    assert "/api/customers" not in await resp.text()  # no link from a page to raw JSON
    css = await client.get("/static/app.css")
    assert css.status == 200


async def test_customer_data_is_staff_only(app_client) -> None:
    client = await app_client(customers=True)
    customer = await token_for(client, "jo@acmeanvils.example", customer_id="cus_jo")
    manager = await token_for(client, "mia@ourco.example", role="manager")
    for path in ("/api/mentions", "/api/customers", "/api/customers/cus_acme", "/api/sources"):
        refused = await client.get(path, headers=customer)
        assert refused.status == 403, path
        assert (await refused.json())["error"]["code"] == "forbidden"
        assert (await client.get(path, headers=manager)).status == 200, path
    page = await client.get("/", headers=customer, allow_redirects=False)
    assert page.status == 302 and page.headers["Location"] == "/forum"
