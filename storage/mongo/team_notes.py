"""Team notes written before they had keys (MongoDB's side of SQLite's migration 0076).

A status change's team note (the notifications consumer's comment on an idea's routed item)
now carries ``note_key``, unique on its routed item, so that two processes handling one event
write it once.  Notes stored before get the key the consumer gives (``status:`` and the
change's time, which is the note's time); where a note was written twice already, the first
keeps the key and the repeat is left as it is (no document is lost).
"""

from __future__ import annotations

from datetime import timezone
from typing import Any

from storage.mongo.db import need_time

#: Kept in ``schema_steps`` once the notes stored before keys existed have theirs.
TEAM_NOTES_KEYED = "team_note_keys_filled"


async def key_team_notes(db: Any) -> int:
    """Give notes stored before keys existed their key; once per database, before the unique
    index is made.  How many were keyed."""
    if await db.schema_steps.find_one({"_id": TEAM_NOTES_KEYED}) is not None:
        return 0
    keyed: set[tuple[int, str]] = set()
    done = 0
    cursor = db.routing_log.find({"actor": "notify", "action": "comment"}).sort("_id", 1)
    async for doc in cursor:
        if isinstance(doc.get("note_key"), str):
            keyed.add((doc["routed_id"], doc["note_key"]))
            continue
        key = "status:" + need_time(doc, "at").astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if (doc["routed_id"], key) in keyed:
            continue  # a note written twice before: the first one has the key
        keyed.add((doc["routed_id"], key))
        await db.routing_log.update_one({"_id": doc["_id"]}, {"$set": {"note_key": key}})
        done += 1
    await db.schema_steps.update_one({"_id": TEAM_NOTES_KEYED}, {"$set": {"done": True}}, upsert=True)
    return done
