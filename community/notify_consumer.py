"""Notifications as a consumer of recorded ``idea.status_changed`` events (cursor
``notifications``).

The in-app notices and the mail of a status change are stored by ``Store.set_status`` in
the change's own transaction (community/notify.py builds them first), so they are never lost
nor doubled.  What reaches customers who have no account — a drafted "this shipped" reply
where they spoke, else a note on the owning team's routed item — is done here, from the
recorded event: a process dying right after the change's commit loses none of it, the next
round of the leader does it.  Both are written once however often an event is replayed
(drafts by their batch key, the note by its text in the item's log).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from community.event_consumer import EventConsumer
from community.notify import Notifier
from domain.events import IDEA_STATUS_CHANGED, RecordedEvent, subject_number
from domain.forum import StatusChange
from domain.errors import NotFound
from storage.base import Store

log = logging.getLogger(__name__)

#: The consumer's name, the key of its cursor.
CONSUMER = "notifications"
KINDS = (IDEA_STATUS_CHANGED,)


def change_of(history: Sequence[StatusChange], event: RecordedEvent) -> StatusChange | None:
    """The status change ``event`` was recorded with (recorded at the change's time), else
    the latest one to the status it names (``None``: no such change in the history)."""
    to_status = event.payload.get("to")
    same = [c for c in history if c.to_status == to_status]
    exact = [c for c in same if c.created_at == event.created_at]
    found = exact or same
    return found[-1] if found else None


def notifications_consumer(store: Store, notifier: Notifier) -> EventConsumer:
    """The ``notifications`` consumer: for each recorded status change, the shipped replies
    and the team note for linked customers without an account."""

    async def handle(events: Sequence[RecordedEvent]) -> None:
        for event in events:
            subject = subject_number(event.subject_id)
            if subject is None:  # not written by this program; never blocks the rest
                log.warning("event %d (%s) names no idea: %r", event.id, event.kind, event.subject_id[:80])
                continue
            try:
                idea = await store.get_idea(subject)
            except NotFound:  # deleted since: nobody left to tell
                continue
            change = change_of(await store.status_history(idea.id), event)
            if change is None:
                log.warning("event %d: idea %s has no change to %r", event.id, idea.id,
                            event.payload.get("to"))
                continue
            await notifier.status_stored(idea, change)

    return EventConsumer(store, CONSUMER, KINDS, handle)
