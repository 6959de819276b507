"""A page of mentions with a full-text filter, read newest first in growing slices of time.

A common word matches a large share of all mentions, and reading its whole match list
before the first page costs hundreds of milliseconds with a million mentions.  Instead the
newest mentions are taken in slices along the ``(created_at, id)`` index — 2,000 first, four
times more each further slice — and the full-text index is asked only for the id range of
the slice's mentions (every mention of a slice has an id in that range, whatever order ids
were given in).  Slices are disjoint and in page order, so the page is exact; the first page
usually needs one or two slices.  Words matching few mentions are read the plain way: their
match list is short, and slices would find little.
"""

from __future__ import annotations

import sqlite3
from typing import Any

#: The full-text condition ``mention_conditions`` writes, and its ranged form used per slice.
TEXT_CONDITION = "m.id IN (SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ?)"
_RANGED_TEXT = "m.id IN (SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ? AND rowid BETWEEN ? AND ?)"
#: The page cursor's condition (the listing continues below this ``(created_at, id)``).
CURSOR_CONDITION = "(m.created_at, m.id) < (?, ?)"
FIRST_SLICE = 2000
SLICE_GROWTH = 4
#: Words matching at most this many mentions are read the plain way (their whole match list
#: is short, and slices would find little in each).
PLAIN_MATCHES_MAX = 10_000


def _arg_offset(where: list[str], condition: str) -> int:
    """Where ``condition``'s first argument sits in the arguments of ``where``."""
    offset = 0
    for cond in where:
        if cond == condition:
            return offset
        offset += cond.count("?")
    raise ValueError(f"no condition {condition!r}")


def read_text_page(conn: sqlite3.Connection, from_sql: str, where: list[str], args: list[Any],
                   want: int) -> list[sqlite3.Row]:
    """Up to ``want`` rows of ``SELECT m.* FROM from_sql WHERE where`` newest first, where
    ``where`` holds ``TEXT_CONDITION``."""
    text_at = _arg_offset(where, TEXT_CONDITION)
    bound: tuple[Any, ...] | None = None
    if CURSOR_CONDITION in where:
        at = _arg_offset(where, CURSOR_CONDITION)
        bound = (args[at], args[at + 1])
    # Counting reads only the words' doclists (a few ms for 50,000 matches).
    matches = conn.execute("SELECT count(*) FROM (SELECT 1 FROM mentions_fts WHERE mentions_fts MATCH ? "
                           "LIMIT ?)", (args[text_at], PLAIN_MATCHES_MAX + 1)).fetchone()[0]
    if matches <= PLAIN_MATCHES_MAX:
        return conn.execute(f"SELECT m.* FROM {from_sql} WHERE " + " AND ".join(where)
                            + " ORDER BY m.created_at DESC, m.id DESC LIMIT ?", [*args, want]).fetchall()
    ranged = [_RANGED_TEXT if c == TEXT_CONDITION else c for c in where]
    rows: list[sqlite3.Row] = []
    size = FIRST_SLICE
    while len(rows) < want:
        above = f" WHERE {CURSOR_CONDITION}" if bound else ""
        low = conn.execute(f"SELECT m.created_at, m.id FROM mentions m{above} "
                           "ORDER BY m.created_at DESC, m.id DESC LIMIT 1 OFFSET ?",
                           [*(bound or ()), size - 1]).fetchone()
        slice_sql, slice_args = [], []
        if low is not None:
            slice_sql.append("(m.created_at, m.id) >= (?, ?)")
            slice_args += [low[0], low[1]]
        if bound is not None:
            slice_sql.append(CURSOR_CONDITION)
            slice_args += list(bound)
        slice_where = (" WHERE " + " AND ".join(slice_sql)) if slice_sql else ""
        lo, hi = conn.execute(f"SELECT min(m.id), max(m.id) FROM mentions m{slice_where}", slice_args).fetchone()
        if lo is not None:
            page_args = [*args[:text_at + 1], lo, hi, *args[text_at + 1:], *slice_args]
            sql = (f"SELECT m.* FROM {from_sql} WHERE " + " AND ".join([*ranged, *slice_sql])
                   + " ORDER BY m.created_at DESC, m.id DESC LIMIT ?")
            rows += conn.execute(sql, [*page_args, want - len(rows)]).fetchall()
        if low is None:
            break  # the slice reached the oldest mention
        bound = (low[0], low[1])
        size *= SLICE_GROWTH
    return rows
