"""Plain types of the public changelog: entries staff write about what shipped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

#: ``draft`` (staff only), ``publishing`` (published, telling the askers: a retry finishes
#: it), ``published`` (everyone asked was told).
EntryState = Literal["draft", "publishing", "published"]
ENTRY_STATES: tuple[str, ...] = ("draft", "publishing", "published")
#: the state a new entry starts in: seen by staff only
DRAFT: EntryState = "draft"
#: the states anyone may read an entry in
PUBLIC_STATES: tuple[EntryState, ...] = ("publishing", "published")


def is_public(state: str) -> bool:
    """Whether an entry in ``state`` may be read by anyone."""
    return state in PUBLIC_STATES


@dataclass(frozen=True, slots=True)
class ChangelogEntry:
    """One changelog entry: Markdown ``body``, the ideas it ships, and when it was published."""

    id: int
    title: str
    body: str
    idea_ids: tuple[int, ...]
    state: EntryState
    author_id: int | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None

    @property
    def public(self) -> bool:
        """Whether anyone may read it (publishing or published)."""
        return is_public(self.state)


@dataclass(frozen=True, slots=True)
class ChangelogDraft:
    """What staff write: a new entry, or the fields of an edit (``None``: unchanged)."""

    title: str | None = None
    body: str | None = None
    idea_ids: tuple[int, ...] | None = None
