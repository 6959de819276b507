"""Triage (status, assignee, tags, private notes) in MongoDB.

A mention's triage lives in its own document (``triage`` and ``tags``), so a
bulk change touches only the mentions it names; a never-triaged mention has no
``triage`` field and counts as ``open``.  Notes are a collection of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain import Mention, MentionQuery, Page, utcnow
from domain.triage import (
    Triage,
    TriageChange,
    UNTRIAGED,
    TriageNote,
)
from domain.errors import NotFound
from storage.mongo.db import MongoWrites, get_time, next_ids, time_fields
from storage.mongo.rows import doc_of, doc_reader, found
from storage.rows import TRIAGE_NOTE
from storage.mongo.mentions import (
    mention_filter,
    mention_page,
)

TRIAGE_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "mentions": [
        ([("triage.status", 1), ("created_at", -1), ("_id", -1)], {"name": "mentions_triage_status"}),
        ([("triage.assignee", 1), ("created_at", -1), ("_id", -1)], {"name": "mentions_assignee"}),
        ([("tags", 1), ("created_at", -1), ("_id", -1)], {"name": "mentions_tags"}),
    ],
    "mention_notes": [([("mention_id", 1), ("_id", 1)], {"name": "notes_mention"})],
}


def triage_filters(status: str | None, assignee: str | None, tag: str | None) -> list[dict[str, Any]]:
    """Mention filters for a triage status, an assignee (``""``: none) and a tag."""
    extra: list[dict[str, Any]] = []
    if status is not None:
        # A mention never triaged has no triage.status (null matches it) and counts as open.
        extra.append({"triage.status": {"$in": [status, None]}} if status == UNTRIAGED
                     else {"triage.status": status})
    if assignee is not None:
        extra.append({"triage.assignee": assignee or None})
    if tag is not None:
        extra.append({"tags": tag})
    return extra


_note = doc_reader(TRIAGE_NOTE)


def _triage_time(name: str, at: datetime) -> dict[str, Any]:
    """``$set`` fields of time ``name`` of a mention's embedded ``triage``."""
    return {f"triage.{k}": v for k, v in time_fields(name, at).items()}


def _triage(doc: dict[str, Any]) -> Triage:
    t = doc.get("triage") or {}
    return Triage(doc["_id"], t.get("status") or UNTRIAGED, t.get("assignee"),
                  tuple(sorted(doc.get("tags", ()))), get_time(t, "updated_at"), t.get("updated_by"))


class MongoTriage:
    """The triage part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    async def get_triage(self, mention_ids: Sequence[int]) -> dict[int, Triage]:
        ids = sorted({int(i) for i in mention_ids})
        docs = await self._db.mentions.find(
            {"_id": {"$in": ids}}, {"triage": 1, "tags": 1}).to_list()
        return {d["_id"]: _triage(d) for d in docs}

    async def update_triage(self, mention_ids: Sequence[int], change: TriageChange,
                            by: str) -> list[Triage]:
        ids = sorted({int(i) for i in mention_ids})
        now = utcnow()
        sets: dict[str, Any] = {"triage.updated_by": by,
                                **_triage_time("updated_at", now)}
        if change.status is not None:
            sets["triage.status"] = change.status
        if change.assignee is not None:
            sets["triage.assignee"] = change.assignee or None

        async def write(session: Any) -> list[Triage]:
            # Checked before anything is written: an unknown id changes nothing (on any server).
            found = set(await self._db.mentions.distinct("_id", {"_id": {"$in": ids}}, session=session))
            missing = [i for i in ids if i not in found]
            if missing:
                raise NotFound(f"no mention {missing[0]}")
            update: dict[str, Any] = {"$set": sets}
            if change.add_tags:
                update["$addToSet"] = {"tags": {"$each": list(change.add_tags)}}
            await self._db.mentions.update_many({"_id": {"$in": ids}}, update, session=session)
            # The first staff action on a mention ends its first-response clock.
            await self._db.mentions.update_many(
                {"_id": {"$in": ids}, "triage.first_action_at": None},
                {"$set": _triage_time("first_action_at", now)},
                session=session)
            if change.remove_tags:
                # A second update: $addToSet and $pull may not touch one field in one update.
                await self._db.mentions.update_many(
                    {"_id": {"$in": ids}}, {"$pull": {"tags": {"$in": list(change.remove_tags)}}},
                    session=session)
            docs = await self._db.mentions.find(
                {"_id": {"$in": ids}}, {"triage": 1, "tags": 1}, session=session).to_list()
            by_id = {d["_id"]: _triage(d) for d in docs}
            return [by_id[i] for i in ids]

        return await self._writes.run(write)

    async def add_triage_note(self, mention_id: int, author: str, body: str) -> TriageNote:
        now = utcnow()
        await found(self._db.mentions.find_one({"_id": int(mention_id)}, {"_id": 1}), f"no mention {mention_id}")
        note = TriageNote(await next_ids(self._db, "mention_notes"), int(mention_id), author, body, now)
        await self._db.mention_notes.insert_one(doc_of(TRIAGE_NOTE, note))
        # A note is a staff response too: it ends the first-response clock (once).
        await self._db.mentions.update_one(
            {"_id": int(mention_id), "triage": {"$exists": False}},
            {"$set": {"triage.updated_by": author,
                      **_triage_time("updated_at", now)}})
        await self._db.mentions.update_one(
            {"_id": int(mention_id), "triage.first_action_at": None},
            {"$set": _triage_time("first_action_at", now)})
        return note

    async def list_triage_notes(self, mention_id: int) -> list[TriageNote]:
        docs = await self._db.mention_notes.find({"mention_id": int(mention_id)}).sort("_id", 1).to_list()
        return [_note(d) for d in docs]

    async def list_triaged_mentions(self, query: MentionQuery, status: str | None,
                                    assignee: str | None, tag: str | None) -> Page[Mention]:
        filt = mention_filter(query, triage_filters(status, assignee, tag))
        if filt is None:
            return Page(())
        return await mention_page(self._db, filt, query.limit)
