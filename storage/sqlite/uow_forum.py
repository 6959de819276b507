"""The unit of work's comment, status and moderation repositories in SQLite: plain reads and
writes over the writer connection of ``storage.sqlite.uow`` (the rules that use them are
``community.comments``, ``community.statuses`` and ``community.moderation``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from domain.events import NewEvent
from domain.forum import Comment, Idea, NewIdea, StatusChange
from domain.notify import Notification
from domain.routing import Delivery
from storage.contract.uow_forum import (
    CommentRecords, Flags, IdeaRecords, NotificationRows, ReportRows, StatusChangeRows, check_flags,
)
from storage.sqlite.db import to_db_time
from storage.sqlite.events import record_events
from storage.sqlite.idea_rows import comment_from_row, fetch_idea
from storage.sqlite.ideas import set_tags
from storage.sqlite.notify import insert_notifications
from storage.sqlite.rows import fetch_one

Call = Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]
#: the flag columns a rule may set (fixed names, never input), and how each is stored
_COMMENT_FLAGS: dict[str, Callable[[Any], Any]] = {"approval": str, "hidden": int, "spam": int}
_IDEA_FLAGS: dict[str, Callable[[Any], Any]] = {**_COMMENT_FLAGS, "locked": int}


def _sets(flags: Flags, columns: dict[str, Callable[[Any], Any]]) -> tuple[list[str], list[Any]]:
    check_flags(flags, frozenset(columns))
    return [f"{k} = ?" for k in flags], [columns[k](v) for k, v in flags.items()]


class _Repo:
    def __init__(self, call: Call) -> None:
        self._call = call


class _CommentRecords(_Repo, CommentRecords):
    async def get(self, comment_id: int) -> Comment:
        def read(conn: sqlite3.Connection) -> Comment:
            row = fetch_one(conn, "SELECT * FROM comments WHERE id = ?", (comment_id,), f"no comment {comment_id}")
            return comment_from_row(row)

        return await self._call(read)

    async def add(self, idea_id: int, author_id: int | None, body: str, parent_id: int | None,
                  internal: bool, approval: str, now: datetime) -> Comment:
        return await self._call(lambda conn: comment_from_row(conn.execute(
            "INSERT INTO comments (idea_id, parent_id, author_id, body, internal, created_at, approval) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (idea_id, parent_id, author_id, body, int(internal), to_db_time(now), approval)).fetchone()))

    async def _write_as_read(self, comment: Comment, sets: str, args: Sequence[Any]) -> Comment | None:
        # The write lock is held since the comment was read in this unit of work: the guard
        # fails only for a comment read in an earlier one.
        def write(conn: sqlite3.Connection) -> Comment | None:
            row = conn.execute(f"UPDATE comments SET {sets} WHERE id = ? AND deleted = ? AND internal = ? "
                               "AND hidden = ? AND approval = ? RETURNING *",
                               [*args, comment.id, int(comment.deleted), int(comment.internal),
                                int(comment.hidden), comment.approval]).fetchone()
            return None if row is None else comment_from_row(row)

        return await self._call(write)

    async def set_body(self, comment: Comment, body: str, now: datetime) -> Comment | None:
        return await self._write_as_read(comment, "body = ?, updated_at = ?", (body, to_db_time(now)))

    async def mark_deleted(self, comment: Comment, now: datetime) -> Comment | None:
        return await self._write_as_read(comment, "deleted = 1, body = '', updated_at = ?",
                                         (to_db_time(now),))

    async def set_flags(self, comment_id: int, flags: Flags) -> Comment:
        sets, args = _sets(flags, _COMMENT_FLAGS)

        def write(conn: sqlite3.Connection) -> Comment:
            row = fetch_one(conn, f"UPDATE comments SET {', '.join(sets) or 'id = id'} WHERE id = ? "
                               "RETURNING *", [*args, comment_id], f"no comment {comment_id}")
            return comment_from_row(row)

        return await self._call(write)

    async def count(self, idea_id: int, *, internal: bool, deleted: bool, hidden: bool,
                    approval: str) -> int:
        return await self._call(lambda conn: conn.execute(
            "SELECT count(*) FROM comments WHERE idea_id = ? AND internal = ? AND deleted = ? "
            "AND hidden = ? AND approval = ?",
            (idea_id, int(internal), int(deleted), int(hidden), approval)).fetchone()[0])


class _IdeaRecords(_Repo, IdeaRecords):
    async def add(self, idea: NewIdea, now: datetime, followers: Sequence[int],
                  events: Callable[[int], Sequence[NewEvent]]) -> Idea:
        at = to_db_time(now)

        def write(conn: sqlite3.Connection) -> Idea:
            idea_id = conn.execute(
                "INSERT INTO ideas (title, body, author_id, topic, status, created_at, updated_at, approval) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (idea.title, idea.body, idea.author_id, idea.topic, idea.status, at, at,
                 idea.approval)).fetchone()[0]
            set_tags(conn, idea_id, idea.tags)
            conn.executemany("INSERT OR IGNORE INTO idea_followers VALUES (?, ?)",
                             [(idea_id, a) for a in followers])
            record_events(conn, events(idea_id), now)
            return fetch_idea(conn, idea_id)

        return await self._call(write)

    async def set_flags(self, idea_id: int, flags: Flags, now: datetime) -> None:
        sets, args = _sets(flags, _IDEA_FLAGS)
        await self._call(lambda conn: conn.execute(
            f"UPDATE ideas SET {', '.join(['updated_at = ?', *sets])} WHERE id = ?",
            [to_db_time(now), *args, idea_id]))

    async def move_status(self, change: StatusChange) -> bool:
        at = to_db_time(change.created_at)
        return await self._call(lambda conn: conn.execute(
            "UPDATE ideas SET status = ?, status_response = ?, status_changed_at = ?, updated_at = ? "
            "WHERE id = ? AND status = ?",
            (change.to_status, change.response, at, at, change.idea_id, change.from_status)).rowcount == 1)

    async def count_comments(self, idea_id: int, delta: int) -> None:
        await self._call(lambda conn: conn.execute(
            "UPDATE ideas SET comment_count = comment_count + ? WHERE id = ?", (delta, idea_id)))

    async def set_comment_count(self, idea_id: int, count: int) -> None:
        await self._call(lambda conn: conn.execute(
            "UPDATE ideas SET comment_count = ? WHERE id = ?", (count, idea_id)))

    async def release_merged(self, idea_id: int) -> None:
        await self._call(lambda conn: conn.execute(
            "UPDATE ideas SET merged_into = NULL WHERE merged_into = ?", (idea_id,)))

    async def delete(self, idea_id: int) -> None:
        # Its votes, comments, followers, mentions, status changes and merges go by cascade.
        await self._call(lambda conn: conn.execute("DELETE FROM ideas WHERE id = ?", (idea_id,)))


class _StatusChanges(_Repo, StatusChangeRows):
    async def add(self, change: StatusChange) -> None:
        await self._call(lambda conn: conn.execute(
            "INSERT INTO status_changes (idea_id, from_status, to_status, response, account_id, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (change.idea_id, change.from_status, change.to_status, change.response,
             change.account_id, to_db_time(change.created_at))))


class _Notifications(_Repo, NotificationRows):
    async def refuse_unknown_accounts(self, items: Sequence[tuple[Notification, Delivery | None]]) -> None:
        """Nothing to check first: the foreign key refuses in ``add`` and the transaction
        rolls back."""

    async def add(self, items: Sequence[tuple[Notification, Delivery | None]]) -> None:
        if items:
            await self._call(lambda conn: insert_notifications(conn, items))


class _Reports(_Repo, ReportRows):
    async def drop_resolved(self, kind: str, item_id: int, account_id: int) -> None:
        await self._call(lambda conn: conn.execute(
            "DELETE FROM content_reports WHERE kind = ? AND item_id = ? AND account_id = ? "
            "AND resolved_at IS NOT NULL", (kind, item_id, account_id)))

    async def add(self, kind: str, item_id: int, account_id: int, reason: str, now: datetime) -> bool:
        return await self._call(lambda conn: conn.execute(
            "INSERT INTO content_reports (kind, item_id, account_id, reason, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (kind, item_id, account_id, reason, to_db_time(now))).rowcount == 1)

    async def resolve(self, kind: str, item_id: int, now: datetime) -> int:
        return await self._call(lambda conn: conn.execute(
            "UPDATE content_reports SET resolved_at = ? WHERE kind = ? AND item_id = ? "
            "AND resolved_at IS NULL", (to_db_time(now), kind, item_id)).rowcount)


def forum_repositories(call: Call) -> tuple[CommentRecords, IdeaRecords, StatusChangeRows,
                                            NotificationRows, ReportRows]:
    """The comment, idea-record, status-change, notification and report repositories over
    ``call`` (a unit of work's connection)."""
    return (_CommentRecords(call), _IdeaRecords(call), _StatusChanges(call), _Notifications(call),
            _Reports(call))
