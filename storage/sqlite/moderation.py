"""Moderation flags, reports and rate-limit counters in SQLite."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from domain.forum import Comment, ContentReport, Idea
from domain.errors import NotFound
from storage.contract.events import created_events
from storage.sqlite.db import ThreadedConnection, from_db_time, to_db_time
from storage.sqlite.events import record_events
from storage.sqlite.ideas import comment_from_row, fetch_idea, ideas_from_rows
from storage.sqlite.rate import bump_rate_hit

_APPROVALS = ("pending", "approved", "rejected")


def _flags(approval: str | None, hidden: bool | None, spam: bool | None) -> dict[str, object]:
    if approval is not None and approval not in _APPROVALS:
        raise ValueError(f"approval must be one of {_APPROVALS}")
    return {k: v for k, v in (("approval", approval),
                              ("hidden", None if hidden is None else int(hidden)),
                              ("spam", None if spam is None else int(spam))) if v is not None}


def _report(r: sqlite3.Row) -> ContentReport:
    return ContentReport(id=r["id"], kind=r["kind"], item_id=r["item_id"], account_id=r["account_id"],
                         reason=r["reason"], created_at=from_db_time(r["created_at"]),
                         resolved_at=from_db_time(r["resolved_at"]) if r["resolved_at"] else None)


class SqliteModeration:
    """The moderation part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def moderate_idea(self, idea_id: int, now: datetime, *, approval: str | None = None,
                            hidden: bool | None = None, spam: bool | None = None) -> Idea:
        changes = _flags(approval, hidden, spam)

        def write(conn: sqlite3.Connection) -> Idea:
            before = fetch_idea(conn, idea_id)
            sets = "".join(f", {k} = ?" for k in changes)  # keys are the fixed names of _flags
            conn.execute(f"UPDATE ideas SET updated_at = ?{sets} WHERE id = ?",
                         [to_db_time(now), *changes.values(), idea_id])
            after = fetch_idea(conn, idea_id)
            # Approved now: public from now on, recorded with the approval.
            record_events(conn, created_events(before.approval, idea_id, after.approval), now)
            return after

        return await self._writer.transaction(write)

    async def moderate_comment(self, comment_id: int, now: datetime, *, approval: str | None = None,
                               hidden: bool | None = None, spam: bool | None = None) -> Comment:
        changes = _flags(approval, hidden, spam)

        def write(conn: sqlite3.Connection) -> Comment:
            sets = ", ".join(f"{k} = ?" for k in changes) or "id = id"
            row = conn.execute(f"UPDATE comments SET {sets} WHERE id = ? RETURNING *",
                               [*changes.values(), comment_id]).fetchone()
            if row is None:
                raise NotFound(f"no comment {comment_id}")
            # Recount rather than add or subtract: the flags combine in too many ways.
            conn.execute(
                "UPDATE ideas SET comment_count = (SELECT count(*) FROM comments WHERE idea_id = ? "
                "AND internal = 0 AND deleted = 0 AND hidden = 0 AND approval = 'approved') "
                "WHERE id = ?", (row["idea_id"], row["idea_id"]))
            return comment_from_row(row)

        return await self._writer.transaction(write)

    async def unapproved_ideas(self, limit: int = 100) -> list[Idea]:
        def read(conn: sqlite3.Connection) -> list[Idea]:
            rows = conn.execute("SELECT * FROM ideas WHERE approval = 'pending' ORDER BY id LIMIT ?",
                                (limit,)).fetchall()
            return ideas_from_rows(conn, rows)

        return await self._reader.run(read)

    async def unapproved_comments(self, limit: int = 100) -> list[Comment]:
        return await self._reader.run(lambda conn: [comment_from_row(r) for r in conn.execute(
            "SELECT * FROM comments WHERE approval = 'pending' AND deleted = 0 ORDER BY id LIMIT ?",
            (limit,))])

    async def flagged_ideas(self, limit: int = 100) -> list[Idea]:
        def read(conn: sqlite3.Connection) -> list[Idea]:
            rows = conn.execute("SELECT * FROM ideas WHERE spam = 1 ORDER BY id DESC LIMIT ?",
                                (limit,)).fetchall()
            return ideas_from_rows(conn, rows)

        return await self._reader.run(read)

    async def add_report(self, kind: str, item_id: int, account_id: int, reason: str,
                         now: datetime) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            # A resolved report may be filed again: the old one makes way.
            conn.execute("DELETE FROM content_reports WHERE kind = ? AND item_id = ? AND account_id = ? "
                         "AND resolved_at IS NOT NULL", (kind, item_id, account_id))
            return conn.execute(
                "INSERT INTO content_reports (kind, item_id, account_id, reason, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (kind, item_id, account_id, reason, to_db_time(now))).rowcount == 1

        return await self._writer.transaction(write)

    async def open_reports(self, limit: int = 200) -> list[ContentReport]:
        return await self._reader.run(lambda conn: [_report(r) for r in conn.execute(
            "SELECT * FROM content_reports WHERE resolved_at IS NULL ORDER BY id LIMIT ?", (limit,))])

    async def resolve_reports(self, kind: str, item_id: int, now: datetime) -> int:
        return await self._writer.transaction(lambda conn: conn.execute(
            "UPDATE content_reports SET resolved_at = ? WHERE kind = ? AND item_id = ? "
            "AND resolved_at IS NULL", (to_db_time(now), kind, item_id)).rowcount)

    async def count_rate_hit(self, scope: str, subject: str, window_start: int,
                             forget_before: int) -> int:
        return await self._writer.transaction(
            lambda conn: bump_rate_hit(conn, scope, subject, window_start, forget_before))
