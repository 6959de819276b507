"""The dashboard's analytics in SQLite: topics, sentiment, share of voice, response times, facets."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from domain import MentionQuery
from domain.dashboard import DayAverage, FirstResponse, KeyCount
from domain.triage import UNTRIAGED, VolumeRow
from domain.signals import facets as signal_facets
from storage.contract.dashboard import brand_phrases, wanted_facets
from storage.sqlite.db import ThreadedConnection, sql_literal, to_db_time
from storage.sqlite.mentions import mention_conditions
from storage.sqlite.signals import signal_facet
from storage.sqlite.triage import TRIAGED_FROM, add_triage_conditions

#: How each facet that is not a signal is grouped: (extra join, grouped expression).
_FACET_SQL = {
    "source": ("", "m.source"),
    "status": ("", f"coalesce(t.status, {sql_literal(UNTRIAGED)})"),
    # CROSS JOIN keeps the mentions (narrowed by their indexes) as the outer loop.
    "topic": (" CROSS JOIN mention_topics ft ON ft.mention_id = m.id", "ft.topic"),
}


def _facet_sql() -> dict[str, tuple[str, str]]:
    return {**_FACET_SQL, **{s.name: signal_facet(s) for s in signal_facets()}}
FACET_VALUES_MAX = 50
T = TypeVar("T")
_MIDNIGHT = "T00:00:00.000000Z"


def whole_days(since: datetime, until: datetime) -> tuple[str, str] | None:
    """``(first day, day after the last)`` when both bounds are UTC midnights (the daily
    summaries answer exactly), else ``None`` (read the mentions themselves)."""
    a, b = to_db_time(since), to_db_time(until)
    if a.endswith(_MIDNIGHT) and b.endswith(_MIDNIGHT):
        return a[:10], b[:10]
    return None


def phrase_query(terms: Sequence[str]) -> str | None:
    """An FTS5 query matching any of ``terms`` as a phrase (no operators from config)."""
    return " OR ".join('"' + " ".join(words) + '"' for words in brand_phrases(terms)) or None


class SqliteDashboardAnalytics:
    """Analytics aggregations of ``SqliteStore``, each one query."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def _summary_or_raw(self, since, until, summary_sql: str, raw_sql: str,
                              row: Callable[[tuple], T]) -> list[T]:
        """``row`` of each result of ``summary_sql`` over the daily summaries (bound by days)
        when the window is whole UTC days, else of ``raw_sql`` over the mentions themselves."""
        days = whole_days(since, until)
        sql, args = (summary_sql, days) if days is not None else (
            raw_sql, (to_db_time(since), to_db_time(until)))
        return await self._reader.run(lambda conn: [row(r) for r in conn.execute(sql, args)])

    async def topic_volume_by_day(self, since, until) -> list[VolumeRow]:
        return await self._summary_or_raw(
            since, until,
            "SELECT day, topic, mentions FROM mention_day_topic WHERE day >= ? AND day < ? "
            "AND mentions > 0 ORDER BY day, topic",
            "SELECT substr(m.created_at, 1, 10) AS day, t.topic, count(*) "
            "FROM mentions m CROSS JOIN mention_topics t ON t.mention_id = m.id "
            "WHERE m.created_at >= ? AND m.created_at < ? GROUP BY day, t.topic ORDER BY day, t.topic",
            lambda r: VolumeRow(r[0], r[1], r[2]))

    async def topic_counts(self, since, until) -> list[KeyCount]:
        return await self._summary_or_raw(
            since, until,
            "SELECT topic, sum(mentions) AS n FROM mention_day_topic WHERE day >= ? AND day < ? "
            "GROUP BY topic HAVING n > 0 ORDER BY n DESC, topic",
            "SELECT t.topic, count(*) AS n FROM mentions m "
            "CROSS JOIN mention_topics t ON t.mention_id = m.id "
            "WHERE m.created_at >= ? AND m.created_at < ? GROUP BY t.topic ORDER BY n DESC, t.topic",
            lambda r: KeyCount(r[0], r[1]))

    async def sentiment_by_day(self, since, until) -> list[DayAverage]:
        return await self._summary_or_raw(
            since, until,
            "SELECT day, sum(sentiment_sum) / sum(mentions), sum(mentions) AS n "
            "FROM mention_day_source WHERE day >= ? AND day < ? "
            "GROUP BY day HAVING n > 0 ORDER BY day",
            "SELECT substr(created_at, 1, 10) AS day, avg(sentiment), count(*) FROM mentions "
            "WHERE created_at >= ? AND created_at < ? GROUP BY day ORDER BY day",
            lambda r: DayAverage(r[0], round(r[1], 3), r[2]))

    async def count_naming(self, since, until, brands: Mapping[str, Sequence[str]]) -> list[KeyCount]:
        queries = [(name, phrase_query(terms)) for name, terms in brands.items()]
        days = whole_days(since, until)
        if days is not None and (until - since).days <= 400:
            # Whole days: per-day counts kept in ``voice_day`` (read and filled on the writer,
            # so no mention can be stored between counting a day and keeping its count).
            return await self._writer.transaction(lambda conn: _count_naming_by_day(conn, since, until, queries))
        bounds = (to_db_time(since), to_db_time(until))

        def read(conn: sqlite3.Connection) -> list[KeyCount]:
            counts = _count_in(conn, [match for _, match in queries], bounds)
            return [KeyCount(name, n) for (name, _), n in zip(queries, counts, strict=True)]

        return await self._reader.run(read)

    async def first_responses(self, since, until) -> list[FirstResponse]:
        sql = ("SELECT substr(posted_at, 1, 10), (julianday(substr(first_action_at, 1, 23)) "
               "- julianday(substr(posted_at, 1, 23))) * 86400.0 FROM mention_triage "
               "WHERE posted_at >= ? AND posted_at < ? AND first_action_at IS NOT NULL")
        args = (to_db_time(since), to_db_time(until))

        def read(conn: sqlite3.Connection) -> list[FirstResponse]:
            # A mention triaged "before" it was posted (clock skew at the source) waited 0 s.
            return [FirstResponse(r[0], max(0.0, r[1])) for r in conn.execute(sql, args)]

        return await self._reader.run(read)

    async def facet_counts(self, query: MentionQuery, status: str | None, assignee: str | None,
                           tag: str | None, facets: Sequence[str] | None = None
                           ) -> dict[str, list[KeyCount]]:
        grouped = _facet_sql()
        facets = wanted_facets(facets, grouped)
        conditions = mention_conditions(dataclasses.replace(query, cursor=None))
        if conditions is None:
            return {f: [] for f in facets}
        where, args = conditions
        triaged = status is not None or assignee is not None or tag is not None
        add_triage_conditions(where, args, status, assignee, tag)
        where_sql = (" WHERE " + " AND ".join(where)) if where else ""

        def read(conn: sqlite3.Connection) -> dict[str, list[KeyCount]]:
            result = {}
            for facet in facets:
                join, expr = grouped[facet]
                # The triage row is joined only when a filter or the facet needs it.
                source = TRIAGED_FROM if triaged or facet == "status" else "mentions m"
                rows = conn.execute(
                    f"SELECT {expr} AS v, count(*) AS n FROM {source}{join}{where_sql} "
                    f"GROUP BY v ORDER BY n DESC, v LIMIT {FACET_VALUES_MAX}", args)
                result[facet] = [KeyCount(r[0], r[1]) for r in rows if r[0] is not None]
            return result

        return await self._reader.run(read)


