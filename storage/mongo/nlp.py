"""The link review queue, teaching and re-linking in MongoDB.

Links are embedded in their mention's document (each with its own integer id
from the ``mention_links`` counter), so a decision rewrites the mention's
``links`` and ``customer_ids`` together in one single-document write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from domain import (
    LINK_PENDING,
    LinkNegative,
    LinkReview,
    Mention,
    Page,
    TopicLabel,
    normalise_handle,
    relabelled_evidence,
    utcnow,
)
from storage.base import clamp_limit, cut_page, typed_cursor
from storage.mongo.db import (
    MongoWrites,
    time_cmp,
    time_fields,
)
from storage.mongo.mentions import link_from_doc, mention_from_doc
from storage.topic_evidence import evidence_docs, evidence_from_docs
from storage.rows import TOPIC_LABEL
from storage.mongo.rows import doc_reader, found

NLP_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "link_negatives": [([("created_at", 1), ("_id", 1)], {"name": "negatives_created"})],
    "text_repeats": [([("fingerprint", 1)], {"name": "text_repeats_fingerprint"}),
                     ([("seen_at", 1)], {"name": "text_repeats_seen"})],
    # _id is the mention id: one label per mention.
    "mention_topic_labels": [([("labelled_at", 1), ("labelled_at_us", 1), ("_id", 1)],
                              {"name": "topic_labels_at"})],
}


async def _set_links(db: Any, mention_id: int, links: list[dict[str, Any]], session: Any) -> None:
    """Replace a mention's links, keeping ``customer_ids`` in step with them."""
    await db.mentions.update_one(
        {"_id": mention_id},
        {"$set": {"links": links, "customer_ids": sorted({k["customer_id"] for k in links})}},
        session=session)


async def _review(db: Any, link_id: int, session: Any = None) -> tuple[LinkReview, dict[str, Any]]:
    doc = await found(db.mentions.find_one({"links.id": int(link_id)}, session=session), f"no customer link {link_id}")
    link = next(k for k in doc["links"] if k["id"] == int(link_id))
    return LinkReview(link_from_doc(link), mention_from_doc(doc)), doc


_label = doc_reader(TOPIC_LABEL)


class MongoNlp:
    """The NLP part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    async def list_link_reviews(self, limit: int = 50, cursor: str | None = None) -> Page[LinkReview]:
        limit = clamp_limit(limit)
        after = typed_cursor(cursor, int)[0] if cursor else 0
        pending = {"status": LINK_PENDING, "id": {"$gt": after}}
        rows = await (await self._db.mentions.aggregate([
            {"$match": {"links": {"$elemMatch": pending}}},
            {"$project": {"links": 1}},
            {"$unwind": "$links"},
            {"$match": {"links.status": LINK_PENDING, "links.id": {"$gt": after}}},
            {"$sort": {"links.id": 1}},
            {"$limit": limit + 1},
        ])).to_list()
        rows, nxt = cut_page(rows, limit, lambda r: (r["links"]["id"],))
        ids = sorted({r["_id"] for r in rows})
        docs = await self._db.mentions.find({"_id": {"$in": ids}}).to_list() if ids else []
        mentions = {d["_id"]: mention_from_doc(d) for d in docs}
        items = tuple(LinkReview(link_from_doc(r["links"]), mentions[r["_id"]]) for r in rows)
        return Page(items, nxt)

    async def get_link(self, link_id: int) -> LinkReview:
        return (await _review(self._db, link_id))[0]

    async def link_negatives(self) -> list[LinkNegative]:
        docs = await self._db.link_negatives.find({}).sort([("created_at", 1), ("created_at_us", 1)]).to_list()
        return [LinkNegative(d["customer_id"], d["source"], d["author_handle"], d["phrase"] or None)
                for d in docs]

    async def author_mentions(self, source: str, author_handle: str, limit: int = 10_000) -> list[Mention]:
        # One author whether the platform gave the handle with a leading @ or not (as SQLite).
        handle = normalise_handle(author_handle)
        docs = await (self._db.mentions.find({"source": source, "handle_key": {"$in": [handle, "@" + handle]}})
                      .sort([("created_at", 1), ("created_us", 1), ("_id", 1)])
                      .limit(max(1, int(limit))).to_list())
        return [mention_from_doc(d) for d in docs]

    async def count_text_authors(self, texts: Sequence[tuple[str, str]], window: timedelta) -> list[int]:
        from pymongo import UpdateOne

        pairs = list(texts)
        if not pairs:
            return []
        now = utcnow()

        async def write(session: Any) -> list[int]:
            await self._db.text_repeats.delete_many(time_cmp("seen_at", "$lt", now - window), session=session)
            await self._db.text_repeats.bulk_write(
                [UpdateOne({"_id": {"fingerprint": fp, "author": author}},
                           {"$set": {"fingerprint": fp, **time_fields("seen_at", now)}}, upsert=True)
                 for fp, author in dict.fromkeys(pairs)], ordered=True, session=session)
            counts = {fp: await self._db.text_repeats.count_documents({"fingerprint": fp}, session=session)
                      for fp in {fp for fp, _ in pairs}}
            return [counts[fp] for fp, _ in pairs]

        return await self._writes.run(write)

    # -- managers' topic labels --------------------------------------------

    async def set_topic_label(self, mention_id: int, topics: Sequence[str], labelled_by: str) -> TopicLabel:
        keys = list(dict.fromkeys(topics))
        now = utcnow()

        async def write(session: Any) -> TopicLabel:
            doc = await found(self._db.mentions.find_one({"_id": int(mention_id)}, {"topic_evidence": 1},
                                                   session=session), f"no mention {mention_id}")
            evidence = evidence_docs(relabelled_evidence(evidence_from_docs(doc.get("topic_evidence")), keys))
            # The label first: without transactions a crash in between leaves a label whose
            # mention still shows the old topics, and labelling again completes it.
            await self._db.mention_topic_labels.update_one(
                {"_id": int(mention_id)},
                {"$set": {"topics": keys, "labelled_by": labelled_by, **time_fields("labelled_at", now)}},
                upsert=True, session=session)
            await self._db.mentions.update_one(
                {"_id": int(mention_id)},
                {"$set": {"topics": keys, "topic_evidence": evidence}}, session=session)
            return TopicLabel(int(mention_id), tuple(keys), labelled_by, now)

        return await self._writes.run(write)

    async def get_topic_label(self, mention_id: int) -> TopicLabel | None:
        d = await self._db.mention_topic_labels.find_one({"_id": int(mention_id)})
        return None if d is None else _label(d)

    async def topic_label_examples(self, limit: int = 100_000) -> list[tuple[str, tuple[str, ...]]]:
        labels = await (self._db.mention_topic_labels.find({})
                        .sort([("labelled_at", 1), ("labelled_at_us", 1), ("_id", 1)])
                        .limit(max(1, int(limit))).to_list())
        texts: dict[int, str] = {}
        ids = [d["_id"] for d in labels]
        for start in range(0, len(ids), 1000):
            async for m in self._db.mentions.find({"_id": {"$in": ids[start:start + 1000]}}, {"text": 1}):
                texts[m["_id"]] = m["text"]
        # A label of a mention deleted since is no example.
        return [(texts[d["_id"]], tuple(d["topics"])) for d in labels if d["_id"] in texts]
