"""Merge records in SQLite, read (a merge itself is ``community.merging``'s rules over the
unit of work, storage.sqlite.uow, whose merge records are ``SqliteMergeRows``)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from domain.forum import MergeRecord
from storage.contract.uow import MergeRows
from storage.sqlite.db import ThreadedConnection, from_db_time, to_db_time


def merge_from_row(r: sqlite3.Row) -> MergeRecord:
    """A merge record from its row."""
    return MergeRecord(id=r["id"], source_id=r["source_id"], target_id=r["target_id"],
                       account_id=r["account_id"], created_at=from_db_time(r["created_at"]),
                       undone_at=from_db_time(r["undone_at"]) if r["undone_at"] else None,
                       moved=json.loads(r["moved"]))


class SqliteMergeRows(MergeRows):
    """The unit of work's merge records (``storage.sqlite.uow``) over its connection's ``call``."""

    def __init__(self, call: Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]) -> None:
        self._call = call

    async def add(self, source_id: int, target_id: int, account_id: int | None,
                  moved: dict[str, Any], now: datetime) -> MergeRecord:
        return await self._call(lambda conn: merge_from_row(conn.execute(
            "INSERT INTO idea_merges (source_id, target_id, account_id, moved, created_at) "
            "VALUES (?, ?, ?, ?, ?) RETURNING *",
            (source_id, target_id, account_id, json.dumps(moved), to_db_time(now))).fetchone()))

    async def finish(self, merge_id: int) -> None:
        """Nothing to mark: the transaction holds the record and its moves together."""

    async def open_of(self, source_id: int) -> MergeRecord | None:
        def read(conn: sqlite3.Connection) -> MergeRecord | None:
            row = conn.execute("SELECT * FROM idea_merges WHERE source_id = ? AND undone_at IS NULL "
                               "ORDER BY id DESC LIMIT 1", (source_id,)).fetchone()
            return None if row is None else merge_from_row(row)

        return await self._call(read)

    async def undone(self, merge_id: int, now: datetime) -> MergeRecord:
        return await self._call(lambda conn: merge_from_row(conn.execute(
            "UPDATE idea_merges SET undone_at = ? WHERE id = ? RETURNING *",
            (to_db_time(now), merge_id)).fetchone()))


class SqliteMerges:
    """The merge records part of ``SqliteStore``."""

    _reader: ThreadedConnection

    async def merges_of(self, idea_id: int) -> list[MergeRecord]:
        return await self._reader.run(lambda conn: [merge_from_row(r) for r in conn.execute(
            "SELECT * FROM idea_merges WHERE source_id = ? OR target_id = ? ORDER BY id DESC",
            (idea_id, idea_id))])
