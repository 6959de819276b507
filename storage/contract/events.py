"""The outbox part of the ``Store`` interface: recorded events and consumer cursors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime

from domain import Mention
from domain.events import (
    IDEA_VOTE_THRESHOLD,
    ITEM_ROUTED,
    MENTION_STORED,
    NewEvent,
    RecordedEvent,
)

#: The most events one ``read_events`` call hands back.
MAX_EVENTS = 1000


class EventStore(ABC):
    """Events are recorded by the writes they describe (``save_mentions`` records
    ``mention.stored``), never on their own, so a change and its event commit together."""

    @abstractmethod
    async def read_events(self, after_id: int, kinds: Sequence[str], limit: int = 200
                          ) -> list[RecordedEvent]:
        """The events of ``kinds`` with an id above ``after_id``, oldest first, at most
        ``limit`` (clamped to 1..``MAX_EVENTS``)."""

    @abstractmethod
    async def get_event_cursor(self, consumer: str) -> int:
        """The id of the last event ``consumer`` has handled (0: none yet)."""

    @abstractmethod
    async def set_event_cursor(self, consumer: str, last_id: int) -> int:
        """Move ``consumer``'s cursor to ``last_id`` unless it is past it already (a cursor
        never goes back, so a slow consumer finishing late cannot replay what another
        finished); returns the cursor as it now is."""

    @abstractmethod
    async def latest_event_id(self) -> int:
        """The id of the newest recorded event (0: none); a consumer that starts "now" (the
        live feed of a process) starts after it."""

    @abstractmethod
    async def event_cursors(self) -> dict[str, int]:
        """Every consumer's cursor by consumer name (consumers that never ran have none)."""

    @abstractmethod
    async def delete_events(self, up_to_id: int, recorded_before: datetime, limit: int) -> int:
        """Delete at most ``limit`` events (oldest first) with an id at or below ``up_to_id``
        recorded before ``recorded_before``; how many were deleted."""


def stored_events(stored: Sequence[Mention]) -> list[NewEvent]:
    """The ``mention.stored`` events of newly stored mentions (a backfill's are history:
    nothing reacts to them, so none is recorded)."""
    return [NewEvent(MENTION_STORED, str(m.id), {"source": m.post.source})
            for m in stored if not m.backfill and m.id is not None]


def threshold_event(idea_id: int, threshold: str) -> NewEvent:
    """The ``idea.vote_threshold`` event of an idea crossing ``threshold`` the first time."""
    return NewEvent(IDEA_VOTE_THRESHOLD, str(idea_id), {"threshold": threshold})


def routed_event(routed_id: int) -> NewEvent:
    """The ``item.routed`` event of a routing just stored."""
    return NewEvent(ITEM_ROUTED, str(routed_id))
