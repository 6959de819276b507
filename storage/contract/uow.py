"""The unit of work: per-entity repositories reading and writing inside one transaction.

Storage decides nothing here.  The rules (may this vote count? what does a merge move?
which comments count on an idea? may this status change land?) are written once, in
``community.voting``, ``community.merging``, ``community.comments``, ``community.statuses``
and ``community.moderation``, against these repositories, and run the same on every backend:

- SQLite: one ``BEGIN IMMEDIATE`` transaction on the writer connection.  ``run`` hands the
  whole rule to the writer thread in one hop (the SQLite repositories never wait on
  anything, so the rule's coroutine runs to its end there); ``async with`` holds the writer
  thread for the block and sends each call to it.
- MongoDB: one session transaction where the server runs them (replica set, mongos).  A
  standalone server (mongoeco, the test server, is one) runs none: the writes are made in
  order and the few a rule may take back (a vote, a rate hit) are undone when the work
  raises — see ``storage.mongo.uow``.

A repository method that reads the idea a rule decides on keeps what it read, so that
``IdeaRows.count_vote`` can refuse (``StaleRead``) when the idea changed since.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any, TypeVar

from domain import Customer
from domain.events import NewEvent
from domain.forum import Account, ApiToken, Idea, MergeRecord, RateWindow, Vote
from storage.contract.uow_crm import (
    AuthorLinkRows,
    CrmRecordRows,
    CustomerEdits,
    CustomerRefRows,
    PersonRows,
)
from storage.contract.uow_forum import (
    CommentRecords,
    IdeaRecords,
    NotificationRows,
    ReportRows,
    StatusChangeRows,
)

R = TypeVar("R")

#: a vote as a merge record keeps it (the backend's own row shape; ``id`` and
#: ``customer_id`` are what the rules read)
VoteRow = dict[str, Any]


class StaleRead(Exception):
    """The idea a rule read changed before the rule's write landed: run the rule again."""


def run_to_end(work: Coroutine[Any, Any, R]) -> R:
    """Run a coroutine that never waits (a rule over SQLite repositories) to its end, here.

    A rule awaiting anything else (a sleep, another store call) would hold the writer
    thread waiting for the event loop: that is refused, not run.
    """
    try:
        work.send(None)
    except StopIteration as done:
        return done.value
    work.close()
    raise RuntimeError("a unit of work run in one hop awaited something other than its repositories")


class IdeaRows(ABC):
    """Ideas as rows: read one, count a vote, mark merged, recount."""

    @abstractmethod
    async def get(self, idea_id: int) -> Idea:
        """One idea (kept for ``count_vote``); ``NotFound``."""

    @abstractmethod
    async def count_vote(self, idea: Idea, impact: float) -> Idea | None:
        """Add one vote and ``impact`` to the idea's counts, only while the idea is as
        ``get`` read it in this unit of work; the idea counted, or ``None`` if it changed."""

    @abstractmethod
    async def uncount_vote(self, idea: Idea, impact: float) -> Idea:
        """Take one vote and ``impact`` off the idea's counts (the impact stays >= 0); the idea
        afterwards."""

    @abstractmethod
    async def set_merged(self, idea_id: int, target_id: int | None, now: datetime) -> None:
        """Mark the idea merged into ``target_id`` (``None``: not merged any more)."""

    @abstractmethod
    async def recount(self, idea_id: int) -> None:
        """Set the idea's vote count from its votes (its comment count: ``community.comments``)."""


class CustomerRows(ABC):
    """Customers, read."""

    @abstractmethod
    async def get(self, customer_id: str) -> Customer | None:
        """The customer, or ``None`` when unknown."""


class RateRows(ABC):
    """Rate-limit counters."""

    @abstractmethod
    async def hit(self, window: RateWindow) -> int:
        """Count one request in ``window`` (older windows forgotten); the window's count."""


class VoteRows(ABC):
    """Votes: unique on (idea, customer)."""

    @abstractmethod
    async def add(self, vote: Vote) -> bool:
        """Store the vote; False if the customer had voted on the idea (nothing written)."""

    @abstractmethod
    async def remove(self, idea_id: int, customer_id: str) -> bool:
        """Delete the customer's vote on the idea; False if there was none."""

    @abstractmethod
    async def of_customers(self, idea_id: int, customer_ids: Sequence[str]) -> set[str]:
        """Which of ``customer_ids`` voted on the idea."""

    @abstractmethod
    async def rows(self, idea_id: int) -> list[VoteRow]:
        """The idea's votes, oldest first, as a merge record keeps them."""

    @abstractmethod
    async def delete(self, vote_ids: Sequence[int]) -> None:
        """Delete votes by id."""

    @abstractmethod
    async def move(self, from_idea: int, to_idea: int, vote_ids: Sequence[int] | None = None) -> None:
        """Move votes (those of ``vote_ids``, else all) from one idea to another."""

    @abstractmethod
    async def restore(self, rows: Sequence[VoteRow]) -> None:
        """Put back votes ``rows`` returned (each unless its customer voted meanwhile)."""


