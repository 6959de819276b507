"""Ideas, votes, comments, followers and linked mentions in MongoDB, read (and the few plain
writes no rule guards: an idea's fields, its impact, a linked mention).

An idea is one document with its tags embedded; votes, comments, followers,
linked mentions and status changes are collections of their own, keyed by idea
id (the shard key for votes and comments, see docs/deploy.md).  One vote per
(idea, customer) is a unique index.

Casting a vote is ``community.voting``'s rules over the unit of work
(``storage.mongo.uow``: one transaction on a replica set; on a standalone server
the vote is written first and counted by a guarded update after it, so a crash in
between leaves the count one short until ``community.merging.recount_idea`` recounts
it — the vote itself is never lost); new ideas, comments, statuses, moderation and
following are the rules of ``community.statuses``, ``community.comments`` and
``community.following`` over it (``storage.mongo.uow_forum``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain import utcnow
from domain.forum import (
    APPROVED,
    Idea,
    IdeaPatch,
    IdeaQuery,
    StatusChange,
    Tag,
    Vote,
)
from storage.mongo.db import (
    MongoWrites,
    get_time,
    insert_once,
    text_search,
    time_fields, need_time,
)
from storage.base import clamp_limit
from storage.mongo.idea_titles import APPROVED_FILTER
from storage.search_stems import search_fields, stems
from storage.mongo.rows import found

IDEA_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "ideas": [
        ([("merged_into", 1), ("vote_count", -1), ("_id", -1)], {"name": "ideas_top"}),
        ([("merged_into", 1), ("created_at", -1), ("_id", -1)], {"name": "ideas_new"}),
        ([("merged_into", 1), ("impact", -1), ("vote_count", -1), ("_id", -1)], {"name": "ideas_impact"}),
        ([("status", 1), ("vote_count", -1)], {"name": "ideas_status"}),
        ([("author_id", 1)], {"name": "ideas_author"}),
        ([("tags.name", 1)], {"name": "ideas_tags"}),
        # Over stemmed copies of title and body (storage/search_stems.py): "invoice" finds
        # "invoices" whatever the server's own stemming.
        ([("search_title", "text"), ("search_body", "text")],
         {"name": "ideas_search", "default_language": "none",
          "weights": {"search_title": 10, "search_body": 1}}),
    ],
    "votes": [
        ([("idea_id", 1), ("customer_id", 1)], {"name": "votes_once", "unique": True}),
        ([("customer_id", 1)], {"name": "votes_customer"}),
    ],
    "comments": [([("idea_id", 1), ("created_at", 1), ("_id", 1)], {"name": "comments_idea"})],
    "idea_followers": [
        ([("idea_id", 1), ("account_id", 1)], {"name": "followers_once", "unique": True}),
        ([("account_id", 1), ("idea_id", -1)], {"name": "followers_account"}),
    ],
    "idea_mentions": [([("idea_id", 1), ("mention_id", 1)], {"name": "idea_mentions_once", "unique": True}),
                      ([("mention_id", 1)], {"name": "idea_mentions_mention"})],
    "status_changes": [([("idea_id", 1), ("_id", 1)], {"name": "status_changes_idea"})],
}

#: At most this many ideas match a text filter (a forum search, not a full-text export).
_TEXT_MATCHES = 5000

_SORTS = {
    "top": [("vote_count", -1), ("_id", -1)],
    "new": [("created_at", -1), ("created_at_us", -1), ("_id", -1)],
    "impact": [("impact", -1), ("vote_count", -1), ("_id", -1)],
}


def idea_from_doc(d: dict[str, Any]) -> Idea:
    """An idea from its document."""
    return Idea(
        id=d["_id"], title=d["title"], body=d["body"], author_id=d.get("author_id"), status=d["status"],
        created_at=need_time(d, "created_at"), updated_at=need_time(d, "updated_at"),
        topic=d.get("topic"), tags=tuple(Tag(t["name"], bool(t["public"])) for t in d.get("tags", ())),
        vote_count=d.get("vote_count", 0), comment_count=d.get("comment_count", 0),
        impact=d.get("impact", 0.0), merged_into=d.get("merged_into"), hidden=bool(d.get("hidden")),
        locked=bool(d.get("locked")), status_response=d.get("status_response"),
        status_changed_at=get_time(d, "status_changed_at"), approval=d.get("approval", APPROVED),
        spam=bool(d.get("spam")))


async def fetch_idea(db: Any, idea_id: int, session: Any = None) -> Idea:
    """One idea; raises ``NotFound``."""
    return idea_from_doc(await found(db.ideas.find_one({"_id": int(idea_id)}, session=session), f"no idea {idea_id}"))


def vote_from_doc(d: dict[str, Any]) -> Vote:
    """A vote from its document."""
    return Vote(id=d["_id"], idea_id=d["idea_id"], customer_id=d["customer_id"],
                account_id=d.get("account_id"), created_at=need_time(d, "created_at"),
                proxy=bool(d.get("proxy")), proxy_note=d.get("proxy_note"),
                proxy_source=d.get("proxy_source"))


def tag_docs(tags: Sequence[Tag]) -> list[dict[str, Any]]:
    """An idea's tags as its document keeps them: one per name, sorted."""
    by_name = {t.name: t.public for t in tags}
    return [{"name": n, "public": bool(p)} for n, p in sorted(by_name.items())]


