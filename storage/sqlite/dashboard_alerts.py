"""Spike alerts and saved views of the dashboard in SQLite."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from domain import LINK_PENDING
from domain.dashboard import SavedView, SpikeAlert, SubjectVolume
from domain.errors import NotFound
from storage.base import clamp_limit
from storage.sqlite.db import ThreadedConnection, sql_literal, to_db_time
from storage.rows import SAVED_VIEW, SPIKE_ALERT, SPIKE_ALERT_FIELDS
from storage.sqlite.rows import insert_sql, row_reader, row_values

_SUBJECT_SQL = {
    "topic": "SELECT t.topic, {bucket} AS b, count(*) FROM mentions m "
             "JOIN mention_topics t ON t.mention_id = m.id "
             "WHERE m.created_at >= ? AND m.created_at < ? GROUP BY t.topic, b",
    "customer": "SELECT k.customer_id, {bucket} AS b, count(DISTINCT m.id) FROM mentions m "
                "JOIN mention_links k ON k.mention_id = m.id "
                "WHERE m.created_at >= ? AND m.created_at < ?{links} "
                "GROUP BY k.customer_id, b",
}


_alert, _view = row_reader(SPIKE_ALERT), row_reader(SAVED_VIEW)
_INSERT_ALERT = insert_sql("spike_alerts", SPIKE_ALERT_FIELDS,
                           " ON CONFLICT (kind, subject, window_start) DO NOTHING RETURNING *")


class SqliteDashboardAlerts:
    """Spike alerts and saved views of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def subject_volumes(self, kind: str, until: datetime, buckets: int, *,
                              pending_links: bool) -> list[SubjectVolume]:
        if kind not in _SUBJECT_SQL:
            raise ValueError(f"unknown spike subject {kind!r}")
        since = until - timedelta(days=buckets)
        end = to_db_time(until)
        # Text times compare in time order; the bucket is whole days back from ``until``.
        bucket = "CAST((julianday(?) - julianday(substr(m.created_at, 1, 23))) AS INTEGER)"
        sql = _SUBJECT_SQL[kind].format(bucket=bucket, links="" if pending_links else f" AND k.status != {sql_literal(LINK_PENDING)}")
        args = (end[:23], to_db_time(since), end)

        def read(conn: sqlite3.Connection) -> list[SubjectVolume]:
            return [SubjectVolume(r[0], min(int(r[1]), buckets - 1), r[2])
                    for r in conn.execute(sql, args)]

        return await self._reader.run(read)

    async def record_spike_alerts(self, alerts: Sequence[SpikeAlert]) -> list[SpikeAlert]:
        def write(conn: sqlite3.Connection) -> list[SpikeAlert]:
            new = []
            for a in alerts:
                row = conn.execute(_INSERT_ALERT, row_values(SPIKE_ALERT, a, SPIKE_ALERT_FIELDS)).fetchone()
                if row is not None:
                    new.append(_alert(row))
            return new

        return await self._writer.transaction(write)

    async def list_spike_alerts(self, since: datetime | None = None, limit: int = 50) -> list[SpikeAlert]:
        sql = "SELECT * FROM spike_alerts"
        args: list[Any] = []
        if since is not None:
            sql += " WHERE detected_at >= ?"
            args.append(to_db_time(since))
        sql += " ORDER BY detected_at DESC, id DESC LIMIT ?"
        args.append(clamp_limit(limit))

        def read(conn: sqlite3.Connection) -> list[SpikeAlert]:
            return [_alert(r) for r in conn.execute(sql, args)]

        return await self._reader.run(read)

    async def save_view(self, owner: str, name: str, filters: Mapping[str, Any],
                        now: datetime) -> SavedView:
        body = json.dumps(dict(filters), sort_keys=True)
        saved_at = to_db_time(now)

        def write(conn: sqlite3.Connection) -> SavedView:
            return _view(conn.execute(
                "INSERT INTO saved_views (owner, name, filters, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (owner, name) DO UPDATE SET filters = excluded.filters, "
                "updated_at = excluded.updated_at RETURNING *", (owner, name, body, saved_at)).fetchone())

        return await self._writer.transaction(write)

    async def list_views(self, owner: str) -> list[SavedView]:
        def read(conn: sqlite3.Connection) -> list[SavedView]:
            return [_view(r) for r in conn.execute(
                "SELECT * FROM saved_views WHERE owner = ? ORDER BY name, id", (owner,))]

        return await self._reader.run(read)

    async def delete_view(self, owner: str, view_id: int) -> None:
        def write(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM saved_views WHERE id = ? AND owner = ?",
                            (int(view_id), owner)).rowcount == 0:
                raise NotFound(f"no saved view {view_id}")

        await self._writer.transaction(write)
