"""The outbox in SQLite: events recorded inside the writer's transactions, consumer cursors."""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from domain import utcnow
from domain.events import NewEvent, RecordedEvent
from storage.base import clamp_limit
from storage.contract.events import MAX_EVENTS
from storage.sqlite.db import ThreadedConnection, from_db_time, to_db_time

_RECORD = "INSERT INTO events (kind, subject_id, payload, created_at) VALUES (?, ?, ?, ?)"
#: ``json.dumps(payload, sort_keys=True)`` without building an encoder for every event (a
#: third of the cost of encoding a vote's small payload, on the writer thread)
_PAYLOAD = json.JSONEncoder(sort_keys=True).encode


def record_events(conn: sqlite3.Connection, events: Sequence[NewEvent], at: datetime) -> None:
    """Record ``events`` on ``conn`` inside the caller's open transaction, so they commit
    (or roll back) with the change they describe.  The single writer makes ids follow the
    commit order, which is what lets a consumer's cursor never skip one."""
    rows = [(e.kind, e.subject_id, _PAYLOAD(e.payload), to_db_time(at)) for e in events]
    if len(rows) == 1:  # a vote's one event (executemany costs more for one row)
        conn.execute(_RECORD, rows[0])
    else:
        conn.executemany(_RECORD, rows)


#: Kinds of one page read with a branch each (SQLite allows 500 branches of a compound select).
BRANCHES_MAX = 32
#: The most rows a page read inline may walk (its kinds times its limit): a routing round's
#: page is 4 kinds of 200; a longer read goes to the reader's thread.
INLINE_ROWS_MAX = 2000


@functools.lru_cache(maxsize=64)
def _page_sql(kinds: int) -> str:
    """A page of events of ``kinds`` kinds after an id: each kind's first rows by the
    ``events_kind (kind, id)`` index, at most the page's limit each, then the page by id.
    ``kind IN (...)`` read every event of those kinds after the id before sorting: a consumer
    far behind read them all for one page, too long a read for the event loop."""
    branch = ("SELECT * FROM (SELECT id, kind, subject_id, payload, created_at FROM events "
              "WHERE kind = ? AND id > ? ORDER BY id LIMIT ?)")
    return " UNION ALL ".join([branch] * kinds) + " ORDER BY id LIMIT ?"


class SqliteEvents:
    """The outbox part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def read_events(self, after_id: int, kinds: Sequence[str], limit: int = 200
                          ) -> list[RecordedEvent]:
        wanted = list(dict.fromkeys(kinds))
        if not wanted:
            return []
        limit = clamp_limit(limit, MAX_EVENTS)
        if len(wanted) > BRANCHES_MAX:  # not one of ours: the plain query, on the thread
            marks = ",".join("?" * len(wanted))
            sql = (f"SELECT id, kind, subject_id, payload, created_at FROM events "
                   f"WHERE id > ? AND kind IN ({marks}) ORDER BY id LIMIT ?")
            params: list[str | int] = [int(after_id), *wanted, limit]
        else:
            sql = _page_sql(len(wanted))
            params = [value for kind in wanted for value in (kind, int(after_id), limit)] + [limit]

        def read(conn: sqlite3.Connection) -> list[RecordedEvent]:
            rows = conn.execute(sql, params).fetchall()
            return [RecordedEvent(r[0], r[1], r[2], json.loads(r[3]), from_db_time(r[4]))
                    for r in rows]

        # Inline (on the loop while the reader's thread is idle) when each kind is read by its
        # index to ``limit`` rows and those are few: a consumer's round after a vote reads a few
        # events, less work than the hop to the thread and back (bench/forum.py), and decoding
        # them holds the GIL on either side.
        inline = len(wanted) <= BRANCHES_MAX and len(wanted) * limit <= INLINE_ROWS_MAX
        return await self._reader.run(read, inline=inline)

    async def get_event_cursor(self, consumer: str) -> int:
        def read(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT last_id FROM event_cursors WHERE consumer = ?",
                               (consumer,)).fetchone()
            return int(row[0]) if row else 0

        # Inline (on the loop while the reader's thread is idle): one row by its key, less work
        # than the hop to the thread and back; a consumer's round reads it after every vote
        # that crossed a threshold (bench/forum.py).
        return await self._reader.run(read, inline=True)

    async def set_event_cursor(self, consumer: str, last_id: int) -> int:
        now = to_db_time(utcnow())

        def write(conn: sqlite3.Connection) -> int:
            conn.execute(
                "INSERT INTO event_cursors (consumer, last_id, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (consumer) DO UPDATE SET last_id = excluded.last_id, "
                "updated_at = excluded.updated_at WHERE excluded.last_id > event_cursors.last_id",
                (consumer, int(last_id), now))
            return int(conn.execute("SELECT last_id FROM event_cursors WHERE consumer = ?",
                                    (consumer,)).fetchone()[0])

        return await self._writer.transaction(write)

    async def latest_event_id(self) -> int:
        def read(conn: sqlite3.Connection) -> int:
            return int(conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])

        return await self._reader.run(read)

    async def event_cursors(self) -> dict[str, int]:
        def read(conn: sqlite3.Connection) -> dict[str, int]:
            return {r[0]: int(r[1]) for r in conn.execute("SELECT consumer, last_id FROM event_cursors")}

        return await self._reader.run(read)

    async def delete_events(self, up_to_id: int, recorded_before: datetime, limit: int) -> int:
        def write(conn: sqlite3.Connection) -> int:
            # Oldest first by id (the primary key): a batch never scans the events it keeps.
            return conn.execute(
                "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE id <= ? "
                "AND created_at < ? ORDER BY id LIMIT ?)",
                (int(up_to_id), to_db_time(recorded_before), max(1, int(limit)))).rowcount

        return await self._writer.transaction(write)
