"""kill -9 right after the commit: a process stores a mention and is killed (SIGKILL) inside
its after-commit hook, before any routing.  The mention and its ``mention.stored`` event were
committed together, so the routing consumer of a running ``crmsphere serve`` routes it, once."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from community.routing_consumer import CONSUMER
from crmsphere.domain_events import MENTION_STORED
from storage import open_store
from storage.sqlite_db import connect
from tests.conftest import acme_customers
from tests.serve_helpers import free_port, start_serve, stop_serve, wait_for, wait_healthy

ROOT = Path(__file__).resolve().parents[2]

#: The storing process: one real post, then SIGKILL in the hook that would have routed it.
STORE_AND_DIE = """
import asyncio, os, signal, sys
from crmsphere.ingest import store_posts
from storage import open_store
from tests.community.test_routing_events import NoNlp
from tests.conftest import post

async def killed_after_commit(_mentions):
    os.kill(os.getpid(), signal.SIGKILL)

async def main():
    store = await open_store(sys.argv[1])
    await store_posts(store, NoNlp(), "x:acme", [post(
        "1864921530", "@AcmeAnvils still no REFUND after 3 weeks \\U0001f624 #fail",
        handle="acmeanvils")], {"since_id": "1864921530"}, killed_after_commit)

asyncio.run(main())
"""


async def test_a_mention_committed_before_kill_9_is_routed_once_by_the_server(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "db.sqlite"
    config = tmp_path / "crmsphere.toml"
    config.write_text(f"""
[server]
port = {port}
[store]
url = "sqlite:///{db}"
[routing]
jobs_interval = 0.5
[[routing.teams]]
key = "care"
name = "Customer care"
[[routing.rules]]
id = "refunds"
keywords = ["refund"]
team = "care"
""")
    store = await open_store(f"sqlite:///{db}")
    await store.upsert_customers(acme_customers())
    await store.close()
    log = tmp_path / "serve.log"
    proc = start_serve(config, tmp_path, log, env={"CRMSPHERE_ADMIN_TOKEN": ""})
    try:
        async with aiohttp.ClientSession() as http:
            await wait_healthy(http, f"http://127.0.0.1:{port}", proc, log)
        died = subprocess.run([sys.executable, "-c", STORE_AND_DIE, f"sqlite:///{db}"], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        assert died.returncode == -signal.SIGKILL, died.stderr
        store = await open_store(f"sqlite:///{db}")
        try:
            # Committed with its cursor and event before the kill.
            assert await store.get_cursor("x:acme") == {"since_id": "1864921530"}
            (event,) = await store.read_events(0, [MENTION_STORED])

            async def routed():
                return (await store.team_queue("care")).items

            (item,) = await wait_for(routed)
            assert item.item.id == event.subject_id and item.item.customer_id == "cus_acme"

            async def consumed():
                return await store.get_event_cursor(CONSUMER) >= event.id

            await wait_for(consumed)
        finally:
            await store.close()
    finally:
        stop_serve(proc)
    conn = connect(str(db))
    try:
        assert conn.execute("SELECT count(*) FROM routed_items").fetchone()[0] == 1
    finally:
        conn.close()
