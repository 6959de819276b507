"""One ``crmsphere serve`` on a fresh SQLite store, and a second process that commits a write
and is killed (SIGKILL) inside the hook that runs after the commit: the set-up the kill -9
tests share (routing, notifications, CRM outbound, backfills).

The ``served`` fixture (tests/community/conftest.py) starts one with the standard config; its config routes refund
complaints to the ``care`` team and runs every consumer of recorded events each half second.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from storage import Store, open_store
from storage.sqlite.db import connect
from tests.conftest import acme_customers
from tests.serve_helpers import free_port, start_serve, stop_serve, wait_healthy

ROOT = Path(__file__).resolve().parents[1]

#: What the consumers need: a team and a rule routing refund complaints to it, short rounds.
CONFIG = """
[server]
port = {port}
[store]
url = "{url}"
[routing]
jobs_interval = 0.5
[events]
consume_seconds = 0.5
[[routing.teams]]
key = "care"
name = "Customer care"
[[routing.rules]]
id = "refunds"
keywords = ["refund"]
team = "care"
"""


@dataclass
class Served:
    """A running server and its store (the store holds the Acme customers)."""

    tmp_path: Path
    db: Path
    config: Path
    base: str
    proc: subprocess.Popen

    @property
    def url(self) -> str:
        """The store's URL."""
        return f"sqlite:///{self.db}"

    async def with_store(self, work: Callable[[Store], Awaitable[Any]]) -> Any:
        """``work(store)`` on a store of its own, closed afterwards; its result."""
        store = await open_store(self.url)
        try:
            return await work(store)
        finally:
            await store.close()

    def count(self, sql: str, *args: object) -> int:
        """One ``SELECT count(*)`` on the database file, straight (no store in between)."""
        conn = connect(str(self.db))
        try:
            return int(conn.execute(sql, args).fetchone()[0])
        finally:
            conn.close()

    def commit_and_die(self, script: str, *args: str) -> None:
        """Run ``script`` (Python, ``sys.argv[1]`` the store URL) in its own process, which
        must end killed by SIGKILL (it kills itself in an after-commit hook)."""
        died = subprocess.run([sys.executable, "-c", script, self.url, *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        assert died.returncode == -signal.SIGKILL, died.stderr


async def serve(tmp_path: Path, extra_config: str = "",
                prepare: Callable[[Store], Awaitable[None]] | None = None,
                env: dict[str, str] | None = None) -> Served:
    """Write the config (plus ``extra_config``), fill a store with the Acme customers (then
    ``prepare`` it), start ``crmsphere serve`` and wait until it is healthy."""
    port = free_port()
    db = tmp_path / "db.sqlite"
    config = tmp_path / "crmsphere.toml"
    config.write_text(CONFIG.format(port=port, url=f"sqlite:///{db}") + extra_config)
    store = await open_store(f"sqlite:///{db}")
    try:
        await store.upsert_customers(acme_customers())
        if prepare is not None:
            await prepare(store)
    finally:
        await store.close()
    log = tmp_path / "serve.log"
    proc = start_serve(config, tmp_path, log, env={"CRMSPHERE_ADMIN_TOKEN": "", **(env or {})})
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            await wait_healthy(http, base, proc, log)
    except BaseException:
        stop_serve(proc)
        raise
    return Served(tmp_path, db, config, base, proc)
