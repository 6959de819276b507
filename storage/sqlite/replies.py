"""Replies to mentions and their audit trail in SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from domain.replies import PlatformLimit, RepliesDue, Reply, ReplyAudit, ReplyState
from storage.contract.replies import check_movable
from storage.rows import REPLY
from storage.sqlite.db import ThreadedConnection, from_db_time, to_db_time
from storage.sqlite.rows import column_value, fetch_one, insert_sql, row_reader, row_values

_COLUMNS = tuple(name for name in REPLY.columns if name != "id")
_INSERT = insert_sql("replies", _COLUMNS, verb="INSERT OR IGNORE")
#: a ``Reply`` from a ``replies`` row
reply_from_row = row_reader(REPLY)


def _audit(conn: sqlite3.Connection, audit: ReplyAudit, reply_id: int) -> None:
    conn.execute("INSERT INTO reply_audit VALUES (?, ?, ?, ?, ?)",
                 (reply_id, audit.action, audit.actor, to_db_time(audit.at), audit.detail))


class SqliteReplies:
    """The replies part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def add_replies(self, replies: Sequence[Reply], audits: Sequence[str]) -> list[Reply]:
        def write(conn: sqlite3.Connection) -> list[Reply]:
            stored = []
            for reply, detail in zip(replies, audits, strict=True):
                fetch_one(conn, "SELECT 1 FROM mentions WHERE id = ?", (reply.mention_id,),
                          f"no mention {reply.mention_id}")
                cur = conn.execute(_INSERT, row_values(REPLY, reply, _COLUMNS))
                if cur.rowcount == 0:
                    continue  # this idea's reply to this mention exists
                reply_id = int(cur.lastrowid or 0)
                _audit(conn, ReplyAudit(reply_id, "drafted", reply.drafted_by, reply.drafted_at, detail), reply_id)
                stored.append(reply_from_row(conn.execute("SELECT * FROM replies WHERE id = ?",
                                                          (reply_id,)).fetchone()))
            return stored

        return await self._writer.transaction(write) if replies else []

    async def get_reply(self, reply_id: int) -> Reply:
        def read(conn: sqlite3.Connection) -> Reply:
            row = fetch_one(conn, "SELECT * FROM replies WHERE id = ?", (int(reply_id),), f"no reply {reply_id}")
            return reply_from_row(row)

        return await self._reader.run(read)

    async def list_replies(self, *, states: Sequence[ReplyState] = (), team_key: str | None = None,
                           mention_ids: Sequence[int] = (), batch_key: str | None = None,
                           limit: int = 200) -> list[Reply]:
        where: list[str] = []
        params: list[object] = []
        if states:
            where.append(f"state IN ({','.join('?' * len(states))})")
            params.extend(states)
        if team_key is not None:
            where.append("team_key = ?")
            params.append(team_key)
        if mention_ids:
            ids = sorted({int(i) for i in mention_ids})[:500]
            where.append(f"mention_id IN ({','.join('?' * len(ids))})")
            params.extend(ids)
        if batch_key is not None:
            where.append("batch_key = ?")
            params.append(batch_key)
        sql = "SELECT * FROM replies" + (" WHERE " + " AND ".join(where) if where else "") + \
              " ORDER BY id DESC LIMIT ?"

        def read(conn: sqlite3.Connection) -> list[Reply]:
            return [reply_from_row(r) for r in conn.execute(sql, (*params, max(1, int(limit))))]

        return await self._reader.run(read)

    async def move_reply(self, reply_id: int, expected: Sequence[ReplyState],
                         changes: Mapping[str, Any], audit: ReplyAudit, *,
                         attempts: int | None = None) -> Reply | None:
        check_movable(changes)
        sets = ", ".join(f"{k} = ?" for k in changes)
        where = f"id = ? AND state IN ({','.join('?' * len(expected))})" + (
            " AND attempts = ?" if attempts is not None else "")
        params = (*[column_value(REPLY, k, v) for k, v in changes.items()], int(reply_id), *expected,
                  *(() if attempts is None else (int(attempts),)))

        def write(conn: sqlite3.Connection) -> Reply | None:
            if conn.execute(f"UPDATE replies SET {sets} WHERE {where}", params).rowcount == 0:
                fetch_one(conn, "SELECT 1 FROM replies WHERE id = ?", (int(reply_id),), f"no reply {reply_id}")
                return None
            _audit(conn, audit, int(reply_id))
            return reply_from_row(conn.execute("SELECT * FROM replies WHERE id = ?", (int(reply_id),)).fetchone())

        return await self._writer.transaction(write)

    async def due_replies(self, now: datetime, stale_before: datetime, limit: int = 50, *,
                          due: RepliesDue) -> list[Reply]:
        ready, stalled = list(due.ready), list(due.stalled)
        marks = ",".join("?" * len(ready)), ",".join("?" * len(stalled))
        # IN () matches nothing in SQLite: a rule with no ready (or stalled) state asks for none.
        sql = (f"SELECT * FROM replies WHERE (state IN ({marks[0]}) "
               f"OR (state IN ({marks[1]}) AND sending_at <= ?)) "
               "AND (retry_after IS NULL OR retry_after <= ?) ORDER BY id LIMIT ?")

        def read(conn: sqlite3.Connection) -> list[Reply]:
            rows = conn.execute(sql, (*ready, *stalled, to_db_time(stale_before), to_db_time(now),
                                      max(1, int(limit)))).fetchall()
            return [reply_from_row(r) for r in rows]

        return await self._reader.run(read)

    async def reply_audit(self, reply_id: int) -> list[ReplyAudit]:
        def read(conn: sqlite3.Connection) -> list[ReplyAudit]:
            return [ReplyAudit(r["reply_id"], r["action"], r["actor"], from_db_time(r["at"]), r["detail"])
                    for r in conn.execute("SELECT * FROM reply_audit WHERE reply_id = ? ORDER BY rowid",
                                          (int(reply_id),))]

        return await self._reader.run(read)

    async def set_platform_limit(self, limit: PlatformLimit) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO reply_limits VALUES (?, ?, ?, ?) ON CONFLICT (platform, source_key) DO UPDATE "
                "SET until = excluded.until, reason = excluded.reason WHERE excluded.until > reply_limits.until",
                (limit.platform, limit.source_key, to_db_time(limit.until), limit.reason))

        await self._writer.transaction(write)

    async def platform_limits(self, now: datetime) -> list[PlatformLimit]:
        def read(conn: sqlite3.Connection) -> list[PlatformLimit]:
            return [PlatformLimit(r["platform"], r["source_key"], from_db_time(r["until"]), r["reason"])
                    for r in conn.execute("SELECT * FROM reply_limits WHERE until > ? ORDER BY until, platform, "
                                          "source_key", (to_db_time(now),))]

        return await self._reader.run(read)
