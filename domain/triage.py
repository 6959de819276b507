"""Domain types of the community manager's triage: status, assignee, tags and notes on mentions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

TriageStatus = Literal["open", "pending", "closed"]

#: The statuses a mention moves through; a mention never triaged is ``open``.
TRIAGE_STATUSES: tuple[str, ...] = ("open", "pending", "closed")
#: The status of a mention never triaged (it has no triage row).
UNTRIAGED: TriageStatus = "open"


@dataclass(frozen=True, slots=True)
class Triage:
    """Where a mention stands in the manager's queue."""

    mention_id: int
    status: str = UNTRIAGED
    assignee: str | None = None
    tags: tuple[str, ...] = ()
    updated_at: datetime | None = None
    updated_by: str | None = None


@dataclass(frozen=True, slots=True)
class TriageChange:
    """One change applied to one or many mentions at once (bulk actions).

    ``None`` keeps a field; ``assignee=""`` unassigns.
    """

    status: str | None = None
    assignee: str | None = None
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TriageNote:
    """A private note a manager left on a mention (never shown to customers)."""

    id: int
    mention_id: int
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class VolumeRow:
    """How many mentions of one key (a source, a topic) were created on one UTC day."""

    day: str
    key: str
    count: int


@dataclass(frozen=True, slots=True)
class AuthorVolume:
    """An author's mention count and summed engagement (their reach) over a period."""

    source: str
    handle: str
    name: str | None
    mentions: int
    engagement: int
