"""Ideas, comments, followers and linked mentions in SQLite, read (votes: sqlite_idea_votes),
and the few plain writes no rule guards (an idea's fields, its impact, a linked mention).
New ideas, comments, statuses, moderation and following are rules in ``community/`` over the
unit of work (``storage.sqlite.uow_forum``)."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime

from domain import utcnow
from domain.forum import (
    Account,
    Comment,
    Idea,
    IdeaPatch,
    IdeaQuery,
    IdeaShown,
    StatusChange,
    Tag,
)
from storage.base import clamp_limit
from storage.sqlite.accounts import account_from_row
from storage.sqlite.db import ThreadedConnection, from_db_time, fts_query, to_db_time
from storage.sqlite.idea_rows import comment_from_row, fetch_idea, ideas_from_rows
from storage.sqlite.idea_titles import APPROVED_SQL, shown_conditions
from storage.sqlite.idea_votes import SqliteIdeaVotes
from storage.sqlite.rows import fetch_one

_WORD = re.compile(r"\w+", re.UNICODE)

_ORDER = {
    "top": "i.vote_count DESC, i.id DESC",
    "new": "i.created_at DESC, i.id DESC",
    "impact": "i.impact DESC, i.vote_count DESC, i.id DESC",
    # Time-decayed: votes divided by a power of the idea's age in hours (gravity from the query).
    "trending": "(i.vote_count + 1) / pow((julianday(?) - julianday(substr(i.created_at, 1, 19))) "
                "* 24 + 2, ?) DESC, i.id DESC",
}


def set_tags(conn: sqlite3.Connection, idea_id: int, tags: tuple[Tag, ...]) -> None:
    """Replace the idea's tags."""
    conn.execute("DELETE FROM idea_tags WHERE idea_id = ?", (idea_id,))
    conn.executemany("INSERT OR REPLACE INTO idea_tags VALUES (?, ?, ?)",
                     [(idea_id, t.name, int(t.public)) for t in tags])


#: deepest page read on the event loop; deeper ones (and searches) go to the reader thread
INLINE_MAX_OFFSET = 200


def _short(query: IdeaQuery) -> bool:
    """Whether the page is a short read by index, to run on the event loop: an indexed
    order near the top, no full-text search.  Trending is computed over every idea and a
    deep offset walks the index: those stay on the reader thread, off the loop."""
    return (query.sort != "trending" and query.offset <= INLINE_MAX_OFFSET
            and not query.text)


def _kept_count(query: IdeaQuery) -> list[tuple[str, list[object]]] | None:
    """Queries whose results add up to the listing's total from the trigger-kept
    ``idea_counts`` (plus the viewer's own unapproved ideas, found by author), or ``None``
    when a filter (topic, tag, author, text) needs a real count."""
    if query.topic or query.tag or query.author_id is not None or query.text or query.include_merged:
        return None  # idea_counts counts the ideas not merged into another only
    where: list[str] = ["1"]
    args: list[object] = []
    if not query.include_hidden:
        where.append("hidden = 0")
    if query.status:
        where.append("status = ?")
        args.append(query.status)
    if query.statuses:
        where.append(f"status IN ({','.join('?' * len(query.statuses))})")
        args += list(query.statuses)
    if query.include_unapproved:
        return [(f"SELECT coalesce(sum(n), 0) FROM idea_counts WHERE {' AND '.join(where)}", args)]
    approved = " AND ".join([*where, f"approval = {APPROVED_SQL}"])
    kept = (f"SELECT coalesce(sum(n), 0) FROM idea_counts WHERE {approved}", args)
    if query.unapproved_of is None:
        return [kept]
    # The viewer's own ideas still waiting for (or refused) approval: few, by the author index.
    own = ["merged_into IS NULL", "author_id = ?", f"approval <> {APPROVED_SQL}", *where[1:]]
    return [kept, (f"SELECT count(*) FROM ideas WHERE {' AND '.join(own)}", [query.unapproved_of, *args])]


