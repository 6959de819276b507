"""Routing rules kept in MongoDB, escalations, and the rules' decisions per item and event.

Escalations are unique by (routed item, escalation) and decisions by (kind, id, event).
On a replica set an escalation and its actions are one transaction; on a standalone
server the escalation record is written first, so an escalation never happens twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.routing import (
    Delivery,
    RoutedItem,
    StoredRules,
)
from storage.rows import ROUTED_ITEM, of_routed, routed_detail
from storage.mongo.rows import doc_reader, found
from storage.mongo.db import (
    MongoWrites,
    get_time,
    insert_once,
    next_ids,
    put_time,
    time_cmp,
    time_fields,
)

ROUTING_JOB_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "routing_escalations": [([("routed_id", 1), ("escalation_id", 1)],
                             {"name": "escalated_once", "unique": True})],
    "routing_decisions": [([("item_kind", 1), ("item_id", 1), ("event", 1)],
                           {"name": "decided_once", "unique": True})],
}
_RULEBOOK = "rulebook"


_routed = doc_reader(ROUTED_ITEM)


def _rules(doc: dict[str, Any] | None) -> StoredRules | None:
    if doc is None:
        return None
    return StoredRules(body=json.loads(doc["body"]), version=int(doc["version"]),
                       updated_at=get_time(doc, "updated_at"), updated_by=doc["updated_by"])  # type: ignore[arg-type]


class MongoRoutingJobs:
    """Rules, escalations and routing decisions of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    # -- rules ------------------------------------------------------------------------------
    async def seed_routing_rules(self, body: dict[str, Any], fingerprint: str, at: datetime) -> None:
        # Only when the stored rules were seeded from other config (or there are none).
        await self._db.routing_rules.update_one(
            {"_id": _RULEBOOK, "seed_hash": {"$ne": fingerprint}},
            {"$set": {"body": json.dumps(body, sort_keys=True), "seed_hash": fingerprint,
                      "updated_by": "config", **time_fields("updated_at", at)},
             "$inc": {"version": 1}}, upsert=False)
        await insert_once(self._db.routing_rules, {"_id": _RULEBOOK}, put_time(
            {"_id": _RULEBOOK, "body": json.dumps(body, sort_keys=True), "seed_hash": fingerprint,
             "version": 1, "updated_by": "config"}, "updated_at", at))

    async def get_routing_rules(self) -> StoredRules | None:
        return _rules(await self._db.routing_rules.find_one({"_id": _RULEBOOK}))

    async def save_routing_rules(self, body: dict[str, Any], at: datetime, actor: str) -> StoredRules:
        from pymongo import ReturnDocument

        doc = await self._db.routing_rules.find_one_and_update(
            {"_id": _RULEBOOK},
            {"$set": {"body": json.dumps(body, sort_keys=True), "updated_by": actor,
                      **time_fields("updated_at", at)}, "$inc": {"version": 1}},
            upsert=True, return_document=ReturnDocument.AFTER)
        return _rules(doc)  # type: ignore[return-value]

    # -- escalations -------------------------------------------------------------------------
    async def awaiting_escalation(
        self, escalation_id: str, team_key: str, routed_before: datetime, limit: int, *,
        waiting: Sequence[str],
    ) -> list[RoutedItem]:
        done = {d["routed_id"] for d in await self._db.routing_escalations.find(
            {"escalation_id": escalation_id}, {"routed_id": 1}).to_list()}
        docs = await (self._db.routed_items.find(
            {"$and": [{"team_key": team_key, "acknowledged_at": None, "status": {"$in": list(waiting)},
                       "_id": {"$nin": sorted(done)}},
                      time_cmp("routed_at", "$lte", routed_before)]})
            .sort([("routed_at", 1), ("routed_at_us", 1), ("_id", 1)]).limit(int(limit)).to_list())
        return [_routed(d) for d in docs]

    async def escalate(
        self, routed_id: int, escalation_id: str, at: datetime, *, priority: str | None = None,
        routed: RoutedItem | None = None, deliveries: Sequence[Delivery] = (),
    ) -> bool:
        from storage.mongo.routing import insert_deliveries, log_doc, routed_doc

        async def log(rid: int, actor: str, action: str, detail: dict[str, Any], session: Any) -> None:
            log_id = await next_ids(self._db, "routing_log", session=session)
            await self._db.routing_log.insert_one(log_doc(log_id, rid, at, actor, action, detail),
                                                  session=session)

        async def outbox(rid: int, session: Any) -> None:
            await insert_deliveries(self._db, of_routed(deliveries, rid), at, session)

        async def write(session: Any) -> bool:
            doc = await found(self._db.routed_items.find_one({"_id": int(routed_id)}, session=session), f"no routed item {routed_id}")
            if not await insert_once(self._db.routing_escalations,
                                     {"routed_id": int(routed_id), "escalation_id": escalation_id},
                                     put_time({"routed_id": int(routed_id),
                                               "escalation_id": escalation_id}, "at", at), session):
                return False
            detail: dict[str, Any] = {"escalation": escalation_id}
            if priority is not None and priority != doc["priority"]:
                await self._db.routed_items.update_one(
                    {"_id": doc["_id"]}, {"$set": {"priority": priority, **time_fields("updated_at", at)}},
                    session=session)
                detail["priority"] = {"from": doc["priority"], "to": priority}
            if routed is not None and routed.routed_at is not None:
                key = {"item_kind": routed.item.kind, "item_id": routed.item.id, "rule_id": routed.rule_id}
                new_id = await next_ids(self._db, "routed_items", session=session)
                new = routed_doc(routed, new_id, complete=True)
                if await insert_once(self._db.routed_items, key, new, session):
                    await log(new_id, routed.routed_by, "routed", routed_detail(routed), session)
                    await outbox(new_id, session)
                    detail["routed_to"] = {"team": routed.team_key, "routed_id": new_id}
            elif deliveries:
                await outbox(int(routed_id), session)
            if deliveries:
                detail["notified"] = sorted({d.channel for d in deliveries})
            await log(int(routed_id), "escalation", "escalated", detail, session)
            return True

        return await self._writes.run(write)

    # -- routing decisions ---------------------------------------------------------------------
    async def record_routing_decision(self, kind: str, item_id: str, event: str, at: datetime) -> bool:
        key = {"item_kind": kind, "item_id": item_id, "event": event}
        if await insert_once(self._db.routing_decisions, key, put_time(dict(key), "decided_at", at)):
            return True
        await self._db.routing_decisions.update_one(
            {"$and": [key, time_cmp("decided_at", "$lt", at)]}, {"$set": time_fields("decided_at", at)})
        return False
