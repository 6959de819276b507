"""Every request passes the app's middlewares, the vote's too (bench/forum.py: the event loop
is the vote's bottleneck, and each layer is a call and a coroutine more): four layers that
keep every check the six before them made, in the same order."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from api.app import create_app
from api.host_guard import VERDICTS_KEPT
from tests.helpers import app_settings
from tests.api.test_host_guard import REBOUND


@pytest.fixture
async def client(app_client) -> TestClient:
    return await app_client()


def test_the_app_runs_four_middleware_layers(tmp_path: Path) -> None:
    app = create_app(app_settings(tmp_path))
    assert [m.__name__ for m in app.middlewares] == ["guard", "compress", "error_answers", "request_edges"]


async def test_the_folded_layers_keep_each_check_in_its_order(client: TestClient) -> None:
    # The Host check before anything: a rebound name with an id past 64 bits is a 421.
    resp = await client.get("/api/ideas/99999999999999999999999", headers=REBOUND)
    assert resp.status == 421
    # The id check inside the errors: JSON under /api/, a page elsewhere.
    resp = await client.get("/api/ideas/99999999999999999999999")
    assert (resp.status, (await resp.json())["error"]["code"]) == (404, "not_found")
    resp = await client.get("/forum/ideas/99999999999999999999999")
    assert resp.status == 404 and resp.content_type == "text/html"
    # The text rules after the id check: a NUL in an /api/ query is a 400 naming it, in JSON.
    resp = await client.get("/api/ideas", params={"q": "dark\x00mode"})
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "bad_request"


async def test_made_up_host_names_are_each_refused_and_the_real_one_still_served(client: TestClient) -> None:
    """The guard keeps its verdict per Host value, a bounded number of them: a client making
    up names is refused every time and never crowds out the server's own."""
    for n in range(VERDICTS_KEPT + 20):
        resp = await client.get("/api/ideas", headers={**REBOUND, "Host": f"rebind-{n}.attacker.example"})
        assert resp.status == 421
    for _ in range(2):
        assert (await client.get("/api/ideas", headers={"Host": "rebind-3.attacker.example"})).status == 421
        assert (await client.get("/api/ideas")).status == 200