class CommentRows(ABC):
    """Comments, moved between ideas."""

    @abstractmethod
    async def ids(self, idea_id: int) -> list[int]:
        """Ids of the idea's comments, ascending."""

    @abstractmethod
    async def move(self, from_idea: int, to_idea: int, thread_ids: Sequence[int] | None = None) -> None:
        """Move comments (the threads of ``thread_ids`` — those and replies to them — else
        all) from one idea to another."""


class LinkRows(ABC):
    """Links of ideas to other things by id: followers (accounts), linked mentions."""

    @abstractmethod
    async def of(self, idea_id: int) -> list[int]:
        """Ids linked to the idea, ascending."""

    @abstractmethod
    async def add(self, idea_id: int, ids: Sequence[int]) -> None:
        """Link ``ids`` (those linked already stay as they are)."""

    @abstractmethod
    async def remove(self, idea_id: int, ids: Sequence[int] | None = None) -> None:
        """Unlink ``ids`` (``None``: every one)."""


class ThresholdRows(ABC):
    """Score thresholds ideas crossed."""

    @abstractmethod
    async def record_each(self, idea_id: int, names: Sequence[str], at: datetime) -> list[str]:
        """Record each crossing of ``names`` once: those recorded now (the first time), in the
        order given."""


class EventRows(ABC):
    """The event outbox."""

    @abstractmethod
    async def record(self, events: Sequence[NewEvent], at: datetime) -> None:
        """Record ``events`` with the unit of work's writes."""


class MergeRows(ABC):
    """Merge records."""

    @abstractmethod
    async def add(self, source_id: int, target_id: int, account_id: int | None,
                  moved: dict[str, Any], now: datetime) -> MergeRecord:
        """Record a merge before its moves (marked in progress where no transaction holds
        them together, until ``finish``)."""

    @abstractmethod
    async def finish(self, merge_id: int) -> None:
        """The merge's moves are all made."""

    @abstractmethod
    async def open_of(self, source_id: int) -> MergeRecord | None:
        """The idea's latest merge not undone, if any."""

    @abstractmethod
    async def undone(self, merge_id: int, now: datetime) -> MergeRecord:
        """Mark the merge undone; the record afterwards."""


class UnitOfWork(ABC):
    """The repositories of one transaction."""

    ideas: IdeaRows
    customers: CustomerRows
    rates: RateRows
    votes: VoteRows
    comments: CommentRows
    followers: LinkRows
    mentions: LinkRows
    thresholds: ThresholdRows
    events: EventRows
    merges: MergeRows
    # people and CRM identities (their rules: crm.people)
    people: PersonRows
    customer_edits: CustomerEdits
    author_links: AuthorLinkRows  # and the link review queue's decisions (crm.link_decisions)
    crm_records: CrmRecordRows
    customer_refs: CustomerRefRows
    # comments, statuses and moderation (community.comments, community.statuses)
    comment_records: CommentRecords
    idea_records: IdeaRecords
    status_changes: StatusChangeRows
    notifications: NotificationRows
    reports: ReportRows

    async def vote_subjects(self, idea_id: int, customer_id: str) -> tuple[Idea, Customer | None]:
        """The idea a vote is for (kept for ``count_vote``, as ``ideas.get``; ``NotFound``)
        and the voting customer (as ``customers.get``).  A backend that can reads both at
        once (SQLite: one statement)."""
        return await self.ideas.get(idea_id), await self.customers.get(customer_id)

    @abstractmethod
    async def token_vote_subjects(self, token_hash: str, idea_id: int
                                  ) -> tuple[tuple[ApiToken, Account] | None, Idea | None, Customer | None]:
        """What a vote sent with a bearer token reads, as of this unit of work: the unrevoked
        token with this hash and its owner (as ``get_api_token`` reads them, without noting the
        use: ``note_token_use`` does) and, when there is one, ``vote_subjects`` for its owner's
        customer — the idea ``None`` when there is none (the rule decides what to refuse first:
        the caller before the idea; no customer then), the customer ``None`` when the owner has
        none.  A revocation committed before the unit of work is always seen."""


class UnitOfWorkScope(ABC):
    """What ``Store.unit_of_work()`` returns: ``async with`` it, or ``run`` a rule in it."""

    @abstractmethod
    async def __aenter__(self) -> UnitOfWork:
        """Begin the transaction."""

    @abstractmethod
    async def __aexit__(self, kind: Any, error: Any, trace: Any) -> None:
        """Commit, or roll back when the block raised."""

    @abstractmethod
    async def run(self, work: Callable[[UnitOfWork], Awaitable[R]]) -> R:
        """``work(uow)`` in one transaction, committed when it returns (rolled back when it
        raises), run again by the backend where its transaction lost a race; the cheapest
        way: over SQLite one hop to the writer thread."""
