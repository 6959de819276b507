"""Changelog entries in MongoDB: one document per entry, its shipped idea ids inside it.

Every write is a single-document update, so it holds on a standalone server too.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from domain.changelog import DRAFT, ChangelogDraft, ChangelogEntry, EntryState, is_public
from domain.errors import NotFound
from storage.base import clamp_limit
from storage.mongo.db import MongoWrites, next_ids, time_fields
from storage.sqlite.changelog import changelog_entries
from storage.mongo.rows import doc_of, doc_reader, found
from storage.rows import CHANGELOG_ENTRY

CHANGELOG_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "changelog_entries": [([("public", 1), ("published_at", -1), ("published_at_us", -1),
                            ("updated_at", -1), ("updated_at_us", -1), ("_id", -1)],
                           {"name": "changelog_entries_order"})],
}
_ORDER = CHANGELOG_INDEXES["changelog_entries"][0][0]


def changelog_doc(entry: ChangelogEntry) -> dict[str, Any]:
    """The document of an entry (also what the SQLite-to-MongoDB copy writes)."""
    # ``public`` orders and filters the list (published and archived entries are public).
    return {**doc_of(CHANGELOG_ENTRY, entry), "public": int(is_public(entry.state))}


def copied_changelog_entries(conn: sqlite3.Connection,
                             rows: list[sqlite3.Row]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """SQLite ``changelog_entries`` rows as (filter, document) for the copy to MongoDB
    (storage/mongo/migrate.py), each with its shipped ideas (``changelog_ideas``) in order."""
    return [({"_id": e.id}, changelog_doc(e)) for e in changelog_entries(conn, rows)]


_entry = doc_reader(CHANGELOG_ENTRY)


class MongoChangelog:
    """The changelog part of ``MongoStore``."""

    _db: Any
    _writes: MongoWrites

    async def create_changelog_entry(self, draft: ChangelogDraft, author_id: int | None,
                                     at: datetime) -> ChangelogEntry:
        entry = ChangelogEntry(
            id=await next_ids(self._db, "changelog_entries"), title=draft.title or "",
            body=draft.body or "", idea_ids=tuple(dict.fromkeys(draft.idea_ids or ())),
            state=DRAFT, author_id=author_id, created_at=at, updated_at=at)
        await self._db.changelog_entries.insert_one(changelog_doc(entry))
        return entry

    async def get_changelog_entry(self, entry_id: int) -> ChangelogEntry:
        doc = await found(self._db.changelog_entries.find_one({"_id": int(entry_id)}), f"no changelog entry {entry_id}")
        return _entry(doc)

    async def update_changelog_entry(self, entry_id: int, draft: ChangelogDraft,
                                     at: datetime) -> ChangelogEntry:
        fields: dict[str, Any] = time_fields("updated_at", at)
        if draft.title is not None:
            fields["title"] = draft.title
        if draft.body is not None:
            fields["body"] = draft.body
        if draft.idea_ids is not None:
            fields["idea_ids"] = list(dict.fromkeys(draft.idea_ids))
        done = await self._db.changelog_entries.update_one({"_id": int(entry_id)}, {"$set": fields})
        if done.matched_count == 0:
            raise NotFound(f"no changelog entry {entry_id}")
        return await self.get_changelog_entry(entry_id)

    async def set_changelog_state(self, entry_id: int, state: EntryState,
                                  at: datetime) -> ChangelogEntry:
        current = await self.get_changelog_entry(entry_id)
        fields: dict[str, Any] = {"state": state, "public": int(is_public(state))}
        # published_at is set once (only while unset): a retried publish keeps the first date.
        if is_public(state) and current.published_at is None:
            fields.update(time_fields("published_at", at))
            await self._db.changelog_entries.update_one(
                {"_id": int(entry_id), "published_at": None}, {"$set": fields})
        fields = {"state": state, "public": int(is_public(state))}
        await self._db.changelog_entries.update_one({"_id": int(entry_id)}, {"$set": fields})
        return await self.get_changelog_entry(entry_id)

    async def list_changelog_entries(self, public_only: bool, limit: int = 20,
                                     offset: int = 0) -> tuple[list[ChangelogEntry], int]:
        where: dict[str, Any] = {"public": 1} if public_only else {}
        docs = await self._db.changelog_entries.find(where).sort(_ORDER).skip(
            max(0, int(offset))).limit(clamp_limit(limit)).to_list()
        total = await self._db.changelog_entries.count_documents(where)
        return [_entry(d) for d in docs], total
