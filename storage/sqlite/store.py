"""The embedded SQLite backend of ``Store`` (WAL, foreign keys, FTS5).

The store is assembled from one class per area (customers, mentions, sources...),
each in its own module, all sharing the writer and reader connections.
"""

from __future__ import annotations

import asyncio
import sqlite3

from domain.errors import ConfigError
from storage.base import Store
from storage.sqlite.accounts import SqliteAccounts
from storage.sqlite.changelog import SqliteChangelog
from storage.sqlite.checkpoint import Checkpointer
from storage.sqlite.crm import SqliteCrm
from storage.sqlite.customers import SqliteCustomers
from storage.sqlite.dashboard import SqliteDashboard
from storage.sqlite.demo import SqliteDemo
from storage.sqlite.events import SqliteEvents
from storage.sqlite.db import ThreadedConnection, migrate, sqlite_path
from storage.sqlite.idea_titles import SqliteIdeaTitles
from storage.sqlite.ideas import SqliteIdeas
from storage.sqlite.link_queue import SqliteLinkQueue
from storage.sqlite.mentions import SqliteMentions
from storage.sqlite.uow import SqliteUnitOfWork
from storage.sqlite.merges import SqliteMerges
from storage.sqlite.moderation import SqliteModeration
from storage.sqlite.nlp import SqliteNlp, SqliteTopicLabels
from storage.sqlite.notify import SqliteNotify
from storage.sqlite.people import SqlitePeople
from storage.sqlite.replies import SqliteReplies
from storage.sqlite.routing import SqliteRouting
from storage.sqlite.sources import SqliteSources
from storage.sqlite.triage import SqliteTriage


async def open_sqlite_store(url: str) -> "SqliteStore":
    """Open the SQLite file named by ``url``, migrating its schema forward."""
    try:
        path = sqlite_path(url)
    except ValueError as exc:
        raise ConfigError("store.url", url, f"a SQLite file URL ({exc})") from exc
    store = SqliteStore(path)
    await store.open()
    return store


class SqliteStore(SqliteNlp, SqliteLinkQueue, SqliteTopicLabels, SqlitePeople, SqliteCustomers, SqliteMentions, SqliteSources, SqliteRouting,
                  SqliteAccounts, SqliteIdeas, SqliteIdeaTitles, SqliteMerges, SqliteUnitOfWork, SqliteTriage, SqliteDashboard, SqliteNotify, SqliteModeration,
                  SqliteCrm, SqliteDemo, SqliteChangelog, SqliteReplies, SqliteEvents, Store):
    """``Store`` on one SQLite file: a writer connection and a reader connection."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._writer = ThreadedConnection(path, "sqlite-writer")
        self._reader = ThreadedConnection(path, "sqlite-reader")
        self._checkpointer = Checkpointer(path)  # WAL checkpoints off the writer's path
        self._probe: sqlite3.Connection | None = None
        self._token_use, self._token_use_writes = {}, set()

    async def open(self) -> None:
        """Open both connections and bring the schema up to date."""
        await self._writer.open()
        await self._writer.run(migrate)
        # The writer's savepoints (one a transaction of a group commit) journal the pages
        # they change; SQLite spills that journal to a new temporary file past 64 KiB, and
        # a group of votes passed it every time: an open, ~35 writes a vote and an unlink
        # per group (strace under bench/forum.py).  In memory it costs what the pages
        # already cost in the page cache.  Set after the migrations: their index builds sort
        # on disk as before.
        await self._writer.run(lambda conn: conn.execute("PRAGMA temp_store = MEMORY"))
        await self._reader.open()
        await self._checkpointer.open(self._writer)
        # The forum probe, used on the event loop only: it reads the trigger-kept
        # ``forum_version`` (a one-row point read, microseconds; migration 0052), and only
        # when ``PRAGMA data_version`` — which reads the WAL index in shared memory and
        # moves with every commit of any other connection, this process's writer included —
        # says something was committed since the last look.  It never waits for a lock
        # (timeout 0): a busy file answers "no stamp", not a stall.
        self._probe = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=0)
        self._probe_seen: tuple[int, int] | None = None  # (data_version, forum_version)

    def forum_stamp(self) -> int | None:
        if self._probe is None:
            return None
        try:
            version = self._probe.execute("PRAGMA data_version").fetchone()[0]
            if self._probe_seen is None or self._probe_seen[0] != version:
                n = self._probe.execute("SELECT n FROM forum_version").fetchone()[0]
                self._probe_seen = (version, n)
            return self._probe_seen[1]
        except sqlite3.Error:  # a stamp we cannot read caches nothing
            self._probe_seen = None
            return None

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.close()
            self._probe = None
        if self._writer.is_open:  # token uses noted by the last requests
            await asyncio.gather(*self._token_use_writes)
            await self.write_token_use()
        await self._checkpointer.close()
        await self._reader.close()
        await self._writer.close()

    async def get_meta(self, key: str) -> str | None:
        def read(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return row[0] if row else None

        return await self._reader.run(read)

    async def set_meta(self, key: str, value: str) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value))

        await self._writer.transaction(write)

    async def counts(self) -> dict[str, int]:
        def read(conn: sqlite3.Connection) -> dict[str, int]:
            return {
                table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("customers", "mentions", "mention_links")
            }

        return await self._reader.run(read)
