"""``MongoStore.move_forward``: a stored demo dated whole days later (``demo load --refresh``)."""

from __future__ import annotations

from typing import Any

from storage.rows import DEMO_TIMES

#: Time fields moved, per collection (BSON dates; the ``_us`` microsecond parts stay); a
#: mention's triage is kept inside its document.
_MOVED = {**DEMO_TIMES, "mentions": ("created_at", "triage.updated_at", "triage.first_action_at")}
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
