"""Comments on ideas in MongoDB, read: a collection keyed by idea id (its shard key, see
docs/deploy.md).  They are written by ``community.comments`` over the unit of work
(``storage.mongo.uow_forum``)."""

from __future__ import annotations

from typing import Any

from domain.forum import Comment
from storage.mongo.db import MongoWrites
from storage.rows import COMMENT
from storage.mongo.rows import doc_reader, found


#: a comment from its document
comment_from_doc = doc_reader(COMMENT)


class MongoComments:
    """The comment part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    async def get_comment(self, comment_id: int) -> Comment:
        doc = await found(self._db.comments.find_one({"_id": int(comment_id)}), f"no comment {comment_id}")
        return comment_from_doc(doc)

    async def list_comments(self, idea_id: int, include_internal: bool) -> list[Comment]:
        filt: dict[str, Any] = {"idea_id": int(idea_id)}
        if not include_internal:
            filt["internal"] = False
        docs = await (self._db.comments.find(filt)
                      .sort([("created_at", 1), ("created_at_us", 1), ("_id", 1)]).to_list())
        return [comment_from_doc(d) for d in docs]