class SqliteIdeas(SqliteIdeaVotes):
    """The ideas part of ``SqliteStore``."""

    _reader: ThreadedConnection
    _writer: ThreadedConnection

    async def get_idea(self, idea_id: int) -> Idea:
        return await self._reader.run(lambda conn: fetch_idea(conn, idea_id))

    async def get_ideas(self, idea_ids: list[int]) -> dict[int, Idea]:
        ids = sorted({int(i) for i in idea_ids})[:500]

        def read(conn: sqlite3.Connection) -> dict[int, Idea]:
            marks = ",".join("?" * len(ids))
            rows = conn.execute(f"SELECT * FROM ideas WHERE id IN ({marks})", ids).fetchall() if ids else []
            return {i.id: i for i in ideas_from_rows(conn, rows)}

        return await self._reader.run(read)

    async def update_idea(self, idea_id: int, patch: IdeaPatch, now: datetime) -> Idea:
        changes = {k: v for k, v in (
            ("title", patch.title), ("body", patch.body), ("topic", patch.topic),
            ("hidden", None if patch.hidden is None else int(patch.hidden)),
            ("locked", None if patch.locked is None else int(patch.locked))) if v is not None}

        def write(conn: sqlite3.Connection) -> Idea:
            fetch_idea(conn, idea_id)
            sets = "".join(f", {k} = ?" for k in changes)  # keys are the fixed names above
            conn.execute(f"UPDATE ideas SET updated_at = ?{sets} WHERE id = ?",
                         [to_db_time(now), *changes.values(), idea_id])
            if patch.tags is not None:
                set_tags(conn, idea_id, patch.tags)
            return fetch_idea(conn, idea_id)

        return await self._writer.transaction(write)

    def _list_read(self, query: IdeaQuery) -> Callable[[sqlite3.Connection], tuple[list[Idea], int]]:
        """The reader function of ``list_ideas`` (a text without words lists nothing)."""
        where: list[str] = ["1"]
        args: list[object] = []
        if not query.include_merged:
            where.append("i.merged_into IS NULL")
        if not query.include_hidden:
            where.append("i.hidden = 0")
        if not query.include_unapproved:
            if query.unapproved_of is None:
                where.append(f"i.approval = {APPROVED_SQL}")
            else:
                where.append(f"(i.approval = {APPROVED_SQL} OR i.author_id = ?)")
                args.append(query.unapproved_of)
        if query.status:
            where.append("i.status = ?")
            args.append(query.status)
        if query.statuses:
            where.append(f"i.status IN ({','.join('?' * len(query.statuses))})")
            args += list(query.statuses)
        if query.topic:
            where.append("i.topic = ?")
            args.append(query.topic)
        if query.tag:
            where.append("i.id IN (SELECT idea_id FROM idea_tags WHERE tag = ?"
                         + ("" if query.include_private_tags else " AND public = 1") + ")")
            args.append(query.tag)
        if query.author_id is not None:
            where.append("i.author_id = ?")
            args.append(query.author_id)
        if query.text:
            match = fts_query(query.text)
            if match is None:
                return lambda _conn: ([], 0)
            where.append("i.id IN (SELECT rowid FROM ideas_fts WHERE ideas_fts MATCH ?)")
            args.append(match)
        sql_where = " WHERE " + " AND ".join(where)
        order = _ORDER[query.sort]
        order_args = [to_db_time(utcnow())[:19], query.trending_gravity] if query.sort == "trending" else []
        limit, offset = clamp_limit(query.limit), max(0, query.offset)

        kept_count = _kept_count(query)

        def read(conn: sqlite3.Connection) -> tuple[list[Idea], int]:
            if kept_count is None:
                total = conn.execute(f"SELECT count(*) FROM ideas i{sql_where}", args).fetchone()[0]
            else:
                total = sum(conn.execute(sql, sql_args).fetchone()[0] for sql, sql_args in kept_count)
            rows = conn.execute(f"SELECT i.* FROM ideas i{sql_where} ORDER BY {order} LIMIT ? OFFSET ?",
                                [*args, *order_args, limit, offset]).fetchall()
            return ideas_from_rows(conn, rows), total

        return read

    async def list_ideas(self, query: IdeaQuery) -> tuple[list[Idea], int]:
        return await self._reader.run(self._list_read(query), inline=_short(query))

    async def list_ideas_with_authors(self, query: IdeaQuery) -> tuple[list[Idea], int, dict[int, Account]]:
        read = self._list_read(query)

        def read_with_authors(conn: sqlite3.Connection) -> tuple[list[Idea], int, dict[int, Account]]:
            ideas, total = read(conn)
            ids = sorted({i.author_id for i in ideas if i.author_id is not None})
            rows = conn.execute(f"SELECT * FROM accounts WHERE id IN ({','.join('?' * len(ids))})",
                                ids).fetchall() if ids else []
            return ideas, total, {r["id"]: account_from_row(r) for r in rows}

        # The page and its authors in one call, inline when short (bench/forum.py).
        return await self._reader.run(read_with_authors, inline=_short(query))

    async def status_history(self, idea_id: int) -> list[StatusChange]:
        def read(conn: sqlite3.Connection) -> list[StatusChange]:
            return [StatusChange(r["idea_id"], r["from_status"], r["to_status"], r["response"],
                                 r["account_id"], from_db_time(r["created_at"]))
                    for r in conn.execute("SELECT * FROM status_changes WHERE idea_id = ? ORDER BY id",
                                          (idea_id,))]

        return await self._reader.run(read)

    async def set_impact(self, idea_id: int, impact: float) -> None:
        await self._writer.transaction(lambda conn: conn.execute(
            "UPDATE ideas SET impact = ? WHERE id = ?", (impact, idea_id)))

    async def ideas_voted_by(self, customer_ids: Sequence[str], *, shown: IdeaShown,
                             after: int = 0, limit: int = 500) -> list[int]:
        wanted = json.dumps(sorted({str(c) for c in customer_ids}))
        # The ids go in as one JSON array (no limit on bound parameters); CROSS JOIN keeps
        # this order, so each customer's votes are found through the votes_customer index
        # instead of the planner scanning every shown idea.
        return await self._reader.run(lambda conn: [r[0] for r in conn.execute(
            "SELECT DISTINCT v.idea_id FROM json_each(?) c "
            "CROSS JOIN votes v ON v.customer_id = c.value CROSS JOIN ideas i ON i.id = v.idea_id "
            f"WHERE v.idea_id > ?{shown_conditions(shown, 'i.')} ORDER BY v.idea_id LIMIT ?",
            (wanted, int(after), max(0, int(limit))))])

    async def ideas_linked_to_customers(self, customer_ids: Sequence[str], *, shown: IdeaShown,
                                        after: int = 0, limit: int = 500) -> list[int]:
        wanted = json.dumps(sorted({str(c) for c in customer_ids}))
        # As ideas_voted_by: customers -> their mentions (mention_links_customer) -> linked
        # ideas (idea_mentions_mention), in this order.
        return await self._reader.run(lambda conn: [r[0] for r in conn.execute(
            "SELECT DISTINCT im.idea_id FROM json_each(?) c "
            "CROSS JOIN mention_links l ON l.customer_id = c.value "
            "CROSS JOIN idea_mentions im ON im.mention_id = l.mention_id "
            "CROSS JOIN ideas i ON i.id = im.idea_id "
            f"WHERE im.idea_id > ?{shown_conditions(shown, 'i.')} ORDER BY im.idea_id LIMIT ?",
            (wanted, int(after), max(0, int(limit))))])

    async def get_comment(self, comment_id: int) -> Comment:
        def read(conn: sqlite3.Connection) -> Comment:
            return comment_from_row(fetch_one(conn, "SELECT * FROM comments WHERE id = ?", (comment_id,),
                                              f"no comment {comment_id}"))

        return await self._reader.run(read)

    async def list_comments(self, idea_id: int, include_internal: bool) -> list[Comment]:
        sql = "SELECT * FROM comments WHERE idea_id = ?" + ("" if include_internal else " AND internal = 0")
        return await self._reader.run(lambda conn: [comment_from_row(r) for r in conn.execute(
            sql + " ORDER BY created_at, id", (idea_id,))])

    async def followers(self, idea_id: int) -> list[int]:
        return await self._reader.run(lambda conn: [r[0] for r in conn.execute(
            "SELECT account_id FROM idea_followers WHERE idea_id = ? ORDER BY account_id", (idea_id,))])

    async def followed_ideas(self, account_id: int, limit: int = 200) -> list[int]:
        return await self._reader.run(lambda conn: [r[0] for r in conn.execute(
            "SELECT idea_id FROM idea_followers WHERE account_id = ? ORDER BY idea_id DESC LIMIT ?",
            (account_id, clamp_limit(limit, 1000)))])

    async def link_mention(self, idea_id: int, mention_id: int) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            fetch_idea(conn, idea_id)
            fetch_one(conn, "SELECT 1 FROM mentions WHERE id = ?", (mention_id,), f"no mention {mention_id}")
            return conn.execute("INSERT OR IGNORE INTO idea_mentions VALUES (?, ?)",
                                (idea_id, mention_id)).rowcount == 1

        return await self._writer.transaction(write)

    async def idea_mentions(self, idea_id: int) -> list[int]:
        return await self._reader.run(lambda conn: [r[0] for r in conn.execute(
            "SELECT mention_id FROM idea_mentions WHERE idea_id = ? ORDER BY mention_id", (idea_id,))])
