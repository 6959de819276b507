"""Keeps this process's customer gazetteer in step with customers changed elsewhere.

Customers change in other processes too: ``crmsphere crm sync`` or ``import customers``
run beside a server, a scheduler process syncing the CRM while API processes serve, a
link confirmed through another API process.  Every such write stamps the store's
``customers_changed_at`` marker; this watcher's check (the coordinator's ``customer-watch``
job, every ``nlp.customer_check_seconds``) reads it and rebuilds the gazetteer when it moved.  Polling one small row every few seconds is cheaper than any notification
channel and works the same on SQLite and MongoDB.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from storage.base import Store

log = logging.getLogger(__name__)

MARKER = "customers_changed_at"


class CustomerWatch:
    """Calls ``reload`` whenever the store's customer marker differs from the one last seen."""

    def __init__(self, store: Store, reload: Callable[[], Awaitable[None]]) -> None:
        self.store, self.reload = store, reload
        self._seen: str | None = None

    async def mark_loaded(self) -> None:
        """Remember the marker as it stands now (call right before loading customers)."""
        self._seen = await self.store.get_meta(MARKER)

    async def is_current(self) -> bool:
        """True when the store's marker is the one last loaded (nothing changed elsewhere)."""
        return await self.store.get_meta(MARKER) == self._seen

    async def check_once(self) -> bool:
        """Reload if the customers changed since the last load; True when it reloaded."""
        marker = await self.store.get_meta(MARKER)
        if marker == self._seen:
            return False
        # Read the marker before the customers: a change landing mid-reload is seen next time.
        self._seen = marker
        await self.reload()
        log.info("nlp: customers changed elsewhere (%s); gazetteer reloaded", marker)
        return True
