"""Plain helpers of the HTTP tests: a fresh app on a temporary SQLite store (seeded with the Acme
customers and posts on request), a webhook receiver, signed push bodies, sign-in through the
forms, JSON answers, and waiting for a ``crmsphere serve`` subprocess from synchronous fixtures."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient

from api.app import create_app
from api.keys import RUNTIME, SCHEDULER
from api.roles import ROLE
from collectors.push import sign
from config.settings import Settings, load_settings
from domain import RawPost
from storage import open_store
from crmsphere.coordinator import Coordinator
from crmsphere.ingest import store_posts
from crmsphere.jobs import process_jobs
from crmsphere.runtime import Runtime
from tests.conftest import acme_customers
from tests.serve_helpers import wait_healthy

#: The password every account signed up through the forms gets.
PASSWORD = "correct horse battery"

#: Routing with the app's delivery worker and periodic jobs off: the test drives them (add teams).
ROUTING_IDLE = """
[routing]
worker_enabled = false
jobs_interval = 0
"""


#: argon2 with the smallest costs: the tests check the flows, not the strength (the default
#: costs take ~0.3 s of CPU per sign-up or sign-in; tests/api/test_password_hashing.py keeps
#: them checked).
CHEAP_PASSWORD_HASHING = {"forum.password_hashing.time_cost": 1, "forum.password_hashing.memory_kib": 8,
                          "forum.password_hashing.parallelism": 1}
#: The same in TOML, for servers started from a configuration file.
CHEAP_PASSWORD_HASHING_TOML = "[forum.password_hashing]\ntime_cost = 1\nmemory_kib = 8\nparallelism = 1\n"


def app_settings(tmp_path: Path, config: str | None = None,
                 overrides: Mapping[str, Any] | None = None) -> Settings:
    """Settings of a test app: ``config`` (TOML text) over the defaults, a fresh SQLite store in
    ``tmp_path``, no scheduler (tests drive jobs themselves; override ``scheduler.enabled`` for one
    that polls), deliveries allowed to the test receivers on 127.0.0.1, an anonymous caller on
    loopback trusted as the operator (``api.trust_loopback``, as ``make run`` has it; off by
    default), then the dotted ``overrides``."""
    path = None
    if config is not None:
        path = tmp_path / "crm.toml"
        path.write_text(config)
    return load_settings(path, environ={}, overrides={
        "store.url": f"sqlite:///{tmp_path / 'crm.db'}", "scheduler.enabled": False,
        "routing.allow_private_targets": True, "api.trust_loopback": True, **CHEAP_PASSWORD_HASHING,
        **(overrides or {})})


async def start_app(aiohttp_client: Callable[..., Awaitable[TestClient]], tmp_path: Path,
                    config: str | None = None, overrides: Mapping[str, Any] | None = None, *,
                    customers: bool = False, posts: Iterable[RawPost] = (),
                    route: bool = False) -> TestClient:
    """A client of a fresh app (see ``app_settings``).  With ``customers`` the Acme registry is
    stored and loaded into the analyser; ``posts`` are then ingested, through the router's hook
    when ``route``."""
    settings = app_settings(tmp_path, config, overrides)
    if customers:
        # Stored before the app starts, which loads them into its gazetteer: one pipeline
        # build instead of an empty one and a reload (a build is most of a test's set-up).
        store = await open_store(settings.store.url)
        try:
            await store.upsert_customers(acme_customers())
        finally:
            await store.close()
    client = await aiohttp_client(create_app(settings))
    runtime = client.app[RUNTIME]
    posts = list(posts)
    if posts:
        hook = None
        if route:
            assert runtime.routing_events is not None, "routing is not configured"
            hook = runtime.routing_events.wake
        await store_posts(runtime.store, runtime.analyzer, "test", posts, None, hook)
    return client


async def serve_hook(aiohttp_server: Callable[..., Awaitable[Any]],
                     handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> str:
    """Serve ``handler`` for POST /hook on 127.0.0.1; its URL (for a team's ``webhook_url``)."""
    app = web.Application()
    app.router.add_post("/hook", handler)
    server = await aiohttp_server(app)
    return str(server.make_url("/hook"))


async def json_of(resp: aiohttp.ClientResponse, status: int = 200) -> Any:
    """The JSON body of ``resp`` after checking its status (the body is the failure message)."""
    assert resp.status == status, await resp.text()
    return await resp.json()


def signed_headers(body: bytes, secret: str, ts: float | None = None) -> dict[str, str]:
    """Headers of a JSON ``body`` signed with ``secret`` at ``ts`` (now by default), as a push
    sender or the CRM bridge signs it."""
    stamp = str(int(ts if ts is not None else time.time()))
    return {"X-Crmsphere-Timestamp": stamp, "X-Crmsphere-Signature": sign(secret, stamp, body),
            "Content-Type": "application/json"}


def csrf_of(html: str) -> str:
    """The CSRF token in a page's first form (empty for a loopback operator, who has no session)."""
    found = re.search(r'name="csrf" value="([^"]*)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


async def sign_in_customer(client: TestClient, email: str = "jo@acmeanvils.example",
                           name: str = "Jo") -> str:
    """Sign up, then sign in, through the forms (a customer account; cookies kept by
    ``client``); the CSRF token of the new session."""
    form = await (await client.get("/forum/signup")).text()
    resp = await client.post("/forum/signup", data={
        "csrf": csrf_of(form), "email": email, "password": PASSWORD, "name": name,
        "next": "/forum"}, allow_redirects=False)
    # Sign-up answers the same for any address (it never says one is taken): on to sign in.
    assert resp.status == 200 and "Check your e-mail" in await resp.text(), resp.status
    assert "Set-Cookie" not in resp.headers or "crmsphere_session" not in resp.headers["Set-Cookie"]
    form = await (await client.get("/forum/signin?next=/forum")).text()
    resp = await client.post("/forum/signin", data={
        "csrf": csrf_of(form), "email": email, "password": PASSWORD, "next": "/forum"},
        allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/forum"
    assert "HttpOnly" in resp.headers["Set-Cookie"] and "SameSite=Lax" in resp.headers["Set-Cookie"]
    return csrf_of(await (await client.get("/forum")).text())


async def sign_in_staff(client: TestClient, email: str = "pm@crm.example", role: str = "team",
                        name: str = "Pm") -> str:
    """Sign up through the forms, then get ``role`` in the store (as an admin would give it);
    the CSRF token of the session."""
    await sign_in_customer(client, email, name)
    store = client.app[RUNTIME].store
    account, _ = await store.get_login(email)
    await store.update_account(account.id, role=role)
    return csrf_of(await (await client.get("/forum")).text())


def wait_healthy_blocking(base: str, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> dict:
    """``serve_helpers.wait_healthy`` for synchronous fixtures: runs in a thread of its own,
    since pytest's event loop may be running in this one."""
    async def healthy() -> dict:
        async with aiohttp.ClientSession() as http:
            return await wait_healthy(http, base, proc, log, timeout)

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(healthy())).result()


@asynccontextmanager
async def paused_jobs(client: TestClient, clock: Callable[[], datetime]) -> AsyncIterator[Coordinator[Any]]:
    """The served app's periodic jobs (crmsphere/jobs.py, as its role and settings declare them)
    on a coordinator started paused with ``clock``, in place of the app's own: the test runs
    each round with ``run_due`` after moving the clock, instead of sleeping through periods."""
    runtime = client.app[RUNTIME]
    await client.app[SCHEDULER].stop()  # gives the lease up: the paused one takes it
    coordinator = Coordinator(process_jobs(runtime), runtime, client.app[ROLE], store=runtime.store,
                              holder=runtime.sources.holder,
                              lease_ttl=runtime.settings.scheduler.lease_ttl, clock=clock)
    await coordinator.start(paused=True)
    try:
        yield coordinator
    finally:
        await coordinator.stop()


async def _waiting_deliveries(runtime: Runtime) -> bool:
    """Whether any delivery is pending or being sent, judged from ONE read of the outbox: a read
    per state could miss a delivery moving between them (read "pending" while it is being sent,
    then "sending" after its failed attempt put it back to pending)."""
    cursor: str | None = None
    while True:
        page = await runtime.store.list_deliveries(limit=500, cursor=cursor)
        if any(d.state in ("pending", "sending") for d in page.items):
            return True
        if page.next_cursor is None:
            return False
        cursor = page.next_cursor


async def outbox_settled(runtime: Runtime, timeout: float = 30.0) -> None:
    """Once nothing more can be sent: each consumer of recorded events ran rounds until one
    found nothing new (what the events queue is in the outbox), and the outbox has nothing
    waiting or being sent (the app's worker handed it to its receiver)."""
    consumers = [c for c in (runtime.routing_events, runtime.notification_events, runtime.crm_events)
                 if c is not None]
    while sum([await consumer.run_once() for consumer in consumers]):
        pass
    deadline = asyncio.get_running_loop().time() + timeout
    while await _waiting_deliveries(runtime):
        # the worker sends over the network (SMTP on its own thread, a webhook, a CRM): poll
        # the outbox until it is empty
        assert asyncio.get_running_loop().time() < deadline, "deliveries still waiting in the outbox"
        await asyncio.sleep(0.02)
