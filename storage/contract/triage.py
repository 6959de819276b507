"""The triage part of the ``Store`` interface: status, assignee, tags and private notes on mentions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from domain import Mention, MentionQuery, Page
from domain.triage import Triage, TriageChange, TriageNote


class TriageStore(ABC):
    """Persistence of the community manager's work on mentions."""

    @abstractmethod
    async def get_triage(self, mention_ids: Sequence[int]) -> dict[int, Triage]:
        """The triage of each of ``mention_ids`` that exists (never triaged: status ``open``)."""

    @abstractmethod
    async def update_triage(self, mention_ids: Sequence[int], change: TriageChange,
                            by: str) -> list[Triage]:
        """Apply ``change`` to every mention in one transaction; ``NotFound`` (and nothing
        written) if any of them does not exist."""

    @abstractmethod
    async def add_triage_note(self, mention_id: int, author: str, body: str) -> TriageNote:
        """Keep a private note on a mention; ``NotFound`` for an unknown mention."""

    @abstractmethod
    async def list_triage_notes(self, mention_id: int) -> list[TriageNote]:
        """A mention's notes, oldest first."""

    @abstractmethod
    async def list_triaged_mentions(self, query: MentionQuery, status: str | None,
                                    assignee: str | None, tag: str | None) -> Page[Mention]:
        """Like ``list_mentions`` (customer, source, text, since, until, cursor) also filtered
        by triage status, assignee (``""``: unassigned) and tag."""
