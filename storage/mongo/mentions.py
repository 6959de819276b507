"""Mentions, their customer links and source cursors in MongoDB.

A mention is one document with its links embedded (so a mention and its links
are written atomically even without transactions) and ``customer_ids`` beside
them for the customer filter.  Ids are integers from a counter document, as
in SQLite, so the API's mention ids stay ints.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from domain import (
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
from domain.errors import BadInput, Conflict
from domain.mention_identity import mention_identity
from storage.base import clamp_limit, cut_page, decode_cursor, storable_ids
from storage.contract.events import stored_events
from storage.mongo.db import (
    MongoWrites,
    from_doc_time,
    is_duplicate_key,
    next_ids,
    text_search,
    to_doc_time,
)
from storage.mongo.events import record_events
from storage.mongo.signals import SIGNAL_INDEX, signal_docs, signal_filters, signals_from_doc
from storage.topic_evidence import evidence_docs, evidence_from_docs
from storage.mongo.rows import found

MENTION_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "mentions": [
        # What a platform guarantees unique (domain/mention_identity.py); the platform's own
        # id is not unique where two servers give the same one, but finds a thread's posts.
        ([("source", 1), ("identity", 1)], {"name": "mentions_source_identity", "unique": True}),
        ([("source", 1), ("external_id", 1)], {"name": "mentions_source_external_id"}),
        ([("created_at", -1), ("_id", -1)], {"name": "mentions_feed"}),
        ([("source", 1), ("created_at", -1), ("_id", -1)], {"name": "mentions_source_feed"}),
        ([("customer_ids", 1), ("created_at", -1), ("_id", -1)], {"name": "mentions_customer_feed"}),
        ([("source", 1), ("author.handle", 1)], {"name": "mentions_author"}),
        # A mention's thread view: the posts of its thread and the replies to it.
        ([("source", 1), ("thread_id", 1)], {"name": "mentions_thread"}),
        ([("source", 1), ("parent_id", 1)], {"name": "mentions_parent"}),
        ([("source", 1), ("handle_key", 1), ("created_at", 1)], {"name": "mentions_author_key"}),
        ([("topics", 1), ("created_at", -1), ("_id", -1)], {"name": "mentions_topic_feed"}),
        ([("sentiment_label", 1), ("created_at", -1), ("_id", -1)], {"name": "mentions_sentiment"}),
        ([("intent", 1), ("created_at", -1), ("_id", -1)], {"name": "mentions_intent"}),
        SIGNAL_INDEX,
        ([("links.status", 1), ("links.id", 1)], {"name": "mentions_link_review"}),
        ([("links.id", 1)], {"name": "mentions_link_id"}),
        # Dashboard: volume per day and source, top authors over a period.
        ([("created_at", 1), ("source", 1)], {"name": "mentions_volume"}),
        ([("customer_ids", 1), ("created_at", 1), ("source", 1)], {"name": "mentions_customer_volume"}),
        # No stemming and no stop words: the same word matching as SQLite's FTS5 (unicode61).
        ([("text", "text")], {"name": "mentions_text", "default_language": "none"}),
    ],
}


#: Kept in ``schema_steps`` (not ``meta``, which mirrors SQLite's table and is copied and counted by
#: the SQLite-to-MongoDB migration) once the mentions stored before their source was kept have
#: been filled in.
SOURCE_KEYS_FILLED = "mention_source_keys_filled"


async def fill_source_keys(db: Any) -> int:
    """Mentions stored before ``source_key`` was kept: where exactly one source of a mention's
    platform ever ran (its health record names its kind), that source read it; the rest stay
    without one (as SQLite's migration 0071 does).  Once per database; how many were filled."""
    if await db.schema_steps.find_one({"_id": SOURCE_KEYS_FILLED}) is not None:
        return 0
    by_kind: dict[str, list[str]] = {}
    async for doc in db.source_health.find({}, {"health.kind": 1}):
        kind = (doc.get("health") or {}).get("kind")
        if isinstance(kind, str):
            by_kind.setdefault(kind, []).append(doc["_id"])
    filled = 0
    for kind, keys in by_kind.items():
        if len(keys) == 1:
            result = await db.mentions.update_many({"source": kind, "source_key": {"$exists": False}},
                                                   {"$set": {"source_key": keys[0]}})
            filled += result.modified_count
    await db.schema_steps.update_one({"_id": SOURCE_KEYS_FILLED}, {"$set": {"done": True}}, upsert=True)
    return filled


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
        first_id = await next_ids(self._db, "mentions", len(mentions)) if mentions else 0
        n_links = sum(len(m.analysis.links) for m in mentions)
        link_id = await next_ids(self._db, "mention_links", n_links) if n_links else 0
        docs = []
        for n, m in enumerate(mentions):
            docs.append(mention_doc(first_id + n, dataclasses.replace(m, source_key=source_key), now,
                                    link_id))
            link_id += len(m.analysis.links)
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
            stored: tuple[Mention, ...] = ()
            # Before the mentions: in a transaction the order does not matter, and without
            # one a crash in between leaves an event of a missing mention (skipped), never a
            # mention without its event.
            await record_events(self._db, stored_events([mention_from_doc(d) for d in new]), now,
                                session)
            if new:
                try:
                    # In a transaction a raced duplicate aborts it and MongoWrites runs it again
                    # (seeing the winner); without one, unordered inserts go on past it.
                    result = await self._db.mentions.insert_many(
                        new, ordered=session is not None, session=session)
                    inserted = len(result.inserted_ids)
                    ids = set(result.inserted_ids)
                    stored = tuple(mention_from_doc(d) for d in new if d["_id"] in ids)
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
            return SaveResult(inserted=inserted, duplicates=len(mentions) - inserted,
                              stored=stored)

        return await self._writes.run(write)

    async def _new_mentions(self, docs: list[dict[str, Any]], session: Any) -> list[dict[str, Any]]:
        """The documents of ``docs`` not stored yet, each (source, identity) once."""
        by_source: dict[str, set[str]] = {}
        for d in docs:
            by_source.setdefault(d["source"], set()).add(d["identity"])
        stored = {(source, identity) for source, ids in by_source.items()
                  for identity in await self._db.mentions.distinct(
                      "identity", {"source": source, "identity": {"$in": sorted(ids)}},
                      session=session)}
        new: list[dict[str, Any]] = []
        for d in docs:
            key = (d["source"], d["identity"])
            if key not in stored:
                stored.add(key)
                new.append(d)
        return new

    async def known_identities(self, source: str, identities: Sequence[str]) -> set[str]:
        ids = list(set(identities))
        found: set[str] = set()
        for start in range(0, len(ids), 1000):
            found.update(await self._db.mentions.distinct(
                "identity", {"source": source, "identity": {"$in": ids[start:start + 1000]}}))
        return found

    async def get_mention(self, mention_id: int) -> Mention:
        return mention_from_doc(await found(self._db.mentions.find_one({"_id": int(mention_id)}),
                                            f"no mention {mention_id}"))

    async def get_mentions(self, mention_ids: Sequence[int]) -> dict[int, Mention]:
        ids = storable_ids(mention_ids)
        if not ids:
            return {}
        found: dict[int, Mention] = {}
        async for doc in self._db.mentions.find({"_id": {"$in": ids}}):
            mention = mention_from_doc(doc)
            found[mention.id or 0] = mention
        return found

    async def list_mentions(self, query: MentionQuery) -> Page[Mention]:
        filt = mention_filter(query)
        if filt is None:
            return Page(())
        return await mention_page(self._db, filt, query.limit)

    async def get_cursor(self, source_key: str) -> dict[str, Any] | None:
        doc = await self._db.cursors.find_one({"_id": source_key})
        return json.loads(doc["cursor"]) if doc else None


def mention_filter(query: MentionQuery, extra: Sequence[dict[str, Any]] = ()) -> dict[str, Any] | None:
    """A ``find`` filter for every filter of ``query`` (its cursor included) and ``extra``.

    ``None`` when no mention can match (a text query without a single word).
    """
    where: list[dict[str, Any]] = list(extra)
    filt: dict[str, Any] = {}
    for field, value in (("customer_ids", query.customer_id), ("topics", query.topic),
                         ("source", query.source)):
        if value:
            where.append({field: value})
    where += signal_filters(query)
    if query.since:
        where.append(created_bound(query.since, "$gte"))
    if query.until:
        where.append(created_bound(query.until, "$lt"))
    if query.text:
        search = text_search(query.text)
        if search is None:
            return None
        # Top level rather than inside $and: mongoeco accepts $text only there.
        filt["$text"] = {"$search": search, "$language": "none"}
    if query.cursor:
        created_ms, mid = decode_cursor(query.cursor, 2)
        created = _time_from_ms(created_ms)
        try:
            mid = int(mid)
        except (TypeError, ValueError) as exc:
            raise BadInput("cursor is not valid", {"cursor": query.cursor}) from exc
        where.append({"$or": [{"created_at": {"$lt": created}},
                              {"created_at": created, "_id": {"$lt": mid}}]})
    if where:
        filt["$and"] = where
    return filt


async def mention_page(db: Any, filt: dict[str, Any], limit: int) -> Page[Mention]:
    """One page of the mentions matching ``filt``, newest first."""
    limit = clamp_limit(limit)
    docs = await (db.mentions.find(filt)
                  .sort([("created_at", -1), ("_id", -1)]).limit(limit + 1).to_list())
    docs, nxt = cut_page(docs, limit, lambda d: (_ms(d["created_at"]), d["_id"]))
    return Page(tuple(mention_from_doc(d) for d in docs), nxt)


def created_bound(value: Any, op: str) -> dict[str, Any]:
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


def mention_doc(mention_id: int, m: Mention, now: Any, first_link_id: int = 0,
                identity: str | None = None) -> dict[str, Any]:
    """The document of a mention; its links get ids from ``first_link_id`` on.  ``identity``:
    the one it was stored with (a copy), else ``mention_identity`` of its post."""
    p, a = m.post, m.analysis
    created, created_us = to_doc_time(p.created_at)
    ingested, ingested_us = to_doc_time(now)
    # Strongest link first, as the SQLite backend returns them (stable for equal confidence).
    links = sorted(a.links, key=lambda k: -k.confidence)
    return {
        "_id": mention_id, "source": p.source, "external_id": p.external_id,
        "identity": identity if identity is not None else mention_identity(p),
        "author": {"handle": p.author.handle, "name": p.author.name,
                   "platform_id": p.author.platform_id},
        # For the case-insensitive author look-ups of link review.
        "handle_key": p.author.handle.lower(),
        "text": p.text, "created_at": created, "created_us": created_us, "url": p.url,
        "parent_id": p.parent_id, "thread_id": p.thread_id, "language": p.language,
        "engagement": dict(p.engagement),
        # Summed once at write time so top-author reach is a plain $sum.
        "engagement_total": sum(v for v in p.engagement.values()
                                if isinstance(v, (int, float)) and not isinstance(v, bool)),
        "ingested_at": ingested, "ingested_us": ingested_us,
        "links": [link_doc(k, first_link_id + n) for n, k in enumerate(links)],
        "customer_ids": sorted({k.customer_id for k in links}),
        "topics": list(dict.fromkeys(a.topics)), "sentiment": a.sentiment,
        "sentiment_label": a.sentiment_label, "intent": a.intent,
        "detected_language": a.language, "flags": list(a.flags),
        "topic_evidence": evidence_docs(a.topic_evidence),
        "signals": signal_docs(a),
        # Set in the same insert as the mention: readers in any process skip it for routing
        # and CRM writes.  Mentions stored before the field existed lack it: not a backfill.
        "backfill": bool(m.backfill),
        # What stored it (Mention.source_key); absent on mentions stored before it was kept.
        "source_key": m.source_key,
    }


def link_doc(k: CustomerLink, link_id: int) -> dict[str, Any]:
    """An embedded customer link."""
    return {"id": link_id, "customer_id": k.customer_id, "confidence": k.confidence,
            "rule": k.rule, "evidence": k.evidence, "start": k.start, "end": k.end,
            "status": k.status}


def link_from_doc(k: dict[str, Any]) -> CustomerLink:
    """The inverse of ``link_doc``."""
    return CustomerLink(customer_id=k["customer_id"], confidence=k["confidence"], rule=k["rule"],
                        evidence=k["evidence"], start=k.get("start"), end=k.get("end"),
                        status=k.get("status", "accepted"), id=k.get("id"))


def mention_from_doc(d: dict[str, Any]) -> Mention:
    """A mention from its document."""
    a = d["author"]
    links = sorted(d.get("links", ()), key=lambda k: (-k["confidence"], k.get("id") or 0))
    return Mention(
        id=d["_id"],
        post=RawPost(
            source=d["source"], external_id=d["external_id"],
            author=Author(a["handle"], a.get("name"), a.get("platform_id")),
            text=d["text"], created_at=from_doc_time(d["created_at"], d.get("created_us")),
            url=d.get("url"), parent_id=d.get("parent_id"), thread_id=d.get("thread_id"),
            language=d.get("language"), engagement=dict(d.get("engagement") or {}),
        ),
        analysis=Analysis(
            links=tuple(link_from_doc(k) for k in links), topics=tuple(d.get("topics", ())),
            sentiment=d.get("sentiment", 0.0), sentiment_label=d.get("sentiment_label", "neutral"),
            intent=d.get("intent", "other"), language=d.get("detected_language"),
            flags=tuple(d.get("flags", ())),
            topic_evidence=evidence_from_docs(d.get("topic_evidence")),
            signals=signals_from_doc(d)),
        ingested_at=from_doc_time(d["ingested_at"], d.get("ingested_us")),
        backfill=bool(d.get("backfill", False)),
        source_key=d.get("source_key"),
    )
