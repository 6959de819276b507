"""The review queue page's reads and writes in MongoDB: pending links, refused aliases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain import LINK_PENDING
from domain.link_queue import PendingLink, RefusedAlias
from storage.contract.link_queue import MAX_PENDING
from storage.mongo.db import MongoWrites, from_doc_time, need_time
from storage.mongo.mentions import link_from_doc

LINK_QUEUE_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    # _id is {customer_id, alias_key}: one refusal per alias of a customer.
    "refused_aliases": [([("refused_at", 1), ("refused_at_us", 1)], {"name": "refused_aliases_at"})],
}


class MongoLinkQueue:
    """The review queue page's part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    async def pending_links(self, limit: int = MAX_PENDING) -> list[PendingLink]:
        # mentions_link_review (links.status, links.id) finds the mentions holding one.
        docs = await self._db.mentions.find(
            {"links.status": LINK_PENDING},
            {"links": 1, "source": 1, "author": 1, "text": 1, "created_at": 1, "created_us": 1}).to_list()
        rows = [PendingLink(link_from_doc(k), d["_id"], d["source"], d["author"]["handle"], d["text"],
                            from_doc_time(d["created_at"], d.get("created_us")))
                for d in docs for k in d.get("links", ()) if k.get("status") == LINK_PENDING]
        rows.sort(key=lambda p: p.link.id or 0)
        return rows[:max(1, int(limit))]

    async def drop_pending_links(self, link_ids: Sequence[int]) -> int:
        ids = sorted({int(i) for i in link_ids})
        if not ids:
            return 0
        dropped = 0
        docs = await self._db.mentions.find({"links": {"$elemMatch": {"id": {"$in": ids}, "status": LINK_PENDING}}},
                                            {"links": 1}).to_list()
        for d in docs:
            gone = [k["id"] for k in d["links"] if k.get("id") in ids and k.get("status") == LINK_PENDING]
            keep = [k for k in d["links"] if k.get("id") not in gone]
            await self._db.mentions.update_one({"_id": d["_id"]}, {"$set": {
                "links": keep, "customer_ids": sorted({k["customer_id"] for k in keep})}})
            dropped += len(gone)
        return dropped

    async def refused_aliases(self) -> list[RefusedAlias]:
        docs = await self._db.refused_aliases.find({}).sort([("refused_at", 1), ("refused_at_us", 1)]).to_list()
        return [RefusedAlias(d["customer_id"], d["alias"], d["refused_by"], need_time(d, "refused_at")) for d in docs]
