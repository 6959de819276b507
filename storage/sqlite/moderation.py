"""Moderation queues and customers' reports in SQLite, read (the writes are rules over the
unit of work: ``community.statuses``, ``community.comments``, ``community.moderation``)."""

from __future__ import annotations

import sqlite3

from domain.forum import AWAITING_APPROVAL, Comment, ContentReport, Idea
from storage.sqlite.db import ThreadedConnection, sql_literal
from storage.sqlite.idea_rows import comment_from_row, ideas_from_rows
from storage.rows import REPORT
from storage.sqlite.rows import row_reader


_report = row_reader(REPORT)
#: inlined, so the partial indexes ideas_approval and comments_approval serve the queues
_AWAITING = sql_literal(AWAITING_APPROVAL)


class SqliteModeration:
    """The moderation part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def unapproved_ideas(self, limit: int = 100) -> list[Idea]:
        def read(conn: sqlite3.Connection) -> list[Idea]:
            rows = conn.execute(f"SELECT * FROM ideas WHERE approval = {_AWAITING} ORDER BY id LIMIT ?",
                                (limit,)).fetchall()
            return ideas_from_rows(conn, rows)

        return await self._reader.run(read)

    async def unapproved_comments(self, limit: int = 100, *, deleted: bool) -> list[Comment]:
        return await self._reader.run(lambda conn: [comment_from_row(r) for r in conn.execute(
            f"SELECT * FROM comments WHERE approval = {_AWAITING} AND (? OR deleted = 0) "
            "ORDER BY id LIMIT ?", (deleted, limit))])

    async def flagged_ideas(self, limit: int = 100) -> list[Idea]:
        def read(conn: sqlite3.Connection) -> list[Idea]:
            rows = conn.execute("SELECT * FROM ideas WHERE spam = 1 ORDER BY id DESC LIMIT ?",
                                (limit,)).fetchall()
            return ideas_from_rows(conn, rows)

        return await self._reader.run(read)

    async def open_reports(self, limit: int = 200) -> list[ContentReport]:
        return await self._reader.run(lambda conn: [_report(r) for r in conn.execute(
            "SELECT * FROM content_reports WHERE resolved_at IS NULL ORDER BY id LIMIT ?", (limit,))])
