"""The unit of work's comment, status and moderation repositories in MongoDB: plain reads and
writes in the session of ``storage.mongo.uow`` (``None`` on a standalone server; the rules
that use them, ``community.comments``, ``community.statuses`` and ``community.moderation``,
write in an order a crash between two writes cannot make wrong, see their docstrings)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from domain.events import NewEvent
from domain.forum import APPROVED, Comment, Idea, NewIdea, StatusChange
from domain.notify import Notification
from domain.routing import Delivery
from storage.contract.uow_forum import (
    CommentRecords, Flags, IdeaRecords, NotificationRows, ReportRows, StatusChangeRows, check_flags,
)
from storage.mongo.comments import comment_from_doc
from storage.mongo.db import import_pymongo, insert_once, next_ids, put_time, time_fields
from storage.mongo.events import record_events
from storage.mongo.ideas import follow_idea, idea_from_doc, tag_docs
from storage.mongo.notify import check_accounts, insert_notifications
from storage.search_stems import search_fields
from storage.mongo.rows import found

_COMMENT_FLAGS: dict[str, Any] = {"approval": str, "hidden": bool, "spam": bool}
_IDEA_FLAGS: dict[str, Any] = {**_COMMENT_FLAGS, "locked": bool}
#: what an idea's deletion takes with it, besides merge records (the idea itself goes last)
_IDEA_CHILDREN = ("votes", "comments", "idea_followers", "idea_mentions", "status_changes")


def _sets(flags: Flags, fields: dict[str, Any]) -> dict[str, Any]:
    check_flags(flags, frozenset(fields))
    return {k: fields[k](v) for k, v in flags.items()}


def _flag(name: str, value: bool | str) -> Any:
    """A filter on a flag as ``comment_from_doc`` reads it: documents stored before moderation
    have no ``hidden`` (not hidden) and no ``approval`` (approved)."""
    if name == "hidden" and not value:
        return {"$ne": True}
    if name == "approval" and value == APPROVED:
        return {"$in": [APPROVED, None]}
    return value


def _as_read(comment: Comment) -> dict[str, Any]:
    """A filter matching the comment only while its flags are as ``comment`` shows them."""
    return {"_id": comment.id, "deleted": comment.deleted, "internal": comment.internal,
            "hidden": _flag("hidden", comment.hidden), "approval": _flag("approval", comment.approval)}


class _Repo:
    def __init__(self, db: Any, session: Any) -> None:
        self._db, self._s = db, session


class _CommentRecords(_Repo, CommentRecords):
    async def get(self, comment_id: int) -> Comment:
        doc = await found(self._db.comments.find_one({"_id": int(comment_id)}, session=self._s), f"no comment {comment_id}")
        return comment_from_doc(doc)

    async def add(self, idea_id: int, author_id: int | None, body: str, parent_id: int | None,
                  internal: bool, approval: str, now: datetime) -> Comment:
        comment_id = await next_ids(self._db, "comments", session=self._s)
        doc = {"_id": comment_id, "idea_id": int(idea_id), "parent_id": parent_id,
               "author_id": author_id, "body": body, "internal": bool(internal), "deleted": False,
               "approval": approval, "hidden": False, "spam": False}
        put_time(doc, "created_at", now)
        put_time(doc, "updated_at", None)
        await self._db.comments.insert_one(doc, session=self._s)
        return comment_from_doc(doc)

    async def _write_as_read(self, comment: Comment, sets: dict[str, Any]) -> Comment | None:
        pymongo = import_pymongo()
        doc = await self._db.comments.find_one_and_update(
            _as_read(comment), {"$set": sets}, return_document=pymongo.ReturnDocument.AFTER,
            session=self._s)
        return None if doc is None else comment_from_doc(doc)

    async def set_body(self, comment: Comment, body: str, now: datetime) -> Comment | None:
        return await self._write_as_read(comment, {"body": body, **time_fields("updated_at", now)})

    async def mark_deleted(self, comment: Comment, now: datetime) -> Comment | None:
        return await self._write_as_read(comment, {"deleted": True, "body": "",
                                                   **time_fields("updated_at", now)})

    async def set_flags(self, comment_id: int, flags: Flags) -> Comment:
        pymongo = import_pymongo()
        sets = _sets(flags, _COMMENT_FLAGS)
        if sets:
            lookup = self._db.comments.find_one_and_update(
                {"_id": int(comment_id)}, {"$set": sets}, return_document=pymongo.ReturnDocument.AFTER,
                session=self._s)
        else:
            lookup = self._db.comments.find_one({"_id": int(comment_id)}, session=self._s)
        return comment_from_doc(await found(lookup, f"no comment {comment_id}"))

    async def count(self, idea_id: int, *, internal: bool, deleted: bool, hidden: bool,
                    approval: str) -> int:
        return await self._db.comments.count_documents(
            {"idea_id": int(idea_id), "internal": internal, "deleted": deleted,
             "hidden": _flag("hidden", hidden), "approval": _flag("approval", approval)},
            session=self._s)


class _IdeaRecords(_Repo, IdeaRecords):
    async def add(self, idea: NewIdea, now: datetime, followers: Sequence[int],
                  events: Callable[[int], Sequence[NewEvent]]) -> Idea:
        idea_id = await next_ids(self._db, "ideas", session=self._s)
        doc = {"_id": idea_id, "title": idea.title, "body": idea.body, "author_id": idea.author_id,
               "topic": idea.topic, "status": idea.status, "status_response": None,
               "vote_count": 0, "comment_count": 0, "impact": 0.0, "merged_into": None,
               "hidden": False, "locked": False, "approval": idea.approval, "spam": False,
               "tags": tag_docs(idea.tags), **search_fields(idea.title, idea.body)}
        put_time(doc, "created_at", now)
        put_time(doc, "updated_at", now)
        put_time(doc, "status_changed_at", None)
        for account_id in followers:
            await follow_idea(self._db, idea_id, account_id, self._s)
        await record_events(self._db, events(idea_id), now, self._s)
        await self._db.ideas.insert_one(doc, session=self._s)  # last: see the contract
        return idea_from_doc(doc)

    async def set_flags(self, idea_id: int, flags: Flags, now: datetime) -> None:
        await self._db.ideas.update_one(
            {"_id": int(idea_id)}, {"$set": {**_sets(flags, _IDEA_FLAGS), **time_fields("updated_at", now)}},
            session=self._s)

    async def move_status(self, change: StatusChange) -> bool:
        at = change.created_at
        done = await self._db.ideas.update_one(
            {"_id": int(change.idea_id), "status": change.from_status},
            {"$set": {"status": change.to_status, "status_response": change.response,
                      **time_fields("status_changed_at", at), **time_fields("updated_at", at)}},
            session=self._s)
        return bool(done.matched_count)

    async def count_comments(self, idea_id: int, delta: int) -> None:
        await self._db.ideas.update_one({"_id": int(idea_id)}, {"$inc": {"comment_count": int(delta)}},
                                        session=self._s)

    async def set_comment_count(self, idea_id: int, count: int) -> None:
        await self._db.ideas.update_one({"_id": int(idea_id)}, {"$set": {"comment_count": int(count)}},
                                        session=self._s)

    async def release_merged(self, idea_id: int) -> None:
        await self._db.ideas.update_many({"merged_into": int(idea_id)}, {"$set": {"merged_into": None}},
                                         session=self._s)

    async def delete(self, idea_id: int) -> None:
        for collection in _IDEA_CHILDREN:
            await self._db[collection].delete_many({"idea_id": int(idea_id)}, session=self._s)
        await self._db.idea_merges.delete_many(
            {"$or": [{"source_id": int(idea_id)}, {"target_id": int(idea_id)}]}, session=self._s)
        # The idea last: a crash before leaves it listed, never rows without an idea.
        await self._db.ideas.delete_one({"_id": int(idea_id)}, session=self._s)


class _StatusChanges(_Repo, StatusChangeRows):
    async def add(self, change: StatusChange) -> None:
        change_id = await next_ids(self._db, "status_changes", session=self._s)
        await self._db.status_changes.insert_one(put_time({
            "_id": change_id, "idea_id": int(change.idea_id), "from_status": change.from_status,
            "to_status": change.to_status, "response": change.response,
            "account_id": change.account_id}, "created_at", change.created_at), session=self._s)


class _Notifications(_Repo, NotificationRows):
    async def refuse_unknown_accounts(self, items: Sequence[tuple[Notification, Delivery | None]]) -> None:
        await check_accounts(self._db, items, self._s)

    async def add(self, items: Sequence[tuple[Notification, Delivery | None]]) -> None:
        await insert_notifications(self._db, items, self._s)


class _Reports(_Repo, ReportRows):
    async def drop_resolved(self, kind: str, item_id: int, account_id: int) -> None:
        await self._db.content_reports.delete_one(
            {"kind": kind, "item_id": int(item_id), "account_id": int(account_id),
             "resolved_at": {"$ne": None}}, session=self._s)

    async def add(self, kind: str, item_id: int, account_id: int, reason: str, now: datetime) -> bool:
        key = {"kind": kind, "item_id": int(item_id), "account_id": int(account_id)}
        report_id = await next_ids(self._db, "content_reports", session=self._s)
        doc = {"_id": report_id, **key, "reason": reason}
        put_time(doc, "created_at", now)
        put_time(doc, "resolved_at", None)
        return await insert_once(self._db.content_reports, key, doc, self._s)

    async def resolve(self, kind: str, item_id: int, now: datetime) -> int:
        done = await self._db.content_reports.update_many(
            {"kind": kind, "item_id": int(item_id), "resolved_at": None},
            {"$set": time_fields("resolved_at", now)}, session=self._s)
        return done.modified_count


def forum_repositories(db: Any, session: Any) -> tuple[CommentRecords, IdeaRecords, StatusChangeRows,
                                                       NotificationRows, ReportRows]:
    """The comment, idea-record, status-change, notification and report repositories in
    ``session`` (``None``: no transaction)."""
    return (_CommentRecords(db, session), _IdeaRecords(db, session), _StatusChanges(db, session),
            _Notifications(db, session), _Reports(db, session))
