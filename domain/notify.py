"""Plain types of closing the loop: in-app notifications of forum accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Notification:
    """One in-app notification of one account (a status change, a staff response...).

    ``dedupe_key`` names the event it stems from, so a replayed event notifies once.
    """

    account_id: int
    kind: str
    title: str
    body: str
    dedupe_key: str
    created_at: datetime
    idea_id: int | None = None
    url: str | None = None
    read_at: datetime | None = None
    id: int | None = None
