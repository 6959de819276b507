"""Webhooks typed in by admins cannot reach the server's own network unless allowed."""

from __future__ import annotations

import pytest
from aiohttp import web

from api.keys import DELIVERY_WORKER
from community.deliveries import DeliveryWorker
from community.net_guard import (
    PublicResolver,
    TargetRefused,
    check_literal,
    guarded_session,
    non_public,
)
from storage import Store
from tests.community.test_routing_deliveries import ENV, ITEM, Receiver, _setup
from tests.helpers import start_app


@pytest.mark.parametrize(("address", "what"), [
    ("127.0.0.1", "a loopback address"), ("::1", "a loopback address"),
    ("::ffff:127.0.0.1", "a loopback address"), ("10.1.2.3", "a private address"),
    ("192.168.0.10", "a private address"), ("169.254.169.254", "a link-local address"),
    ("fd00::1", "a private address"), ("0.0.0.0", "an unspecified address"),
    ("100.64.0.1", "not a globally routable address"), ("224.0.0.1", "a multicast address"),
    ("fec0::1", "a site-local address"), ("2002:7f00:1::1", "a loopback address"),  # 6to4 of 127.0.0.1
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "a loopback address"),  # Teredo, client 127.0.0.1
    ("8.8.8.8", None), ("2606:4700::1111", None), ("example", "not an IP address"),
])
def test_non_public_names_what_an_address_is(address: str, what: str | None) -> None:
    assert non_public(address) == what


async def test_literals_are_checked_and_names_by_the_addresses_connected_to() -> None:
    check_literal("8.8.8.8")  # a public literal passes
    check_literal("hooks.example.com")  # a name is left to the resolver
    for host in ("127.0.0.1", "[::1]"):
        with pytest.raises(TargetRefused, match="loopback"):
            check_literal(host)
    resolver = PublicResolver()
    try:
        with pytest.raises(TargetRefused, match="localhost: 127.0.0.1 is a loopback address"):
            await resolver.resolve("localhost", 80)
    finally:
        await resolver.close()


async def test_a_name_is_refused_at_connection_time(aiohttp_server) -> None:
    """The check is made on the addresses the connection would use (no second lookup that a
    rebinding DNS server could answer differently)."""
    hits = []

    async def hook(_: web.Request) -> web.Response:
        hits.append(1)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/hook", hook)
    server = await aiohttp_server(app)
    async with guarded_session() as http:
        for url in (f"http://localhost:{server.port}/hook", f"http://127.0.0.1:{server.port}/hook"):
            with pytest.raises(TargetRefused):
                await http.post(url)
    assert hits == []


async def test_guarded_worker_dead_letters_a_loopback_webhook_at_once(aiohttp_server, file_store: Store) -> None:
    receiver = Receiver()
    settings, clock, router = await _setup(aiohttp_server, file_store, receiver, max_attempts=5)
    await router.on_event("mention.analysed", ITEM)
    async with guarded_session() as http:
        assert await DeliveryWorker(file_store, http, settings, environ=ENV, clock=clock).run_once() == 1
    (d,) = (await file_store.list_deliveries()).items
    # Refused for good on the first attempt (sending again would be refused again), with the
    # reason shown on the dead-letter page; the receiver never heard of it.
    assert d.state == "dead" and d.attempts == 1
    assert "127.0.0.1 is a loopback address" in d.last_error and "allow_private_targets" in d.last_error
    assert receiver.calls == 0


async def test_the_app_guards_its_delivery_worker_unless_allowed(aiohttp_client, tmp_path, aiohttp_server) -> None:
    async def ok(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    for allowed in (False, True):
        client = await start_app(aiohttp_client, tmp_path / str(allowed), None, {
            "routing.allow_private_targets": allowed, "routing.worker_enabled": True})
        worker = client.app[DELIVERY_WORKER]
        app = web.Application()
        app.router.add_post("/hook", ok)
        server = await aiohttp_server(app)
        if allowed:
            async with worker.http.post(server.make_url("/hook")) as resp:
                assert resp.status == 200
        else:
            with pytest.raises(TargetRefused):
                await worker.http.post(server.make_url("/hook"))
