"""Votes in SQLite: one per customer and idea, counted on the idea in the same transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace

from crmsphere.domain import Customer
from crmsphere.domain_forum import (
    Idea,
    IdeaVoters,
    RateWindow,
    ScoreThreshold,
    Vote,
    VoteCast,
    VoterGroup,
    VoterName,
)
from crmsphere.errors import NotFound
from storage.base_ideas import VoteCheck
from storage.sqlite_customers import _customers_from_rows
from storage.base_events import threshold_event
from storage.sqlite_db import ThreadedConnection, from_db_time, to_db_time
from storage.sqlite_events import record_events
from storage.sqlite_idea_rows import fetch_idea, vote_from_row
from storage.sqlite_rate import bump_rate_hit


def _insert_vote(conn: sqlite3.Connection, vote: Vote, impact: float, customer_known: bool = False) -> bool:
    """Add the vote, count it and let its account follow; False if the customer had voted."""
    if not customer_known and conn.execute(
            "SELECT 1 FROM customers WHERE id = ?", (vote.customer_id,)).fetchone() is None:
        raise NotFound(f"no customer {vote.customer_id!r}")
    row = conn.execute(
        "INSERT INTO votes (idea_id, customer_id, account_id, proxy, proxy_note, proxy_source, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idea_id, customer_id) DO NOTHING "
        "RETURNING id",
        (vote.idea_id, vote.customer_id, vote.account_id, int(vote.proxy), vote.proxy_note,
         vote.proxy_source, to_db_time(vote.created_at))).fetchone()
    if row is None:
        return False
    conn.execute("UPDATE ideas SET vote_count = vote_count + 1, impact = impact + ? WHERE id = ?",
                 (impact, vote.idea_id))
    if vote.account_id is not None and not vote.proxy:
        conn.execute("INSERT OR IGNORE INTO idea_followers VALUES (?, ?)", (vote.idea_id, vote.account_id))
    return True


def _reached(conn: sqlite3.Connection, idea: Idea, thresholds: Sequence[ScoreThreshold],
             at: str) -> tuple[str, ...]:
    """Record each of ``thresholds`` the idea has crossed; the names recorded for the first time."""
    reached = []
    for threshold in thresholds:
        if threshold.crossed(idea) and conn.execute(
                "INSERT INTO idea_thresholds VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (idea.id, threshold.name, at)).rowcount == 1:
            reached.append(threshold.name)
    # With the thresholds, in the caller's transaction.
    record_events(conn, [threshold_event(idea.id, name) for name in reached], from_db_time(at))
    return tuple(reached)


class SqliteIdeaVotes:
    """The votes part of ``SqliteStore`` (a base of ``SqliteIdeas``)."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def add_vote(self, vote: Vote, impact: float = 0.0) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            fetch_idea(conn, vote.idea_id)
            return _insert_vote(conn, vote, impact)

        return await self._writer.transaction(write)

    async def vote_context(self, idea_id: int, customer_id: str) -> tuple[Idea, Customer | None]:
        def read(conn: sqlite3.Connection) -> tuple[Idea, Customer | None]:
            idea = fetch_idea(conn, idea_id)
            rows = conn.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchall()
            return idea, next(iter(_customers_from_rows(conn, rows)), None)

        return await self._reader.run(read)

    async def cast_vote(self, vote: Vote, impact: float = 0.0, rate: RateWindow | None = None,
                        thresholds: Sequence[ScoreThreshold] = ()) -> VoteCast:
        at = to_db_time(vote.created_at)

        def write(conn: sqlite3.Connection) -> VoteCast:
            if conn.execute("SELECT 1 FROM ideas WHERE id = ?", (vote.idea_id,)).fetchone() is None:
                raise NotFound(f"no idea {vote.idea_id}")
            hits = None if rate is None else bump_rate_hit(
                conn, rate.scope, rate.subject, rate.window_start, rate.forget_before)
            within = hits is None or hits <= rate.limit  # type: ignore[union-attr]
            added = within and _insert_vote(conn, vote, impact)
            idea = fetch_idea(conn, vote.idea_id)
            return VoteCast(hits, added, idea, _reached(conn, idea, thresholds if added else (), at))

        # One transaction for the rate count, the vote, its count, the follower and the
        # thresholds: one hop to the writer thread per vote instead of one per step.
        return await self._writer.transaction(write)

    async def cast_checked_vote(self, vote: Vote, check: VoteCheck, rate: RateWindow | None = None,
                                thresholds: Sequence[ScoreThreshold] = ()) -> VoteCast:
        at = to_db_time(vote.created_at)

        def write(conn: sqlite3.Connection) -> VoteCast:
            idea = fetch_idea(conn, vote.idea_id)
            rows = conn.execute("SELECT * FROM customers WHERE id = ?", (vote.customer_id,)).fetchall()
            customer = next(iter(_customers_from_rows(conn, rows)), None)
            impact = check(idea, customer)  # raises: rolled back, nothing written
            hits = None if rate is None else bump_rate_hit(
                conn, rate.scope, rate.subject, rate.window_start, rate.forget_before)
            if impact is None:
                return VoteCast(hits, False, idea, closed=True)
            if hits is not None and hits > rate.limit:  # type: ignore[union-attr]
                return VoteCast(hits, False, idea)
            if customer is None:
                raise NotFound(f"no customer {vote.customer_id!r}")
            added = _insert_vote(conn, vote, impact, customer_known=True)
            if added:  # the write lock is held since the idea was read: count it here
                idea = replace(idea, vote_count=idea.vote_count + 1, impact=idea.impact + impact)
            return VoteCast(hits, added, idea, _reached(conn, idea, thresholds if added else (), at))

        # One transaction, one hop to the writer thread: the idea and the customer read,
        # checked, the rate count, the vote, its count, the follower and the thresholds.
        return await self._writer.transaction(write)

    async def remove_vote(self, idea_id: int, customer_id: str, impact: float = 0.0) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            fetch_idea(conn, idea_id)
            gone = conn.execute("DELETE FROM votes WHERE idea_id = ? AND customer_id = ?",
                                (idea_id, customer_id)).rowcount
            if gone:
                conn.execute("UPDATE ideas SET vote_count = vote_count - 1, impact = max(0, impact - ?) "
                             "WHERE id = ?", (impact, idea_id))
            return bool(gone)

        return await self._writer.transaction(write)

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
