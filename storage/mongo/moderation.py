"""Moderation flags, customers' reports and rate-limit counters in MongoDB.

A rate-limit window is one document per (scope, subject, window start) counted
with ``$inc`` in one ``find_one_and_update`` — atomic on any server, so every
API process shares one count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.forum import Comment, ContentReport, Idea
from domain.errors import NotFound
from storage.contract.events import created_events
from storage.mongo.comments import comment_from_doc
from storage.mongo.db import (
    MongoWrites,
    get_time,
    insert_once,
    next_ids,
    put_time,
    time_fields, need_time,
)
from storage.mongo.events import record_events
from storage.mongo.ideas import fetch_idea, idea_from_doc

MODERATION_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "ideas": [([("approval", 1), ("_id", 1)], {"name": "ideas_approval"}),
              ([("spam", 1), ("_id", -1)], {"name": "ideas_spam"})],
    "comments": [([("approval", 1), ("_id", 1)], {"name": "comments_approval"})],
    "content_reports": [
        ([("kind", 1), ("item_id", 1), ("account_id", 1)], {"name": "reports_once", "unique": True}),
        ([("resolved_at", 1), ("_id", 1)], {"name": "reports_open"}),
    ],
    "rate_hits": [([("scope", 1), ("subject", 1), ("window_start", 1)], {"name": "rate_hits_subject"})],
}

_APPROVALS = ("pending", "approved", "rejected")


def _flags(approval: str | None, hidden: bool | None, spam: bool | None) -> dict[str, Any]:
    if approval is not None and approval not in _APPROVALS:
        raise ValueError(f"approval must be one of {_APPROVALS}")
    return {k: v for k, v in (("approval", approval), ("hidden", hidden), ("spam", spam)) if v is not None}


def _report(d: dict[str, Any]) -> ContentReport:
    return ContentReport(id=d["_id"], kind=d["kind"], item_id=d["item_id"], account_id=d["account_id"],
                         reason=d["reason"], created_at=need_time(d, "created_at"),
                         resolved_at=get_time(d, "resolved_at"))


async def bump_rate_hit(db: Any, scope: str, subject: str, window_start: int,
                        forget_before: int, session: Any = None) -> int:
    """Count one request of ``subject`` in the window starting at ``window_start`` (windows
    before ``forget_before`` are forgotten); the window's count so far."""
    from pymongo import ReturnDocument
    from pymongo.errors import DuplicateKeyError

    key = {"_id": {"scope": scope, "subject": subject, "window_start": int(window_start)}}
    fields = {"scope": scope, "subject": subject, "window_start": int(window_start)}
    for attempt in range(2):  # two first hits at once: the loser's upsert finds the winner's
        try:
            doc = await db.rate_hits.find_one_and_update(
                key, {"$inc": {"hits": 1}, "$setOnInsert": fields}, upsert=True,
                return_document=ReturnDocument.AFTER, session=session)
            break
        except DuplicateKeyError:
            if attempt or session is not None:  # in a transaction: MongoWrites runs it again
                raise
    await db.rate_hits.delete_many(
        {"scope": scope, "subject": subject, "window_start": {"$lt": int(forget_before)}},
        session=session)
    return int(doc["hits"])


class MongoModeration:
    """The moderation part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    async def moderate_idea(self, idea_id: int, now: datetime, *, approval: str | None = None,
                            hidden: bool | None = None, spam: bool | None = None) -> Idea:
        changes = _flags(approval, hidden, spam)

        async def write(session: Any) -> Idea:
            before = await fetch_idea(self._db, idea_id, session)
            await self._db.ideas.update_one({"_id": int(idea_id)},
                                            {"$set": {**changes, **time_fields("updated_at", now)}},
                                            session=session)
            after = await fetch_idea(self._db, idea_id, session)
            # Approved now: public from now on, recorded with the approval.
            await record_events(self._db, created_events(before.approval, idea_id, after.approval),
                                now, session)
            return after

        return await self._writes.run(write)

    async def moderate_comment(self, comment_id: int, now: datetime, *, approval: str | None = None,
                               hidden: bool | None = None, spam: bool | None = None) -> Comment:
        from pymongo import ReturnDocument

        changes = _flags(approval, hidden, spam)

        async def write(session: Any) -> Comment:
            if changes:
                doc = await self._db.comments.find_one_and_update(
                    {"_id": int(comment_id)}, {"$set": changes}, return_document=ReturnDocument.AFTER,
                    session=session)
            else:
                doc = await self._db.comments.find_one({"_id": int(comment_id)}, session=session)
            if doc is None:
                raise NotFound(f"no comment {comment_id}")
            # Recount rather than add or subtract: the flags combine in too many ways.  Last,
            # so that without a transaction a crash leaves a count the next change corrects.
            visible = await self._db.comments.count_documents(
                {"idea_id": doc["idea_id"], "internal": False, "deleted": False, "hidden": {"$ne": True},
                 "approval": {"$in": ["approved", None]}}, session=session)
            await self._db.ideas.update_one({"_id": doc["idea_id"]}, {"$set": {"comment_count": visible}},
                                            session=session)
            return comment_from_doc(doc)

        return await self._writes.run(write)

    async def unapproved_ideas(self, limit: int = 100) -> list[Idea]:
        docs = await self._db.ideas.find({"approval": "pending"}).sort("_id", 1).limit(max(1, limit)).to_list()
        return [idea_from_doc(d) for d in docs]

    async def unapproved_comments(self, limit: int = 100) -> list[Comment]:
        docs = await (self._db.comments.find({"approval": "pending", "deleted": False})
                      .sort("_id", 1).limit(max(1, limit)).to_list())
        return [comment_from_doc(d) for d in docs]

    async def flagged_ideas(self, limit: int = 100) -> list[Idea]:
        docs = await self._db.ideas.find({"spam": True}).sort("_id", -1).limit(max(1, limit)).to_list()
        return [idea_from_doc(d) for d in docs]

    async def add_report(self, kind: str, item_id: int, account_id: int, reason: str,
                         now: datetime) -> bool:
        key = {"kind": kind, "item_id": int(item_id), "account_id": int(account_id)}
        # A resolved report may be filed again: the old one makes way.
        await self._db.content_reports.delete_one({**key, "resolved_at": {"$ne": None}})
        report_id = await next_ids(self._db, "content_reports")
        doc = {"_id": report_id, **key, "reason": reason}
        put_time(doc, "created_at", now)
        put_time(doc, "resolved_at", None)
        return await insert_once(self._db.content_reports, key, doc)

    async def open_reports(self, limit: int = 200) -> list[ContentReport]:
        docs = await (self._db.content_reports.find({"resolved_at": None})
                      .sort("_id", 1).limit(max(1, limit)).to_list())
        return [_report(d) for d in docs]

    async def resolve_reports(self, kind: str, item_id: int, now: datetime) -> int:
        done = await self._db.content_reports.update_many(
            {"kind": kind, "item_id": int(item_id), "resolved_at": None},
            {"$set": time_fields("resolved_at", now)})
        return done.modified_count

    async def count_rate_hit(self, scope: str, subject: str, window_start: int,
                             forget_before: int, *, session: Any = None) -> int:
        return await bump_rate_hit(self._db, scope, subject, window_start, forget_before, session)
