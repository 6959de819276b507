"""Idea titles for the similar-ideas search in SQLite: full-text hits and the most voted
titles, restricted to the ideas the caller's rule shows (``IdeaShown``)."""

from __future__ import annotations

import re
import sqlite3

from domain.forum import APPROVED, IdeaShown
from storage.sqlite.db import ThreadedConnection, sql_literal

_WORD = re.compile(r"\w+", re.UNICODE)

#: the domain's approved state as an SQL literal: inlined (a constant, never outside input) so
#: the planner sees the same text as the partial index ideas_approval (0050_moderation.sql)
APPROVED_SQL = sql_literal(APPROVED)


def shown_conditions(shown: IdeaShown, alias: str = "") -> str:
    """`` AND ...`` leaving out of an ``ideas`` read what ``shown`` leaves out ("" keeps all)."""
    left_out = [condition for kept, condition in (
        (shown.merged, f"{alias}merged_into IS NULL"), (shown.hidden, f"{alias}hidden = 0"),
        (shown.unapproved, f"{alias}approval = {APPROVED_SQL}")) if not kept]
    return "".join(f" AND {condition}" for condition in left_out)


class SqliteIdeaTitles:
    """The idea-title part of ``SqliteStore``."""

    _reader: ThreadedConnection

    async def idea_titles_matching(self, text: str, limit: int,
                                   shown: IdeaShown) -> list[tuple[int, str, float]]:
        words = _WORD.findall(text)[:32]
        if not words:
            return []
        match = " OR ".join('"' + w.replace('"', '""') + '"' for w in words)

        def read(conn: sqlite3.Connection) -> list[tuple[int, str, float]]:
            return [(r[0], r[1], -r[2]) for r in conn.execute(
                "SELECT i.id, i.title, bm25(ideas_fts, 10.0, 1.0) AS rank FROM ideas_fts "
                "JOIN ideas i ON i.id = ideas_fts.rowid WHERE ideas_fts MATCH ?"
                f"{shown_conditions(shown, 'i.')} ORDER BY rank LIMIT ?", (match, limit))]

        return await self._reader.run(read)

    async def most_voted_idea_titles(self, limit: int, shown: IdeaShown) -> list[tuple[int, str]]:
        where = shown_conditions(shown).removeprefix(" AND ") or "1"
        return await self._reader.run(lambda conn: [(r[0], r[1]) for r in conn.execute(
            f"SELECT id, title FROM ideas WHERE {where} ORDER BY vote_count DESC, id DESC LIMIT ?",
            (limit,))])
