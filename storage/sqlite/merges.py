"""Merge records in SQLite, read (a merge itself is ``community.merging``'s rules over the
unit of work, storage.sqlite.uow)."""

from __future__ import annotations

from domain.forum import MergeRecord
from storage.sqlite.db import ThreadedConnection
from storage.sqlite.uow import merge_from_row


class SqliteMerges:
    """The merge records part of ``SqliteStore``."""

    _reader: ThreadedConnection

    async def merges_of(self, idea_id: int) -> list[MergeRecord]:
        return await self._reader.run(lambda conn: [merge_from_row(r) for r in conn.execute(
            "SELECT * FROM idea_merges WHERE source_id = ? OR target_id = ? ORDER BY id DESC",
            (idea_id, idea_id))])
