"""Merging duplicate ideas in MongoDB, recorded so that unmerging restores exactly what moved.

A merge touches votes, comments, followers and linked mentions of two ideas:
on a replica set it is one transaction.  On a standalone server the record of
what moved is written first (marked in progress), then the moves, then the
mark is cleared, so that an interrupted merge is visible in ``merges_of`` with
everything needed to finish or undo it by hand; the counts are recounted from
the rows at the end of every merge and unmerge.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from crmsphere.domain_forum import MergeRecord
from crmsphere.errors import Conflict, NotFound
from storage.mongo_db import (
    MongoWrites,
    get_time,
    insert_once,
    next_ids,
    put_time,
    time_fields, need_time,
)
from storage.mongo_ideas import fetch_idea, follow_idea

MERGE_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "idea_merges": [([("source_id", 1), ("_id", -1)], {"name": "merges_source"}),
                    ([("target_id", 1), ("_id", -1)], {"name": "merges_target"})],
}


def _record(d: dict[str, Any]) -> MergeRecord:
    return MergeRecord(id=d["_id"], source_id=d["source_id"], target_id=d["target_id"],
                       account_id=d.get("account_id"), created_at=need_time(d, "created_at"),
                       undone_at=get_time(d, "undone_at"), moved=json.loads(d["moved"]))


def _vote_row(d: dict[str, Any]) -> dict[str, Any]:
    """A dropped vote as the record keeps it (the same shape as the SQLite backend's)."""
    created = get_time(d, "created_at")
    return {"id": d["_id"], "idea_id": d["idea_id"], "customer_id": d["customer_id"],
            "account_id": d.get("account_id"), "proxy": int(bool(d.get("proxy"))),
            "proxy_note": d.get("proxy_note"), "proxy_source": d.get("proxy_source"),
            "created_at": created.isoformat() if created else None}


def _vote_doc(row: dict[str, Any]) -> dict[str, Any]:
    doc = {"_id": row["id"], "idea_id": row["idea_id"], "customer_id": row["customer_id"],
           "account_id": row.get("account_id"), "proxy": bool(row.get("proxy")),
           "proxy_note": row.get("proxy_note"), "proxy_source": row.get("proxy_source")}
    created = datetime.fromisoformat(row["created_at"]) if row.get("created_at") else None
    return put_time(doc, "created_at", created)


async def _recount(db: Any, idea_id: int, session: Any) -> None:
    votes = await db.votes.count_documents({"idea_id": idea_id}, session=session)
    comments = await db.comments.count_documents(
        {"idea_id": idea_id, "internal": False, "deleted": False}, session=session)
    await db.ideas.update_one({"_id": idea_id}, {"$set": {"vote_count": votes, "comment_count": comments}},
                              session=session)


async def _values(db: Any, collection: str, field: str, filt: dict[str, Any], session: Any) -> list:
    return sorted(await db[collection].distinct(field, filt, session=session))


class MongoMerges:
    """The merge part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    async def recount_idea(self, idea_id: int) -> None:
        """Set an idea's vote and comment counts from its rows (repairs a standalone crash)."""
        await _recount(self._db, int(idea_id), None)

    async def merge_ideas(self, source_id: int, target_id: int, account_id: int | None,
                          now: datetime) -> MergeRecord:
        source_id, target_id = int(source_id), int(target_id)

        async def write(session: Any) -> MergeRecord:
            db = self._db
            if source_id == target_id:
                raise Conflict("an idea cannot be merged into itself")
            source, target = await fetch_idea(db, source_id, session), await fetch_idea(db, target_id, session)
            if source.merged_into is not None:
                raise Conflict(f"idea {source_id} is already merged into idea {source.merged_into}")
            if target.merged_into is not None:
                raise Conflict(f"idea {target_id} is merged into idea {target.merged_into}; "
                               "merge into that one")
            target_customers = await _values(db, "votes", "customer_id", {"idea_id": target_id}, session)
            dup_docs = await db.votes.find({"idea_id": source_id, "customer_id": {"$in": target_customers}},
                                           session=session).sort("_id", 1).to_list()
            dropped = [_vote_row(d) for d in dup_docs]
            votes_moved = await _values(db, "votes", "_id", {"idea_id": source_id,
                                                              "customer_id": {"$nin": target_customers}}, session)
            comments_moved = await _values(db, "comments", "_id", {"idea_id": source_id}, session)
            followers = await _values(db, "idea_followers", "account_id", {"idea_id": source_id}, session)
            target_followers = set(await _values(db, "idea_followers", "account_id", {"idea_id": target_id}, session))
            mentions = await _values(db, "idea_mentions", "mention_id", {"idea_id": source_id}, session)
            target_mentions = set(await _values(db, "idea_mentions", "mention_id", {"idea_id": target_id}, session))
            moved = {"votes_moved": votes_moved, "votes_dropped": dropped,
                     "comments_moved": comments_moved, "followers": followers,
                     "followers_added": [a for a in followers if a not in target_followers],
                     "mentions": mentions,
                     "mentions_added": [m for m in mentions if m not in target_mentions]}
            merge_id = await next_ids(db, "idea_merges", session=session)
            record = {"_id": merge_id, "source_id": source_id, "target_id": target_id,
                      "account_id": account_id, "moved": json.dumps(moved), "in_progress": True}
            put_time(record, "created_at", now)
            put_time(record, "undone_at", None)
            await db.idea_merges.insert_one(record, session=session)
            if dup_docs:
                await db.votes.delete_many({"_id": {"$in": [d["_id"] for d in dup_docs]}}, session=session)
            await db.votes.update_many({"idea_id": source_id}, {"$set": {"idea_id": target_id}}, session=session)
            await db.comments.update_many({"idea_id": source_id}, {"$set": {"idea_id": target_id}},
                                          session=session)
            for account in moved["followers_added"]:
                await follow_idea(db, target_id, account, session)
            await db.idea_followers.delete_many({"idea_id": source_id}, session=session)
            for mention in moved["mentions_added"]:
                key = {"idea_id": target_id, "mention_id": mention}
                await insert_once(db.idea_mentions, key, dict(key), session)
            await db.idea_mentions.delete_many({"idea_id": source_id}, session=session)
            await db.ideas.update_one({"_id": source_id},
                                      {"$set": {"merged_into": target_id, **time_fields("updated_at", now)}},
                                      session=session)
            await _recount(db, source_id, session)
            await _recount(db, target_id, session)
            await db.idea_merges.update_one({"_id": merge_id}, {"$set": {"in_progress": False}}, session=session)
            return _record(record)

        return await self._writes.run(write)

    async def unmerge_idea(self, source_id: int, now: datetime) -> MergeRecord:
        from pymongo import ReturnDocument

        source_id = int(source_id)

        async def write(session: Any) -> MergeRecord:
            db = self._db
            await fetch_idea(db, source_id, session)
            doc = await db.idea_merges.find_one({"source_id": source_id, "undone_at": None},
                                                sort=[("_id", -1)], session=session)
            if doc is None:
                raise NotFound(f"idea {source_id} is not merged")
            record = _record(doc)
            m, target_id = record.moved, record.target_id
            if m["votes_moved"]:
                await db.votes.update_many({"idea_id": target_id, "_id": {"$in": m["votes_moved"]}},
                                           {"$set": {"idea_id": source_id}}, session=session)
            for row in m["votes_dropped"]:
                vote = _vote_doc(row)
                await insert_once(db.votes, {"idea_id": vote["idea_id"], "customer_id": vote["customer_id"]},
                                  vote, session)
            if m["comments_moved"]:
                moved = m["comments_moved"]
                # Replies written on the kept idea to a moved comment go back with their thread.
                await db.comments.update_many(
                    {"idea_id": target_id, "$or": [{"_id": {"$in": moved}}, {"parent_id": {"$in": moved}}]},
                    {"$set": {"idea_id": source_id}}, session=session)
            if m["followers_added"]:
                await db.idea_followers.delete_many(
                    {"idea_id": target_id, "account_id": {"$in": m["followers_added"]}}, session=session)
            for account in m["followers"]:
                await follow_idea(db, source_id, account, session)
            if m["mentions_added"]:
                await db.idea_mentions.delete_many(
                    {"idea_id": target_id, "mention_id": {"$in": m["mentions_added"]}}, session=session)
            for mention in m["mentions"]:
                key = {"idea_id": source_id, "mention_id": mention}
                await insert_once(db.idea_mentions, key, dict(key), session)
            await db.ideas.update_one({"_id": source_id},
                                      {"$set": {"merged_into": None, **time_fields("updated_at", now)}},
                                      session=session)
            await _recount(db, source_id, session)
            await _recount(db, target_id, session)
            done = await db.idea_merges.find_one_and_update(
                {"_id": record.id}, {"$set": time_fields("undone_at", now)},
                return_document=ReturnDocument.AFTER, session=session)
            return _record(done)

        return await self._writes.run(write)

    async def merges_of(self, idea_id: int) -> list[MergeRecord]:
        docs = await (self._db.idea_merges.find({"$or": [{"source_id": int(idea_id)},
                                                         {"target_id": int(idea_id)}]})
                      .sort("_id", -1).to_list())
        return [_record(d) for d in docs]
