"""The dashboard's live-feed reads, analytics, spike alerts and saved views in MongoDB.

Every analytic is one aggregation pipeline whose first stage matches a
``created_at`` range, served by the ``mentions_volume`` index (and the topic and
``mentions_customer_volume`` indexes for their filters); facets run one pipeline per facet.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from domain import LINK_PENDING, Mention, MentionQuery
from domain.dashboard import (
    DayAverage,
    FirstResponse,
    KeyCount,
    SavedView,
    SpikeAlert,
    SubjectVolume,
)
from domain.triage import UNTRIAGED, AuthorVolume, VolumeRow
from domain.errors import NotFound
from storage.base import clamp_limit
from domain.signals import facets as signal_facets
from storage.contract.dashboard import (
    THREAD_LIMIT,
    brand_phrases,
    thread_is_per_source,
    thread_keys,
    wanted_facets,
)
from storage.mongo.db import (
    MongoWrites,
    insert_once,
    next_ids,
    time_cmp,
    time_fields,
    to_doc_time, need_time,
)
from storage.mongo.mentions import created_bound, mention_filter, mention_from_doc
from storage.mongo.signals import signal_grouping
from storage.mongo.triage import triage_filters
from storage.rows import SAVED_VIEW, SPIKE_ALERT, SPIKE_ALERT_FIELDS
from storage.mongo.rows import doc_of, doc_reader

DASHBOARD_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "mentions": [([("triage.first_action_at", 1)], {"name": "mentions_first_action", "sparse": True})],
    "spike_alerts": [
        ([("kind", 1), ("subject", 1), ("window_start", 1), ("window_start_us", 1)],
         {"name": "spike_alerts_once", "unique": True}),
        ([("detected_at", -1), ("_id", -1)], {"name": "spike_alerts_detected"}),
    ],
    "saved_views": [([("owner", 1), ("name", 1)], {"name": "saved_views_owner", "unique": True})],
}

#: Grouped expression of each facet that is not a signal (topics are unwound first).
_FACETS: dict[str, Any] = {"source": "$source", "status": {"$ifNull": ["$triage.status", UNTRIAGED]},
                           "topic": "$topics"}
FACET_VALUES_MAX = 50
#: A text filter in facets is resolved to at most this many matching mentions first.
_TEXT_MATCHES = 10_000
_DAY = {"$dateToString": {"format": "%Y-%m-%d", "date": "$created_at"}}
_DAY_MS = 86_400_000


def _created_in(since: datetime, until: datetime, *also: dict[str, Any]) -> dict[str, Any]:
    """A filter of the mentions created in [since, until) that match each filter of ``also``."""
    return {"$and": [*also, created_bound(since, "$gte"), created_bound(until, "$lt")]}


def _period(since: datetime, until: datetime, *also: dict[str, Any]) -> dict[str, Any]:
    """``_created_in`` as a pipeline's first stage."""
    return {"$match": _created_in(since, until, *also)}


def naming_pattern(terms: Sequence[str]) -> str | None:
    """A case-insensitive regex matching any of ``terms`` as whole words (punctuation between)."""
    phrases = [r"[\W_]+".join(re.escape(w) for w in words) for words in brand_phrases(terms)]
    return r"\b(?:" + "|".join(phrases) + r")\b" if phrases else None


_alert, _view = doc_reader(SPIKE_ALERT), doc_reader(SAVED_VIEW)


