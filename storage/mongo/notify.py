"""Mail settings, in-app notifications (with their outbox mail), thresholds and opt-outs in MongoDB.

A notification is unique per ``dedupe_key``.  On a replica set a notification
and its mail are one transaction.  On a standalone server the mail is written
first (unique by its idempotency key) and the notification last, so a crash in
between is completed by the replay of the event and never loses a mail: the
replay finds no notification, writes the mail once more (a no-op) and then the
notification.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.routing import Delivery
from domain.notify import Notification
from domain.errors import Conflict
from storage.base import clamp_limit
from storage.contract.events import threshold_event
from storage.mongo.db import (
    MongoWrites,
    insert_once,
    next_ids,
    put_time,
    time_cmp,
    time_fields,
)
from storage.mongo.events import record_events
from storage.mongo.routing import insert_deliveries
from storage.rows import of_routed
from storage.rows import NOTIFICATION
from storage.mongo.rows import doc_of, doc_reader


async def insert_threshold(db: Any, idea_id: int, threshold: str, at: datetime,
                           session: Any = None) -> bool:
    """Record that an idea crossed ``threshold`` (once), with its ``idea.vote_threshold``
    event in ``session``'s transaction; True the first time."""
    key = {"_id": {"idea_id": int(idea_id), "threshold": threshold}}
    if not await insert_once(db.idea_thresholds, key,
                             put_time({"idea_id": int(idea_id), "threshold": threshold},
                                      "crossed_at", at), session):
        return False
    await record_events(db, [threshold_event(idea_id, threshold)], at, session)
    return True


NOTIFY_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "notifications": [
        ([("dedupe_key", 1)], {"name": "notifications_dedupe", "unique": True}),
        ([("account_id", 1), ("_id", -1)], {"name": "notifications_account"}),
    ],
    "notify_opt_outs": [([("idea_id", 1), ("account_id", 1)], {"name": "opt_outs_idea", "unique": True})],
    "accounts": [([("customer_id", 1), ("_id", 1)], {"name": "accounts_customer"})],
}


_notification = doc_reader(NOTIFICATION)


async def check_accounts(db: Any, items: Sequence[tuple[Notification, Delivery | None]],
                         session: Any) -> None:
    """``Conflict`` (before anything is written) when a notification names an unknown account:
    what SQLite's foreign key refuses, MongoDB has to check."""
    wanted = sorted({int(note.account_id) for note, _ in items})
    if not wanted:
        return
    known = set(await db.accounts.distinct("_id", {"_id": {"$in": wanted}}, session=session))
    missing = [a for a in wanted if a not in known]
    if missing:
        raise Conflict("notifications for unknown accounts", {"account_ids": missing})


async def insert_notifications(db: Any, items: Sequence[tuple[Notification, Delivery | None]],
                               session: Any) -> list[Notification]:
    """Store notifications and their outbox mail within the caller's write; one already stored
    (same ``dedupe_key``) is skipped with its mail.  The newly stored, with ids.

    The mail goes first (unique by idempotency key), the notification last: without a
    transaction a crash in between is completed by the event's replay.
    """
    await check_accounts(db, items, session)
    stored = []
    for note, delivery in items:
        if await db.notifications.find_one(
                {"dedupe_key": note.dedupe_key}, {"_id": 1}, session=session) is not None:
            continue  # this event was announced to this account already
        if delivery is not None:
            await insert_deliveries(db, of_routed([delivery], None), note.created_at, session)
        note_id = await next_ids(db, "notifications", session=session)
        doc = doc_of(NOTIFICATION, dataclasses.replace(note, id=note_id, read_at=None))
        if await insert_once(db.notifications, {"dedupe_key": note.dedupe_key}, doc, session):
            stored.append(_notification(doc))
    return stored


def _unblocked(blocked: bool) -> dict[str, Any]:
    """The filter leaving blocked accounts out unless ``blocked``."""
    return {} if blocked else {"blocked": {"$ne": True}}


