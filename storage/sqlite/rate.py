"""Rate-limit counters inside a SQLite transaction (shared by the moderation and vote writes)."""

from __future__ import annotations

import sqlite3


def bump_rate_hit(conn: sqlite3.Connection, scope: str, subject: str, window_start: int,
                  forget_before: int) -> int:
    """Count one request of ``subject`` in the window starting at ``window_start`` (windows
    before ``forget_before`` are forgotten) and return the window's count so far."""
    conn.execute("DELETE FROM rate_hits WHERE scope = ? AND subject = ? AND window_start < ?",
                 (scope, subject, forget_before))
    return conn.execute(
        "INSERT INTO rate_hits VALUES (?, ?, ?, 1) ON CONFLICT (scope, subject, window_start) "
        "DO UPDATE SET hits = hits + 1 RETURNING hits", (scope, subject, window_start)).fetchone()[0]
