"""The dashboard's browser modules share this: ``crmsphere serve`` on a temporary store that
requires an admin token (a caller without it is not staff), a tab whose context sends the
token on every request, and posts pushed the way a push sender signs them.

The fixtures are module-scoped where they start a server: each module that imports them
gets a server of its own."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from collectors.push import sign
from domain.dashboard import SpikeAlert
from storage import open_store
from tests.browser_helpers import browser_tab
from tests.conftest import acme_customers, post_row
from tests.helpers import wait_healthy_blocking
from tests.serve_helpers import free_port, start_serve, stop_serve

TOKEN = "staff-token-for-tests"
SECRET = "push-secret-for-tests"
CONFIG = """
[dashboard]
brand = { name = "Acme Anvils", aliases = ["acmeanvils"] }
competitors = [{ name = "Target Logistics", aliases = ["Target"] }]
[[routing.teams]]
key = "product"
name = "Product design"
[[sources]]
kind = "push"
name = "partner"
secret_env = "TEST_PUSH_SECRET"
[[sources]]
kind = "push"
name = "webform"
secret_env = "TEST_PUSH_SECRET"
"""


def request(url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
    """A plain HTTP request (a POST with ``data``); the status and body, an error's too."""
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``crmsphere serve`` on a store with Acme's customers, a team member to assign to and a
    spike alert raised today; yields its base URL."""
    tmp = tmp_path_factory.mktemp("dashboard")
    url = f"sqlite:///{tmp / 'db.sqlite'}"

    async def seed() -> None:
        store = await open_store(url)
        try:
            await store.upsert_customers(acme_customers())
            await store.create_account("ana@crm.example", "ana", None, "team")  # an assignee
            # A spike alert raised today, for the alerts panel and the chart markers.
            now = datetime.now(timezone.utc)
            day = datetime.combine(now.date(), datetime.min.time(), timezone.utc)
            await store.record_spike_alerts([SpikeAlert("topic", "billing", day, now, 42, 3.0, 9.5)])
        finally:
            await store.close()

    # pytest's event loop may be running in this thread: seed from a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, seed()).result()
    port = free_port()
    config = tmp / "crmsphere.toml"
    config.write_text(f'[server]\nport = {port}\n[store]\nurl = "{url}"\n{CONFIG}')
    log = tmp / "serve.log"
    proc = start_serve(config, tmp, log, env={"CRMSPHERE_ADMIN_TOKEN": TOKEN, "TEST_PUSH_SECRET": SECRET})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy_blocking(base, proc, log, timeout=120)
        yield base
    finally:
        code = stop_serve(proc)
    assert code == 0, log.read_text()[-2000:]


@pytest.fixture
def page(browser, server):
    """A staff tab (the admin token on every request) at 1280×900, closed after the test."""
    # Console errors and uncaught exceptions only: one test expects a refused request's 404.
    with browser_tab(browser, server, size=(1280, 900), failed_responses=False,
                     extra_http_headers={"Authorization": f"Bearer {TOKEN}"}) as tab:
        yield tab


def push(base: str, *rows: dict, source: str = "partner") -> dict:
    """``rows`` pushed to the push source ``source``, signed; the accepted answer."""
    body = json.dumps({"posts": list(rows)}).encode()
    stamp = str(int(time.time()))
    status, answer = request(base + f"/api/ingest/{source}", body, {
        "Content-Type": "application/json", "X-Crmsphere-Timestamp": stamp,
        "X-Crmsphere-Signature": sign(SECRET, stamp, body)})
    assert status == 202, answer
    return json.loads(answer)


def posted_now(i: int, text: str, handle: str) -> dict:
    """A pushed post row numbered ``i``, written now by ``handle``."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return post_row(i, text=text, created_at=now, author={"handle": handle, "name": None})
