"""The dashboard's reads in SQLite: live-feed catch-up and analytics aggregations."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from domain import Mention
from domain.triage import AuthorVolume, VolumeRow
from storage.base import clamp_limit
from storage.contract.dashboard import THREAD_LIMIT, thread_is_per_source, thread_keys
from storage.sqlite.dashboard_alerts import SqliteDashboardAlerts
from storage.sqlite.dashboard_analytics import SqliteDashboardAnalytics, whole_days
from storage.sqlite.dashboard_customer import SqliteDashboardCustomer
from storage.sqlite.dashboard_authors import (
    WINDOW_DAYS_MAX,
    keep_top_authors,
    read_top_authors,
)
from storage.sqlite.db import ThreadedConnection, to_db_time
from storage.sqlite.mentions import _mentions_from_rows


class SqliteDashboard(SqliteDashboardAnalytics, SqliteDashboardAlerts, SqliteDashboardCustomer):
    """The dashboard part of ``SqliteStore`` (analytics, alerts and views in their own mixins)."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def latest_mention_id(self) -> int:
        def read(conn: sqlite3.Connection) -> int:
            return conn.execute("SELECT coalesce(max(id), 0) FROM mentions").fetchone()[0]

        return await self._reader.run(read)

    async def mentions_after(self, after_id: int, limit: int) -> list[Mention]:
        limit = clamp_limit(limit)

        def read(conn: sqlite3.Connection) -> list[Mention]:
            rows = conn.execute("SELECT * FROM mentions WHERE id > ? ORDER BY id LIMIT ?",
                                (int(after_id), limit)).fetchall()
            return _mentions_from_rows(conn, rows)

        return await self._reader.run(read)

    async def mention_thread(self, mention: Mention, limit: int = THREAD_LIMIT) -> list[Mention]:
        root, ids = thread_keys(mention)
        marks = ", ".join("?" * len(ids))

        # ``IS``: mentions stored before their source was kept share the unknown one.
        same_source = " AND source_key IS ?" if thread_is_per_source(mention) else ""
        scope = [mention.source_key] if same_source else []

        def read(conn: sqlite3.Connection) -> list[Mention]:
            # Each branch is served by an index on (source, ...): see migration 0066.
            rows = conn.execute(
                f"SELECT * FROM mentions WHERE source = ? AND (external_id IN ({marks}) "
                f"OR thread_id = ? OR parent_id IN ({marks})){same_source} "
                f"ORDER BY created_at, id LIMIT ?",
                (mention.post.source, *ids, root, *ids, *scope, clamp_limit(limit))).fetchall()
            return _mentions_from_rows(conn, rows)

        return await self._reader.run(read)

    async def volume_by_day(self, since: datetime, until: datetime,
                            customer_id: str | None = None) -> list[VolumeRow]:
        raw = ("SELECT substr(created_at, 1, 10) AS day, source, count(*) FROM mentions "
               "WHERE created_at >= ? AND created_at < ?{} GROUP BY day, source ORDER BY day, source")
        if customer_id:  # the daily summaries do not count per customer
            sql = raw.format(" AND id IN (SELECT mention_id FROM mention_links WHERE customer_id = ?)")
            args = (to_db_time(since), to_db_time(until), customer_id)
            return await self._reader.run(lambda conn: [VolumeRow(*r) for r in conn.execute(sql, args)])
        return await self._summary_or_raw(
            since, until,
            "SELECT day, source, mentions FROM mention_day_source WHERE day >= ? AND day < ? "
            "AND mentions > 0 ORDER BY day, source", raw.format(""), lambda r: VolumeRow(*r))

    async def top_authors(self, since: datetime, until: datetime, limit: int = 10) -> list[AuthorVolume]:
        days = whole_days(since, until)
        limit = clamp_limit(limit)
        if days is not None and (until - since).days <= WINDOW_DAYS_MAX:
            # Read from a window kept for this period; keep one (on the writer) if none is.
            found = await self._reader.run(lambda conn: read_top_authors(conn, days, limit))
            if found is not None:
                return found
            return await self._writer.transaction(lambda conn: keep_top_authors(conn, days, limit))
        # ``limit`` is an int (``clamp_limit``): safe in the SQL text.
        return await self._summary_or_raw(
            since, until,
            f"""SELECT source, author_handle, max(author_name), sum(mentions) AS n, sum(engagement)
                FROM mention_day_author WHERE day >= ? AND day < ? GROUP BY source, author_handle
                HAVING n > 0 ORDER BY n DESC, author_handle, source LIMIT {limit}""",
            f"""SELECT source, author_handle, max(author_name), count(*) AS n,
                       sum(coalesce((SELECT sum(value) FROM json_each(engagement)), 0))
                FROM mentions WHERE created_at >= ? AND created_at < ?
                GROUP BY source, author_handle ORDER BY n DESC, author_handle, source LIMIT {limit}""",
            lambda r: AuthorVolume(r[0], r[1], r[2], r[3], int(r[4] or 0)))
