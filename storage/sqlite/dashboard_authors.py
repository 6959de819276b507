"""Top authors over whole days in SQLite, read from kept "author windows".

A month holds tens of thousands of distinct authors, and grouping them per request costs
hundreds of milliseconds.  Instead a few recently asked periods are kept as windows
(``author_window``): every author's exact mentions and engagement over the window's days,
indexed by mentions.  Triggers on the daily summary ``mention_day_author`` keep every window
that covers a changed day exact, so a request for a kept period reads the first rows of an
index.  A request for another period of the same length (the same view a day later) rolls the
window of that length nearest to it (adds the days it lacks and removes the days it no
longer covers, from the daily summary) when that is cheaper than building one; otherwise a
new window is built, replacing the least recently built or rolled one once
``WINDOWS_KEPT`` are kept.  The
answers are exact: a window holds the same sums a grouping of the daily summary would give.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

from domain import utcnow
from domain.triage import AuthorVolume
from storage.sqlite.db import to_db_time

#: How many periods are kept; each holds one row per author active in it.
WINDOWS_KEPT = 4
#: Longer periods are grouped per request on the reader: building a window holds the writer
#: (about 0.3 s for 30 days and 0.7–1.8 s for 90 days with a million mentions), and the dashboard
#: offers at most 90 days.
WINDOW_DAYS_MAX = 92


def read_top_authors(conn: sqlite3.Connection, days: tuple[str, str], limit: int) -> list[AuthorVolume] | None:
    """The top ``limit`` authors from a window kept for exactly ``days``; ``None`` when no
    window is kept for that period (one read transaction, so window and rows agree)."""
    conn.execute("BEGIN")
    try:
        row = conn.execute("SELECT id FROM author_window WHERE first_day = ? AND end_day = ?",
                           days).fetchone()
        return None if row is None else _top(conn, row[0], days, limit)
    finally:
        conn.execute("COMMIT")


def keep_top_authors(conn: sqlite3.Connection, days: tuple[str, str], limit: int) -> list[AuthorVolume]:
    """Inside a write transaction: bring a window to exactly ``days`` (roll the cheapest kept
    one or build one) and read its top ``limit`` authors."""
    first, end = days
    wanted = _day_set(first, end)
    windows = conn.execute("SELECT id, first_day, end_day, used_at FROM author_window").fetchall()
    best = None
    for wid, wfirst, wend, _used in windows:
        kept = _day_set(wfirst, wend)
        # Only a window as long as the period rolls to it (the same view a day later):
        # rolling a 90-day window to 7 days and back would redo most of both every time.
        if len(kept) != len(wanted):
            continue
        cost = len(wanted ^ kept)
        if best is None or cost < best[1]:
            best = (wid, cost, kept)
    now = to_db_time(utcnow())
    if best is not None and best[1] == 0:
        window_id = best[0]  # made by another request since this one looked
    elif best is not None and best[1] < len(wanted):
        window_id, _cost, kept = best
        _roll(conn, window_id, sorted(wanted - kept), sorted(kept - wanted))
        conn.execute("UPDATE author_window SET first_day = ?, end_day = ?, used_at = ? WHERE id = ?",
                     (first, end, now, window_id))
    else:
        if len(windows) >= WINDOWS_KEPT:
            oldest = min(windows, key=lambda w: w[3])[0]
            conn.execute("DELETE FROM author_window_count WHERE window_id = ?", (oldest,))
            conn.execute("DELETE FROM author_window WHERE id = ?", (oldest,))
        window_id = conn.execute("INSERT INTO author_window (first_day, end_day, used_at) "
                                 "VALUES (?, ?, ?) RETURNING id", (first, end, now)).fetchone()[0]
        _add_days(conn, window_id, first, end, sign=1)
    return _top(conn, window_id, days, limit)


def _top(conn: sqlite3.Connection, window_id: int, days: tuple[str, str], limit: int) -> list[AuthorVolume]:
    rows = conn.execute(
        "SELECT source, author_handle, mentions, engagement FROM author_window_count "
        "WHERE window_id = ? AND mentions > 0 ORDER BY mentions DESC, author_handle, source LIMIT ?",
        (window_id, limit)).fetchall()
    # The display name is the largest one the author used in the period, as when grouping;
    # one seek per day of the daily summary's key, for the few authors shown.
    listed = sorted(_day_set(*days))
    marks = ",".join("?" * len(listed))
    out = []
    for source, handle, mentions, engagement in rows:
        name = conn.execute(
            f"SELECT max(author_name) FROM mention_day_author WHERE day IN ({marks}) "
            "AND source = ? AND author_handle = ?", (*listed, source, handle)).fetchone()[0]
        out.append(AuthorVolume(source, handle, name, mentions, int(engagement or 0)))
    return out


def _roll(conn: sqlite3.Connection, window_id: int, add: list[str], remove: list[str]) -> None:
    """Move a window: add the summary rows of the days in ``add``, subtract those in ``remove``."""
    for day in add:
        _add_days(conn, window_id, day, _next_day(day), sign=1)
    for day in remove:
        _add_days(conn, window_id, day, _next_day(day), sign=-1)
    if remove:
        conn.execute("DELETE FROM author_window_count WHERE window_id = ? AND mentions <= 0", (window_id,))


def _add_days(conn: sqlite3.Connection, window_id: int, first: str, end: str, sign: int) -> None:
    conn.execute(
        "INSERT INTO author_window_count (window_id, source, author_handle, mentions, engagement) "
        "SELECT ?, source, author_handle, ? * sum(mentions), ? * sum(engagement) FROM mention_day_author "
        "WHERE day >= ? AND day < ? GROUP BY source, author_handle "
        "ON CONFLICT (window_id, source, author_handle) DO UPDATE "
        "SET mentions = mentions + excluded.mentions, engagement = engagement + excluded.engagement",
        (window_id, sign, sign, first, end))


def _day_set(first: str, end: str) -> set[str]:
    start, stop = date.fromisoformat(first), date.fromisoformat(end)
    return {(start + timedelta(days=i)).isoformat() for i in range((stop - start).days)}


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()
