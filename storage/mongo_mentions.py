"""Mentions, their customer links and source cursors in MongoDB.

A mention is one document with its links embedded (so a mention and its links
are written atomically even without transactions) and ``customer_ids`` beside
them for the customer filter.  Ids are integers from a counter document, as
in SQLite, so the API's mention ids stay ints.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from crmsphere.domain import (
    Analysis,
    Author,
    CustomerLink,
    Mention,
    MentionQuery,
    Page,
    RawPost,
    SaveResult,
    utcnow,
)
from crmsphere.errors import BadInput, Conflict, NotFound
from storage.base import clamp_limit, decode_cursor, encode_cursor
from storage.mongo_db import (
    MongoWrites,
    from_doc_time,
    is_duplicate_key,
    text_search,
    to_doc_time,
)

MENTION_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "mentions": [
        ([("source", 1), ("external_id", 1)], {"name": "mentions_source_external", "unique": True}),
        ([("created_at", -1), ("_id", -1)], {"name": "mentions_feed"}),
        ([("source", 1), ("created_at", -1), ("_id", -1)], {"name": "mentions_source_feed"}),
        ([("customer_ids", 1), ("created_at", -1), ("_id", -1)], {"name": "mentions_customer_feed"}),
        ([("source", 1), ("author.handle", 1)], {"name": "mentions_author"}),
        # No stemming and no stop words: the same word matching as SQLite's FTS5 (unicode61).
        ([("text", "text")], {"name": "mentions_text", "default_language": "none"}),
    ],
}


class MongoMentions:
    """The mention part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    async def save_mentions(
        self, source_key: str, mentions: Sequence[Mention], cursor: dict[str, Any] | None
    ) -> SaveResult:
        from pymongo.errors import BulkWriteError

        now = utcnow()
        # Ids are taken before the transaction: a shared counter inside it would make every
        # concurrent batch conflict.  Ids of duplicates or failed batches are simply skipped.
        first_id = await self._reserve_mention_ids(len(mentions)) if mentions else 0
        docs = [_mention_doc(first_id + n, m, now) for n, m in enumerate(mentions)]
        linked = sorted({k.customer_id for m in mentions for k in m.analysis.links})

        async def write(session: Any) -> SaveResult:
            if linked:
                known = await self._db.customers.distinct(
                    "_id", {"_id": {"$in": linked}}, session=session)
                missing = sorted(set(linked) - set(known))
                if missing:
                    raise Conflict("mentions link to unknown customers", {"customer_ids": missing})
            new = await self._new_mentions(docs, session)
            inserted = 0
            if new:
                try:
                    # In a transaction a raced duplicate aborts it and MongoWrites runs it again
                    # (seeing the winner); without one, unordered inserts go on past it.
                    result = await self._db.mentions.insert_many(
                        new, ordered=session is not None, session=session)
                    inserted = len(result.inserted_ids)
                except BulkWriteError as exc:
                    if session is not None or not is_duplicate_key(exc):
                        raise
                    inserted = exc.details.get("nInserted", 0)
            if cursor is not None:
                # Last, so that without transactions a crash before this line repeats the
                # batch (the unique index drops the repeats) instead of skipping it.
                await self._db.cursors.update_one(
                    {"_id": source_key},
                    {"$set": {"cursor": json.dumps(cursor), "updated_at": now}},
                    upsert=True, session=session)
            return SaveResult(inserted=inserted, duplicates=len(mentions) - inserted)

        return await self._writes.run(write)

    async def _new_mentions(self, docs: list[dict[str, Any]], session: Any) -> list[dict[str, Any]]:
        """The documents of ``docs`` not stored yet, each (source, external_id) once."""
        by_source: dict[str, set[str]] = {}
        for d in docs:
            by_source.setdefault(d["source"], set()).add(d["external_id"])
        stored = {(source, eid) for source, ids in by_source.items()
                  for eid in await self._db.mentions.distinct(
                      "external_id", {"source": source, "external_id": {"$in": sorted(ids)}},
                      session=session)}
        new: list[dict[str, Any]] = []
        for d in docs:
            key = (d["source"], d["external_id"])
            if key not in stored:
                stored.add(key)
                new.append(d)
        return new

    async def _reserve_mention_ids(self, count: int) -> int:
        """The first of ``count`` fresh consecutive mention ids."""
        from pymongo import ReturnDocument

        doc = await self._db.counters.find_one_and_update(
            {"_id": "mentions"}, {"$inc": {"seq": count}}, upsert=True,
            return_document=ReturnDocument.AFTER)
        return int(doc["seq"]) - count + 1

    async def known_external_ids(self, source: str, external_ids: Sequence[str]) -> set[str]:
        ids = list(set(external_ids))
        found: set[str] = set()
        for start in range(0, len(ids), 1000):
            found.update(await self._db.mentions.distinct(
                "external_id", {"source": source, "external_id": {"$in": ids[start:start + 1000]}}))
        return found

    async def get_mention(self, mention_id: int) -> Mention:
        doc = await self._db.mentions.find_one({"_id": int(mention_id)})
        if doc is None:
            raise NotFound(f"no mention {mention_id}")
        return _mention_from_doc(doc)

    async def list_mentions(self, query: MentionQuery) -> Page[Mention]:
        limit = clamp_limit(query.limit)
        where: list[dict[str, Any]] = []
        filt: dict[str, Any] = {}
        if query.customer_id:
            where.append({"customer_ids": query.customer_id})
        if query.source:
            where.append({"source": query.source})
        if query.since:
            where.append(_time_bound(query.since, "$gte"))
        if query.until:
            where.append(_time_bound(query.until, "$lt"))
        if query.text:
            search = text_search(query.text)
            if search is None:
                return Page(())
            # Top level rather than inside $and: mongoeco accepts $text only there.
            filt["$text"] = {"$search": search, "$language": "none"}
        if query.cursor:
            created_ms, mid = decode_cursor(query.cursor, 2)
            created = _time_from_ms(created_ms)
            where.append({"$or": [{"created_at": {"$lt": created}},
                                  {"created_at": created, "_id": {"$lt": int(mid)}}]})
        if where:
            filt["$and"] = where
        docs = await (self._db.mentions.find(filt)
                      .sort([("created_at", -1), ("_id", -1)]).limit(limit + 1).to_list())
        more = len(docs) > limit
        docs = docs[:limit]
        nxt = encode_cursor(_ms(docs[-1]["created_at"]), docs[-1]["_id"]) if more else None
        return Page(tuple(_mention_from_doc(d) for d in docs), nxt)

    async def get_cursor(self, source_key: str) -> dict[str, Any] | None:
        doc = await self._db.cursors.find_one({"_id": source_key})
        return json.loads(doc["cursor"]) if doc else None


