"""The ideas part of the ``Store`` interface: ideas, votes, comments, followers, merges.

Writes that belong together are one call: a vote and the idea's vote count; a
comment, the comment count and the commenter following the idea; a merge and
the record of everything it moved.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from crmsphere.domain_forum import (
    Comment,
    Idea,
    IdeaPatch,
    IdeaQuery,
    MergeRecord,
    NewIdea,
    StatusChange,
    Vote,
)


class IdeaStore(ABC):
    """Persistence of the ideas forum."""

    @abstractmethod
    async def create_idea(self, idea: NewIdea, now: datetime) -> Idea:
        """Store a new idea; its author follows it (same transaction)."""

    @abstractmethod
    async def get_idea(self, idea_id: int) -> Idea:
        """One idea with its tags; raises ``NotFound``."""

    @abstractmethod
    async def get_ideas(self, idea_ids: list[int]) -> dict[int, Idea]:
        """The ideas among ``idea_ids`` that exist, by id."""

    @abstractmethod
    async def update_idea(self, idea_id: int, patch: IdeaPatch, now: datetime) -> Idea:
        """Apply ``patch``; raises ``NotFound``."""

    @abstractmethod
    async def delete_idea(self, idea_id: int) -> None:
        """Delete an idea with its votes, comments and followers; raises ``NotFound``."""

    @abstractmethod
    async def list_ideas(self, query: IdeaQuery) -> tuple[list[Idea], int]:
        """One page of unmerged ideas in ``query.sort`` order, and how many match in all."""

    @abstractmethod
    async def set_status(self, change: StatusChange) -> Idea:
        """Move the idea to ``change.to_status`` and record the change (one transaction).

        ``Conflict`` when the idea's status is no longer ``change.from_status``.
        """

    @abstractmethod
    async def status_history(self, idea_id: int) -> list[StatusChange]:
        """Status changes of an idea, oldest first."""

    # -- votes ---------------------------------------------------------------
    @abstractmethod
    async def add_vote(self, vote: Vote, impact: float = 0.0) -> bool:
        """Add a vote, count it, add ``impact`` to the idea's impact score and let its
        account follow the idea, in one transaction; False if the customer had already
        voted (nothing changes).  Unique on (idea, customer)."""

    @abstractmethod
    async def remove_vote(self, idea_id: int, customer_id: str, impact: float = 0.0) -> bool:
        """Remove a customer's vote, uncount it and subtract ``impact``; False if there was none."""

    @abstractmethod
    async def list_votes(self, idea_id: int) -> list[Vote]:
        """An idea's votes, oldest first."""

    @abstractmethod
    async def voted(self, customer_id: str, idea_ids: list[int]) -> set[int]:
        """Which of ``idea_ids`` the customer has voted on."""

    @abstractmethod
    async def set_impact(self, idea_id: int, impact: float) -> None:
        """Keep an idea's impact score (computed by community) for sorting."""

    # -- comments ------------------------------------------------------------
    @abstractmethod
    async def add_comment(self, idea_id: int, author_id: int | None, body: str,
                          parent_id: int | None, internal: bool, now: datetime) -> Comment:
        """Store a comment, count it (unless internal), author follows (one transaction)."""

    @abstractmethod
    async def get_comment(self, comment_id: int) -> Comment:
        """One comment; raises ``NotFound``."""

    @abstractmethod
    async def update_comment(self, comment_id: int, body: str, now: datetime) -> Comment:
        """Change a comment's text; raises ``NotFound``."""

    @abstractmethod
    async def delete_comment(self, comment_id: int, now: datetime) -> None:
        """Mark a comment deleted (its replies stay) and uncount it."""

    @abstractmethod
    async def list_comments(self, idea_id: int, include_internal: bool) -> list[Comment]:
        """An idea's comments oldest first; internal notes only when asked for."""

    # -- followers and linked mentions ---------------------------------------
    @abstractmethod
    async def follow(self, idea_id: int, account_id: int, on: bool = True) -> None:
        """Follow (or stop following) an idea."""

    @abstractmethod
    async def followers(self, idea_id: int) -> list[int]:
        """Account ids following an idea, ascending."""

    @abstractmethod
    async def link_mention(self, idea_id: int, mention_id: int) -> bool:
        """Link a social mention to an idea; False if it was linked already."""

    @abstractmethod
    async def idea_mentions(self, idea_id: int) -> list[int]:
        """Mention ids linked to an idea, ascending."""

    # -- similar ideas -------------------------------------------------------
    @abstractmethod
    async def search_idea_titles(self, text: str, limit: int) -> list[tuple[int, str, float]]:
        """Unmerged ideas whose title or body share any word with ``text``:
        (id, title, text rank — higher is closer), best first."""

    @abstractmethod
    async def recent_idea_titles(self, limit: int) -> list[tuple[int, str]]:
        """(id, title) of the ``limit`` most voted unmerged ideas, for fuzzy title matching."""

    # -- merging -------------------------------------------------------------
    @abstractmethod
    async def merge_ideas(self, source_id: int, target_id: int, account_id: int | None,
                          now: datetime) -> MergeRecord:
        """Move votes (one per customer), comments, followers and linked mentions from
        ``source_id`` to ``target_id``, mark the source merged and record exactly what
        moved — all in one transaction."""

    @abstractmethod
    async def unmerge_idea(self, source_id: int, now: datetime) -> MergeRecord:
        """Undo the source's open merge exactly, in one transaction; ``NotFound`` if none."""

    @abstractmethod
    async def merges_of(self, idea_id: int) -> list[MergeRecord]:
        """Merge records where ``idea_id`` is source or target, newest first."""
