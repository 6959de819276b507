"""People (authors who are no known customer yet) and their handles in MongoDB.

A person is a document; each handle is a document of ``person_handles`` keyed by
(platform, handle), so a handle belongs to one person at most (the ``_id`` is
unique) and a merge moves handles by rewriting their ``person_id``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from domain import (
    Author,
    CustomerLink,
    Identity,
    Page,
    Person,
    normalise_handle,
    utcnow,
)
from domain.errors import BadInput, NotFound
from storage.base import clamp_limit, decode_cursor, encode_cursor
from storage.mongo.db import MongoWrites, insert_once, next_ids, put_time, time_fields
from storage.mongo.mentions import link_doc
from storage.mongo.nlp import _set_links

PEOPLE_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "person_handles": [([("person_id", 1)], {"name": "person_handles_person"})],
}


async def _person(db: Any, person_id: int, session: Any = None) -> Person:
    doc = await db.people.find_one({"_id": int(person_id)}, session=session)
    if doc is None:
        raise NotFound(f"no person {person_id}")
    return (await _people(db, [doc], session))[0]


async def _people(db: Any, docs: list[dict[str, Any]], session: Any = None) -> list[Person]:
    ids = [d["_id"] for d in docs]
    handles: dict[int, list[Identity]] = {i: [] for i in ids}
    if ids:
        rows = await db.person_handles.find({"person_id": {"$in": ids}}, session=session).to_list()
        for h in sorted(rows, key=lambda h: (h["_id"]["platform"], h["_id"]["handle"])):
            handles[h["person_id"]].append(Identity(h["_id"]["platform"], h["_id"]["handle"]))
    return [Person(d["_id"], d.get("name"), tuple(handles[d["_id"]]), d.get("customer_id")) for d in docs]


async def _attach(db: Any, person_id: int, customer_id: str, session: Any) -> int:
    """Give the customer the person's handles and confirmed links on their mentions."""
    now = utcnow()
    customer = await db.customers.find_one({"_id": customer_id}, {"name": 1}, session=session)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    await db.people.update_one({"_id": int(person_id)},
                               {"$set": {"customer_id": customer_id, **time_fields("updated_at", now)}},
                               session=session)
    attached = 0
    for h in await db.person_handles.find({"person_id": int(person_id)}, session=session).to_list():
        platform, handle = h["_id"]["platform"], h["_id"]["handle"]
        entry = {"platform": platform, "handle": handle}
        await db.customers.update_one({"_id": customer_id, "identities": {"$ne": entry}},
                                      {"$push": {"identities": entry}}, session=session)
        evidence = (f"author @{handle} on {platform} is person #{person_id}, "
                    f"attached to {customer['name']} by a manager")
        docs = await db.mentions.find({"source": platform, "handle_key": {"$in": [handle, "@" + handle]}},
                                      {"links": 1}, session=session).to_list()
        for doc in docs:
            links = doc.get("links", [])
            if any(k["customer_id"] == customer_id and k["status"] == "confirmed" for k in links):
                # Confirmed already: only the unconfirmed links to the customer go.
                await _set_links(db, doc["_id"], [k for k in links if k["customer_id"] != customer_id
                                                  or k["status"] == "confirmed"], session)
                continue
            link_id = await next_ids(db, "mention_links", session=session)
            kept = [k for k in links if k["customer_id"] != customer_id]
            confirmed = link_doc(CustomerLink(customer_id, 1.0, "person", evidence, status="confirmed"),
                                 link_id)
            await _set_links(db, doc["_id"], [*kept, confirmed], session)
            attached += 1
    await db.meta.update_one({"_id": "customers_changed_at"}, {"$set": {"value": now.isoformat()}},
                             upsert=True, session=session)
    return attached


