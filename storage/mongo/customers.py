"""Customers and their identities in MongoDB: one document per customer.

``name_key`` (the lower-cased name) orders and pages the list the way SQLite's
``COLLATE NOCASE`` does; identities are an embedded array with a multikey index
so a handle finds its customer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain import Customer, Identity, Page, SaveResult, utcnow
from domain.customer_search import customer_words, name_key, prefix_end
from storage.base import clamp_limit, cut_page, decode_cursor
from storage.contract.uow import CustomerEdits
from storage.customer_search import NAME_PREFIX, TierRows, ranked_search
from storage.mongo.db import MongoWrites, insert_once, put_time
from storage.mongo.rows import found

#: collection -> index specs ``(keys, options)``, created at start-up.
CUSTOMER_INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    "customers": [
        ([("name_key", 1), ("_id", 1)], {"name": "customers_name"}),
        ([("identities.platform", 1), ("identities.handle", 1)], {"name": "customers_identity"}),
        # The search (storage/customer_search.py): names starting with the query, in order...
        ([("name_fold", 1), ("_id", 1)], {"name": "customers_name_fold"}),
        # ...then words starting with each term (multikey; an anchored $regex reads a range).
        ([("search_words", 1)], {"name": "customers_search_words"}),
    ],
}


class MongoCustomers:
    """The customer part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    async def upsert_customers(self, customers: Sequence[Customer]) -> SaveResult:
        from pymongo import ReplaceOne, UpdateOne

        now = utcnow()
        ops = [ReplaceOne({"_id": c.id}, _customer_doc(c, now), upsert=True) for c in customers]

        async def write(session: Any) -> SaveResult:
            inserted = 0
            if ops:
                result = await self._db.customers.bulk_write(ops, ordered=True, session=session)
                inserted = result.upserted_count
            await self._db.meta.bulk_write([UpdateOne(
                {"_id": "customers_changed_at"}, {"$set": {"value": now.isoformat()}}, upsert=True,
            )], session=session)
            return SaveResult(inserted=inserted, duplicates=len(customers) - inserted)

        return await self._writes.run(write)

    async def get_customer(self, customer_id: str) -> Customer:
        doc = await found(self._db.customers.find_one({"_id": customer_id}), f"no customer {customer_id!r}")
        return _customer_from_doc(doc)

    async def get_customers(self, customer_ids: Sequence[str]) -> dict[str, Customer]:
        ids = sorted(set(customer_ids))
        if not ids:
            return {}
        docs = await self._db.customers.find({"_id": {"$in": ids}}).to_list()
        return {d["_id"]: _customer_from_doc(d) for d in docs}

    async def list_customers(
        self, text: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[Customer]:
        limit = clamp_limit(limit)
        if text:
            return await ranked_search(text, limit, cursor, self._search_tier)
        where: list[dict[str, Any]] = []
        if cursor:
            name_key, cid = decode_cursor(cursor, 2)
            where.append({"$or": [{"name_key": {"$gt": str(name_key)}},
                                  {"name_key": str(name_key), "_id": {"$gt": str(cid)}}]})
        query = {"$and": where} if where else {}
        docs = await (self._db.customers.find(query)
                      .sort([("name_key", 1), ("_id", 1)]).limit(limit + 1).to_list())
        docs, nxt = cut_page(docs, limit, lambda d: (d["name_key"], d["_id"]))
        return Page(tuple(_customer_from_doc(d) for d in docs), nxt)

    async def _search_tier(self, tier: int, prefix: str, terms: Sequence[str],
                           after: tuple[str, str] | None, count: int) -> TierRows:
        """One tier of ``ranked_search``, read from ``customers_name_fold`` (names starting
        with the query) or ``customers_search_words`` (anchored: an index range per term)."""
        where: list[dict[str, Any]] = []
        if tier == NAME_PREFIX:
            where.append({"name_fold": {"$regex": "^" + re.escape(prefix)}})
        else:
            where.append({"$or": [{"name_fold": {"$lt": prefix}}, {"name_fold": {"$gte": prefix_end(prefix)}}]})
            where += [{"search_words": {"$regex": "^" + re.escape(term)}} for term in terms]
        if after is not None:
            where.append({"$or": [{"name_fold": {"$gt": after[0]}},
                                  {"name_fold": after[0], "_id": {"$gt": after[1]}}]})
        docs = await (self._db.customers.find({"$and": where})
                      .sort([("name_fold", 1), ("_id", 1)]).limit(count).to_list())
        return [(d["name_fold"], d["_id"], _customer_from_doc(d)) for d in docs]

    async def all_customers(self) -> list[Customer]:
        docs = await self._db.customers.find({}).sort("_id", 1).to_list()
        return [_customer_from_doc(d) for d in docs]


def _customer_doc(c: Customer, now: Any) -> dict[str, Any]:
    identities = sorted({(i.platform, i.handle) for i in c.identities})
    return {
        "_id": c.id, "name": c.name, "name_key": c.name.lower(), "kind": c.kind,
        "company": c.company, "company_key": (c.company or "").lower(), "segment": c.segment,
        "annual_revenue": c.annual_revenue, "emails": list(c.emails), "domains": list(c.domains),
        # Lower-cased copies: an account finds its customer by address or mail domain.
        "email_keys": sorted({e.strip().lower() for e in c.emails}),
        "domain_keys": sorted({d.strip().lower() for d in c.domains}),
        "aliases": list(c.aliases),
        "identities": [{"platform": p, "handle": h} for p, h in identities],
        # What a search finds the customer by (domain/customer_search.py).
        "name_fold": name_key(c.name),
        "search_words": customer_words(c.name, c.company, c.emails, [h for _, h in identities]),
        "updated_at": now,
    }


def _customer_from_doc(d: dict[str, Any]) -> Customer:
    return Customer(
        id=d["_id"], name=d["name"], kind=d["kind"], company=d.get("company"),
        segment=d.get("segment"), annual_revenue=d.get("annual_revenue"),
        emails=tuple(d.get("emails", ())), domains=tuple(d.get("domains", ())),
        aliases=tuple(d.get("aliases", ())),
        identities=tuple(Identity(i["platform"], i["handle"]) for i in d.get("identities", ())),
    )


class MongoCustomerEdits(CustomerEdits):
    """Customer writes in the unit of work (``session``: its transaction, or ``None``)."""

    def __init__(self, db: Any, session: Any) -> None:
        self._db, self._s = db, session

    async def add_handle(self, customer_id: str, identity: Identity) -> bool:
        entry = {"platform": identity.platform, "handle": identity.handle}
        done = await self._db.customers.update_one(
            {"_id": customer_id, "identities": {"$ne": entry}},
            {"$push": {"identities": entry},
             # The handle finds its customer in a search from now on.
             "$addToSet": {"search_words": {"$each": customer_words("", None, (), [identity.handle])}}},
            session=self._s)
        return done.modified_count > 0

    async def set_aliases(self, customer_id: str, aliases: Sequence[str], now: datetime) -> None:
        await self._db.customers.update_one({"_id": customer_id},
                                            {"$set": {"aliases": list(aliases), "updated_at": now}},
                                            session=self._s)

    async def changed(self, now: datetime) -> None:
        await self._db.meta.update_one({"_id": "customers_changed_at"}, {"$set": {"value": now.isoformat()}},
                                       upsert=True, session=self._s)

    async def refuse_alias(self, customer_id: str, alias_key: str, alias: str, by: str,
                           at: datetime) -> bool:
        # _id is {customer_id, alias_key}: one refusal per alias of a customer.
        key = {"_id": {"customer_id": customer_id, "alias_key": alias_key}}
        return await insert_once(self._db.refused_aliases, key, put_time(
            {**key, "customer_id": customer_id, "alias": alias, "refused_by": by}, "refused_at", at), self._s)

    async def put(self, customer: Customer, now: datetime) -> None:
        await self._db.customers.replace_one({"_id": customer.id}, _customer_doc(customer, now), upsert=True,
                                             session=self._s)

    async def delete(self, customer_id: str) -> None:
        await self._db.customers.delete_one({"_id": customer_id}, session=self._s)


#: Kept in ``schema_steps`` once the customers stored before the search words have theirs.
CUSTOMER_SEARCH_FILLED = "customer_search_words_filled"


async def fill_customer_search(db: Any) -> int:
    """Give customers stored before the word search their ``name_fold`` and ``search_words``
    (MongoDB's side of SQLite's migration 0080); once per database.  How many were filled."""
    from pymongo import UpdateOne

    if await db.schema_steps.find_one({"_id": CUSTOMER_SEARCH_FILLED}) is not None:
        return 0
    done = 0
    batch: list[Any] = []
    async for d in db.customers.find({"search_words": {"$exists": False}}):
        handles = [i["handle"] for i in d.get("identities", ())]
        batch.append(UpdateOne({"_id": d["_id"]}, {"$set": {
            "name_fold": name_key(d["name"]),
            "search_words": customer_words(d["name"], d.get("company"), d.get("emails", ()), handles)}}))
        if len(batch) >= 1000:
            done += (await db.customers.bulk_write(batch, ordered=False)).modified_count
            batch = []
    if batch:
        done += (await db.customers.bulk_write(batch, ordered=False)).modified_count
    await db.schema_steps.update_one({"_id": CUSTOMER_SEARCH_FILLED}, {"$set": {"done": True}}, upsert=True)
    return done
