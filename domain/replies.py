"""Replies posted where the customer spoke: one reply to one stored mention, and its audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ReplyState = Literal["draft", "approved", "sending", "sent", "failed"]
#: Every state, in the order a reply moves through them.
REPLY_STATES: tuple[ReplyState, ...] = ("draft", "approved", "sending", "sent", "failed")


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply to a mention on its platform: ``draft -> approved -> sending -> sent | failed``.

    ``team_key`` is the team whose queue it waits in; ``idea_id`` and ``batch_key`` are set on
    the replies drafted when an idea shipped (one batch per idea, approved together).
    ``retry_after`` is when a rate-limited reply may go again; ``failure`` says why the last
    attempt did not post (kept while rate limited, so the wait can be shown).
    """

    mention_id: int
    source: str
    text: str
    drafted_by: str
    drafted_at: datetime
    state: ReplyState = "draft"
    team_key: str | None = None
    idea_id: int | None = None
    batch_key: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    sent_by: str | None = None
    sending_at: datetime | None = None
    sent_at: datetime | None = None
    platform_id: str | None = None
    platform_url: str | None = None
    failure: str | None = None
    retry_after: datetime | None = None
    attempts: int = 0
    id: int | None = None


@dataclass(frozen=True, slots=True)
class RepliesDue:
    """Which replies a read of what is due returns, as the rule sending them decides: those in
    a ``ready`` state whatever their age, and those in a ``stalled`` state whose attempt started
    (``sending_at``) before the caller's cut-off."""

    ready: tuple[ReplyState, ...]
    stalled: tuple[ReplyState, ...]


@dataclass(frozen=True, slots=True)
class ReplyAudit:
    """One step of a reply's life: who did what, when (``action``: drafted, edited, approved,
    sending, sent, failed, rate_limited, retried, found_sent)."""

    reply_id: int
    action: str
    actor: str
    at: datetime
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PlatformLimit:
    """A platform told us to wait: replies through source ``source_key`` on ``platform`` go
    after ``until`` (kept in the store, so every process and a restarted one wait too).
    ``reason`` is the platform's refusal as the manager sees it."""

    platform: str
    source_key: str
    until: datetime
    reason: str = ""
