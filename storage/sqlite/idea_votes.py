"""Votes in SQLite: reads, and taking a vote back.  Casting one is ``community.voting``'s
rules over the unit of work (storage.sqlite.uow)."""

from __future__ import annotations

import sqlite3

from domain.forum import (
    IdeaVoters,
    Vote,
    VoterGroup,
    VoterName,
)
from storage.sqlite.db import ThreadedConnection
from storage.sqlite.idea_rows import vote_from_row


class SqliteIdeaVotes:
    """The votes part of ``SqliteStore`` (a base of ``SqliteIdeas``)."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def list_votes(self, idea_id: int) -> list[Vote]:
        return await self._reader.run(lambda conn: [vote_from_row(r) for r in conn.execute(
            "SELECT * FROM votes WHERE idea_id = ? ORDER BY id", (idea_id,))])

    async def idea_voter_ids(self, idea_id: int, after: str | None, limit: int) -> list[str]:
        # Keyset paging on UNIQUE (idea_id, customer_id): each page is one index range.
        return await self._reader.run(lambda conn: [r[0] for r in conn.execute(
            "SELECT customer_id FROM votes WHERE idea_id = ? AND customer_id > ? "
            "ORDER BY customer_id LIMIT ?", (idea_id, after or "", max(0, int(limit))))])

    async def idea_voter_groups(self, idea_id: int) -> list[VoterGroup]:
        return await self._reader.run(lambda conn: [VoterGroup(r[0], r[1], r[2]) for r in conn.execute(
            "SELECT c.segment, c.annual_revenue, count(*) FROM votes v "
            "LEFT JOIN customers c ON c.id = v.customer_id WHERE v.idea_id = ? "
            "GROUP BY c.segment, c.annual_revenue", (idea_id,))])

    async def idea_voters(self, idea_id: int, limit: int) -> IdeaVoters:
        def read(conn: sqlite3.Connection) -> IdeaVoters:
            count = conn.execute("SELECT count(*) FROM votes WHERE idea_id = ?", (idea_id,)).fetchone()[0]
            rows = conn.execute(
                "SELECT v.customer_id, c.name, c.company FROM votes v "
                "LEFT JOIN customers c ON c.id = v.customer_id "
                "WHERE v.idea_id = ? ORDER BY v.id LIMIT ?", (idea_id, max(0, int(limit)))).fetchall()
            return IdeaVoters(count, tuple(VoterName(r[0], r[1], r[2]) for r in rows))

        return await self._reader.run(read)

    async def voted(self, customer_id: str, idea_ids: list[int]) -> set[int]:
        ids = [int(i) for i in idea_ids][:500]
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        return await self._reader.run(lambda conn: {r[0] for r in conn.execute(
            f"SELECT idea_id FROM votes WHERE customer_id = ? AND idea_id IN ({marks})",
            [customer_id, *ids])})