class MongoNotify:
    """The notify part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    async def enqueue_notifications(
        self, items: Sequence[tuple[Notification, Delivery | None]]
    ) -> list[Notification]:
        return await self._writes.run(lambda session: insert_notifications(self._db, items, session))


    async def enqueue_deliveries(self, deliveries: Sequence[Delivery], at: datetime) -> list[int]:
        async def write(session: Any) -> list[int]:
            return await insert_deliveries(self._db, of_routed(deliveries, None), at, session)

        return await self._writes.run(write)

    async def list_notifications(self, account_id: int, unread_only: bool = False,
                                 limit: int = 50) -> list[Notification]:
        filt: dict[str, Any] = {"account_id": int(account_id)}
        if unread_only:
            filt["read_at"] = None
        docs = await self._db.notifications.find(filt).sort("_id", -1).limit(clamp_limit(limit)).to_list()
        return [_notification(d) for d in docs]

    async def mark_notifications_read(self, account_id: int, ids: Sequence[int] | None,
                                      at: datetime) -> int:
        filt: dict[str, Any] = {"account_id": int(account_id), "read_at": None}
        if ids is not None:
            filt["_id"] = {"$in": [int(i) for i in ids]}
        done = await self._db.notifications.update_many(filt, {"$set": time_fields("read_at", at)})
        return done.modified_count

    async def _pref_switches(self, account_ids: Sequence[int], switch: str,
                             default: bool) -> dict[int, bool]:
        wanted = sorted({int(a) for a in account_ids})
        found = dict.fromkeys(wanted, default)
        for d in await self._db.notify_prefs.find({"_id": {"$in": wanted}}).to_list():
            found[d["_id"]] = bool(d.get(switch, default))
        return found

    async def _set_pref_switch(self, account_id: int, switch: str, on: bool, at: datetime) -> None:
        update: dict[str, Any] = {"$set": {switch: bool(on), **time_fields("updated_at", at)}}
        if switch != "mail":  # a new preferences document keeps mail on
            update["$setOnInsert"] = {"mail": True}
        await self._db.notify_prefs.update_one({"_id": int(account_id)}, update, upsert=True)

    async def record_threshold(self, idea_id: int, threshold: str, at: datetime) -> bool:
        return await self._writes.run(
            lambda session: insert_threshold(self._db, idea_id, threshold, at, session))

    async def set_opted_out(self, idea_id: int, account_id: int, out: bool, at: datetime) -> None:
        key = {"idea_id": int(idea_id), "account_id": int(account_id)}
        if out:
            await insert_once(self._db.notify_opt_outs, key, put_time(dict(key), "created_at", at))
        else:
            await self._db.notify_opt_outs.delete_one(key)

    async def opted_out(self, idea_id: int) -> set[int]:
        return set(await self._db.notify_opt_outs.distinct("account_id", {"idea_id": int(idea_id)}))

    async def accounts_for_customers(self, customer_ids: Sequence[str], *,
                                     blocked: bool) -> dict[str, list[int]]:
        wanted = sorted(set(customer_ids))
        found: dict[str, list[int]] = {}
        docs = await (self._db.accounts.find({"customer_id": {"$in": wanted}, **_unblocked(blocked)},
                                             {"customer_id": 1}).sort("_id", 1).to_list())
        for d in docs:
            found.setdefault(d["customer_id"], []).append(d["_id"])
        return found

    async def unread_count(self, account_id: int) -> int:
        return await self._db.notifications.count_documents({"account_id": int(account_id), "read_at": None})

    async def digest_accounts(self, *, blocked: bool) -> list[int]:
        wanted = await self._db.notify_prefs.distinct("_id", {"digest": True})
        if not wanted:
            return []
        return sorted(await self._db.accounts.distinct("_id", {"_id": {"$in": wanted}, **_unblocked(blocked)}))

    async def notifications_between(self, account_id: int, start: datetime,
                                    end: datetime) -> list[Notification]:
        docs = await (self._db.notifications.find(
            {"$and": [{"account_id": int(account_id)}, time_cmp("created_at", "$gte", start),
                      time_cmp("created_at", "$lt", end)]})
            .sort([("created_at", 1), ("created_at_us", 1), ("_id", 1)]).to_list())
        return [_notification(d) for d in docs]

    async def queue_digest(self, account_id: int, day: str, items: int, delivery: Delivery | None,
                           at: datetime) -> bool:
        async def write(session: Any) -> bool:
            key = {"_id": {"account_id": int(account_id), "day": day}}
            if await self._db.digests_sent.find_one(key, {"_id": 1}, session=session) is not None:
                return False
            if delivery is not None:
                # The mail first (once, by its key), the record last: see the module notes.
                await insert_deliveries(self._db, of_routed([delivery], None), at, session)
            return await insert_once(self._db.digests_sent, key, put_time(
                {"account_id": int(account_id), "day": day, "items": int(items)}, "sent_at", at), session)

        return await self._writes.run(write)
