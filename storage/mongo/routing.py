"""Teams, routed items, their audit log and the delivery outbox in MongoDB.

Routing is idempotent through a unique index on (item kind, item id, rule id);
deliveries are unique by idempotency key.  On a replica set a routed item, its
audit entry and its deliveries are one transaction.  On a standalone server
they are written "roll-forward": the item first, marked incomplete, then its
audit entry and deliveries (each written at most once by its unique key), then
the mark is cleared.  A crash in between leaves an incomplete item that the
next ``route_item`` of the same event completes — deliveries are never lost.

Claiming is one ``find_one_and_update`` per delivery: atomic on any server,
so two workers never hold one delivery.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from domain.routing import (
    ACKNOWLEDGED_ACTION,
    Acknowledging,
    Delivery,
    QueueCounts,
    RoutedItem,
    RoutingEntry,
    Team,
)
from domain import Page
from domain.errors import BadInput
from storage.base import clamp_limit, cut_page, typed_cursor
from storage.contract.events import routed_event
from storage.mongo.events import record_events
from storage.mongo.routing_counts import teams_queue_counts
from storage.rows import DELIVERY, ROUTED_ITEM, ROUTING_ENTRY, TEAM, TEAM_FIELDS, of_routed, routed_detail
from storage.mongo.rows import doc_of, doc_reader, found
from storage.mongo.db import (
    MongoWrites,
    before_in_order,
    insert_once,
    next_ids,
    put_time,
    time_cmp,
    time_fields,
)

ROUTING_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "routed_items": [
        ([("item_kind", 1), ("item_id", 1), ("rule_id", 1)], {"name": "routed_once", "unique": True}),
        ([("team_key", 1), ("routed_at", -1), ("routed_at_us", -1), ("_id", -1)], {"name": "routed_team"}),
    ],
    "routing_log": [([("routed_id", 1), ("_id", 1)], {"name": "routing_log_routed"}),
                    # A keyed note (a status change's team note) once per routed item.
                    ([("routed_id", 1), ("note_key", 1)], {"name": "routing_log_note_key", "unique": True,
                     "partialFilterExpression": {"note_key": {"$type": "string"}}})],
    "deliveries": [
        ([("idempotency_key", 1)], {"name": "deliveries_key", "unique": True}),
        ([("state", 1), ("next_attempt_at", 1), ("_id", 1)], {"name": "deliveries_due"}),
        ([("state", 1), ("claimed_until", 1)], {"name": "deliveries_claims"}),
        ([("state", 1), ("_id", -1)], {"name": "deliveries_state"}),
    ],
}


def _team_doc(team: Team) -> dict[str, Any]:
    """A team's fields but its key (the document's ``_id``)."""
    return doc_of(TEAM, team, TEAM_FIELDS[1:])


_team, routed_from_doc, _delivery = doc_reader(TEAM), doc_reader(ROUTED_ITEM), doc_reader(DELIVERY)
_entry = doc_reader(ROUTING_ENTRY)


def routed_doc(routed: RoutedItem, routed_id: int, *, complete: bool) -> dict[str, Any]:
    """The document of a new routed item (not acknowledged yet, updated when routed); while
    not ``complete`` its audit entry and deliveries may be missing (see the module's note)."""
    new = dataclasses.replace(routed, id=routed_id, updated_at=routed.routed_at,
                              acknowledged_at=None, acknowledged_by=None)
    return {"item_kind": routed.item.kind, "item_id": routed.item.id, **doc_of(ROUTED_ITEM, new),
            "complete": complete}


def _delivery_doc(delivery_id: int, d: Delivery, at: datetime) -> dict[str, Any]:
    """A pending delivery's document, due at its ``next_attempt_at`` or ``at``."""
    doc: dict[str, Any] = {
        "_id": delivery_id, "routed_id": d.routed_id, "team_key": d.team_key, "channel": d.channel,
        "target": json.dumps(dict(d.target), sort_keys=True),
        "payload": json.dumps(dict(d.payload), sort_keys=True),
        "idempotency_key": d.idempotency_key, "state": "pending", "attempts": 0,
        "claimed_by": None, "last_error": None}
    put_time(doc, "next_attempt_at", d.next_attempt_at or at)
    put_time(doc, "claimed_until", None)
    put_time(doc, "created_at", at)
    return put_time(doc, "sent_at", None)


async def insert_deliveries(db: Any, deliveries: Sequence[Delivery], at: datetime, session: Any) -> list[int]:
    """Put ``deliveries`` in the outbox, pending and due at their ``next_attempt_at`` or ``at``,
    each at most once (by idempotency key); the ids of those added."""
    first = await next_ids(db, "deliveries", len(deliveries), session) if deliveries else 0
    ids = []
    for n, d in enumerate(deliveries):
        doc = _delivery_doc(first + n, d, at)
        if await insert_once(db.deliveries, {"idempotency_key": d.idempotency_key}, doc, session):
            ids.append(doc["_id"])
    return ids



class MongoRouting:
    """The routing part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    # -- teams ----------------------------------------------------------------
    async def seed_teams(self, teams: Sequence[tuple[Team, str]], at: datetime) -> None:
        async def write(session: Any) -> None:
            for team, fingerprint in teams:
                # Written when new or seeded from other config; an API edit of an unchanged
                # config entry is kept.
                stored = await self._db.teams.find_one({"_id": team.key}, {"seed_hash": 1},
                                                       session=session)
                if stored is not None and stored.get("seed_hash") == fingerprint:
                    continue
                await self._db.teams.update_one(
                    {"_id": team.key},
                    {"$set": {**_team_doc(team), "seed_hash": fingerprint, **time_fields("updated_at", at)}},
                    upsert=True, session=session)

        await self._writes.run(write)

    async def save_team(self, team: Team, at: datetime) -> Team:
        # seed_hash is kept: the config fingerprint still tells when the config changes.
        await self._db.teams.update_one(
            {"_id": team.key}, {"$set": {**_team_doc(team), **time_fields("updated_at", at)}},
            upsert=True)
        return team

    async def get_team(self, key: str) -> Team:
        doc = await found(self._db.teams.find_one({"_id": key}), f"no team {key!r}")
        return _team(doc)

    async def list_teams(self) -> list[Team]:
        return [_team(d) for d in await self._db.teams.find({}).sort("_id", 1).to_list()]

    # -- routed items -----------------------------------------------------------
    async def route_item(
        self, routed: RoutedItem, deliveries: Sequence[Delivery]
    ) -> RoutedItem | None:
        if routed.routed_at is None:
            raise ValueError("routed_at is required")
        at = routed.routed_at
        key = {"item_kind": routed.item.kind, "item_id": routed.item.id, "rule_id": routed.rule_id}

        async def write(session: Any) -> RoutedItem | None:
            existing = await self._db.routed_items.find_one(key, {"complete": 1}, session=session)
            if existing is not None and existing.get("complete", True):
                return None
            if existing is None:
                routed_id = await next_ids(self._db, "routed_items", session=session)
                doc = routed_doc(routed, routed_id, complete=False)
                if not await insert_once(self._db.routed_items, key, doc, session):
                    return None  # another writer routed it first
            else:
                routed_id = existing["_id"]  # a crashed earlier write: complete it
            log_id = await next_ids(self._db, "routing_log", session=session)
            await insert_once(self._db.routing_log, {"routed_id": routed_id, "action": "routed"},
                              log_doc(log_id, routed_id, at, routed.routed_by, "routed",
                                      routed_detail(routed)), session)
            await insert_deliveries(self._db, of_routed(deliveries, routed_id), at, session)
            # Without transactions (a standalone server) a write completing a crashed one may
            # record the event again: consumers are idempotent per routing.
            await record_events(self._db, [routed_event(routed_id)], at, session)
            await self._db.routed_items.update_one({"_id": routed_id}, {"$set": {"complete": True}},
                                                   session=session)
            return dataclasses.replace(routed, id=routed_id, updated_at=at)

        return await self._writes.run(write)

    async def get_routed(self, routed_id: int) -> RoutedItem:
        doc = await found(self._db.routed_items.find_one({"_id": int(routed_id)}), f"no routed item {routed_id}")
        return routed_from_doc(doc)

    async def routed_for_item(self, kind: str, item_id: str) -> list[RoutedItem]:
        docs = await self._db.routed_items.find({"item_kind": kind, "item_id": item_id}).sort("_id", 1).to_list()
        return [routed_from_doc(d) for d in docs]

    async def team_queue(
        self, team_key: str, statuses: Sequence[str] = (), limit: int = 50,
        cursor: str | None = None,
    ) -> Page[RoutedItem]:
        limit = clamp_limit(limit)
        where: list[dict[str, Any]] = [{"team_key": team_key}]
        if statuses:
            where.append({"status": {"$in": list(statuses)}})
        if cursor:
            routed_at, rid = typed_cursor(cursor, lambda at: datetime.fromisoformat(str(at)), int)
            where.append(before_in_order("routed_at", routed_at, rid))
        docs = await (self._db.routed_items.find({"$and": where})
                      .sort([("routed_at", -1), ("routed_at_us", -1), ("_id", -1)])
                      .limit(limit + 1).to_list())
        items, nxt = cut_page([routed_from_doc(d) for d in docs], limit,
                              lambda r: (r.routed_at.isoformat() if r.routed_at else None, r.id))
        return Page(tuple(items), nxt)

    async def teams_queue_counts(
        self, status: str, unacknowledged_before: Mapping[str, datetime | None]
    ) -> dict[str, QueueCounts]:
        return await teams_queue_counts(self._db, status, unacknowledged_before)

    async def update_routed(
        self, routed_id: int, actor: str, at: datetime, *, status: str | None = None,
        acknowledge: Acknowledging | None = None, comment: str | None = None,
        note_key: str | None = None,
    ) -> RoutedItem:
        async def write(session: Any) -> RoutedItem:
            doc = await found(self._db.routed_items.find_one({"_id": int(routed_id)}, session=session), f"no routed item {routed_id}")
            current = doc["status"]
            if acknowledge is not None and doc.get("acknowledged_at") is None:
                moved = acknowledge.to if current in acknowledge.moves else current
                # The filter keeps the first acknowledgement when two arrive at once.
                done = await self._db.routed_items.update_one(
                    {"_id": doc["_id"], "acknowledged_at": None},
                    {"$set": {**time_fields("acknowledged_at", at), "acknowledged_by": actor,
                              **time_fields("updated_at", at), "status": moved}},
                    session=session)
                if done.modified_count:
                    current = moved
                    await self._log(doc["_id"], at, actor, ACKNOWLEDGED_ACTION, {}, session)
            if status is not None and status != current:
                await self._db.routed_items.update_one(
                    {"_id": doc["_id"]}, {"$set": {"status": status, **time_fields("updated_at", at)}},
                    session=session)
                await self._log(doc["_id"], at, actor, "status", {"from": current, "to": status}, session)
            if comment is not None and await self._log(doc["_id"], at, actor, "comment",
                                                       {"text": comment}, session, note_key):
                await self._db.routed_items.update_one(
                    {"_id": doc["_id"]}, {"$set": time_fields("updated_at", at)}, session=session)
            return routed_from_doc(await self._db.routed_items.find_one({"_id": doc["_id"]}, session=session))

        return await self._writes.run(write)

    async def _log(self, routed_id: int, at: datetime, actor: str, action: str,
                   detail: dict[str, Any], session: Any, note_key: str | None = None) -> bool:
        """Append an audit line (with ``note_key``: unless the item has it); whether written."""
        log_id = await next_ids(self._db, "routing_log", session=session)
        doc = log_doc(log_id, routed_id, at, actor, action, detail)
        if note_key is None:
            await self._db.routing_log.insert_one(doc, session=session)
            return True
        doc["note_key"] = note_key
        return await insert_once(self._db.routing_log, {"routed_id": routed_id, "note_key": note_key},
                                 doc, session)

    async def routing_log(self, routed_id: int) -> list[RoutingEntry]:
        docs = await self._db.routing_log.find({"routed_id": int(routed_id)}).sort("_id", 1).to_list()
        return [_entry(d) for d in docs]

    # -- deliveries (outbox) -------------------------------------------------------
    async def claim_deliveries(
        self, worker: str, now: datetime, claim_until: datetime, limit: int
    ) -> list[Delivery]:
        from pymongo import ReturnDocument

        due = {"$or": [{"$and": [{"state": "pending"}, time_cmp("next_attempt_at", "$lte", now)]},
                       {"$and": [{"state": "sending"}, time_cmp("claimed_until", "$lte", now)]}]}
        claim = {"$set": {"state": "sending", "claimed_by": worker, **time_fields("claimed_until", claim_until)},
                 "$inc": {"attempts": 1}}
        claimed: list[Delivery] = []
        # One document at a time: each claim is atomic, so no two workers share a delivery.
        for _ in range(max(0, int(limit))):
            doc = await self._db.deliveries.find_one_and_update(
                due, claim, sort=[("next_attempt_at", 1), ("next_attempt_at_us", 1), ("_id", 1)],
                return_document=ReturnDocument.AFTER)
            if doc is None:
                break
            claimed.append(_delivery(doc))
        return claimed

    async def delivery_sent(self, delivery_id: int, worker: str, at: datetime) -> bool:
        done = await self._db.deliveries.update_one(
            {"_id": int(delivery_id), "state": "sending", "claimed_by": worker},
            {"$set": {"state": "sent", **time_fields("sent_at", at), "claimed_by": None,
                      **time_fields("claimed_until", None), "last_error": None}})
        return done.modified_count == 1

    async def delivery_failed(
        self, delivery_id: int, worker: str, error: str, retry_at: datetime | None
    ) -> bool:
        sets: dict[str, Any] = {"last_error": error, "claimed_by": None, **time_fields("claimed_until", None)}
        if retry_at is None:
            sets["state"] = "dead"
        else:
            sets.update(state="pending", **time_fields("next_attempt_at", retry_at))
        done = await self._db.deliveries.update_one(
            {"_id": int(delivery_id), "state": "sending", "claimed_by": worker}, {"$set": sets})
        return done.modified_count == 1

    async def list_deliveries(
        self, state: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[Delivery]:
        limit = clamp_limit(limit)
        where: list[dict[str, Any]] = []
        if state:
            where.append({"state": state})
        if cursor:
            where.append({"_id": {"$lt": typed_cursor(cursor, int)[0]}})
        docs = await (self._db.deliveries.find({"$and": where} if where else {})
                      .sort("_id", -1).limit(limit + 1).to_list())
        docs, nxt = cut_page(docs, limit, lambda d: (d["_id"],))
        return Page(tuple(_delivery(d) for d in docs), nxt)

    async def resend_delivery(self, delivery_id: int, at: datetime) -> Delivery:
        from pymongo import ReturnDocument

        doc = await self._db.deliveries.find_one_and_update(
            {"_id": int(delivery_id), "state": "dead"},
            {"$set": {"state": "pending", "attempts": 0, **time_fields("next_attempt_at", at)}},
            return_document=ReturnDocument.AFTER)
        if doc is None:
            state = (await found(self._db.deliveries.find_one({"_id": int(delivery_id)}),
                                 f"no delivery {delivery_id}"))["state"]
            raise BadInput(f"delivery {delivery_id} is {state}, only dead deliveries "
                           f"can be re-sent", {"state": state})
        return _delivery(doc)

    # -- context for queues -----------------------------------------------------------
    async def linked_mention_counts(self, customer_ids: Sequence[str]) -> dict[str, int]:
        ids = list(dict.fromkeys(customer_ids))
        if not ids:
            return {}
        rows = await (await self._db.mentions.aggregate([
            {"$match": {"customer_ids": {"$in": ids}}},
            {"$unwind": "$customer_ids"},
            {"$match": {"customer_ids": {"$in": ids}}},
            {"$group": {"_id": "$customer_ids", "n": {"$sum": 1}}},
        ])).to_list()
        return {r["_id"]: int(r["n"]) for r in rows}


def log_doc(log_id: int, routed_id: int, at: datetime, actor: str, action: str,
            detail: dict[str, Any]) -> dict[str, Any]:
    """An audit line's document (``routing_log``)."""
    return {"_id": log_id, **doc_of(ROUTING_ENTRY, RoutingEntry(routed_id, at, actor, action, detail))}