class MongoDashboard:
    """The dashboard reads, analytics, spike alerts and saved views of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    async def _aggregate(self, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return await (await self._db.mentions.aggregate(pipeline)).to_list()

    # -- the live feed and its thread view ----------------------------------
    async def latest_mention_id(self) -> int:
        doc = await self._db.mentions.find_one({}, {"_id": 1}, sort=[("_id", -1)])
        return int(doc["_id"]) if doc else 0

    async def mentions_after(self, after_id: int, limit: int) -> list[Mention]:
        docs = await (self._db.mentions.find({"_id": {"$gt": int(after_id)}})
                      .sort("_id", 1).limit(clamp_limit(limit)).to_list())
        return [mention_from_doc(d) for d in docs]

    async def mention_thread(self, mention: Mention, limit: int = THREAD_LIMIT) -> list[Mention]:
        root, ids = thread_keys(mention)
        query: dict[str, Any] = {"source": mention.post.source, "$or": [
            {"external_id": {"$in": ids}}, {"thread_id": root}, {"parent_id": {"$in": ids}}]}
        if thread_is_per_source(mention):
            # None also matches mentions stored before their source was kept (no field).
            query["source_key"] = mention.source_key
        docs = await (self._db.mentions.find(query)
            .sort([("created_at", 1), ("created_us", 1), ("_id", 1)])
            .limit(clamp_limit(limit)).to_list())
        return [mention_from_doc(d) for d in docs]

    # -- analytics ---------------------------------------------------------
    async def volume_by_day(self, since: datetime, until: datetime,
                            customer_id: str | None = None) -> list[VolumeRow]:
        customer = [{"customer_ids": customer_id}] if customer_id else []
        rows = await self._aggregate([
            _period(since, until, *customer), {"$group": {"_id": {"day": _DAY, "source": "$source"}, "n": {"$sum": 1}}},
            {"$sort": {"_id.day": 1, "_id.source": 1}}])
        return [VolumeRow(r["_id"]["day"], r["_id"]["source"], int(r["n"])) for r in rows]

    async def top_authors(self, since: datetime, until: datetime, limit: int = 10) -> list[AuthorVolume]:
        rows = await self._aggregate([
            _period(since, until),
            {"$group": {"_id": {"source": "$source", "handle": "$author.handle"},
                        "name": {"$max": "$author.name"}, "n": {"$sum": 1},
                        "reach": {"$sum": "$engagement_total"}}},
            {"$sort": {"n": -1, "_id.handle": 1}}, {"$limit": clamp_limit(limit)}])
        return [AuthorVolume(r["_id"]["source"], r["_id"]["handle"], r.get("name"), int(r["n"]),
                             int(r.get("reach") or 0)) for r in rows]

    async def topic_volume_by_day(self, since: datetime, until: datetime) -> list[VolumeRow]:
        rows = await self._aggregate([
            _period(since, until), {"$unwind": "$topics"},
            {"$group": {"_id": {"day": _DAY, "topic": "$topics"}, "n": {"$sum": 1}}},
            {"$sort": {"_id.day": 1, "_id.topic": 1}}])
        return [VolumeRow(r["_id"]["day"], r["_id"]["topic"], int(r["n"])) for r in rows]

    async def topic_counts(self, since: datetime, until: datetime) -> list[KeyCount]:
        rows = await self._aggregate([
            _period(since, until), {"$unwind": "$topics"},
            {"$group": {"_id": "$topics", "n": {"$sum": 1}}}, {"$sort": {"n": -1, "_id": 1}}])
        return [KeyCount(r["_id"], int(r["n"])) for r in rows]

    async def sentiment_by_day(self, since: datetime, until: datetime) -> list[DayAverage]:
        rows = await self._aggregate([
            _period(since, until),
            {"$group": {"_id": _DAY, "mean": {"$avg": "$sentiment"}, "n": {"$sum": 1}}},
            {"$sort": {"_id": 1}}])
        return [DayAverage(r["_id"], round(float(r["mean"] or 0.0), 3), int(r["n"])) for r in rows]

    async def count_naming(self, since: datetime, until: datetime,
                           brands: Mapping[str, Sequence[str]]) -> list[KeyCount]:
        counts = []
        for name, terms in brands.items():
            pattern = naming_pattern(terms)
            n = 0
            if pattern is not None:
                n = await self._db.mentions.count_documents(
                    _created_in(since, until, {"text": {"$regex": pattern, "$options": "i"}}))
            counts.append(KeyCount(name, n))
        return counts

    async def first_responses(self, since: datetime, until: datetime) -> list[FirstResponse]:
        docs = await (self._db.mentions.find(
            _created_in(since, until, {"triage.first_action_at": {"$ne": None}}),
            {"created_at": 1, "created_us": 1, "triage.first_action_at": 1, "triage.first_action_at_us": 1})
            .sort([("created_at", 1), ("created_us", 1), ("_id", 1)]).to_list())
        out = []
        for d in docs:
            created = need_time({"c": d["created_at"], "c_us": d.get("created_us")}, "c")
            acted = need_time(d["triage"], "first_action_at")
            # A mention triaged "before" it was posted (clock skew at the source) waited 0 s.
            out.append(FirstResponse(created.date().isoformat(), max(0.0, (acted - created).total_seconds())))
        return out

    async def facet_counts(self, query: MentionQuery, status: str | None, assignee: str | None,
                           tag: str | None, facets: Sequence[str] | None = None
                           ) -> dict[str, list[KeyCount]]:
        grouping = {**_FACETS, **{s.name: signal_grouping(s) for s in signal_facets()}}
        facets = wanted_facets(facets, grouping)
        filt = mention_filter(dataclasses.replace(query, cursor=None), triage_filters(status, assignee, tag))
        if filt is None:
            return {f: [] for f in facets}
        if "$text" in filt:
            # Aggregations take $text only as their first stage on MongoDB and not at all on
            # mongoeco: the matching ids first, with a plain find.
            text = filt.pop("$text")
            matched = await self._db.mentions.find({"$text": text}, {"_id": 1}).limit(_TEXT_MATCHES).to_list()
            filt.setdefault("$and", []).append({"_id": {"$in": [d["_id"] for d in matched]}})
        result = {}
        for facet in facets:
            pipeline: list[dict[str, Any]] = [{"$match": filt}]
            if facet == "topic":
                pipeline.append({"$unwind": "$topics"})
            found = grouping[facet]
            before, expr = found if isinstance(found, tuple) else ([], found)
            pipeline += [*before, {"$group": {"_id": expr, "n": {"$sum": 1}}},
                         {"$match": {"_id": {"$ne": None}}},
                         {"$sort": {"n": -1, "_id": 1}}, {"$limit": FACET_VALUES_MAX}]
            result[facet] = [KeyCount(r["_id"], int(r["n"])) for r in await self._aggregate(pipeline)]
        return result

    # -- spike alerts ------------------------------------------------------
    async def subject_volumes(self, kind: str, until: datetime, buckets: int, *,
                              pending_links: bool) -> list[SubjectVolume]:
        if kind not in ("topic", "customer"):
            raise ValueError(f"unknown spike subject {kind!r}")
        end, _ = to_doc_time(until)
        bucket = {"$floor": {"$divide": [{"$subtract": [end, "$created_at"]}, _DAY_MS]}}
        pipeline: list[dict[str, Any]] = [_period(until - timedelta(days=buckets), until)]
        if kind == "topic":
            pipeline += [{"$unwind": "$topics"},
                         {"$group": {"_id": {"s": "$topics", "b": bucket}, "n": {"$sum": 1}}}]
        else:
            pipeline.append({"$unwind": "$links"})
            if not pending_links:
                pipeline.append({"$match": {"links.status": {"$ne": LINK_PENDING}}})
            pipeline += [{"$group": {"_id": {"s": "$links.customer_id", "b": bucket},
                                     "ids": {"$addToSet": "$_id"}}},
                         {"$project": {"n": {"$size": "$ids"}}}]
        rows = await self._aggregate(pipeline)
        return [SubjectVolume(r["_id"]["s"], min(int(r["_id"]["b"]), buckets - 1), int(r["n"]))
                for r in rows]

    async def record_spike_alerts(self, alerts: Sequence[SpikeAlert]) -> list[SpikeAlert]:
        async def write(session: Any) -> list[SpikeAlert]:
            new = []
            for a in alerts:
                alert_id = await next_ids(self._db, "spike_alerts", session=session)
                key = doc_of(SPIKE_ALERT, a, ("kind", "subject", "window_start"))
                doc = {"_id": alert_id, **doc_of(SPIKE_ALERT, a, SPIKE_ALERT_FIELDS)}
                if await insert_once(self._db.spike_alerts, key, doc, session):
                    new.append(_alert(doc))
            return new

        return await self._writes.run(write)

    async def list_spike_alerts(self, since: datetime | None = None, limit: int = 50) -> list[SpikeAlert]:
        filt = time_cmp("detected_at", "$gte", since) if since is not None else {}
        docs = await (self._db.spike_alerts.find(filt)
                      .sort([("detected_at", -1), ("detected_at_us", -1), ("_id", -1)])
                      .limit(clamp_limit(limit)).to_list())
        return [_alert(d) for d in docs]

    # -- saved views -------------------------------------------------------
    async def save_view(self, owner: str, name: str, filters: Mapping[str, Any],
                        now: datetime) -> SavedView:
        from pymongo import ReturnDocument
        from pymongo.errors import DuplicateKeyError

        body = json.dumps(dict(filters), sort_keys=True)
        for _ in range(2):  # a second try when another writer created the same view meanwhile
            view_id = await next_ids(self._db, "saved_views")
            try:
                doc = await self._db.saved_views.find_one_and_update(
                    {"owner": owner, "name": name},
                    {"$set": {"filters": body, **time_fields("updated_at", now)},
                     "$setOnInsert": {"_id": view_id}},
                    upsert=True, return_document=ReturnDocument.AFTER)
                return _view(doc)
            except DuplicateKeyError:
                continue
        raise AssertionError("unreachable: the view exists after a duplicate key")

    async def list_views(self, owner: str) -> list[SavedView]:
        docs = await self._db.saved_views.find({"owner": owner}).sort([("name", 1), ("_id", 1)]).to_list()
        return [_view(d) for d in docs]

    async def delete_view(self, owner: str, view_id: int) -> None:
        done = await self._db.saved_views.delete_one({"_id": int(view_id), "owner": owner})
        if not done.deleted_count:
            raise NotFound(f"no saved view {view_id}")
