"""Changelog entries and the ideas they ship, in SQLite."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from domain.changelog import DRAFT, PUBLIC_STATES, ChangelogDraft, ChangelogEntry, EntryState, is_public
from storage.base import clamp_limit
from storage.sqlite.db import ThreadedConnection, from_db_time, rows_in, sql_literal, to_db_time
from storage.sqlite.rows import fetch_one


#: ``state IN (...)`` of the public entries, inlined (domain constants) as the index reads them
_PUBLIC = f"state IN ({', '.join(sql_literal(s) for s in PUBLIC_STATES)})"


def changelog_entries(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[ChangelogEntry]:
    """The entries of ``changelog_entries`` rows, each with its shipped ideas in order (also
    what the SQLite-to-MongoDB copy reads)."""
    ideas: dict[int, list[int]] = {}
    for r in rows_in(conn, "SELECT entry_id, idea_id FROM changelog_ideas WHERE entry_id IN ({marks}) "
                           "ORDER BY entry_id, position", [row["id"] for row in rows]):
        ideas.setdefault(r["entry_id"], []).append(r["idea_id"])
    return [ChangelogEntry(
        id=row["id"], title=row["title"], body=row["body"], idea_ids=tuple(ideas.get(row["id"], ())),
        state=row["state"], author_id=row["author_id"], created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        published_at=from_db_time(row["published_at"]) if row["published_at"] else None)
        for row in rows]


def _read(conn: sqlite3.Connection, entry_id: int) -> ChangelogEntry:
    row = fetch_one(conn, "SELECT * FROM changelog_entries WHERE id = ?", (entry_id,), f"no changelog entry {entry_id}")
    return changelog_entries(conn, [row])[0]


def _set_ideas(conn: sqlite3.Connection, entry_id: int, idea_ids: tuple[int, ...]) -> None:
    conn.execute("DELETE FROM changelog_ideas WHERE entry_id = ?", (entry_id,))
    conn.executemany("INSERT OR IGNORE INTO changelog_ideas VALUES (?, ?, ?)",
                     [(entry_id, idea, n) for n, idea in enumerate(idea_ids)])


class SqliteChangelog:
    """The changelog part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def create_changelog_entry(self, draft: ChangelogDraft, author_id: int | None,
                                     at: datetime) -> ChangelogEntry:
        now = to_db_time(at)

        def write(conn: sqlite3.Connection) -> ChangelogEntry:
            entry_id = conn.execute(
                "INSERT INTO changelog_entries (title, body, state, author_id, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (draft.title or "", draft.body or "", DRAFT, author_id, now, now)).fetchone()[0]
            _set_ideas(conn, entry_id, draft.idea_ids or ())
            return _read(conn, entry_id)

        return await self._writer.transaction(write)

    async def get_changelog_entry(self, entry_id: int) -> ChangelogEntry:
        return await self._reader.run(lambda conn: _read(conn, int(entry_id)))

    async def update_changelog_entry(self, entry_id: int, draft: ChangelogDraft,
                                     at: datetime) -> ChangelogEntry:
        def write(conn: sqlite3.Connection) -> ChangelogEntry:
            _read(conn, entry_id)  # NotFound first
            conn.execute(
                "UPDATE changelog_entries SET title = coalesce(?, title), body = coalesce(?, body), "
                "updated_at = ? WHERE id = ?", (draft.title, draft.body, to_db_time(at), entry_id))
            if draft.idea_ids is not None:
                _set_ideas(conn, entry_id, draft.idea_ids)
            return _read(conn, entry_id)

        return await self._writer.transaction(write)

    async def set_changelog_state(self, entry_id: int, state: EntryState,
                                  at: datetime) -> ChangelogEntry:
        def write(conn: sqlite3.Connection) -> ChangelogEntry:
            _read(conn, entry_id)
            # published_at is set once: a retried publish keeps the first date.
            conn.execute(
                "UPDATE changelog_entries SET state = ?, published_at = CASE WHEN ? "
                "THEN coalesce(published_at, ?) ELSE published_at END WHERE id = ?",
                (state, is_public(state), to_db_time(at), entry_id))
            return _read(conn, entry_id)

        return await self._writer.transaction(write)

    async def list_changelog_entries(self, public_only: bool, limit: int = 20,
                                     offset: int = 0) -> tuple[list[ChangelogEntry], int]:
        where = f"WHERE {_PUBLIC}" if public_only else ""

        def read(conn: sqlite3.Connection) -> tuple[list[ChangelogEntry], int]:
            rows = conn.execute(
                f"SELECT * FROM changelog_entries {where} ORDER BY {_PUBLIC}, "
                "coalesce(published_at, '') DESC, updated_at DESC, id DESC LIMIT ? OFFSET ?",
                (clamp_limit(limit), max(0, int(offset)))).fetchall()
            total = conn.execute(f"SELECT count(*) FROM changelog_entries {where}").fetchone()[0]
            return changelog_entries(conn, rows), total

        return await self._reader.run(read)
