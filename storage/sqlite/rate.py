"""Rate-limit counters inside a SQLite transaction (shared by the moderation and vote writes)."""

from __future__ import annotations

import sqlite3

_COUNT = ("INSERT INTO rate_hits VALUES (?, ?, ?, 1) ON CONFLICT (scope, subject, window_start) "
          "DO UPDATE SET hits = hits + 1 RETURNING hits, "
          "EXISTS (SELECT 1 FROM rate_hits WHERE scope = ? AND subject = ? AND window_start < ?)")
_FORGET = "DELETE FROM rate_hits WHERE scope = ? AND subject = ? AND window_start < ?"


def bump_rate_hit(conn: sqlite3.Connection, scope: str, subject: str, window_start: int,
                  forget_before: int) -> int:
    """Count one request of ``subject`` in the window starting at ``window_start`` (windows
    before ``forget_before`` are forgotten) and return the window's count so far."""
    if window_start < forget_before:  # the window itself is forgotten first: it starts again
        conn.execute(_FORGET, (scope, subject, forget_before))
        return conn.execute(_COUNT, (scope, subject, window_start, scope, subject, forget_before)).fetchone()[0]
    # Counted first, forgetting only when there is something to forget: one statement for
    # almost every request (each statement on the writer thread is a hand-over of the GIL).
    hits, old = conn.execute(_COUNT, (scope, subject, window_start, scope, subject, forget_before)).fetchone()
    if old:
        conn.execute(_FORGET, (scope, subject, forget_before))
    return hits
