"""Comments on ideas in MongoDB: a collection keyed by idea id (its shard key, see docs/deploy.md).

On a replica set a comment, the idea's comment count and the author following the
idea are one transaction; on a standalone server the comment is written first, so
a crash can leave the count one short (recounted by the next merge or moderation
of a comment), never a count without its comment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.forum import Comment
from domain.errors import NotFound
from storage.mongo.db import MongoWrites, get_time, next_ids, put_time, time_fields, need_time
from storage.mongo.ideas import fetch_idea, follow_idea


def comment_from_doc(d: dict[str, Any]) -> Comment:
    """A comment from its document."""
    return Comment(id=d["_id"], idea_id=d["idea_id"], author_id=d.get("author_id"), body=d["body"],
                   created_at=need_time(d, "created_at"), parent_id=d.get("parent_id"),
                   internal=bool(d.get("internal")), updated_at=get_time(d, "updated_at"),
                   deleted=bool(d.get("deleted")), approval=d.get("approval", "approved"),
                   hidden=bool(d.get("hidden")), spam=bool(d.get("spam")))


class MongoComments:
    """The comment part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    async def add_comment(self, idea_id: int, author_id: int | None, body: str,
                          parent_id: int | None, internal: bool, now: datetime,
                          approval: str = "approved") -> Comment:
        async def write(session: Any) -> Comment:
            await fetch_idea(self._db, idea_id, session)
            comment_id = await next_ids(self._db, "comments", session=session)
            doc = {"_id": comment_id, "idea_id": int(idea_id), "parent_id": parent_id,
                   "author_id": author_id, "body": body, "internal": bool(internal), "deleted": False,
                   "approval": approval, "hidden": False, "spam": False}
            put_time(doc, "created_at", now)
            put_time(doc, "updated_at", None)
            await self._db.comments.insert_one(doc, session=session)
            if not internal:
                if approval == "approved":
                    await self._db.ideas.update_one({"_id": int(idea_id)}, {"$inc": {"comment_count": 1}},
                                                    session=session)
                if author_id is not None:
                    await follow_idea(self._db, idea_id, author_id, session)
            return comment_from_doc(doc)

        return await self._writes.run(write)

    async def get_comment(self, comment_id: int) -> Comment:
        doc = await self._db.comments.find_one({"_id": int(comment_id)})
        if doc is None:
            raise NotFound(f"no comment {comment_id}")
        return comment_from_doc(doc)

    async def update_comment(self, comment_id: int, body: str, now: datetime) -> Comment:
        from pymongo import ReturnDocument

        doc = await self._db.comments.find_one_and_update(
            {"_id": int(comment_id), "deleted": False},
            {"$set": {"body": body, **time_fields("updated_at", now)}}, return_document=ReturnDocument.AFTER)
        if doc is None:
            raise NotFound(f"no comment {comment_id}")
        return comment_from_doc(doc)

    async def delete_comment(self, comment_id: int, now: datetime) -> None:
        async def write(session: Any) -> None:
            doc = await self._db.comments.find_one_and_update(
                {"_id": int(comment_id), "deleted": False},
                {"$set": {"deleted": True, "body": "", **time_fields("updated_at", now)}}, session=session)
            if doc is None:
                raise NotFound(f"no comment {comment_id}")
            if not doc.get("internal") and doc.get("approval", "approved") == "approved" \
                    and not doc.get("hidden"):
                await self._db.ideas.update_one({"_id": doc["idea_id"]}, {"$inc": {"comment_count": -1}},
                                                session=session)

        await self._writes.run(write)

    async def list_comments(self, idea_id: int, include_internal: bool) -> list[Comment]:
        filt: dict[str, Any] = {"idea_id": int(idea_id)}
        if not include_internal:
            filt["internal"] = False
        docs = await (self._db.comments.find(filt)
                      .sort([("created_at", 1), ("created_at_us", 1), ("_id", 1)]).to_list())
        return [comment_from_doc(d) for d in docs]
