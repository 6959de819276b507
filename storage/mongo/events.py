"""The outbox in MongoDB: events recorded inside the writes' session transactions, consumer
cursors.

An event's id is taken from the ``events`` counter inside the transaction that records it:
two transactions recording events then conflict on the counter and one is run again after
the other committed, so ids follow the commit order and a consumer's cursor never skips an
event.  That serialises the writers that record events (mention batches), the price of the
guarantee.  A standalone server has no transactions: there a mention batch's events are
written before the mentions (a crash in between leaves an event whose mention is missing,
which consumers skip), a status change's right after the idea's update (a refused change
must write nothing; a crash in between loses that one event), and ids follow the order the
writes were issued in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from domain import utcnow
from domain.events import NewEvent, RecordedEvent
from storage.base import clamp_limit
from storage.contract.events import MAX_EVENTS
from storage.mongo.db import need_time, next_ids, put_time, to_doc_time

EVENT_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "events": [([("kind", 1), ("_id", 1)], {"name": "events_kind"})],
}


async def record_events(db: Any, events: Sequence[NewEvent], at: datetime, session: Any,
                        taking: Callable[[list[int]], None] | None = None) -> None:
    """Record ``events`` in ``session``'s transaction (``None``: on their own, in order);
    ``taking`` is told their ids before they are written (to take them back if need be)."""
    if not events:
        return
    first = await next_ids(db, "events", len(events), session=session)
    if taking is not None:
        taking(list(range(first, first + len(events))))
    await db.events.insert_many(
        [put_time({"_id": first + n, "kind": e.kind, "subject_id": e.subject_id,
                   "payload": dict(e.payload)}, "created_at", at)
         for n, e in enumerate(events)],
        ordered=True, session=session)


class MongoEvents:
    """The outbox part of ``MongoStore``."""

    _db: Any

    async def read_events(self, after_id: int, kinds: Sequence[str], limit: int = 200
                          ) -> list[RecordedEvent]:
        wanted = list(dict.fromkeys(kinds))
        if not wanted:
            return []
        cursor = self._db.events.find(
            {"_id": {"$gt": int(after_id)}, "kind": {"$in": wanted}}
        ).sort("_id", 1).limit(clamp_limit(limit, MAX_EVENTS))
        return [RecordedEvent(int(d["_id"]), d["kind"], d["subject_id"], dict(d.get("payload") or {}),
                              need_time(d, "created_at"))
                async for d in cursor]

    async def get_event_cursor(self, consumer: str) -> int:
        doc = await self._db.event_cursors.find_one({"_id": consumer})
        return int(doc["last_id"]) if doc else 0

    async def set_event_cursor(self, consumer: str, last_id: int) -> int:
        fields = put_time({"last_id": int(last_id)}, "updated_at", utcnow())
        # Only forward: the filter matches a cursor behind ``last_id``; none matching means
        # either no cursor yet (insert it) or one already past (leave it).
        moved = await self._db.event_cursors.update_one(
            {"_id": consumer, "last_id": {"$lt": int(last_id)}}, {"$set": fields})
        if not moved.matched_count:
            from pymongo.errors import DuplicateKeyError

            try:
                await self._db.event_cursors.insert_one({"_id": consumer, **fields})
            except DuplicateKeyError:  # a cursor exists, at or past ``last_id``
                pass
        return await self.get_event_cursor(consumer)

    async def latest_event_id(self) -> int:
        newest = await self._db.events.find_one({}, {"_id": 1}, sort=[("_id", -1)])
        return int(newest["_id"]) if newest else 0

    async def event_cursors(self) -> dict[str, int]:
        return {str(d["_id"]): int(d["last_id"]) async for d in self._db.event_cursors.find({})}

    async def delete_events(self, up_to_id: int, recorded_before: datetime, limit: int) -> int:
        # Oldest first by id: the ids of one batch, then one delete of exactly those.  Dates
        # compare to the millisecond (what BSON keeps): plenty for a retention in days.
        before, _ = to_doc_time(recorded_before)
        ids = [d["_id"] async for d in self._db.events.find(
            {"_id": {"$lte": int(up_to_id)}, "created_at": {"$lt": before}}, {"_id": 1}
        ).sort("_id", 1).limit(max(1, int(limit)))]
        if not ids:
            return 0
        return int((await self._db.events.delete_many({"_id": {"$in": ids}})).deleted_count)
