"""The changelog part of the ``Store`` interface: entries, their shipped ideas and state."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from domain.changelog import ChangelogDraft, ChangelogEntry, EntryState


class ChangelogStore(ABC):
    """Persistence of changelog entries (the rules are in ``community/changelog.py``)."""

    @abstractmethod
    async def create_changelog_entry(self, draft: ChangelogDraft, author_id: int | None,
                                     at: datetime) -> ChangelogEntry:
        """Store a new draft entry (``draft`` holds title, body and idea ids)."""

    @abstractmethod
    async def get_changelog_entry(self, entry_id: int) -> ChangelogEntry:
        """One entry; raises ``NotFound``."""

    @abstractmethod
    async def update_changelog_entry(self, entry_id: int, draft: ChangelogDraft,
                                     at: datetime) -> ChangelogEntry:
        """Apply the fields of ``draft`` that are not ``None``; raises ``NotFound``."""

    @abstractmethod
    async def set_changelog_state(self, entry_id: int, state: EntryState,
                                  at: datetime) -> ChangelogEntry:
        """Move an entry to ``state``; the first move out of ``draft`` sets ``published_at``
        to ``at``, later moves keep it.  Raises ``NotFound``."""

    @abstractmethod
    async def list_changelog_entries(self, public_only: bool, limit: int = 20,
                                     offset: int = 0) -> tuple[list[ChangelogEntry], int]:
        """A page of entries and how many there are in all: public ones newest published
        first; with drafts (``public_only`` false) the drafts first, newest edited first."""