def _time_bound(value: Any, op: str) -> dict[str, Any]:
    """A ``created_at`` filter exact to the microsecond (``op`` is ``$gte`` or ``$lt``)."""
    at, extra_us = to_doc_time(value)
    if not extra_us:
        return {"created_at": {op: at}}
    strict = "$gt" if op == "$gte" else "$lt"
    return {"$or": [{"created_at": {strict: at}}, {"created_at": at, "created_us": {op: extra_us}}]}


def _ms(value: Any) -> int:
    """Milliseconds since the epoch of a stored date (what a page cursor carries)."""
    return round(from_doc_time(value, 0).timestamp() * 1000)


def _time_from_ms(value: Any) -> Any:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise BadInput("cursor is not valid", {"cursor": value}) from exc


def _mention_doc(mention_id: int, m: Mention, now: Any) -> dict[str, Any]:
    p = m.post
    created, created_us = to_doc_time(p.created_at)
    ingested, ingested_us = to_doc_time(now)
    # Strongest link first, as the SQLite backend returns them (stable for equal confidence).
    links = sorted(m.analysis.links, key=lambda k: -k.confidence)
    return {
        "_id": mention_id, "source": p.source, "external_id": p.external_id,
        "author": {"handle": p.author.handle, "name": p.author.name,
                   "platform_id": p.author.platform_id},
        "text": p.text, "created_at": created, "created_us": created_us, "url": p.url,
        "parent_id": p.parent_id, "thread_id": p.thread_id, "language": p.language,
        "engagement": dict(p.engagement),
        "ingested_at": ingested, "ingested_us": ingested_us,
        "links": [{"customer_id": k.customer_id, "confidence": k.confidence, "rule": k.rule,
                   "evidence": k.evidence, "start": k.start, "end": k.end} for k in links],
        "customer_ids": sorted({k.customer_id for k in links}),
    }


def _mention_from_doc(d: dict[str, Any]) -> Mention:
    a = d["author"]
    return Mention(
        id=d["_id"],
        post=RawPost(
            source=d["source"], external_id=d["external_id"],
            author=Author(a["handle"], a.get("name"), a.get("platform_id")),
            text=d["text"], created_at=from_doc_time(d["created_at"], d.get("created_us")),
            url=d.get("url"), parent_id=d.get("parent_id"), thread_id=d.get("thread_id"),
            language=d.get("language"), engagement=dict(d.get("engagement") or {}),
        ),
        analysis=Analysis(links=tuple(
            CustomerLink(customer_id=k["customer_id"], confidence=k["confidence"], rule=k["rule"],
                         evidence=k["evidence"], start=k.get("start"), end=k.get("end"))
            for k in d.get("links", ()))),
        ingested_at=from_doc_time(d["ingested_at"], d.get("ingested_us")),
    )
