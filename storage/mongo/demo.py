"""``MongoStore.move_forward``: a stored demo dated whole days later (``demo load --refresh``)."""

from __future__ import annotations

from typing import Any

#: Time fields moved, per collection (BSON dates; the ``_us`` microsecond parts stay).
_MOVED = {
    # A mention's triage is kept inside its document.
    "mentions": ("created_at", "triage.updated_at", "triage.first_action_at"),
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
    "mention_notes": ("created_at",),
}
_DAY_MS = 86_400_000


class MongoDemo:
    """The demo refresh part of ``MongoStore``."""

    _db: Any

    async def move_forward(self, days: int) -> None:
        if days <= 0:
            return
        later = int(days) * _DAY_MS
        for collection, fields in _MOVED.items():
            for name in fields:
                # One field at a time, only where it is set: a missing or null time stays so.
                await self._db[collection].update_many(
                    {name: {"$type": "date"}}, [{"$set": {name: {"$add": [f"${name}", later]}}}])
