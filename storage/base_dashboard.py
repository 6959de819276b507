"""The dashboard part of the ``Store`` interface: the live feed's catch-up and the analytics."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from crmsphere.domain import Mention
from crmsphere.domain_triage import AuthorVolume, VolumeRow


class DashboardStore(ABC):
    """Reads the community manager's dashboard needs, each one query."""

    @abstractmethod
    async def latest_mention_id(self) -> int:
        """The highest mention id stored (0 when there is none)."""

    @abstractmethod
    async def mentions_after(self, after_id: int, limit: int) -> list[Mention]:
        """Mentions stored after id ``after_id`` (in storage order), at most ``limit``."""

    @abstractmethod
    async def volume_by_day(self, since: datetime, until: datetime,
                            customer_id: str | None = None) -> list[VolumeRow]:
        """Mentions per UTC day (``YYYY-MM-DD``) and source created in [since, until)."""

    @abstractmethod
    async def top_authors(self, since: datetime, until: datetime, limit: int = 10) -> list[AuthorVolume]:
        """Authors with the most mentions in [since, until), most first."""