def _count_in(conn: sqlite3.Connection, matches: Sequence[str | None],
              bounds: tuple[str, str]) -> list[int]:
    """Per full-text query of ``matches`` (``None`` matches nothing), the mentions created in
    ``bounds`` it matches.  Every mention of the period has an id in [lo, hi]: the full-text
    index is read for that id range only, not for all time."""
    lo = None
    if any(match is not None for match in matches):
        lo, hi = conn.execute("SELECT min(id), max(id) FROM mentions WHERE created_at >= ? AND created_at < ?",
                              bounds).fetchone()
    return [0 if match is None or lo is None else conn.execute(
        "SELECT count(*) FROM mentions_fts f JOIN mentions m ON m.id = f.rowid "
        "WHERE mentions_fts MATCH ? AND f.rowid BETWEEN ? AND ? AND m.created_at >= ? AND m.created_at < ?",
        (match, lo, hi, *bounds)).fetchone()[0] for match in matches]


def _count_naming_by_day(conn: sqlite3.Connection, since: datetime, until: datetime,
                         queries: Sequence[tuple[str, str | None]]) -> list[KeyCount]:
    """``count_naming`` over whole days from the kept per-day counts, counting missing days."""
    days = [(since + timedelta(days=i)) for i in range((until - since).days)]
    totals = []
    for name, match in queries:
        key = match or ""
        kept = dict(conn.execute("SELECT day, mentions FROM voice_day WHERE brand_key = ? "
                                 "AND day >= ? AND day < ?",
                                 (key, to_db_time(since)[:10], to_db_time(until)[:10])).fetchall())
        total = 0
        for start in days:
            day = to_db_time(start)[:10]
            if day not in kept:
                kept[day] = _count_in(conn, [match], (to_db_time(start), to_db_time(start + timedelta(days=1))))[0]
                conn.execute("INSERT OR REPLACE INTO voice_day (day, brand_key, mentions) VALUES (?, ?, ?)",
                             (day, key, kept[day]))
            total += kept[day]
        totals.append(KeyCount(name, total))
    return totals
