"""Pruning recorded events: an event every consumer with a cursor has passed is deleted once it
is older than ``events.retain_days``, by the lease holder's ``events-prune`` job, in batches.

A consumer that has never run has no cursor and does not hold events back (otherwise a
consumer configured once and dropped, or one that never starts, would keep the table growing
forever): when it starts it reads the events still kept.  A cursor left by a consumer that is
gone for good does hold them: delete its row from ``event_cursors``.  Each process's live feed
keeps its cursor in memory and starts at the newest event, so it never holds events either.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from storage.base import Store

log = logging.getLogger(__name__)

#: Events deleted per transaction (short write transactions between other writers' ones).
BATCH = 1000
#: Batches per round at most; the next round deletes the rest.
MAX_BATCHES = 100


async def prune_events(store: Store, retain: timedelta, now: datetime, *, batch: int = BATCH,
                       max_batches: int = MAX_BATCHES) -> int:
    """Delete the events older than ``retain`` that every cursor passed; how many."""
    cursors = await store.event_cursors()
    # No consumer has a cursor: nothing waits for any event, only their age counts.
    passed = min(cursors.values()) if cursors else await store.latest_event_id()
    cutoff = now - retain
    deleted = 0
    for _ in range(max_batches):
        count = await store.delete_events(passed, cutoff, batch)
        deleted += count
        if count < batch:
            break
    if deleted:
        log.info("events: %d deleted (recorded before %s, passed by every consumer)", deleted,
                 cutoff.isoformat())
    return deleted
