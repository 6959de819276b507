"""A consumer of recorded events on its own stored cursor: reads the events of its kinds after
the cursor page by page, hands each page to its handler, then moves the cursor.

Delivery is at least once: a process dying between a page's handling and the cursor's move
hands that page again to the next round (in whichever process holds the lease), so handlers
are idempotent (dedupe keys where a repeat would write twice).  The coordinator runs a round
every interval in the lease holder (crmsphere/jobs.py); a process that just committed an event
may ``wake`` its own consumer for latency.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from domain.events import RecordedEvent
from storage.base import Store

log = logging.getLogger(__name__)

#: Events read and handled per page (the cursor moves after each).
PAGE = 200

Handler = Callable[[Sequence[RecordedEvent]], Awaitable[None]]


class EventConsumer:
    """Hands the events of ``kinds`` after the ``name`` cursor to ``handle``, in id order."""

    def __init__(self, store: Store, name: str, kinds: Sequence[str], handle: Handler, *,
                 page: int = PAGE) -> None:
        self.store, self.name, self.kinds, self.handle = store, name, tuple(kinds), handle
        self.page = page
        # One round at a time in a process: a wake-up during a round waits, then reads what
        # the round left (rounds in other processes are absorbed by idempotence).
        self._round = asyncio.Lock()

    async def run_once(self) -> int:
        """Handle every event after the cursor; returns how many.  A handler failure
        propagates with the cursor left before its page (the next round retries it)."""
        async with self._round:
            handled = 0
            while True:
                after = await self.store.get_event_cursor(self.name)
                events = await self.store.read_events(after, self.kinds, self.page)
                if not events:
                    return handled
                await self.handle(events)
                await self.store.set_event_cursor(self.name, events[-1].id)
                handled += len(events)

    async def wake(self, *_ignored: object) -> None:
        """After a commit in this process: run a round now.  A failure is logged and the
        committing request goes on; the coordinator's next round retries."""
        try:
            await self.run_once()
        except Exception:  # the boundary between a committed write and its consumers: log
            log.exception("the %s consumer of recorded events failed; its next round retries",
                          self.name)
