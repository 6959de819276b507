"""The replies part of the ``Store`` interface: replies to mentions and their audit trail.

Storage only reads and writes: which move is allowed, who may make it and what happens next
are decided in ``community/replies.py``.  ``move_reply`` changes a reply only when it is in
one of the states the caller expects, so two processes never both send the same reply.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from domain.replies import PlatformLimit, RepliesDue, Reply, ReplyAudit, ReplyState

#: Fields of a ``Reply`` that ``move_reply`` may change.
MOVABLE = frozenset({"state", "text", "approved_by", "approved_at", "sent_by", "sending_at", "sent_at",
                     "platform_id", "platform_url", "failure", "retry_after", "attempts", "team_key"})


def check_movable(changes: Mapping[str, Any]) -> None:
    """``ValueError`` unless ``changes`` changes something, and only ``MOVABLE`` fields."""
    unknown = set(changes) - MOVABLE
    if unknown or not changes:
        raise ValueError(f"not movable: {sorted(unknown) or 'nothing to change'}")


class ReplyStore(ABC):
    """Persistence of replies posted where the customer spoke."""

    @abstractmethod
    async def add_replies(self, replies: Sequence[Reply], audits: Sequence[str]) -> list[Reply]:
        """Store new replies (each with a ``drafted`` audit entry whose detail is the matching
        item of ``audits``), in one transaction; the stored replies with their ids.  A reply
        for an idea (``idea_id`` set) whose (idea, mention) pair exists is skipped, so a
        replayed status change drafts nothing twice.  ``NotFound`` for an unknown mention."""

    @abstractmethod
    async def get_reply(self, reply_id: int) -> Reply:
        """The reply; ``NotFound``."""

    @abstractmethod
    async def list_replies(self, *, states: Sequence[ReplyState] = (), team_key: str | None = None,
                           mention_ids: Sequence[int] = (), batch_key: str | None = None,
                           limit: int = 200) -> list[Reply]:
        """Replies matching every filter given, newest first."""

    @abstractmethod
    async def move_reply(self, reply_id: int, expected: Sequence[ReplyState],
                         changes: Mapping[str, Any], audit: ReplyAudit, *,
                         attempts: int | None = None) -> Reply | None:
        """Apply ``changes`` (keys from ``MOVABLE``) and record ``audit``, in one transaction,
        only if the reply's state is one of ``expected`` (and, given ``attempts``, its attempt
        count is that: two claims of one stale send cannot both win); the changed reply, or
        ``None`` when it was not so.  ``NotFound`` for an unknown reply."""

    @abstractmethod
    async def due_replies(self, now: datetime, stale_before: datetime, limit: int = 50, *,
                          due: RepliesDue) -> list[Reply]:
        """Replies to send now, oldest first, at most ``limit``: those in one of ``due.ready``
        states and those in one of ``due.stalled`` states with ``sending_at`` at or before
        ``stale_before``, either only once their ``retry_after`` has passed (or with none)."""

    @abstractmethod
    async def reply_audit(self, reply_id: int) -> list[ReplyAudit]:
        """The reply's audit trail, oldest first."""

    @abstractmethod
    async def set_platform_limit(self, limit: PlatformLimit) -> None:
        """Remember that ``limit.platform`` through ``limit.source_key`` asked us to wait until
        ``limit.until``; an earlier wait already kept for them is replaced, a later one kept."""

    @abstractmethod
    async def platform_limits(self, now: datetime) -> list[PlatformLimit]:
        """The waits still in force at ``now`` (``until`` after it), soonest over first."""
