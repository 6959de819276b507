"""The checked vote in MongoDB: what was checked still holds when the vote is counted.

A vote is checked against the idea (open, not locked, not merged, approved, visible) and
then written.  Reading and checking inside the same transaction is not enough on its own:
MongoDB's snapshot isolation stops two writes to one document, not a write based on a
read that another client's status change has since made stale.  So the vote is counted
by one conditional update of the idea document that matches only while every field the
check read (``GATE_FIELDS``) still has the value read (the count itself changes the
document, so the update always writes it):

- in a transaction (replica set), a status change committed by another client after the
  read makes that update a write conflict, and the transaction is run again, checking the
  idea afresh; one that landed before it leaves the guard unmatched, and the same happens;
- on a standalone server, which runs no transactions (mongoeco, the test server, answers
  ``hello`` as one), the conditional update is atomic on its one document: the vote is
  inserted first (unique on idea + customer), the guarded count follows, and when the guard
  misses, the vote just inserted is deleted again (compensation) and the vote is checked
  anew from a fresh read.  A crash between the two leaves the vote stored and the count
one short, as every standalone vote write does (docs/mongodb.md; ``recount_idea``
repairs the count) — the one case where a vote can outlive a close it raced.

Either way a status change that closes voting and a vote racing it end in one of two
states: the vote counted while the idea was open (the change came after), or the vote
refused as closed.  The rate hit is counted once, after the first check that did not
raise (inside the transaction, where there is one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crmsphere.domain_forum import (
    IdeaVoters,
    RateWindow,
    ScoreThreshold,
    Vote,
    VoteCast,
    VoterGroup,
    VoterName,
)
from crmsphere.errors import Conflict, NotFound
from storage.base_ideas import VoteCheck
from storage.mongo_customers import _customer_from_doc
from storage.mongo_db import MongoWrites, insert_once, next_ids, put_time
from storage.mongo_ideas import follow_idea, idea_from_doc
from storage.mongo_notify import insert_threshold

#: The idea fields a vote check reads; the count is written only while none has changed.
GATE_FIELDS = ("status", "locked", "merged_into", "approval", "hidden", "spam")
#: How many times a vote is checked again after the idea changed under it.
GUARD_RETRIES = 8


class _IdeaChanged(Exception):
    """The idea changed between the vote's check and its count: check again."""


def unchanged(doc: dict[str, Any]) -> dict[str, Any]:
    """A filter matching the idea of ``doc`` only while its ``GATE_FIELDS`` are as in ``doc``."""
    gate: dict[str, Any] = {"_id": doc["_id"]}
    for name in GATE_FIELDS:
        gate[name] = doc[name] if name in doc else {"$exists": False}
    return gate


class MongoIdeaVotes:
    """``cast_checked_vote`` of ``MongoStore`` (a base placed before the generic one)."""

    _db: Any
    _writes: MongoWrites

    async def cast_checked_vote(self, vote: Vote, check: VoteCheck, rate: RateWindow | None = None,
                                thresholds: Sequence[ScoreThreshold] = ()) -> VoteCast:
        """Check and cast as one: see the module's docstring for how on each kind of server."""
        counted: list[int] = []  # the rate hit, once over every retry

        async def write(session: Any) -> VoteCast:
            doc = await self._db.ideas.find_one({"_id": int(vote.idea_id)}, session=session)
            if doc is None:
                raise NotFound(f"no idea {vote.idea_id}")
            idea = idea_from_doc(doc)
            found = await self._db.customers.find_one({"_id": vote.customer_id}, session=session)
            customer = _customer_from_doc(found) if found is not None else None
            impact = check(idea, customer)  # raises: nothing written
            if rate is not None and (session is not None or not counted):
                # In a transaction the count rolls back with a retry; without one it is kept,
                # so it is taken once over every retry.
                counted[:] = [await self.count_rate_hit(  # type: ignore[attr-defined]
                    rate.scope, rate.subject, rate.window_start, rate.forget_before, session=session)]
            hits = counted[0] if counted else None
            if impact is None:
                return VoteCast(hits, False, idea, closed=True)
            if hits is not None and hits > rate.limit:  # type: ignore[union-attr]
                return VoteCast(hits, False, idea)
            if customer is None:
                raise NotFound(f"no customer {vote.customer_id!r}")
            vote_id = await next_ids(self._db, "votes", session=session)
            key = {"idea_id": int(vote.idea_id), "customer_id": vote.customer_id}
            if not await insert_once(self._db.votes, key, put_time(
                    {"_id": vote_id, **key, "account_id": vote.account_id, "proxy": bool(vote.proxy),
                     "proxy_note": vote.proxy_note, "proxy_source": vote.proxy_source},
                    "created_at", vote.created_at), session):
                return VoteCast(hits, False, idea)  # voted before: nothing changes
            from pymongo import ReturnDocument

            after = await self._db.ideas.find_one_and_update(
                unchanged(doc), {"$inc": {"vote_count": 1, "impact": float(impact)}},
                return_document=ReturnDocument.AFTER, session=session)
            if after is None:
                if session is None:  # no transaction to roll the vote back: take it back
                    await self._db.votes.delete_one({"_id": vote_id})
                raise _IdeaChanged
            if vote.account_id is not None and not vote.proxy:
                await follow_idea(self._db, vote.idea_id, vote.account_id, session)
            counted_idea = idea_from_doc(after)
            reached = []
            for threshold in thresholds:
                if threshold.crossed(counted_idea) and await insert_threshold(
                        self._db, counted_idea.id, threshold.name, vote.created_at, session):
                    reached.append(threshold.name)
            return VoteCast(hits, True, counted_idea, tuple(reached))

        for _ in range(GUARD_RETRIES):
            try:
                return await self._writes.run(write)
            except _IdeaChanged:
                continue
        raise Conflict("the idea kept changing while the vote was cast; try again",
                       {"idea_id": vote.idea_id})

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
