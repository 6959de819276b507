"""Unit-of-work repositories for comments, statuses and moderation (their rules:
``community.comments``, ``community.statuses``, ``community.moderation``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from domain.events import NewEvent
from domain.forum import Comment, Idea, NewIdea, StatusChange
from domain.notify import Notification
from domain.routing import Delivery

# The rules that use these (who may, what counts, which event) are community.comments,
# community.statuses and community.moderation; these only read and write.

#: flags a moderation rule sets on an idea or comment, by name (``approval``, ``hidden``,
#: ``spam``; ``locked`` on an idea), only those given
Flags = dict[str, Any]


def check_flags(flags: Flags, allowed: frozenset[str]) -> None:
    """``ValueError`` naming the flags of ``flags`` not in ``allowed``."""
    unknown = set(flags) - allowed
    if unknown:
        raise ValueError(f"no such flag: {', '.join(sorted(unknown))}")


class CommentRecords(ABC):
    """Comments one by one: read, add, change, flag and count them."""

    @abstractmethod
    async def get(self, comment_id: int) -> Comment:
        """One comment; ``NotFound``."""

    @abstractmethod
    async def add(self, idea_id: int, author_id: int | None, body: str, parent_id: int | None,
                  internal: bool, approval: str, now: datetime) -> Comment:
        """Store a new comment (not hidden, not spam, not deleted)."""

    @abstractmethod
    async def set_body(self, comment: Comment, body: str, now: datetime) -> Comment | None:
        """Change the comment's text, only while it is as ``comment`` (read in this unit of
        work) shows it; the comment afterwards, or ``None`` if it changed meanwhile."""

    @abstractmethod
    async def mark_deleted(self, comment: Comment, now: datetime) -> Comment | None:
        """Mark the comment deleted with its text emptied (its replies stay), only while it is
        as ``comment`` shows it; the comment afterwards, or ``None`` if it changed meanwhile."""

    @abstractmethod
    async def set_flags(self, comment_id: int, flags: Flags) -> Comment:
        """Set the comment's moderation ``flags``; the comment afterwards; ``NotFound``."""

    @abstractmethod
    async def count(self, idea_id: int, *, internal: bool, deleted: bool, hidden: bool,
                    approval: str) -> int:
        """How many of the idea's comments have exactly these flags."""


class IdeaRecords(ABC):
    """Ideas written field by field (``IdeaRows`` reads them and keeps their vote counts)."""

    @abstractmethod
    async def add(self, idea: NewIdea, now: datetime, followers: Sequence[int],
                  events: Callable[[int], Sequence[NewEvent]]) -> Idea:
        """Store a new idea with its tags, the accounts of ``followers`` following it and the
        events ``events(its id)`` recorded with it.  Where no transaction holds them
        together the idea is written last: a crash leaves no idea without its followers and
        events (an event of a missing idea is skipped by its consumers)."""

    @abstractmethod
    async def set_flags(self, idea_id: int, flags: Flags, now: datetime) -> None:
        """Set the idea's moderation ``flags`` and its ``updated_at``."""

    @abstractmethod
    async def move_status(self, change: StatusChange) -> bool:
        """Set the idea's status, status response and the times of ``change``, only while its
        status is ``change.from_status``; False (nothing written) otherwise."""

    @abstractmethod
    async def count_comments(self, idea_id: int, delta: int) -> None:
        """Add ``delta`` to the idea's comment count."""

    @abstractmethod
    async def set_comment_count(self, idea_id: int, count: int) -> None:
        """Set the idea's comment count."""

    @abstractmethod
    async def release_merged(self, idea_id: int) -> None:
        """Ideas merged into this one are merged into nothing any more."""

    @abstractmethod
    async def delete(self, idea_id: int) -> None:
        """Delete the idea with its votes, comments, followers, linked mentions, status
        changes and merge records (the idea itself last)."""


class StatusChangeRows(ABC):
    """The status history of ideas."""

    @abstractmethod
    async def add(self, change: StatusChange) -> None:
        """Record one status change."""


class NotificationRows(ABC):
    """Notifications with their outbox mail, written with the change that causes them."""

    @abstractmethod
    async def refuse_unknown_accounts(self, items: Sequence[tuple[Notification, Delivery | None]]) -> None:
        """Raise before anything is written when an item names an account that does not exist
        (where the database keeps no foreign key; elsewhere ``add`` raises and the unit of
        work rolls back)."""

    @abstractmethod
    async def add(self, items: Sequence[tuple[Notification, Delivery | None]]) -> None:
        """Store notifications and their mail (as ``enqueue_notifications``); one already
        stored (same ``dedupe_key``) is skipped with its mail."""


class ReportRows(ABC):
    """Customers' reports of ideas and comments; one per (kind, item, account)."""

    @abstractmethod
    async def drop_resolved(self, kind: str, item_id: int, account_id: int) -> None:
        """Delete the account's report on the item if it is resolved."""

    @abstractmethod
    async def add(self, kind: str, item_id: int, account_id: int, reason: str, now: datetime) -> bool:
        """Store an open report; False when the account has a report on the item already."""

    @abstractmethod
    async def resolve(self, kind: str, item_id: int, now: datetime) -> int:
        """Mark every open report on the item resolved; how many were."""
