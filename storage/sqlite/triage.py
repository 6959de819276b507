"""Triage of mentions (status, assignee, tags, private notes) in SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from domain import Mention, MentionQuery, Page, utcnow
from domain.triage import UNTRIAGED, Triage, TriageChange, TriageNote
from domain.errors import NotFound
from storage.sqlite.db import ThreadedConnection, from_db_time, rows_in, to_db_time
from storage.sqlite.mentions import mention_conditions, page_reader
from storage.rows import TRIAGE_NOTE
from storage.sqlite.rows import row_reader


_note = row_reader(TRIAGE_NOTE)


class SqliteTriage:
    """The triage part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def get_triage(self, mention_ids: Sequence[int]) -> dict[int, Triage]:
        ids = sorted({int(i) for i in mention_ids})

        def read(conn: sqlite3.Connection) -> dict[int, Triage]:
            return _triage_of(conn, ids)

        return await self._reader.run(read)

    async def update_triage(self, mention_ids: Sequence[int], change: TriageChange,
                            by: str) -> list[Triage]:
        ids = sorted({int(i) for i in mention_ids})
        now = to_db_time(utcnow())

        def write(conn: sqlite3.Connection) -> list[Triage]:
            found = _existing(conn, ids)
            missing = [i for i in ids if i not in found]
            if missing:
                raise NotFound(f"no mention {missing[0]}")
            for mid in ids:
                conn.execute(
                    "INSERT INTO mention_triage (mention_id, updated_at, updated_by, first_action_at) "
                    "VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (mention_id) DO UPDATE SET updated_at = excluded.updated_at, "
                    "updated_by = excluded.updated_by, "
                    "first_action_at = coalesce(first_action_at, excluded.first_action_at)",
                    (mid, now, by, now))
                if change.status is not None:
                    conn.execute("UPDATE mention_triage SET status = ? WHERE mention_id = ?",
                                 (change.status, mid))
                if change.assignee is not None:
                    conn.execute("UPDATE mention_triage SET assignee = ? WHERE mention_id = ?",
                                 (change.assignee or None, mid))
                conn.executemany("INSERT OR IGNORE INTO mention_tags VALUES (?, ?)",
                                 [(mid, t) for t in change.add_tags])
                conn.executemany("DELETE FROM mention_tags WHERE mention_id = ? AND tag = ?",
                                 [(mid, t) for t in change.remove_tags])
            triage = _triage_of(conn, ids)
            return [triage[i] for i in ids]

        return await self._writer.transaction(write)

    async def add_triage_note(self, mention_id: int, author: str, body: str) -> TriageNote:
        now = utcnow()

        def write(conn: sqlite3.Connection) -> TriageNote:
            if not _existing(conn, [mention_id]):
                raise NotFound(f"no mention {mention_id}")
            # A note is a staff response too: it ends the first-response clock.
            conn.execute(
                "INSERT INTO mention_triage (mention_id, updated_at, updated_by, first_action_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (mention_id) DO UPDATE SET "
                "first_action_at = coalesce(first_action_at, excluded.first_action_at)",
                (mention_id, to_db_time(now), author, to_db_time(now)))
            row = conn.execute(
                "INSERT INTO mention_notes (mention_id, author, body, created_at) "
                "VALUES (?, ?, ?, ?) RETURNING id", (mention_id, author, body, to_db_time(now))).fetchone()
            return TriageNote(row[0], mention_id, author, body, from_db_time(to_db_time(now)))

        return await self._writer.transaction(write)

    async def list_triage_notes(self, mention_id: int) -> list[TriageNote]:
        def read(conn: sqlite3.Connection) -> list[TriageNote]:
            return [_note(r) for r in conn.execute(
                        "SELECT * FROM mention_notes WHERE mention_id = ? ORDER BY id", (mention_id,))]

        return await self._reader.run(read)

    async def list_triaged_mentions(self, query: MentionQuery, status: str | None,
                                    assignee: str | None, tag: str | None) -> Page[Mention]:
        conditions = mention_conditions(query)
        if conditions is None:
            return Page(())
        where, args = conditions
        add_triage_conditions(where, args, status, assignee, tag)
        return await self._reader.run(page_reader(TRIAGED_FROM, where, args, query.limit))


#: Mentions with their triage row (``t``), which a never-triaged mention lacks.
TRIAGED_FROM = "mentions m LEFT JOIN mention_triage t ON t.mention_id = m.id"


def add_triage_conditions(where: list[str], args: list, status: str | None,
                          assignee: str | None, tag: str | None) -> None:
    """Append the triage filters (on ``TRIAGED_FROM``) to ``where``/``args``."""
    if status is not None:
        # A mention never triaged has no row and reads as the domain's UNTRIAGED status.
        where.append("coalesce(t.status, ?) = ?")
        args += [UNTRIAGED, status]
    if assignee is not None:
        if assignee == "":
            where.append("t.assignee IS NULL")
        else:
            where.append("t.assignee = ?")
            args.append(assignee)
    if tag is not None:
        where.append("m.id IN (SELECT mention_id FROM mention_tags WHERE tag = ?)")
        args.append(tag)


def _existing(conn: sqlite3.Connection, ids: Sequence[int]) -> set[int]:
    return {r[0] for r in rows_in(conn, "SELECT id FROM mentions WHERE id IN ({marks})", ids)}


def _triage_of(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, Triage]:
    result = {i: Triage(i) for i in _existing(conn, ids)}
    tags: dict[int, list[str]] = {}
    for r in rows_in(conn, "SELECT * FROM mention_tags WHERE mention_id IN ({marks}) "
                           "ORDER BY mention_id, tag", ids):
        tags.setdefault(r["mention_id"], []).append(r["tag"])
    for r in rows_in(conn, "SELECT * FROM mention_triage WHERE mention_id IN ({marks})", ids):
        result[r["mention_id"]] = Triage(
            r["mention_id"], r["status"], r["assignee"], (),
            from_db_time(r["updated_at"]), r["updated_by"])
    return {i: Triage(t.mention_id, t.status, t.assignee, tuple(tags.get(i, ())),
                      t.updated_at, t.updated_by) for i, t in result.items()}
