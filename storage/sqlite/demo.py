"""``SqliteStore.move_forward``: a stored demo dated whole days later (``demo load --refresh``).

Mentions, the forum, team queues, triage, deliveries, notifications and spike alerts move
together; when something was ingested (``ingested_at``) stays the true time of the import.
"""

from __future__ import annotations

import sqlite3
from typing import Any

#: Time columns moved, per table.  Times are fixed-width text ("YYYY-MM-DDTHH:MM:SS.ffffffZ"):
#: only the date part changes.  The mention summaries (per day, per author, share of voice)
#: follow through their UPDATE OF created_at triggers.
_MOVED = {
    "mentions": ("created_at",),
    "spike_alerts": ("window_start", "detected_at"),
    "ideas": ("created_at", "updated_at", "status_changed_at"),
    "votes": ("created_at",),
    "comments": ("created_at", "updated_at"),
    "status_changes": ("created_at",),
    "idea_merges": ("created_at", "undone_at"),
    "idea_thresholds": ("crossed_at",),
    "notifications": ("created_at", "read_at"),
    # Team queues: when an item arrived (its due time is routed_at plus the team's SLA),
    # was acknowledged, escalated, and what its log says happened when.
    "routed_items": ("routed_at", "acknowledged_at", "updated_at"),
    "routing_log": ("at",),
    "routing_escalations": ("at",),
    "routing_decisions": ("decided_at",),
    "deliveries": ("created_at", "next_attempt_at", "claimed_until", "sent_at"),
    "mention_triage": ("updated_at", "first_action_at", "posted_at"),
    "mention_notes": ("created_at",),
}


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
