"""Idea titles for the similar-ideas search in MongoDB: text-index hits and the most voted
titles, restricted to the ideas the caller's rule shows (``IdeaShown``)."""

from __future__ import annotations

from typing import Any

from domain.forum import APPROVED, IdeaShown
from storage.mongo.db import text_search
from storage.search_stems import stems


#: approved ideas; ones written before approval existed have no ``approval``: they count as approved
APPROVED_FILTER: dict[str, Any] = {"approval": {"$in": [APPROVED, None]}}


def shown_filters(shown: IdeaShown) -> list[dict[str, Any]]:
    """The filters leaving out of an ``ideas`` read what ``shown`` leaves out."""
    return [condition for kept, condition in (
        (shown.merged, {"merged_into": None}), (shown.hidden, {"hidden": {"$ne": True}}),
        (shown.unapproved, APPROVED_FILTER)) if not kept]


def shown_filter(shown: IdeaShown) -> dict[str, Any]:
    """``shown_filters`` as one filter document (their fields differ)."""
    return {key: value for condition in shown_filters(shown) for key, value in condition.items()}


class MongoIdeaTitles:
    """The idea-title part of ``MongoStore``."""

    _db: Any

    async def idea_titles_matching(self, text: str, limit: int,
                                   shown: IdeaShown) -> list[tuple[int, str, float]]:
        words = text_search(" ".join(stems(text)))
        if words is None:
            return []
        # Unquoted words: any of them matches (like the SQLite OR query); title weighs 10x body.
        search = " ".join(w.strip('"') for w in words.split()[:32])
        query: dict[str, Any] = {"$text": {"$search": search, "$language": "none"}}
        if kept := shown_filters(shown):
            query["$and"] = kept
        docs = await (self._db.ideas.find(query, {"title": 1, "score": {"$meta": "textScore"}})
                      .sort([("score", {"$meta": "textScore"})]).limit(max(1, int(limit))).to_list())
        missing = [d["_id"] for d in docs if "title" not in d]
        if missing:
            # mongoeco drops the other projected fields beside a $meta one; MongoDB keeps them.
            titles = {t["_id"]: t["title"] for t in await self._db.ideas.find(
                {"_id": {"$in": missing}}, {"title": 1}).to_list()}
            docs = [{**d, "title": titles.get(d["_id"], "")} for d in docs]
        return [(d["_id"], d["title"], float(d.get("score", 0.0))) for d in docs]

    async def most_voted_idea_titles(self, limit: int, shown: IdeaShown) -> list[tuple[int, str]]:
        docs = await (self._db.ideas.find(shown_filter(shown), {"title": 1})
                      .sort([("vote_count", -1), ("_id", -1)]).limit(max(1, int(limit))).to_list())
        return [(d["_id"], d["title"]) for d in docs]
