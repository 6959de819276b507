"""Ideas, comments and votes from their SQLite rows (shared by the forum's SQLite mixins)."""

from __future__ import annotations

import dataclasses
import functools
import operator
import sqlite3
from datetime import datetime

from domain.forum import Idea, Tag, Vote
from storage.sqlite.db import from_db_time
from storage.rows import COMMENT
from storage.sqlite.rows import fetch_one, row_reader


def _opt_time(value: str | None) -> datetime | None:
    return from_db_time(value) if value else None


#: the columns an Idea is made of, in the order ideas_from_rows unpacks them
IDEA_COLUMNS = ("id", "title", "body", "author_id", "status", "created_at", "updated_at", "topic",
                 "vote_count", "comment_count", "impact", "merged_into", "hidden", "locked",
                 "status_response", "status_changed_at", "approval", "spam")


def ideas_from_rows(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Idea]:
    """Ideas with their tags (one query for all), in the order of ``rows``."""
    if not rows:
        return []
    # Row lookups by name scan the column names each time; by position they do not, which
    # matters for a page of ideas per request (bench/forum.py).
    names = rows[0].keys()
    unpack = operator.itemgetter(*(names.index(c) for c in IDEA_COLUMNS))
    ids = [r[0] for r in map(unpack, rows)]
    tags: dict[int, list[Tag]] = {}
    marks = ",".join("?" * len(ids))
    for idea_id, tag, public in conn.execute(
            f"SELECT idea_id, tag, public FROM idea_tags WHERE idea_id IN ({marks}) ORDER BY tag", ids):
        tags.setdefault(idea_id, []).append(Tag(tag, bool(public)))
    return [idea_from_values(values, tuple(tags.get(values[0], ()))) for values in map(unpack, rows)]


#: every field of an Idea, in the order its constructor takes them
_IDEA_FIELDS = tuple(f.name for f in dataclasses.fields(Idea))
_IDEA_VALUES = operator.attrgetter(*_IDEA_FIELDS)
_VOTE_COUNT_AT, _IMPACT_AT = _IDEA_FIELDS.index("vote_count"), _IDEA_FIELDS.index("impact")


def with_counts(idea: Idea, vote_count: int, impact: float) -> Idea:
    """``idea`` with other vote counts: ``dataclasses.replace(idea, vote_count=..., impact=...)``
    at a fifth of its cost (it looks every field up by name for each vote counted)."""
    values = list(_IDEA_VALUES(idea))
    values[_VOTE_COUNT_AT], values[_IMPACT_AT] = vote_count, impact
    return Idea(*values)


@functools.lru_cache(maxsize=1024)
def idea_from_values(values: tuple, tags: tuple[Tag, ...]) -> Idea:
    """The idea of ``values`` (its ``IDEA_COLUMNS``, in order) and ``tags``."""
    # Ideas are immutable values: the same columns and tags always give an equal Idea, so
    # one is made per distinct row, not per read (the top list reads the same 20 rows
    # between votes; a vote changes the row, so the next read makes a new one).
    (idea_id, title, body, author_id, status, created_at, updated_at, topic, vote_count,
     comment_count, impact, merged_into, hidden, locked, status_response, status_changed_at,
     approval, spam) = values
    return Idea(
        id=idea_id, title=title, body=body, author_id=author_id, status=status,
        created_at=from_db_time(created_at), updated_at=from_db_time(updated_at), topic=topic,
        tags=tags, vote_count=vote_count, comment_count=comment_count,
        impact=impact, merged_into=merged_into, hidden=bool(hidden), locked=bool(locked),
        status_response=status_response, status_changed_at=_opt_time(status_changed_at),
        approval=approval, spam=bool(spam))


def fetch_idea(conn: sqlite3.Connection, idea_id: int) -> Idea:
    """One idea inside a connection call; raises ``NotFound``."""
    row = fetch_one(conn, "SELECT * FROM ideas WHERE id = ?", (idea_id,), f"no idea {idea_id}")
    return ideas_from_rows(conn, [row])[0]


#: a comment from its row
comment_from_row = row_reader(COMMENT)


def vote_from_row(r: sqlite3.Row) -> Vote:
    """A vote from its row."""
    return Vote(id=r["id"], idea_id=r["idea_id"], customer_id=r["customer_id"],
                account_id=r["account_id"], created_at=from_db_time(r["created_at"]),
                proxy=bool(r["proxy"]), proxy_note=r["proxy_note"], proxy_source=r["proxy_source"])
