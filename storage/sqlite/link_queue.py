"""The review queue page's reads and writes in SQLite: pending links, refused aliases."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from domain import LINK_PENDING
from domain.link_queue import PendingLink, RefusedAlias
from storage.contract.link_queue import MAX_PENDING
from storage.sqlite.db import ThreadedConnection, from_db_time, sql_literal
from storage.sqlite.mentions import link_from_row


_PENDING = sql_literal(LINK_PENDING)


class SqliteLinkQueue:
    """The review queue page's part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def pending_links(self, limit: int = MAX_PENDING) -> list[PendingLink]:
        def read(conn: sqlite3.Connection) -> list[PendingLink]:
            # mention_links_status (status, id) gives the pending links in order.
            rows = conn.execute(
                "SELECT l.*, m.source AS m_source, m.author_handle AS m_author, m.text AS m_text, "
                "m.created_at AS m_created FROM mention_links l JOIN mentions m ON m.id = l.mention_id "
                f"WHERE l.status = {_PENDING} ORDER BY l.id LIMIT ?", (max(1, int(limit)),)).fetchall()
            return [PendingLink(link_from_row(r), r["mention_id"], r["m_source"], r["m_author"],
                                r["m_text"], from_db_time(r["m_created"])) for r in rows]

        return await self._reader.run(read)

    async def drop_pending_links(self, link_ids: Sequence[int]) -> int:
        ids = sorted({int(i) for i in link_ids})

        def write(conn: sqlite3.Connection) -> int:
            dropped = 0
            for start in range(0, len(ids), 500):  # bound the parameters of one statement
                chunk = ids[start:start + 500]
                dropped += conn.execute(
                    f"DELETE FROM mention_links WHERE status = {_PENDING} AND id IN ({','.join('?' * len(chunk))})",
                    chunk).rowcount
            return dropped

        return await self._writer.transaction(write) if ids else 0

    async def refused_aliases(self) -> list[RefusedAlias]:
        def read(conn: sqlite3.Connection) -> list[RefusedAlias]:
            return [RefusedAlias(r["customer_id"], r["alias"], r["refused_by"], from_db_time(r["refused_at"]))
                    for r in conn.execute("SELECT * FROM refused_aliases ORDER BY refused_at, rowid")]

        return await self._reader.run(read)
