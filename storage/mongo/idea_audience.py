"""Which ideas a set of customers weigh on, in MongoDB: those they voted on or whose linked
mentions are theirs.  Used to rescore impact when customers' segment or revenue change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.forum import IdeaShown
from storage.mongo.idea_titles import shown_filter


class MongoIdeaAudience:
    """The ideas a change of customers touches (both lists kept to the ideas the caller's
    ``IdeaShown`` keeps, ascending ids), and the voters of one idea page by page."""

    _db: Any

    async def idea_voter_ids(self, idea_id: int, after: str | None, limit: int) -> list[str]:
        limit = max(0, int(limit))
        if not limit:
            return []
        # Keyset paging on the votes_once index (idea_id, customer_id).
        query: dict[str, Any] = {"idea_id": int(idea_id)}
        if after is not None:
            query["customer_id"] = {"$gt": str(after)}
        docs = await self._db.votes.find(query, {"customer_id": 1, "_id": 0}).sort(
            "customer_id", 1).limit(limit).to_list()
        return [d["customer_id"] for d in docs]

    async def ideas_voted_by(self, customer_ids: Sequence[str], *, shown: IdeaShown,
                             after: int = 0, limit: int = 500) -> list[int]:
        found: list[int] = []
        wanted, limit = sorted({str(c) for c in customer_ids}), max(0, int(limit))
        while wanted and len(found) < limit:
            # A page of voted idea ids (votes_customer index), then those ``shown`` keeps; pages
            # continue past left-out ones until ``limit`` ideas are found or none are left.
            rows = await (await self._db.votes.aggregate([
                {"$match": {"customer_id": {"$in": wanted}, "idea_id": {"$gt": int(after)}}},
                {"$group": {"_id": "$idea_id"}}, {"$sort": {"_id": 1}}, {"$limit": limit},
            ])).to_list()
            if not rows:
                break
            ids = [r["_id"] for r in rows]
            kept = {d["_id"] for d in await self._db.ideas.find(
                {"_id": {"$in": ids}, **shown_filter(shown)}, {"_id": 1}).to_list()}
            found += [i for i in ids if i in kept]
            after = ids[-1]
        return found[:limit]

    async def ideas_linked_to_customers(self, customer_ids: Sequence[str], *, shown: IdeaShown,
                                        after: int = 0, limit: int = 500) -> list[int]:
        wanted, limit = sorted({str(c) for c in customer_ids}), max(0, int(limit))
        if not wanted or not limit:
            return []
        # The customers' mentions (mentions_customer_feed), the ideas linked to them
        # (idea_mentions_mention), then those ``shown`` keeps.
        mention_ids = await self._db.mentions.distinct("_id", {"customer_ids": {"$in": wanted}})
        if not mention_ids:
            return []
        linked = await self._db.idea_mentions.distinct(
            "idea_id", {"mention_id": {"$in": mention_ids}, "idea_id": {"$gt": int(after)}})
        kept = await self._db.ideas.distinct(
            "_id", {"_id": {"$in": linked}, **shown_filter(shown)}) if linked else []
        return sorted(kept)[:limit]
