"""Mentions stored before they had an identity (MongoDB's side of SQLite's migration 0075).

Mentions are unique on (source, identity) instead of (source, external_id)
(domain/mention_identity.py).  At start-up, before the indexes are made: every mention
without an identity gets the one ``mention_identity`` gives its stored fields; where two were
stored apart before and now share one (a federated status read through two instances), the
first keeps it and the later ones a marked copy (no document is lost).  Then the old unique
index on (source, external_id) is dropped; ``create_indexes`` makes the new ones.
"""

from __future__ import annotations

from typing import Any

from domain.mention_identity import PER_SERVER_PLATFORMS, identity_of, repeated_identity

#: Kept in ``schema_steps`` once every mention has its identity and the old index is gone.
IDENTITIES_FILLED = "mention_identities_filled"
#: The unique index mentions had before identities.
OLD_UNIQUE_INDEX = "mentions_source_external"
_BATCH = 1000


async def fill_mention_identities(db: Any) -> int:
    """Give mentions stored before identities existed theirs and drop the old unique index;
    once per database (an interrupted run is finished by the next start).  How many were filled."""
    from pymongo import UpdateOne
    from pymongo.errors import OperationFailure

    if await db.schema_steps.find_one({"_id": IDENTITIES_FILLED}) is not None:
        return 0
    filled = 0
    updates: list[Any] = []
    # Ids are global on the other platforms: their identity is the id, unique already.
    async for doc in db.mentions.find({"identity": {"$exists": False},
                                       "source": {"$nin": list(PER_SERVER_PLATFORMS)}},
                                      {"external_id": 1}):
        updates.append(UpdateOne({"_id": doc["_id"]}, {"$set": {"identity": doc["external_id"]}}))
        filled += await _flush(db, updates)
    for source in PER_SERVER_PLATFORMS:
        # In id order, counting the identities given already (by a run that was interrupted,
        # or by mentions stored since): the first of a shared identity keeps it.
        taken: set[str] = set()
        async for doc in db.mentions.find({"source": source},
                                          {"identity": 1, "external_id": 1, "url": 1,
                                           "thread_id": 1}).sort("_id", 1):
            if isinstance(doc.get("identity"), str):
                taken.add(doc["identity"])
                continue
            identity = identity_of(source, doc["external_id"], doc.get("url"), doc.get("thread_id"))
            if identity in taken:
                identity = repeated_identity(identity, doc["_id"])
            taken.add(identity)
            updates.append(UpdateOne({"_id": doc["_id"]}, {"$set": {"identity": identity}}))
            filled += await _flush(db, updates)
    filled += await _flush(db, updates, force=True)
    try:
        await db.mentions.drop_index(OLD_UNIQUE_INDEX)
    except OperationFailure as exc:
        if exc.code not in (26, 27):  # no such collection / index: a new database
            raise
    await db.schema_steps.update_one({"_id": IDENTITIES_FILLED}, {"$set": {"done": True}}, upsert=True)
    return filled


async def _flush(db: Any, updates: list[Any], force: bool = False) -> int:
    """Write the pending updates once a batch is full (or ``force``); how many were written."""
    if not updates or (len(updates) < _BATCH and not force):
        return 0
    count = len(updates)
    await db.mentions.bulk_write(updates, ordered=False)
    updates.clear()
    return count
