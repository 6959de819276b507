"""The moderation part of the ``Store`` interface: approval, hiding and spam flags on ideas
and comments, customers' reports, and rate-limit counters shared by every process."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from domain.forum import Comment, ContentReport, Idea


class ModerationStore(ABC):
    """Persistence of forum moderation."""

    @abstractmethod
    async def moderate_idea(self, idea_id: int, now: datetime, *, approval: str | None = None,
                            hidden: bool | None = None, spam: bool | None = None) -> Idea:
        """Set an idea's approval state, hidden and spam flags (``None`` keeps one); ``NotFound``."""

    @abstractmethod
    async def moderate_comment(self, comment_id: int, now: datetime, *, approval: str | None = None,
                               hidden: bool | None = None, spam: bool | None = None) -> Comment:
        """Set a comment's approval state, hidden and spam flags and recount its idea's visible
        comments, in one transaction; ``NotFound``."""

    @abstractmethod
    async def unapproved_ideas(self, limit: int = 100) -> list[Idea]:
        """Ideas waiting for approval, oldest first."""

    @abstractmethod
    async def unapproved_comments(self, limit: int = 100) -> list[Comment]:
        """Comments waiting for approval, oldest first."""

    @abstractmethod
    async def flagged_ideas(self, limit: int = 100) -> list[Idea]:
        """Ideas marked spam, newest first (so staff can undo a mistake)."""

    @abstractmethod
    async def add_report(self, kind: str, item_id: int, account_id: int, reason: str,
                         now: datetime) -> bool:
        """Record a report; False when this account already has one open on the item."""

    @abstractmethod
    async def open_reports(self, limit: int = 200) -> list[ContentReport]:
        """Reports no staff member has dealt with yet, oldest first."""

    @abstractmethod
    async def resolve_reports(self, kind: str, item_id: int, now: datetime) -> int:
        """Close every open report on an item; how many were closed."""

    @abstractmethod
    async def count_rate_hit(self, scope: str, subject: str, window_start: int,
                             forget_before: int) -> int:
        """Count one request of ``subject`` in ``scope``'s window starting at ``window_start``
        (unix seconds) and return the window's count so far, atomically; windows of this
        subject starting before ``forget_before`` are dropped in the same transaction."""
