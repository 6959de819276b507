"""``SqliteStore.move_forward``: a stored demo dated whole days later (``demo load --refresh``).

Mentions, the forum, team queues, triage, deliveries, notifications and spike alerts move
together; when something was ingested (``ingested_at``) stays the true time of the import.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from storage.rows import DEMO_TIMES

#: Time columns moved, per table.  Times are fixed-width text ("YYYY-MM-DDTHH:MM:SS.ffffffZ"):
#: only the date part changes.  The mention summaries (per day, per author, share of voice)
#: follow through their UPDATE OF created_at triggers.
_MOVED = {**DEMO_TIMES, "mention_triage": ("updated_at", "first_action_at", "posted_at")}


class SqliteDemo:
    """The demo refresh part of ``SqliteStore``."""

    _writer: Any

    async def move_forward(self, days: int) -> None:
        if days <= 0:
            return
        shift = f"+{int(days)} days"

        def write(conn: sqlite3.Connection) -> None:
            for table, columns in _MOVED.items():
                # date(NULL) is NULL, so unset times stay unset.
                sets = ", ".join(f"{c} = date(substr({c}, 1, 10), :shift) || substr({c}, 11)" for c in columns)
                conn.execute(f"UPDATE {table} SET {sets}", {"shift": shift})  # noqa: S608 - names are ours

        await self._writer.transaction(write)
