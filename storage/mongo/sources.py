"""Source health and leases in MongoDB.

A lease is one document per name.  Taking it is a single ``find_one_and_update``
whose filter matches only a lease that is ours or expired, with ``upsert``: when
someone else holds it the filter misses, the upsert tries to insert the same
``_id`` and the server refuses with a duplicate key — so two holders can never
both win, on a standalone server as on a replica set.
"""

from __future__ import annotations

from typing import Any

from domain import SourceHealth
from storage.base import health_from_json, health_to_json
from storage.mongo.db import is_duplicate_key


class MongoSources:
    """The source-health and lease part of ``MongoStore``."""

    _db: Any

    async def get_source_health(self, source_key: str) -> SourceHealth | None:
        doc = await self._db.source_health.find_one({"_id": source_key})
        return health_from_json(doc["health"]) if doc else None

    async def save_source_health(self, health: SourceHealth) -> None:
        await self._db.source_health.replace_one(
            {"_id": health.key}, {"health": health_to_json(health)}, upsert=True)

    async def acquire_lease(self, name: str, holder: str, ttl: float, now: float) -> bool:
        from pymongo import ReturnDocument
        from pymongo.errors import OperationFailure

        try:
            doc = await self._db.leases.find_one_and_update(
                {"_id": name, "$or": [{"holder": holder}, {"expires_at": {"$lte": now}}]},
                {"$set": {"holder": holder, "expires_at": now + ttl}},
                upsert=True, return_document=ReturnDocument.AFTER)
        except OperationFailure as exc:
            if is_duplicate_key(exc):
                return False  # held by someone else and not expired
            raise
        return doc is not None and doc.get("holder") == holder

    async def release_lease(self, name: str, holder: str) -> None:
        await self._db.leases.delete_one({"_id": name, "holder": holder})
