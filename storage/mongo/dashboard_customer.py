"""The customer 360's forum ideas, votes and routed items in MongoDB."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.routing import RoutedItem
from domain.forum import Idea, IdeaShown, Vote
from storage.base import clamp_limit
from storage.contract.dashboard import MAX_ROUTED_KEYS
from storage.mongo.idea_titles import shown_filter
from storage.mongo.ideas import idea_from_doc, vote_from_doc
from storage.mongo.routing import routed_from_doc

class MongoDashboardCustomer:
    """The customer 360's reads of ``MongoStore``."""

    _db: Any

    # Served by accounts_customer (mongo_notify), ideas_author, votes_customer and routed_once.

    async def customer_ideas(self, customer_id: str, limit: int = 50, *,
                             shown: IdeaShown) -> tuple[list[Idea], int]:
        accounts = await self._db.accounts.distinct("_id", {"customer_id": customer_id})
        if not accounts:
            return [], 0
        match = {"author_id": {"$in": accounts}, **shown_filter(shown)}
        docs = await (self._db.ideas.find(match).sort([("created_at", -1), ("_id", -1)])
                      .limit(clamp_limit(limit)).to_list())
        return [idea_from_doc(d) for d in docs], await self._db.ideas.count_documents(match)

    async def customer_votes(self, customer_id: str, limit: int = 50, *,
                             shown: IdeaShown) -> tuple[list[Vote], int]:
        docs = await self._db.votes.find({"customer_id": customer_id}).to_list()
        kept = set(await self._db.ideas.distinct(
            "_id", {"_id": {"$in": [d["idea_id"] for d in docs]}, **shown_filter(shown)})) if docs else set()
        votes = sorted((vote_from_doc(d) for d in docs if d["idea_id"] in kept),
                       key=lambda v: (v.created_at, v.id or 0), reverse=True)
        return votes[:clamp_limit(limit)], len(votes)

    async def routed_for_items(self, keys: Sequence[tuple[str, str]], limit: int = 50) -> list[RoutedItem]:
        keys = list(keys)[:MAX_ROUTED_KEYS]
        if not keys:
            return []
        by_kind: dict[str, list[str]] = {}
        for kind, item_id in keys:
            by_kind.setdefault(kind, []).append(str(item_id))
        match = {"$or": [{"item_kind": kind, "item_id": {"$in": ids}} for kind, ids in by_kind.items()]}
        docs = await (self._db.routed_items.find(match)
                      .sort([("routed_at", -1), ("routed_at_us", -1), ("_id", -1)])
                      .limit(clamp_limit(limit)).to_list())
        return [routed_from_doc(d) for d in docs]
