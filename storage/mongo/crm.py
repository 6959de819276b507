"""CRM sync in MongoDB: CRM records linked to customers, cursors, outbound keys; the
repositories the rules of ``crm.records`` write through (on a replica set a page of CRM
changes and its cursor are one transaction; on a standalone server the rule writes the
cursor last, so a crash repeats the page)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain import Customer, Identity
from domain.crm import CrmLink, CrmStatus
from domain.routing import Delivery
from storage.contract.crm import CrmRecordRow
from storage.contract.uow import CrmRecordRows, CustomerRefRows
from storage.mongo.customers import _customer_from_doc
from storage.mongo.db import (
    MongoWrites,
    insert_once,
    put_time,
    time_fields,
)
from storage.mongo.nlp import _set_links
from storage.mongo.routing import insert_deliveries
from storage.rows import CRM_LINK
from storage.mongo.rows import doc_reader

CRM_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "crm_records": [([("customer_id", 1)], {"name": "crm_records_customer"}),
                    ([("connector", 1), ("object_type", 1), ("crm_id", 1)], {"name": "crm_records_connector"})],
}


def _key(connector: str, object_type: str, crm_id: str) -> dict[str, Any]:
    return {"_id": {"connector": connector, "object_type": object_type, "crm_id": crm_id}}


_link = doc_reader(CRM_LINK)


def _record_row(d: dict[str, Any]) -> CrmRecordRow:
    return CrmRecordRow(_link(d), tuple(Identity(p, h) for p, h in d.get("crm_identities", ())),
                        tuple(d.get("crm_aliases", ())), d.get("learned_written", ""))


class MongoCrmRecords(CrmRecordRows):
    """CRM records and cursors in the unit of work (``session``: its transaction, or ``None``)."""

    def __init__(self, db: Any, session: Any) -> None:
        self._db, self._s = db, session

    async def get(self, connector: str, object_type: str, crm_id: str) -> CrmRecordRow | None:
        doc = await self._db.crm_records.find_one(_key(connector, object_type, crm_id), session=self._s)
        return None if doc is None else _record_row(doc)

    async def put(self, row: CrmRecordRow, now: datetime) -> None:
        k = row.link
        key = _key(k.connector, k.object_type, k.crm_id)
        doc = {**key["_id"], "customer_id": k.customer_id, "company_crm_id": k.company_crm_id,
               "deleted": k.deleted, "merged_into": k.merged_into,
               "crm_identities": [[i.platform, i.handle] for i in row.crm_identities],
               "crm_aliases": list(row.crm_aliases), **time_fields("synced_at", now)}
        await self._db.crm_records.update_one(key, {"$set": doc, "$setOnInsert": {"learned_written": ""}},
                                              upsert=True, session=self._s)

    async def set_merged(self, link: CrmLink, into_crm_id: str, customer_id: str, now: datetime) -> None:
        await self._db.crm_records.update_one(
            _key(link.connector, link.object_type, link.crm_id),
            {"$set": {"merged_into": into_crm_id, "customer_id": customer_id, **time_fields("synced_at", now)}},
            session=self._s)

    async def set_deleted(self, link: CrmLink, now: datetime) -> None:
        await self._db.crm_records.update_one(_key(link.connector, link.object_type, link.crm_id),
                                              {"$set": {"deleted": True, **time_fields("synced_at", now)}},
                                              session=self._s)

    async def of_customer(self, customer_id: str) -> list[CrmLink]:
        docs = await (self._db.crm_records.find({"customer_id": customer_id}, session=self._s)
                      .sort([("connector", 1), ("object_type", 1), ("crm_id", 1)]).to_list())
        return [_link(d) for d in docs]

    async def reassign(self, links: Sequence[CrmLink], to_customer: str) -> None:
        if links:
            await self._db.crm_records.update_many(
                {"_id": {"$in": [_key(k.connector, k.object_type, k.crm_id)["_id"] for k in links]}},
                {"$set": {"customer_id": to_customer}}, session=self._s)

    async def set_cursor(self, connector: str, object_type: str, cursor: dict[str, Any],
                         now: datetime) -> None:
        await self._db.crm_cursors.update_one(
            {"_id": {"connector": connector, "object_type": object_type}},
            {"$set": {"connector": connector, "object_type": object_type, "cursor": json.dumps(cursor),
                      **time_fields("updated_at", now)}}, upsert=True, session=self._s)


class MongoCustomerRefs(CustomerRefRows):
    """What refers to a customer, in the unit of work."""

    def __init__(self, db: Any, session: Any) -> None:
        self._db, self._s = db, session

    async def voted_ideas(self, customer_id: str) -> set[int]:
        return set(await self._db.votes.distinct("idea_id", {"customer_id": customer_id}, session=self._s))

    async def move(self, from_customer: str, to_customer: str) -> None:
        db, s = self._db, self._s
        for doc in await db.mentions.find({"customer_ids": from_customer}, {"links": 1}, session=s).to_list():
            has_to = any(k["customer_id"] == to_customer for k in doc["links"])
            links = [k for k in doc["links"] if not (has_to and k["customer_id"] == from_customer)]
            links = [{**k, "customer_id": to_customer} if k["customer_id"] == from_customer else k
                     for k in links]
            await _set_links(db, doc["_id"], links, s)
        await db.votes.update_many({"customer_id": from_customer}, {"$set": {"customer_id": to_customer}},
                                   session=s)
        await db.accounts.update_many({"customer_id": from_customer}, {"$set": {"customer_id": to_customer}},
                                      session=s)
        for neg in await db.link_negatives.find({"customer_id": from_customer}, session=s).to_list():
            key = {**neg["_id"], "customer_id": to_customer}
            await insert_once(db.link_negatives, {"_id": key},
                              {**{k: v for k, v in neg.items() if k != "_id"}, "customer_id": to_customer}, s)

    async def referenced(self, customer_id: str) -> bool:
        for collection, field in (("mentions", "customer_ids"), ("votes", "customer_id"),
                                  ("accounts", "customer_id")):
            if await self._db[collection].find_one({field: customer_id}, {"_id": 1}, session=self._s):
                return True
        return False


class MongoCrm:
    """The CRM part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    async def get_crm_cursor(self, connector: str, object_type: str) -> dict[str, Any] | None:
        doc = await self._db.crm_cursors.find_one({"_id": {"connector": connector, "object_type": object_type}})
        return json.loads(doc["cursor"]) if doc else None

    async def crm_links_of_customer(self, customer_id: str) -> list[CrmLink]:
        docs = await (self._db.crm_records.find({"customer_id": customer_id})
                      .sort([("synced_at", -1), ("synced_at_us", -1), ("crm_id", 1)]).to_list())
        return [_link(d) for d in docs]

    async def get_crm_link(self, connector: str, object_type: str, crm_id: str) -> CrmLink | None:
        doc = await self._db.crm_records.find_one(_key(connector, object_type, crm_id))
        return _link(doc) if doc else None

    async def crm_records(self, connector: str) -> list[tuple[CrmRecordRow, Customer]]:
        records = await (self._db.crm_records.find({"connector": connector})
                         .sort([("object_type", 1), ("crm_id", 1)]).to_list())
        ids = sorted({r["customer_id"] for r in records})
        customers = {d["_id"]: _customer_from_doc(d)
                     for d in await self._db.customers.find({"_id": {"$in": ids}}).to_list()}
        return [(_record_row(r), customers[r["customer_id"]]) for r in records if r["customer_id"] in customers]

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
            return await insert_deliveries(self._db, deliveries, at, session)

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
