"""Merge records in MongoDB, read (a merge itself is ``community.merging``'s rules over the
unit of work, storage.mongo.uow, which says what a standalone server does instead of a
transaction: the record is written first, marked in progress until every move is made)."""

from __future__ import annotations

from typing import Any

from domain.forum import MergeRecord
from storage.mongo.uow import merge_from_doc

MERGE_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "idea_merges": [([("source_id", 1), ("_id", -1)], {"name": "merges_source"}),
                    ([("target_id", 1), ("_id", -1)], {"name": "merges_target"})],
}


class MongoMerges:
    """The merge records part of ``MongoStore``."""

    _db: Any

    async def merges_of(self, idea_id: int) -> list[MergeRecord]:
        docs = await (self._db.idea_merges.find({"$or": [{"source_id": int(idea_id)},
                                                         {"target_id": int(idea_id)}]})
                      .sort("_id", -1).to_list())
        return [merge_from_doc(d) for d in docs]
