"""People (authors who are no known customer yet) and their handles in MongoDB.

A person is a document; each handle is a document of ``person_handles`` keyed by
(platform, handle), so a handle belongs to one person at most (the ``_id`` is
unique) and a merge moves handles by rewriting their ``person_id``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain import CustomerLink, Identity, LinkReview, LinkStanding, Page, Person, normalise_handle
from storage.base import clamp_limit, encode_cursor, typed_cursor
from storage.contract.uow import AuthorLinkRows, PersonRows
from storage.mongo.db import insert_once, next_ids, put_time, time_fields
from storage.mongo.mentions import link_doc
from storage.mongo.nlp import _review, _set_links
from storage.mongo.rows import found

PEOPLE_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "person_handles": [([("person_id", 1)], {"name": "person_handles_person"})],
}


async def _person(db: Any, person_id: int, session: Any = None) -> Person:
    doc = await found(db.people.find_one({"_id": int(person_id)}, session=session), f"no person {person_id}")
    return (await _people(db, [doc], session))[0]


async def _people(db: Any, docs: list[dict[str, Any]], session: Any = None) -> list[Person]:
    ids = [d["_id"] for d in docs]
    handles: dict[int, list[Identity]] = {i: [] for i in ids}
    if ids:
        rows = await db.person_handles.find({"person_id": {"$in": ids}}, session=session).to_list()
        for h in sorted(rows, key=lambda h: (h["_id"]["platform"], h["_id"]["handle"])):
            handles[h["person_id"]].append(Identity(h["_id"]["platform"], h["_id"]["handle"]))
    return [Person(d["_id"], d.get("name"), tuple(handles[d["_id"]]), d.get("customer_id")) for d in docs]


class MongoPersonRows(PersonRows):
    """People in the unit of work (``session``: its transaction, or ``None``)."""

    def __init__(self, db: Any, session: Any) -> None:
        self._db, self._s = db, session

    async def holders(self, identities: Sequence[Identity]) -> dict[Identity, tuple[int, str | None]]:
        if not identities:
            return {}
        keys = [_handle_key(i)["_id"] for i in identities]
        held = await self._db.person_handles.find({"_id": {"$in": keys}}, session=self._s).to_list()
        names = {d["_id"]: d.get("name") for d in await self._db.people.find(
            {"_id": {"$in": sorted({h["person_id"] for h in held})}}, {"name": 1}, session=self._s).to_list()}
        return {Identity(h["_id"]["platform"], h["_id"]["handle"]): (h["person_id"], names.get(h["person_id"]))
                for h in held}

    async def add(self, name: str | None, identity: Identity, now: datetime) -> bool:
        person_id = await next_ids(self._db, "people", session=self._s)
        # The handle first: it decides who owns it; a person without handles is harmless.
        if not await insert_once(self._db.person_handles, _handle_key(identity), {"person_id": person_id},
                                 self._s):
            return False
        doc = {"_id": person_id, "name": name, "customer_id": None}
        put_time(doc, "created_at", now)
        await self._db.people.insert_one(put_time(doc, "updated_at", now), session=self._s)
        return True

    async def get(self, person_id: int) -> Person:
        return await _person(self._db, person_id, self._s)

    async def set_name(self, person_id: int, name: str | None, now: datetime) -> None:
        await self._db.people.update_one({"_id": int(person_id)},
                                         {"$set": {"name": name, **time_fields("updated_at", now)}},
                                         session=self._s)

    async def set_customer(self, person_id: int, customer_id: str, now: datetime) -> None:
        await self._db.people.update_one({"_id": int(person_id)},
                                         {"$set": {"customer_id": customer_id, **time_fields("updated_at", now)}},
                                         session=self._s)

    async def move_handles(self, from_id: int, to_id: int) -> None:
        await self._db.person_handles.update_many({"person_id": int(from_id)},
                                                  {"$set": {"person_id": int(to_id)}}, session=self._s)

    async def delete(self, person_id: int) -> None:
        await self._db.people.delete_one({"_id": int(person_id)}, session=self._s)


def _handle_key(identity: Identity) -> dict[str, Any]:
    return {"_id": {"platform": identity.platform, "handle": identity.handle}}


class MongoAuthorLinks(AuthorLinkRows):
    """Mention links by author in the unit of work (links are embedded in their mention)."""

    def __init__(self, db: Any, session: Any) -> None:
        self._db, self._s = db, session

    async def confirm(self, identity: Identity, link: CustomerLink, now: datetime,
                      standing: LinkStanding) -> int:
        customer_id, handle = link.customer_id, identity.handle
        kept_statuses = standing.standing
        docs = await self._db.mentions.find({"source": identity.platform,
                                             "handle_key": {"$in": [handle, "@" + handle]}},
                                            {"links": 1}, session=self._s).to_list()
        added = 0
        for doc in docs:
            links = doc.get("links", [])
            if any(k["customer_id"] == customer_id and k["status"] in kept_statuses for k in links):
                await _set_links(self._db, doc["_id"], [k for k in links if k["customer_id"] != customer_id
                                                        or k["status"] in kept_statuses], self._s)
                continue
            link_id = await next_ids(self._db, "mention_links", session=self._s)
            kept = [k for k in links if k["customer_id"] != customer_id]
            await _set_links(self._db, doc["_id"], [*kept, link_doc(link, link_id)], self._s)
            added += 1
        return added

    async def review(self, link_id: int) -> LinkReview:
        return (await _review(self._db, link_id, self._s))[0]

    async def confirm_pending(self, link_id: int, identity: Identity, customer_id: str,
                              now: datetime, standing: LinkStanding) -> None:
        handle, waiting = identity.handle, standing.waiting
        docs = await self._db.mentions.find(
            {"$or": [{"links.id": int(link_id)},
                     {"source": identity.platform, "handle_key": {"$in": [handle, "@" + handle]},
                      "links": {"$elemMatch": {"status": waiting, "customer_id": customer_id}}}]},
            {"links": 1}, session=self._s).to_list()
        for doc in docs:
            links = [{**k, "status": standing.decided, "confidence": standing.confidence}
                     if k["id"] == int(link_id) or (k["status"] == waiting and k["customer_id"] == customer_id)
                     else k for k in doc["links"]]
            await _set_links(self._db, doc["_id"], links, self._s)

    async def drop(self, link_id: int) -> None:
        doc = await self._db.mentions.find_one({"links.id": int(link_id)}, {"links": 1}, session=self._s)
        if doc is not None:
            await _set_links(self._db, doc["_id"], [k for k in doc["links"] if k["id"] != int(link_id)],
                             self._s)

    async def add_negative(self, customer_id: str, identity: Identity, phrase: str, now: datetime) -> None:
        key = {"customer_id": customer_id, "source": identity.platform, "author_handle": identity.handle,
               "phrase": phrase}
        await insert_once(self._db.link_negatives, {"_id": key}, put_time(dict(key), "created_at", now), self._s)

    async def confirmed_customers(self, mention_id: int, standing: LinkStanding) -> set[str] | None:
        doc = await self._db.mentions.find_one({"_id": int(mention_id)}, {"links": 1}, session=self._s)
        if doc is None:
            return None
        return {k["customer_id"] for k in doc.get("links", ()) if k["status"] in standing.standing}

    async def replace_unconfirmed(self, mention_id: int, links: Sequence[CustomerLink],
                                  standing: LinkStanding) -> None:
        doc = await self._db.mentions.find_one({"_id": int(mention_id)}, {"links": 1}, session=self._s)
        if doc is None:
            return
        first = await next_ids(self._db, "mention_links", len(links), self._s) if links else 0
        # Ids in the order a mention's links are read back: the strongest first.
        fresh = sorted(links, key=lambda k: -k.confidence)
        kept = [k for k in doc.get("links", ()) if k["status"] in standing.standing]
        await _set_links(self._db, doc["_id"], kept + [link_doc(k, first + n) for n, k in enumerate(fresh)],
                         self._s)


class MongoPeople:
    """The people part of ``MongoStore``."""

    _db: Any

    async def get_person(self, person_id: int) -> Person:
        return await _person(self._db, person_id)

    async def person_by_handle(self, platform: str, handle: str) -> Person | None:
        h = await self._db.person_handles.find_one(
            {"_id": {"platform": platform, "handle": normalise_handle(handle)}})
        return await _person(self._db, h["person_id"]) if h else None

    async def list_people(self, q: str | None = None, limit: int = 50,
                          cursor: str | None = None) -> Page[Person]:
        limit = clamp_limit(limit)
        after = typed_cursor(cursor, int)[0] if cursor else 0
        filt: dict[str, Any] = {"_id": {"$gt": after}}
        if q and q.strip():
            pattern = {"$regex": re.escape(q.strip().lower()), "$options": "i"}
            holders = await self._db.person_handles.distinct("person_id", {"_id.handle": pattern})
            filt["$or"] = [{"name": pattern}, {"_id": {"$in": holders}}]
        docs = await self._db.people.find(filt).sort("_id", 1).limit(limit + 1).to_list()
        more = len(docs) > limit
        docs = docs[:limit]
        return Page(tuple(await _people(self._db, docs)), encode_cursor(docs[-1]["_id"]) if more else None)
