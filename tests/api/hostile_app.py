"""The app the hostile input tests aim at: nobody trusted by address, no rate limits, the
server protocol of ``crmsphere serve``, and one of everything a route may look up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from api.app import create_app
from api.keys import RUNTIME
from api.protocol_errors import JsonErrorRunner
from crmsphere.ingest import store_posts
from storage import open_store
from tests.conftest import acme_customers, post
from tests.helpers import ROUTING_IDLE, app_settings

#: Every limit off: a sign-in route answering 429 would check nothing more.
NO_RATE_LIMITS = {f"forum.rate_limits.{name}": [{"limit": 0, "window_seconds": 60}] for name in (
    "mail_links_per_email", "mail_links_per_ip", "sign_in_per_account", "sign_in_per_ip",
    "signups_per_ip")} | {f"forum.rate_limits.{name}": {"limit": 0, "window_seconds": 60}
                          for name in ("ideas", "votes", "comments")}


class _JsonErrorTestServer(TestServer):
    """The test server with the protocol ``crmsphere serve`` uses (``api/protocol_errors.py``):
    a request line over 8190 bytes is then answered as in production."""

    async def _make_runner(self, **kwargs: Any) -> JsonErrorRunner:
        return JsonErrorRunner(self.app, **kwargs)


#: Teams, a rule and a push source, so that routed items, people and mentions exist to aim at.
SEEDED = ROUTING_IDLE + """
[[routing.teams]]
key = "support"
name = "Support"

[[routing.rules]]
id = "billing"
keywords = ["invoices"]
team = "support"

[[sources]]
kind = "push"
name = "partner"
secret_env = "SWEEP_PUSH_SECRET"
"""


async def start_seeded_app(aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           mongodb_uri: str | None = None) -> TestClient:
    """A client of an app nobody is trusted on by address, holding one of everything the
    routes aim at: account 1 (a customer), mentions, a person, a routed item; on SQLite, or on
    a fresh database of ``mongodb_uri`` (ids past 64 bits fail in either driver)."""
    monkeypatch.setenv("SWEEP_PUSH_SECRET", "sweep-push-secret")
    store_url: dict[str, Any] = {}
    if mongodb_uri is not None:
        from tests.storage.mongo_harness import database_url

        store_url = {"store.url": database_url(mongodb_uri)}
    settings = app_settings(tmp_path, SEEDED, {"api.trust_loopback": False, **NO_RATE_LIMITS,
                                               **store_url})
    store = await open_store(settings.store.url)
    try:
        await store.upsert_customers(acme_customers())
        await store.create_account("victim@crm.example", "victim", None, "customer")
    finally:
        await store.close()
    client = await aiohttp_client(_JsonErrorTestServer(create_app(settings)))
    runtime = client.app[RUNTIME]
    assert runtime.routing_events is not None
    await store_posts(runtime.store, runtime.analyzer, "test", [
        post("1", "Acme Anvils invoices are broken again", handle="acmeanvils", minutes=1),
        post("2", "the billing page looks nice", handle="x_stranger", minutes=2)],
        None, runtime.routing_events.wake)
    return client


async def drop_if_mongodb(client: TestClient) -> None:
    """Drop the app's MongoDB database (a SQLite file goes with the test's folder)."""
    store = client.app[RUNTIME].store
    if "mongodb" in client.app[RUNTIME].settings.store.url:
        await store.database.client.drop_database(store.database.name)  # type: ignore[attr-defined]
