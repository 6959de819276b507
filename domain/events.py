"""Recorded events: the outbox every reacting part of the service reads with its own cursor."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.ids import id_number

#: A mention was stored (not by a backfill: history is never routed); subject: its id.
MENTION_STORED = "mention.stored"
#: An idea became public: created approved, or approved by a moderator; subject: its id.
IDEA_CREATED = "idea.created"
#: An idea's status changed (recorded with the change); subject: the idea's id.
IDEA_STATUS_CHANGED = "idea.status_changed"
#: An idea crossed a vote or impact threshold for the first time (recorded with the
#: threshold); subject: the idea's id, payload: the threshold's name.
IDEA_VOTE_THRESHOLD = "idea.vote_threshold"
#: An item (mention, idea, spike) was routed to a team's queue by a rule or by hand (recorded
#: with the routing; an escalation's second routing records none); subject: the routing's id.
ITEM_ROUTED = "item.routed"
#: A customer's vote was counted on an idea (recorded with the vote, in its transaction);
#: subject: the idea's id, payload: the customer's id and whether staff cast it by proxy.
IDEA_VOTED = "idea.voted"


#: Digits of the largest id a subject names (a 64-bit row id has 19; a longer one is not ours).


def subject_number(subject_id: str) -> int | None:
    """The row id an event's subject names, or None when it is not one this program writes
    (``domain.ids.id_number``)."""
    return id_number(subject_id)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to record with the change it describes (the store gives it an id)."""

    kind: str
    subject_id: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as recorded: ids increase in the order the changes were committed."""

    id: int
    kind: str
    subject_id: str
    payload: dict[str, Any]
    created_at: datetime
