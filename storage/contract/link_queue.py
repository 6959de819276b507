"""The review queue page's part of the ``Store`` interface: every pending link at once, and the
aliases managers refused as plain words."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from domain.link_queue import PendingLink, RefusedAlias

#: The most pending links the queue page groups (the page says when there are more).
MAX_PENDING = 20_000


class LinkQueueStore(ABC):
    """Pending links for grouping, dropping them, and aliases refused as words."""

    @abstractmethod
    async def pending_links(self, limit: int = MAX_PENDING) -> list[PendingLink]:
        """Pending links with their mentions' text, oldest link first, at most ``limit``."""

    @abstractmethod
    async def drop_pending_links(self, link_ids: Sequence[int]) -> int:
        """Delete those of ``link_ids`` that are still pending (no negative example is kept:
        the reason they go is elsewhere, e.g. a refused alias); how many went."""

    @abstractmethod
    async def refused_aliases(self) -> list[RefusedAlias]:
        """Every refused alias, oldest first."""
