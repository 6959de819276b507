"""The ideas part of the ``Store`` interface: ideas, votes, comments, followers, merges.

Writes that belong together are one unit of work (``unit_of_work``), whose rules live in
``community/``: a vote and the idea's vote count (``community.voting``); a comment, the
comment count and the commenter following the idea (``community.comments``); a status change,
its history, notifications and event (``community.statuses``); a merge and the record of
everything it moved (``community.merging``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime

from domain.forum import (
    Account,
    Comment,
    Idea,
    IdeaPatch,
    IdeaQuery,
    IdeaShown,
    IdeaVoters,
    MergeRecord,
    StatusChange,
    Vote,
    VoterGroup,
)
from storage.contract.uow import UnitOfWorkScope

#: checks a vote against the idea and the voting customer (see ``cast_checked_vote``)


class IdeaStore(ABC):
    """Persistence of the ideas forum."""

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
    async def list_ideas(self, query: IdeaQuery) -> tuple[list[Idea], int]:
        """One page of the ideas ``query`` shows (merged-away ones only with
        ``query.include_merged``) in ``query.sort`` order, and how many match in all."""

    @abstractmethod
    async def status_history(self, idea_id: int) -> list[StatusChange]:
        """Status changes of an idea, oldest first."""

    # -- votes ---------------------------------------------------------------
    @abstractmethod
    def unit_of_work(self) -> UnitOfWorkScope:
        """A unit of work: per-entity repositories inside one transaction (storage.contract.uow);
        the rules of votes, merges, comments, statuses and moderation (community.voting,
        community.merging, community.comments, community.statuses, community.moderation) run
        in it."""

    async def list_ideas_with_authors(self, query: IdeaQuery) -> tuple[list[Idea], int, dict[int, Account]]:
        """``list_ideas`` and the listed ideas' authors (as ``get_accounts``), read together (a
        backend may do it in one round trip)."""
        ideas, total = await self.list_ideas(query)
        authors = await self.get_accounts(  # type: ignore[attr-defined]
            [i.author_id for i in ideas if i.author_id is not None])
        return ideas, total, authors

    @abstractmethod
    async def list_votes(self, idea_id: int) -> list[Vote]:
        """An idea's votes, oldest first."""

    @abstractmethod
    async def idea_voter_ids(self, idea_id: int, after: str | None, limit: int) -> list[str]:
        """Up to ``limit`` customer ids that voted for an idea, in ascending order after
        ``after`` (``None``: from the first): a page of voters, however many there are."""

    @abstractmethod
    async def idea_voter_groups(self, idea_id: int) -> list[VoterGroup]:
        """An idea's votes counted per voter segment and annual revenue (no votes read one by
        one: an idea's impact breakdown on its page), in no particular order."""

    @abstractmethod
    async def idea_voters(self, idea_id: int, limit: int) -> IdeaVoters:
        """How many customers voted for an idea and the first ``limit`` of them with their
        names, oldest vote first; reads ``limit`` votes, not all of them (an idea page)."""

    @abstractmethod
    async def voted(self, customer_id: str, idea_ids: list[int]) -> set[int]:
        """Which of ``idea_ids`` the customer has voted on."""

    @abstractmethod
    async def set_impact(self, idea_id: int, impact: float) -> None:
        """Keep an idea's impact score (computed by community) for sorting."""

    @abstractmethod
    async def ideas_voted_by(self, customer_ids: Sequence[str], *, shown: IdeaShown,
                             after: int = 0, limit: int = 500) -> list[int]:
        """Ids above ``after`` of the ideas ``shown`` keeps with a vote by any of ``customer_ids``,
        ascending, at most ``limit`` (page on with the last id returned)."""

    @abstractmethod
    async def ideas_linked_to_customers(self, customer_ids: Sequence[str], *, shown: IdeaShown,
                                        after: int = 0, limit: int = 500) -> list[int]:
        """Ids above ``after`` of the ideas ``shown`` keeps linked to a mention with a customer
        link to any of ``customer_ids``, ascending, at most ``limit`` (page on with the last id
        returned)."""

    # -- comments ------------------------------------------------------------
    @abstractmethod
    async def get_comment(self, comment_id: int) -> Comment:
        """One comment; raises ``NotFound``."""

    @abstractmethod
    async def list_comments(self, idea_id: int, include_internal: bool) -> list[Comment]:
        """An idea's comments oldest first; internal notes only when asked for."""

    # -- followers and linked mentions ---------------------------------------
    @abstractmethod
    async def followers(self, idea_id: int) -> list[int]:
        """Account ids following an idea, ascending."""

    @abstractmethod
    async def followed_ideas(self, account_id: int, limit: int = 200) -> list[int]:
        """Ids of the ideas an account follows, newest idea first."""

    @abstractmethod
    async def link_mention(self, idea_id: int, mention_id: int) -> bool:
        """Link a social mention to an idea; False if it was linked already."""

    @abstractmethod
    async def idea_mentions(self, idea_id: int) -> list[int]:
        """Mention ids linked to an idea, ascending."""

    # -- similar ideas -------------------------------------------------------
    @abstractmethod
    async def idea_titles_matching(self, text: str, limit: int,
                                   shown: IdeaShown) -> list[tuple[int, str, float]]:
        """Ideas among ``shown`` whose title or body share any word with ``text``:
        (id, title, text rank — higher is closer), best first."""

    @abstractmethod
    async def most_voted_idea_titles(self, limit: int, shown: IdeaShown) -> list[tuple[int, str]]:
        """(id, title) of the ``limit`` most voted ideas among ``shown`` (then newest first)."""

    # -- merging -------------------------------------------------------------
    @abstractmethod
    async def merges_of(self, idea_id: int) -> list[MergeRecord]:
        """Merge records where ``idea_id`` is source or target, newest first."""
