"""Votes in MongoDB, read: per voter segment and the first voters by name.  Casting a vote is
``community.voting``'s rules over the unit of work (storage.mongo.uow, which says how a
vote stays atomic without transactions)."""

from __future__ import annotations

from typing import Any

from domain.forum import IdeaVoters, VoterGroup, VoterName


class MongoIdeaVotes:
    """Vote reads of ``MongoStore``."""

    _db: Any

    async def idea_voter_groups(self, idea_id: int) -> list[VoterGroup]:
        """An idea's votes counted per voter segment and annual revenue."""
        per_customer: dict[str, int] = {}
        async for doc in self._db.votes.find({"idea_id": int(idea_id)}, {"customer_id": 1, "_id": 0}):
            per_customer[doc["customer_id"]] = per_customer.get(doc["customer_id"], 0) + 1
        groups: dict[tuple[str | None, int | None], int] = {}
        found = await self._db.customers.find(
            {"_id": {"$in": list(per_customer)}}, {"segment": 1, "annual_revenue": 1}).to_list() \
            if per_customer else []
        for c in found:
            key = (c.get("segment"), c.get("annual_revenue"))
            groups[key] = groups.get(key, 0) + per_customer.pop(c["_id"])
        if per_customer:  # voters missing from the registry
            groups[(None, None)] = groups.get((None, None), 0) + sum(per_customer.values())
        return [VoterGroup(segment, revenue, votes) for (segment, revenue), votes in groups.items()]

    async def idea_voters(self, idea_id: int, limit: int) -> IdeaVoters:
        """How many customers voted for an idea and the first ``limit`` with their names."""
        count = await self._db.votes.count_documents({"idea_id": int(idea_id)})
        ids: list[str] = []
        if limit > 0:
            docs = await self._db.votes.find({"idea_id": int(idea_id)}, {"customer_id": 1}).sort(
                "_id", 1).limit(int(limit)).to_list()
            ids = [d["customer_id"] for d in docs]
        found = await self._db.customers.find(
            {"_id": {"$in": ids}}, {"name": 1, "company": 1}).to_list() if ids else []
        names = {c["_id"]: c for c in found}
        return IdeaVoters(count, tuple(
            VoterName(cid, names[cid].get("name"), names[cid].get("company")) if cid in names
            else VoterName(cid) for cid in ids))
