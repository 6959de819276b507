"""Source health and leases in SQLite."""

from __future__ import annotations

import json
import sqlite3

from domain import SourceHealth
from storage.base import health_from_json, health_to_json
from storage.sqlite.db import ThreadedConnection


class SqliteSources:
    """The source-health and lease part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def get_source_health(self, source_key: str) -> SourceHealth | None:
        def read(conn: sqlite3.Connection) -> SourceHealth | None:
            row = conn.execute(
                "SELECT health FROM source_health WHERE source_key = ?", (source_key,)).fetchone()
            return health_from_json(json.loads(row[0])) if row else None

        return await self._reader.run(read)

    async def save_source_health(self, health: SourceHealth) -> None:
        body = json.dumps(health_to_json(health))

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO source_health VALUES (?, ?) "
                "ON CONFLICT (source_key) DO UPDATE SET health = excluded.health",
                (health.key, body))

        await self._writer.transaction(write)

    async def acquire_lease(self, name: str, holder: str, ttl: float, now: float) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            conn.execute(
                """INSERT INTO leases VALUES (?, ?, ?)
                   ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                                                    expires_at = excluded.expires_at
                   WHERE leases.holder = excluded.holder OR leases.expires_at <= ?""",
                (name, holder, now + ttl, now))
            row = conn.execute("SELECT holder FROM leases WHERE name = ?", (name,)).fetchone()
            return row is not None and row[0] == holder

        return await self._writer.transaction(write)

    async def release_lease(self, name: str, holder: str) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

        await self._writer.transaction(write)
