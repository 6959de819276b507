"""Comments on ideas in MongoDB, read: a collection keyed by idea id (its shard key, see
docs/deploy.md).  They are written by ``community.comments`` over the unit of work
(``storage.mongo.uow_forum``)."""

from __future__ import annotations

from typing import Any

from domain.forum import Comment
from domain.errors import NotFound
from storage.mongo.db import MongoWrites, get_time, need_time


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

    async def get_comment(self, comment_id: int) -> Comment:
        doc = await self._db.comments.find_one({"_id": int(comment_id)})
        if doc is None:
            raise NotFound(f"no comment {comment_id}")
        return comment_from_doc(doc)

    async def list_comments(self, idea_id: int, include_internal: bool) -> list[Comment]:
        filt: dict[str, Any] = {"idea_id": int(idea_id)}
        if not include_internal:
            filt["internal"] = False
        docs = await (self._db.comments.find(filt)
                      .sort([("created_at", 1), ("created_at_us", 1), ("_id", 1)]).to_list())
        return [comment_from_doc(d) for d in docs]
