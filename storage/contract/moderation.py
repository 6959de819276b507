"""The moderation part of the ``Store`` interface: what waits for a moderator (ideas and
comments waiting for approval, ideas marked spam, customers' open reports).  Moderation
writes (flags, reports, rate-limit counts) are rules over the unit of work:
``community.statuses``, ``community.comments``, ``community.moderation``,
``community.ratelimit``."""

from __future__ import annotations

from abc import ABC, abstractmethod

from domain.forum import Comment, ContentReport, Idea


class ModerationStore(ABC):
    """Persistence of forum moderation."""

    @abstractmethod
    async def unapproved_ideas(self, limit: int = 100) -> list[Idea]:
        """Ideas waiting for approval, oldest first."""

    @abstractmethod
    async def unapproved_comments(self, limit: int = 100, *, deleted: bool) -> list[Comment]:
        """Comments waiting for approval, oldest first; deleted ones among them only when
        ``deleted`` (whether those wait for a moderator is the caller's rule)."""

    @abstractmethod
    async def flagged_ideas(self, limit: int = 100) -> list[Idea]:
        """Ideas marked spam, newest first (so staff can undo a mistake)."""

    @abstractmethod
    async def open_reports(self, limit: int = 200) -> list[ContentReport]:
        """Reports no staff member has dealt with yet, oldest first."""
