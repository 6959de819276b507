"""CRM sync in MongoDB: CRM records linked to customers, cursors, merges, outbound keys.

On a replica set a page of CRM changes and its cursor are one transaction.  On a
standalone server the batch is validated first, the records are written next and
the cursor last, so a crash repeats the page (every write is an upsert by key, so
a repeated page changes nothing) instead of skipping it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.routing import Delivery
from domain import Customer, Identity
from domain.crm import (
    CrmBatch,
    CrmBatchResult,
    CrmCustomer,
    CrmLink,
    CrmMerge,
    CrmStatus,
    LearnedIdentities,
)
from domain.errors import BadInput
from storage.mongo.customers import _customer_doc, _customer_from_doc
from storage.mongo.db import (
    MongoWrites,
    get_time,
    insert_once,
    next_ids,
    put_time,
    time_fields,
)
from storage.mongo.nlp import _set_links
from storage.mongo.routing import delivery_doc, insert_deliveries

CRM_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "crm_records": [([("customer_id", 1)], {"name": "crm_records_customer"}),
                    ([("connector", 1), ("object_type", 1), ("crm_id", 1)], {"name": "crm_records_connector"})],
}
_KINDS = ("person", "company")


def _key(connector: str, object_type: str, crm_id: str) -> dict[str, Any]:
    return {"_id": {"connector": connector, "object_type": object_type, "crm_id": crm_id}}


def _link(d: dict[str, Any]) -> CrmLink:
    return CrmLink(d["connector"], d["object_type"], d["crm_id"], d["customer_id"], d.get("company_crm_id"),
                   bool(d.get("deleted")), d.get("merged_into"), get_time(d, "synced_at"))


def _union(*lists: Sequence[str]) -> list[str]:
    """Values of every list in order, once each (case-insensitively)."""
    seen: set[str] = set()
    out: list[str] = []
    for values in lists:
        for value in values:
            if value.lower() not in seen:
                seen.add(value.lower())
                out.append(value)
    return out


def _identity_set(doc: dict[str, Any] | None) -> set[tuple[str, str]]:
    return {(i["platform"], i["handle"]) for i in (doc or {}).get("identities", ())}


async def _upsert(db: Any, record: CrmCustomer, at: datetime, session: Any) -> bool:
    """Write one CRM-fed customer keeping what crmsphere learned; True when it is new."""
    c = record.customer
    existing = await db.customers.find_one({"_id": c.id}, session=session)
    key = _key(record.connector, record.object_type, record.crm_id)
    prior = await db.crm_records.find_one(key, session=session)
    from_crm_before = {tuple(i) for i in (prior or {}).get("crm_identities", ())}
    aliases_before = {a.lower() for a in (prior or {}).get("crm_aliases", ())}
    learned_ids: set[tuple[str, str]] = set()
    learned_aliases: list[str] = []
    if existing is not None:
        learned_ids = _identity_set(existing) - from_crm_before
        learned_aliases = [a for a in existing.get("aliases", ()) if a.lower() not in aliases_before]
    wanted = {(i.platform, i.handle) for i in c.identities} | learned_ids
    merged = Customer(id=c.id, name=c.name, kind=c.kind, company=c.company, segment=c.segment,
                      annual_revenue=c.annual_revenue, emails=c.emails, domains=c.domains,
                      aliases=tuple(_union(list(c.aliases), learned_aliases)),
                      identities=tuple(Identity(p, h) for p, h in sorted(wanted)))
    await db.customers.replace_one({"_id": c.id}, _customer_doc(merged, at), upsert=True, session=session)
    record_doc = {**key["_id"], "customer_id": c.id, "company_crm_id": record.company_crm_id,
                  "deleted": False, "merged_into": None,
                  "crm_identities": sorted([i.platform, i.handle] for i in c.identities),
                  "crm_aliases": list(c.aliases), **time_fields("synced_at", at)}
    await db.crm_records.update_one(key, {"$set": record_doc, "$setOnInsert": {"learned_written": ""}},
                                    upsert=True, session=session)
    return existing is None


async def _merge_customers(db: Any, loser: str, survivor: str, at: datetime, session: Any) -> None:
    """Move everything linked to customer ``loser`` onto ``survivor`` and remove ``loser``."""
    lose = await db.customers.find_one({"_id": loser}, session=session)
    keep = await db.customers.find_one({"_id": survivor}, session=session)
    if lose is None or keep is None:
        return
    names = [lose["name"]] if lose["name"].lower() != keep["name"].lower() else []
    s, lc = _customer_from_doc(keep), _customer_from_doc(lose)
    merged = Customer(
        id=s.id, name=s.name, kind=s.kind, company=s.company, segment=s.segment,
        annual_revenue=s.annual_revenue, emails=tuple(_union(s.emails, lc.emails)),
        domains=tuple(_union(s.domains, lc.domains)), aliases=tuple(_union(s.aliases, lc.aliases, names)),
        identities=tuple(Identity(p, h) for p, h in sorted(_identity_set(keep) | _identity_set(lose))))
    await db.customers.replace_one({"_id": survivor}, _customer_doc(merged, at), session=session)
    # A mention linked to both keeps the survivor's link; the others move.
    for doc in await db.mentions.find({"customer_ids": loser}, {"links": 1}, session=session).to_list():
        has_survivor = any(k["customer_id"] == survivor for k in doc["links"])
        links = [k for k in doc["links"] if not (has_survivor and k["customer_id"] == loser)]
        links = [{**k, "customer_id": survivor} if k["customer_id"] == loser else k for k in links]
        await _set_links(db, doc["_id"], links, session)
    # One vote per customer and idea: a double vote is dropped and the idea's count follows.
    survivor_ideas = set(await db.votes.distinct("idea_id", {"customer_id": survivor}, session=session))
    for vote in await db.votes.find({"customer_id": loser, "idea_id": {"$in": sorted(survivor_ideas)}},
                                    session=session).to_list():
        await db.votes.delete_one({"_id": vote["_id"]}, session=session)
        await db.ideas.update_one({"_id": vote["idea_id"], "vote_count": {"$gt": 0}},
                                  {"$inc": {"vote_count": -1}}, session=session)
    await db.votes.update_many({"customer_id": loser}, {"$set": {"customer_id": survivor}}, session=session)
    await db.accounts.update_many({"customer_id": loser}, {"$set": {"customer_id": survivor}}, session=session)
    for neg in await db.link_negatives.find({"customer_id": loser}, session=session).to_list():
        key = {**neg["_id"], "customer_id": survivor}
        await insert_once(db.link_negatives, {"_id": key},
                          {**{k: v for k, v in neg.items() if k != "_id"}, "customer_id": survivor}, session)
    await db.crm_records.update_many(
        {"customer_id": loser, "deleted": False, "merged_into": None, "connector": {"$ne": ""}},
        {"$set": {"customer_id": survivor}}, session=session)
    # The loser last: until then a crash leaves both customers, never a dangling reference.
    await db.customers.delete_one({"_id": loser}, session=session)


async def _apply_merge(db: Any, connector: str, merge: CrmMerge, at: datetime, session: Any) -> bool:
    loser = await db.crm_records.find_one(_key(connector, merge.object_type, merge.crm_id), session=session)
    survivor = await db.crm_records.find_one(_key(connector, merge.object_type, merge.survivor_crm_id),
                                             session=session)
    if loser is None or survivor is None or loser.get("merged_into") == merge.survivor_crm_id:
        return False
    if loser["customer_id"] != survivor["customer_id"]:
        await _merge_customers(db, loser["customer_id"], survivor["customer_id"], at, session)
    await db.crm_records.update_one(
        {"_id": loser["_id"]},
        {"$set": {"merged_into": merge.survivor_crm_id, "customer_id": survivor["customer_id"],
                  **time_fields("synced_at", at)}}, session=session)
    return True


async def _referenced(db: Any, customer_id: str, session: Any) -> bool:
    """Whether anything a person made or saw points at the customer (kept then)."""
    for collection, field in (("mentions", "customer_ids"), ("votes", "customer_id"),
                              ("accounts", "customer_id")):
        if await db[collection].find_one({field: customer_id}, {"_id": 1}, session=session):
            return True
    return False


async def _apply_delete(db: Any, connector: str, object_type: str, crm_id: str, at: datetime,
                        session: Any) -> bool:
    row = await db.crm_records.find_one(_key(connector, object_type, crm_id), session=session)
    if row is None or row.get("deleted"):
        return False
    await db.crm_records.update_one({"_id": row["_id"]},
                                     {"$set": {"deleted": True, **time_fields("synced_at", at)}},
                                     session=session)
    customer_id = row["customer_id"]
    others = await db.crm_records.find_one(
        {"customer_id": customer_id, "deleted": False, "merged_into": None}, {"_id": 1}, session=session)
    if others is None and row.get("merged_into") is None and not await _referenced(db, customer_id, session):
        await db.customers.delete_one({"_id": customer_id}, session=session)
    return True


class MongoCrm:
    """The CRM part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    async def apply_crm_batch(self, batch: CrmBatch, at: datetime) -> CrmBatchResult:
        bad = [r.crm_id for r in batch.upserts if r.customer.kind not in _KINDS]
        if bad:
            # Checked before anything is written (SQLite's CHECK constraint refuses them too).
            raise BadInput(f"CRM records with a kind other than {' or '.join(_KINDS)}", {"crm_ids": bad})

        async def write(session: Any) -> CrmBatchResult:
            db = self._db
            inserted = 0
            for record in batch.upserts:
                inserted += await _upsert(db, record, at, session)
            merged = 0
            for m in batch.merges:
                merged += await _apply_merge(db, batch.connector, m, at, session)
            deleted = 0
            for crm_id in batch.deleted:
                deleted += await _apply_delete(db, batch.connector, batch.object_type, crm_id, at, session)
            if batch.upserts or merged or deleted:
                await db.meta.update_one({"_id": "customers_changed_at"},
                                         {"$set": {"value": at.isoformat()}}, upsert=True, session=session)
            if batch.cursor is not None:
                # Last: without a transaction a crash before this line repeats the page.
                await db.crm_cursors.update_one(
                    {"_id": {"connector": batch.connector, "object_type": batch.object_type}},
                    {"$set": {"connector": batch.connector, "object_type": batch.object_type,
                              "cursor": json.dumps(batch.cursor), **time_fields("updated_at", at)}},
                    upsert=True, session=session)
            return CrmBatchResult(inserted=inserted, updated=len(batch.upserts) - inserted,
                                  deleted=deleted, merged=merged)

        return await self._writes.run(write)

    async def get_crm_cursor(self, connector: str, object_type: str) -> dict[str, Any] | None:
        doc = await self._db.crm_cursors.find_one({"_id": {"connector": connector, "object_type": object_type}})
        return json.loads(doc["cursor"]) if doc else None

    async def crm_link_for_customer(self, customer_id: str) -> CrmLink | None:
        docs = await (self._db.crm_records.find({"customer_id": customer_id, "deleted": False,
                                                 "merged_into": None})
                      .sort([("synced_at", -1), ("synced_at_us", -1), ("crm_id", 1)]).limit(1).to_list())
        return _link(docs[0]) if docs else None

    async def get_crm_link(self, connector: str, object_type: str, crm_id: str) -> CrmLink | None:
        doc = await self._db.crm_records.find_one(_key(connector, object_type, crm_id))
        return _link(doc) if doc else None

    async def learned_identities(self, connector: str) -> list[LearnedIdentities]:
        records = await (self._db.crm_records.find({"connector": connector, "deleted": False,
                                                    "merged_into": None})
                         .sort([("object_type", 1), ("crm_id", 1)]).to_list())
        ids = sorted({r["customer_id"] for r in records})
        customers = {d["_id"]: d for d in await self._db.customers.find({"_id": {"$in": ids}}).to_list()}
        found = []
        for r in records:
            customer = customers.get(r["customer_id"])
            if customer is None:
                continue
            from_crm = {tuple(i) for i in r.get("crm_identities", ())}
            learned = sorted(_identity_set(customer) - from_crm)
            crm_aliases = {a.lower() for a in r.get("crm_aliases", ())}
            aliases = [a for a in customer.get("aliases", ()) if a.lower() not in crm_aliases]
            if learned or aliases:
                found.append(LearnedIdentities(_link(r), tuple(Identity(p, h) for p, h in learned),
                                               tuple(aliases), r.get("learned_written", "")))
        return found

    async def mark_learned_written(self, connector: str, object_type: str, crm_id: str,
                                   value: str) -> None:
        await self._db.crm_records.update_one(_key(connector, object_type, crm_id),
                                              {"$set": {"learned_written": value}})

    async def get_outbound(self, connector: str, key: str) -> str | None:
        doc = await self._db.crm_outbound.find_one({"_id": {"connector": connector, "key": key}})
        return doc["crm_id"] if doc else None

    async def save_outbound(self, connector: str, key: str, crm_id: str, at: datetime) -> str:
        ident = {"_id": {"connector": connector, "key": key}}
        await insert_once(self._db.crm_outbound, ident,
                          put_time({"connector": connector, "crm_id": crm_id}, "at", at))
        return (await self._db.crm_outbound.find_one(ident))["crm_id"]

    async def enqueue_deliveries_once(self, deliveries: Sequence[Delivery], at: datetime) -> list[int]:
        async def write(session: Any) -> list[int]:
            first = await next_ids(self._db, "deliveries", len(deliveries), session) if deliveries else 0
            return await insert_deliveries(self._db, [
                delivery_doc(first + n, d, d.routed_id, d.next_attempt_at or at, at)
                for n, d in enumerate(deliveries)], session)

        return await self._writes.run(write)

    async def crm_status(self, connector: str) -> CrmStatus:
        status = CrmStatus(connector)
        for object_type in sorted(await self._db.crm_records.distinct("object_type", {"connector": connector})):
            base = {"connector": connector, "object_type": object_type}
            status.records[object_type] = await self._db.crm_records.count_documents(
                {**base, "deleted": False, "merged_into": None})
            status.deleted[object_type] = await self._db.crm_records.count_documents({**base, "deleted": True})
            status.merged[object_type] = await self._db.crm_records.count_documents(
                {**base, "merged_into": {"$ne": None}})
        for doc in await self._db.crm_cursors.find({"connector": connector}).to_list():
            status.cursors[doc["object_type"]] = json.loads(doc["cursor"])
        outbound = await self._db.crm_outbound.count_documents({"connector": connector})
        return CrmStatus(connector, status.records, status.deleted, status.merged, status.cursors, outbound)