async def follow_idea(db: Any, idea_id: int, account_id: int, session: Any) -> None:
    """Let an account follow an idea (once)."""
    await insert_once(db.idea_followers, {"idea_id": int(idea_id), "account_id": int(account_id)},
                      {"idea_id": int(idea_id), "account_id": int(account_id)}, session)


async def prepare_idea_search(db: Any) -> None:
    """Before the indexes are made: drop the text index of unstemmed words (a collection has
    one text index) and give ideas stored before stemming their stemmed copies."""
    from pymongo.errors import OperationFailure

    try:
        await db.ideas.drop_index("ideas_text")
    except OperationFailure as exc:
        if exc.code not in (26, 27):  # no such collection / index: nothing to replace
            raise
    async for doc in db.ideas.find({"search_title": {"$exists": False}}, {"title": 1, "body": 1}):
        await db.ideas.update_one({"_id": doc["_id"], "search_title": {"$exists": False}},
                                  {"$set": search_fields(doc.get("title", ""), doc.get("body", ""))})


class MongoIdeas:
    """The ideas part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    async def get_idea(self, idea_id: int) -> Idea:
        return await fetch_idea(self._db, idea_id)

    async def get_ideas(self, idea_ids: list[int]) -> dict[int, Idea]:
        ids = sorted({int(i) for i in idea_ids})[:500]
        docs = await self._db.ideas.find({"_id": {"$in": ids}}).to_list() if ids else []
        return {d["_id"]: idea_from_doc(d) for d in docs}

    async def update_idea(self, idea_id: int, patch: IdeaPatch, now: datetime) -> Idea:
        from pymongo import ReturnDocument

        sets: dict[str, Any] = {k: v for k, v in (
            ("title", patch.title), ("body", patch.body), ("topic", patch.topic),
            ("hidden", patch.hidden), ("locked", patch.locked)) if v is not None}
        if patch.tags is not None:
            sets["tags"] = tag_docs(patch.tags)
        doc = await found(self._db.ideas.find_one_and_update(
            {"_id": int(idea_id)}, {"$set": {**sets, **time_fields("updated_at", now)}},
            return_document=ReturnDocument.AFTER), f"no idea {idea_id}")
        if patch.title is not None or patch.body is not None:
            # Stems of the text as written; only while it is still that text, so a concurrent
            # edit (which writes its own stems) is never overwritten with stale ones.
            await self._db.ideas.update_one(
                {"_id": doc["_id"], "title": doc["title"], "body": doc["body"]},
                {"$set": search_fields(doc["title"], doc["body"])})
        return idea_from_doc(doc)

    async def list_ideas(self, query: IdeaQuery) -> tuple[list[Idea], int]:
        where: list[dict[str, Any]] = [] if query.include_merged else [{"merged_into": None}]
        filt: dict[str, Any] = {}
        if not query.include_hidden:
            where.append({"hidden": {"$ne": True}})
        if not query.include_unapproved:
            if query.unapproved_of is None:
                where.append(APPROVED_FILTER)
            else:
                where.append({"$or": [APPROVED_FILTER,
                                      {"author_id": int(query.unapproved_of)}]})
        if query.status:
            where.append({"status": query.status})
        if query.statuses:
            where.append({"status": {"$in": list(query.statuses)}})
        if query.topic:
            where.append({"topic": query.topic})
        if query.tag:
            where.append({"tags": {"$elemMatch": {"name": query.tag}} if query.include_private_tags
                          else {"$elemMatch": {"name": query.tag, "public": True}}})
        if query.author_id is not None:
            where.append({"author_id": int(query.author_id)})
        if query.text:
            search = text_search(" ".join(stems(query.text)))
            if search is None:
                return [], 0
            # Matching ids first: count_documents and aggregate take $text only as the first
            # stage on MongoDB and not at all on mongoeco; a plain find takes it everywhere.
            matched = await (self._db.ideas.find({"$text": {"$search": search, "$language": "none"}},
                                                 {"_id": 1}).limit(_TEXT_MATCHES).to_list())
            where.append({"_id": {"$in": [d["_id"] for d in matched]}})
        if where:  # $and takes no empty list
            filt["$and"] = where
        limit, offset = clamp_limit(query.limit), max(0, query.offset)
        total = await self._db.ideas.count_documents(filt)
        if query.sort == "trending":
            # Votes divided by a power of the idea's age in hours, as in SQLite.
            now = utcnow().replace(microsecond=0)
            age_hours = {"$divide": [{"$subtract": [now, "$created_at"]}, 3_600_000]}
            docs = await (await self._db.ideas.aggregate([
                {"$match": filt},
                {"$addFields": {"_score": {"$divide": [
                    {"$add": ["$vote_count", 1]},
                    {"$pow": [{"$add": [age_hours, 2]}, float(query.trending_gravity)]}]}}},
                {"$sort": {"_score": -1, "_id": -1}},
                {"$skip": offset}, {"$limit": limit},
            ])).to_list()
        else:
            docs = await (self._db.ideas.find(filt).sort(_SORTS[query.sort])
                          .skip(offset).limit(limit).to_list())
        return [idea_from_doc(d) for d in docs], total

    async def status_history(self, idea_id: int) -> list[StatusChange]:
        docs = await self._db.status_changes.find({"idea_id": int(idea_id)}).sort("_id", 1).to_list()
        return [StatusChange(d["idea_id"], d["from_status"], d["to_status"], d["response"],
                             d.get("account_id"), need_time(d, "created_at")) for d in docs]

    # -- votes ---------------------------------------------------------------
    async def list_votes(self, idea_id: int) -> list[Vote]:
        docs = await self._db.votes.find({"idea_id": int(idea_id)}).sort("_id", 1).to_list()
        return [vote_from_doc(d) for d in docs]

    async def voted(self, customer_id: str, idea_ids: list[int]) -> set[int]:
        ids = [int(i) for i in idea_ids][:500]
        if not ids:
            return set()
        return set(await self._db.votes.distinct("idea_id", {"customer_id": customer_id,
                                                             "idea_id": {"$in": ids}}))

    async def set_impact(self, idea_id: int, impact: float) -> None:
        await self._db.ideas.update_one({"_id": int(idea_id)}, {"$set": {"impact": float(impact)}})

    # -- followers and linked mentions ---------------------------------------
    async def followers(self, idea_id: int) -> list[int]:
        return sorted(await self._db.idea_followers.distinct("account_id", {"idea_id": int(idea_id)}))

    async def followed_ideas(self, account_id: int, limit: int = 200) -> list[int]:
        docs = await (self._db.idea_followers.find({"account_id": int(account_id)}, {"idea_id": 1})
                      .sort("idea_id", -1).limit(clamp_limit(limit, 1000)).to_list())
        return [d["idea_id"] for d in docs]

    async def link_mention(self, idea_id: int, mention_id: int) -> bool:
        await fetch_idea(self._db, idea_id)
        await found(self._db.mentions.find_one({"_id": int(mention_id)}, {"_id": 1}), f"no mention {mention_id}")
        key = {"idea_id": int(idea_id), "mention_id": int(mention_id)}
        return await insert_once(self._db.idea_mentions, key, dict(key))

    async def idea_mentions(self, idea_id: int) -> list[int]:
        return sorted(await self._db.idea_mentions.distinct("mention_id", {"idea_id": int(idea_id)}))
