"""Moderation queues and customers' reports in MongoDB, read, and rate-limit counters.

A rate-limit window is one document per (scope, subject, window start) counted
with ``$inc`` in one ``find_one_and_update`` — atomic on any server, so every
API process shares one count.  Flags and reports are written by ``community.statuses``,
``community.comments`` and ``community.moderation`` over the unit of work.
"""

from __future__ import annotations

from typing import Any

from domain.forum import AWAITING_APPROVAL, Comment, ContentReport, Idea
from storage.mongo.comments import comment_from_doc
from storage.mongo.db import (
    MongoWrites,
)
from storage.mongo.ideas import idea_from_doc
from storage.rows import REPORT
from storage.mongo.rows import doc_reader

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


_report = doc_reader(REPORT)


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

    async def unapproved_ideas(self, limit: int = 100) -> list[Idea]:
        docs = await self._db.ideas.find({"approval": AWAITING_APPROVAL}).sort("_id", 1).limit(max(1, limit)).to_list()
        return [idea_from_doc(d) for d in docs]

    async def unapproved_comments(self, limit: int = 100, *, deleted: bool) -> list[Comment]:
        pending: dict[str, Any] = {"approval": AWAITING_APPROVAL} if deleted else {
            "approval": AWAITING_APPROVAL, "deleted": False}
        docs = await self._db.comments.find(pending).sort("_id", 1).limit(max(1, limit)).to_list()
        return [comment_from_doc(d) for d in docs]

    async def flagged_ideas(self, limit: int = 100) -> list[Idea]:
        docs = await self._db.ideas.find({"spam": True}).sort("_id", -1).limit(max(1, limit)).to_list()
        return [idea_from_doc(d) for d in docs]

    async def open_reports(self, limit: int = 200) -> list[ContentReport]:
        docs = await (self._db.content_reports.find({"resolved_at": None})
                      .sort("_id", 1).limit(max(1, limit)).to_list())
        return [_report(d) for d in docs]
