"""Replies to mentions in MongoDB: one ``replies`` document each, its audit trail embedded (so
a move and its audit entry are one atomic update)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from domain.replies import PlatformLimit, RepliesDue, Reply, ReplyAudit, ReplyState
from domain.errors import NotFound
from storage.contract.replies import check_movable
from storage.mongo.db import MongoWrites, get_time, insert_once, next_ids, put_time, time_cmp
from storage.mongo.rows import doc_of, doc_reader, found, put_field
from storage.rows import REPLY


REPLY_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "replies": [
        # One shipped-idea reply per (idea, mention): a replayed status change drafts nothing twice.
        ([("idea_key", 1)], {"name": "replies_idea_mention", "unique": True,
                             "partialFilterExpression": {"idea_key": {"$type": "string"}}}),
        ([("state", 1), ("_id", 1)], {"name": "replies_state"}),
        ([("mention_id", 1)], {"name": "replies_mention"}),
        ([("batch_key", 1)], {"name": "replies_batch"}),
    ],
}


#: a ``Reply`` from its document
reply_from_doc = doc_reader(REPLY)


def _audit_doc(audit: ReplyAudit) -> dict[str, Any]:
    return put_time({"action": audit.action, "actor": audit.actor, "detail": audit.detail}, "at", audit.at)


class MongoReplies:
    """The replies part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    async def add_replies(self, replies: Sequence[Reply], audits: Sequence[str]) -> list[Reply]:
        if not replies:
            return []

        async def write(session: Any) -> list[int]:
            added = []
            for reply, detail in zip(replies, audits, strict=True):
                await found(self._db.mentions.find_one({"_id": reply.mention_id}, {"_id": 1}, session=session),
                            f"no mention {reply.mention_id}")
                reply_id = await next_ids(self._db, "replies", 1, session)
                doc = doc_of(REPLY, replace(reply, id=reply_id))
                doc["audit"] = [_audit_doc(ReplyAudit(reply_id, "drafted", reply.drafted_by,
                                                      reply.drafted_at, detail))]
                if reply.idea_id is not None:
                    key = {"idea_key": f"{reply.idea_id}:{reply.mention_id}"}
                    if not await insert_once(self._db.replies, key, {**key, **doc}, session):
                        continue
                else:
                    await self._db.replies.insert_one(doc, session=session)
                added.append(reply_id)
            return added

        ids = await self._writes.run(write)
        docs = {d["_id"]: d for d in await self._db.replies.find({"_id": {"$in": ids}}).to_list()}
        return [reply_from_doc(docs[i]) for i in ids]

    async def get_reply(self, reply_id: int) -> Reply:
        doc = await found(self._db.replies.find_one({"_id": int(reply_id)}, {"audit": 0}), f"no reply {reply_id}")
        return reply_from_doc(doc)

    async def list_replies(self, *, states: Sequence[ReplyState] = (), team_key: str | None = None,
                           mention_ids: Sequence[int] = (), batch_key: str | None = None,
                           limit: int = 200) -> list[Reply]:
        query: dict[str, Any] = {}
        if states:
            query["state"] = {"$in": list(states)}
        if team_key is not None:
            query["team_key"] = team_key
        if mention_ids:
            query["mention_id"] = {"$in": sorted({int(i) for i in mention_ids})[:500]}
        if batch_key is not None:
            query["batch_key"] = batch_key
        docs = await self._db.replies.find(query, {"audit": 0}).sort("_id", -1).limit(max(1, int(limit))).to_list()
        return [reply_from_doc(d) for d in docs]

    async def move_reply(self, reply_id: int, expected: Sequence[ReplyState],
                         changes: Mapping[str, Any], audit: ReplyAudit, *,
                         attempts: int | None = None) -> Reply | None:
        from pymongo import ReturnDocument

        check_movable(changes)
        sets: dict[str, Any] = {}
        for name, value in changes.items():
            put_field(sets, REPLY, name, value)
        update: dict[str, Any] = {"$push": {"audit": _audit_doc(audit)}, "$set": sets}
        query: dict[str, Any] = {"_id": int(reply_id), "state": {"$in": list(expected)}}
        if attempts is not None:
            query["attempts"] = int(attempts)
        doc = await self._db.replies.find_one_and_update(
            query, update,
            projection={"audit": 0}, return_document=ReturnDocument.AFTER)
        if doc is None:
            if await self._db.replies.find_one({"_id": int(reply_id)}, {"_id": 1}) is None:
                raise NotFound(f"no reply {reply_id}")
            return None
        return reply_from_doc(doc)

    async def due_replies(self, now: datetime, stale_before: datetime, limit: int = 50, *,
                          due: RepliesDue) -> list[Reply]:
        query = {"$and": [
            {"$or": [{"state": {"$in": list(due.ready)}},
                     {"state": {"$in": list(due.stalled)}, **time_cmp("sending_at", "$lte", stale_before)}]},
            {"$or": [{"retry_after": None}, time_cmp("retry_after", "$lte", now)]},
        ]}
        docs = await self._db.replies.find(query, {"audit": 0}).sort("_id", 1).limit(max(1, int(limit))).to_list()
        return [reply_from_doc(d) for d in docs]

    async def reply_audit(self, reply_id: int) -> list[ReplyAudit]:
        doc = await found(self._db.replies.find_one({"_id": int(reply_id)}, {"audit": 1}), f"no reply {reply_id}")
        return [ReplyAudit(int(reply_id), a["action"], a["actor"], get_time(a, "at"), a.get("detail", ""))  # type: ignore[arg-type]
                for a in doc.get("audit", [])]

    async def set_platform_limit(self, limit: PlatformLimit) -> None:
        from pymongo.errors import DuplicateKeyError

        key = {"platform": limit.platform, "source_key": limit.source_key}
        fields = put_time({**key, "reason": limit.reason}, "until", limit.until)
        try:
            # Matches only an earlier wait; with a later one kept the upsert's insert collides.
            await self._db.reply_limits.update_one({"_id": key, **time_cmp("until", "$lt", limit.until)},
                                                   {"$set": fields}, upsert=True)
        except DuplicateKeyError:
            return  # a later wait is kept: it is the one in force

    async def platform_limits(self, now: datetime) -> list[PlatformLimit]:
        docs = await self._db.reply_limits.find(time_cmp("until", "$gt", now)).sort(
            [("until", 1), ("until_us", 1), ("platform", 1), ("source_key", 1)]).to_list()
        return [PlatformLimit(d["platform"], d["source_key"], get_time(d, "until"), d.get("reason", ""))  # type: ignore[arg-type]
                for d in docs]
