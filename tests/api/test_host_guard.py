"""DNS rebinding: a request that reaches 127.0.0.1 under another site's name is refused (421)
before any handler runs, on the JSON API, pages, static files and the live stream alike."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient

from api.host_guard import host_name, is_served, served_names
from api.keys import RUNTIME
from config.settings import ServerSettings, load_settings
from domain.errors import ConfigError
from tests.helpers import ROUTING_IDLE

#: What a browser sends once ``rebind.attacker.example`` resolves to 127.0.0.1: the page's own
#: name and port in Host, and (being same-origin to the browser) no Origin on a GET.
REBOUND = {"Host": "rebind.attacker.example:8080",
           "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
           "Accept": "*/*", "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}

TEAMS = ROUTING_IDLE + """
[[routing.teams]]
key = "care"
name = "Customer care"
webhook_url = "http://127.0.0.1:9/care"
webhook_secret_env = "CARE_HOOK_SECRET"

[[routing.rules]]
id = "billing"
keywords = ["invoices", "billing"]
team = "care"
"""


@pytest.fixture
async def client(app_client) -> TestClient:
    # The laptop set-up of `make run`: no admin token, loopback trusted as the operator.
    return await app_client(TEAMS, customers=True)


async def test_rebound_host_reads_no_customer_data(client: TestClient) -> None:
    assert (await client.get("/api/customers")).status == 200  # this machine's own name works
    resp = await client.get("/api/customers", headers=REBOUND)
    assert resp.status == 421
    body = await resp.json()
    assert body["error"]["code"] == "misdirected_request"
    assert "rebind.attacker.example" in body["error"]["message"]
    assert "Acme" not in await resp.text()


async def test_rebound_host_cannot_repoint_teams_or_routing_rules(client: TestClient) -> None:
    store = client.app[RUNTIME].store
    hook = {"name": "Care", "webhook_url": "http://127.0.0.1:9/care-v2",
            "webhook_secret_env": "CARE_HOOK_SECRET"}
    # The same write from this machine under its own name is the operator's, and works.
    assert (await client.put("/api/teams/care", json=hook)).status == 200
    rules = await (await client.get("/api/routing/rules")).json()
    assert rules["rules"]
    stolen = {**hook, "webhook_url": "https://rebind.attacker.example/steal"}
    resp = await client.put("/api/teams/care", json=stolen, headers=REBOUND)
    assert resp.status == 421 and (await resp.json())["error"]["code"] == "misdirected_request"
    resp = await client.put("/api/routing/rules", json={"rules": []}, headers=REBOUND)
    assert resp.status == 421
    assert (await store.get_team("care")).channels.config("webhook")["url"] == "http://127.0.0.1:9/care-v2"
    assert (await (await client.get("/api/routing/rules")).json())["rules"] == rules["rules"]


@pytest.mark.parametrize("path", ["/", "/forum", "/dashboard", "/static/app.css", "/healthz"])
async def test_rebound_host_gets_no_page_or_file(client: TestClient, path: str) -> None:
    resp = await client.get(path, headers=REBOUND)
    assert resp.status == 421
    assert resp.content_type == "text/plain" and "Misdirected" in await resp.text()


async def test_rebound_host_cannot_open_the_live_stream(client: TestClient) -> None:
    resp = await asyncio.wait_for(client.get(
        "/api/stream/mentions", headers={**REBOUND, "Accept": "text/event-stream"}), 10)
    assert resp.status == 421 and resp.content_type == "application/json"


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:8080", "localhost.:8080", "127.0.0.1",
                                  "[::1]:8080"])
async def test_this_machines_own_names_are_served(client: TestClient, host: str) -> None:
    assert (await client.get("/forum", headers={"Host": host})).status == 200


@pytest.mark.parametrize("host", ["127.0.0.1.nip.io", "localhost.attacker.example", "evil.localhost",
                                  "127.0.0.1:8080@attacker.example", "[::1]attacker", ""])
async def test_look_alike_and_malformed_hosts_are_refused(client: TestClient, host: str) -> None:
    assert (await client.get("/forum", headers={"Host": host})).status == 421


async def test_a_request_without_host_is_refused(client: TestClient) -> None:
    # HTTP/1.0 lets a client leave Host out; a raw request, since aiohttp's client always adds one.
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    writer.write(b"GET /api/customers HTTP/1.0\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert answer.startswith(b"HTTP/1.0 421") or answer.startswith(b"HTTP/1.1 421")
    assert b"Acme" not in answer


async def test_configured_names_and_subdomains_are_served(app_client) -> None:
    client = await app_client(overrides={"server.allowed_hosts": ["crm.example.com", "*.corp.example"]})
    for host, status in [("crm.example.com", 200), ("eu.corp.example:443", 200),
                         ("corp.example", 421), ("crm.example.com.attacker.example", 421),
                         ("localhost", 421)]:
        assert (await client.get("/forum", headers={"Host": host})).status == status, host


def test_bind_host_is_added_and_wildcards_are_not() -> None:
    assert "crm.internal" in served_names(ServerSettings(host="crm.internal"))
    assert "[::1]" in served_names(ServerSettings(host="::1", allowed_hosts=[]))
    assert served_names(ServerSettings(host="0.0.0.0", allowed_hosts=[])) == frozenset()
    assert not is_served(host_name("0.0.0.0:8080"), served_names(ServerSettings(host="0.0.0.0")))


@pytest.mark.parametrize("bad", ["http://crm.example.com", "crm.example.com:8080", "crm.example.com/x",
                                 "user@crm.example.com", "", "*", "crm.*.example"])
def test_allowed_hosts_must_be_bare_names(bad: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environ={}, overrides={"server.allowed_hosts": [bad]})
    assert err.value.key.startswith("server.allowed_hosts")


async def test_the_api_document_says_every_operation_may_answer_421(client: TestClient) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    operations = [(path, method, operation) for path, item in doc["paths"].items()
                  for method, operation in item.items() if isinstance(operation, dict)]
    assert operations
    missing = [f"{method.upper()} {path}" for path, method, operation in operations
               if "421" not in operation["responses"]]
    assert missing == []
    answer = await client.get("/api/customers", headers=REBOUND)
    assert answer.status == 421
    assert "error" in await answer.json()