class MongoPeople:
    """The people part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    async def record_people(self, authors: Sequence[tuple[str, Author]]) -> int:
        now = utcnow()
        wanted: dict[tuple[str, str], str | None] = {}
        for platform, author in authors:
            handle = normalise_handle(author.handle)
            if handle and platform:
                key = (platform, handle)
                wanted[key] = wanted.get(key) or author.name
        if not wanted:
            return 0

        async def write(session: Any) -> int:
            new = 0
            for (platform, handle), name in wanted.items():
                key = {"_id": {"platform": platform, "handle": handle}}
                known = await self._db.person_handles.find_one(key, session=session)
                if known is not None:
                    if name:
                        await self._db.people.update_one(
                            {"_id": known["person_id"], "name": None},
                            {"$set": {"name": name, **time_fields("updated_at", now)}}, session=session)
                    continue
                person_id = await next_ids(self._db, "people", session=session)
                # The handle first: it decides who owns it; a person without handles is harmless.
                if not await insert_once(self._db.person_handles, key, {"person_id": person_id}, session):
                    continue
                doc = {"_id": person_id, "name": name, "customer_id": None}
                put_time(doc, "created_at", now)
                await self._db.people.insert_one(put_time(doc, "updated_at", now), session=session)
                new += 1
            return new

        return await self._writes.run(write)

    async def get_person(self, person_id: int) -> Person:
        return await _person(self._db, person_id)

    async def person_by_handle(self, platform: str, handle: str) -> Person | None:
        h = await self._db.person_handles.find_one(
            {"_id": {"platform": platform, "handle": normalise_handle(handle)}})
        return await _person(self._db, h["person_id"]) if h else None

    async def list_people(self, q: str | None = None, limit: int = 50,
                          cursor: str | None = None) -> Page[Person]:
        limit = clamp_limit(limit)
        try:
            after = int(decode_cursor(cursor, 1)[0]) if cursor else 0
        except (TypeError, ValueError) as exc:
            raise BadInput("cursor is not valid", {"cursor": cursor}) from exc
        filt: dict[str, Any] = {"_id": {"$gt": after}}
        if q and q.strip():
            pattern = {"$regex": re.escape(q.strip().lower()), "$options": "i"}
            holders = await self._db.person_handles.distinct("person_id", {"_id.handle": pattern})
            filt["$or"] = [{"name": pattern}, {"_id": {"$in": holders}}]
        docs = await self._db.people.find(filt).sort("_id", 1).limit(limit + 1).to_list()
        more = len(docs) > limit
        docs = docs[:limit]
        return Page(tuple(await _people(self._db, docs)), encode_cursor(docs[-1]["_id"]) if more else None)

    async def attach_person(self, person_id: int, customer_id: str) -> tuple[Person, int]:
        async def write(session: Any) -> tuple[Person, int]:
            person = await _person(self._db, person_id, session)
            if person.customer_id not in (None, customer_id):
                raise BadInput(f"person {person_id} is attached to customer {person.customer_id} already",
                               {"person": person_id, "customer_id": person.customer_id})
            attached = await _attach(self._db, person_id, customer_id, session)
            return await _person(self._db, person_id, session), attached

        return await self._writes.run(write)

    async def merge_people(self, person_id: int, into_id: int) -> tuple[Person, int]:
        now = utcnow()

        async def write(session: Any) -> tuple[Person, int]:
            if person_id == into_id:
                raise BadInput("a person cannot be merged into themselves", {"into": into_id})
            source = await _person(self._db, person_id, session)
            target = await _person(self._db, into_id, session)
            customers = {c for c in (source.customer_id, target.customer_id) if c}
            if len(customers) > 1:
                raise BadInput(f"people {person_id} and {into_id} are attached to different customers",
                               {"customers": sorted(customers)})
            await self._db.person_handles.update_many({"person_id": int(person_id)},
                                                      {"$set": {"person_id": int(into_id)}}, session=session)
            if target.name is None and source.name:
                await self._db.people.update_one({"_id": int(into_id)}, {"$set": {"name": source.name}},
                                                 session=session)
            await self._db.people.update_one({"_id": int(into_id)}, {"$set": time_fields("updated_at", now)},
                                             session=session)
            await self._db.people.delete_one({"_id": int(person_id)}, session=session)
            attached = await _attach(self._db, into_id, customers.pop(), session) if customers else 0
            return await _person(self._db, into_id, session), attached

        return await self._writes.run(write)
