"""The vote, written once over the unit of work: both backends run these rules.

A vote reads the idea and the voting customer, checks them (the idea open for voting
and visible to the voter, the customer known; the caller's ``check`` says which and
weighs the vote), counts the voter's request against its rate window, stores the vote
once per customer, adds it and its impact to the idea's counts, lets the voting account
follow the idea, records the score thresholds the idea crossed for the first time
(``idea.vote_threshold``) and the vote itself (``idea.voted``) — all in one unit of work,
so that what was checked still holds when the vote lands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from domain.events import IDEA_VOTED, NewEvent
from domain import Customer
from domain.forum import Idea, RateWindow, ScoreThreshold, Vote, VoteCast
from domain.errors import Conflict, NotFound
from storage.contract.events import threshold_event
from storage.contract.uow import StaleRead, UnitOfWork, UnitOfWorkScope

#: Decides whether the idea takes a vote from this customer: raises when it does not, returns
#: the vote's impact, or ``None`` when voting on the idea is closed.
VoteCheck = Callable[[Idea, Customer | None], float | None]

#: How many times a vote is checked again after the idea changed under it (a MongoDB
#: server without transactions; a SQLite transaction holds the idea still).
STALE_RETRIES = 8


def voted_event(vote: Vote) -> NewEvent:
    """The ``idea.voted`` event of a vote counted."""
    return NewEvent(IDEA_VOTED, str(vote.idea_id), {"customer_id": vote.customer_id, "proxy": bool(vote.proxy)})


async def cast_in(uow: UnitOfWork, vote: Vote, check: VoteCheck, rate: RateWindow | None = None,
                  thresholds: Sequence[ScoreThreshold] = (),
                  subjects: tuple[Idea, Customer | None] | None = None) -> VoteCast:
    """The vote's rules inside ``uow`` (see the module's docstring).  ``check`` is plain
    computation: over SQLite it runs on the writer thread.  ``subjects``: the idea and the
    customer as this unit of work already read them (``UnitOfWork.token_vote_subjects``).
    ``StaleRead`` when the idea changed between its read and the count (run it again: ``cast``)."""
    idea, customer = subjects or await uow.vote_subjects(vote.idea_id, vote.customer_id)
    impact = check(idea, customer)  # raises: nothing written
    hits = None if rate is None else await uow.rates.hit(rate)
    if impact is None:
        return VoteCast(hits, False, idea, closed=True)
    if hits is not None and rate is not None and hits > rate.limit:
        return VoteCast(hits, False, idea)  # refused: the request still counts
    if customer is None:
        raise NotFound(f"no customer {vote.customer_id!r}")
    if not await uow.votes.add(vote):
        return VoteCast(hits, False, idea)  # voted before: nothing changes
    counted = await uow.ideas.count_vote(idea, impact)
    if counted is None:
        raise StaleRead(f"idea {idea.id} changed while the vote was cast")
    if vote.account_id is not None and not vote.proxy:
        await uow.followers.add(idea.id, [vote.account_id])
    crossed = [t.name for t in thresholds if t.crossed(counted)]
    reached = await uow.thresholds.record_each(idea.id, crossed, vote.created_at) if crossed else []
    await uow.events.record([voted_event(vote), *(threshold_event(idea.id, name) for name in reached)],
                            vote.created_at)
    return VoteCast(hits, True, counted, tuple(reached))


async def cast(unit_of_work: Callable[[], UnitOfWorkScope], vote: Vote, check: VoteCheck,
               rate: RateWindow | None = None, thresholds: Sequence[ScoreThreshold] = ()) -> VoteCast:
    """``cast_in`` in a unit of work of its own (over SQLite: one transaction, one hop to the
    writer thread), checked afresh while the idea keeps changing under it."""
    for _ in range(STALE_RETRIES):
        try:
            return await unit_of_work().run(lambda uow: cast_in(uow, vote, check, rate, thresholds))
        except StaleRead:
            continue
    raise Conflict("the idea kept changing while the vote was cast; try again", {"idea_id": vote.idea_id})


@dataclass(frozen=True, slots=True)
class Ballot:
    """A vote to cast, its check and the rate window it counts in."""

    vote: Vote
    check: VoteCheck
    rate: RateWindow | None = None
    #: the idea and the customer, when the unit of work read them with the voter
    subjects: tuple[Idea, Customer | None] | None = None


async def cast_judged(unit_of_work: Callable[[], UnitOfWorkScope], idea_id: int,
                      ballot_of: Callable[[UnitOfWork], Awaitable[Ballot]],
                      thresholds: Sequence[ScoreThreshold] = ()) -> tuple[Ballot, VoteCast]:
    """``cast`` where who votes for ``idea_id`` is learnt inside the unit of work itself:
    ``ballot_of`` reads the voter (a bearer token and its owner) and raises when they may not vote, so the
    read, the checks and the writes are one transaction (over SQLite one hop to the writer
    thread).  Checked afresh, ``ballot_of`` too, while the idea keeps changing under it."""
    async def rule(uow: UnitOfWork) -> tuple[Ballot, VoteCast]:
        ballot = await ballot_of(uow)
        return ballot, await cast_in(uow, ballot.vote, ballot.check, ballot.rate, thresholds, ballot.subjects)

    for _ in range(STALE_RETRIES):
        try:
            return await unit_of_work().run(rule)
        except StaleRead:
            continue
    raise Conflict("the idea kept changing while the vote was cast; try again", {"idea_id": idea_id})


async def uncast_in(uow: UnitOfWork, idea_id: int, customer_id: str, check: VoteCheck,
                    rate: RateWindow | None = None) -> VoteCast:
    """Take a customer's vote back inside ``uow``: the idea and the customer read and checked
    (``check`` raises when the idea takes no change from this voter and weighs the vote),
    the request counted against ``rate``, the vote deleted and uncounted.  ``added`` says
    whether a vote was taken back."""
    idea, customer = await uow.vote_subjects(idea_id, customer_id)
    impact = check(idea, customer)  # raises: nothing written
    hits = None if rate is None else await uow.rates.hit(rate)
    if hits is not None and rate is not None and hits > rate.limit:
        return VoteCast(hits, False, idea)  # refused: the request still counts
    if not await uow.votes.remove(idea.id, customer_id):
        return VoteCast(hits, False, idea)
    return VoteCast(hits, True, await uow.ideas.uncount_vote(idea, impact or 0.0))


async def uncast(unit_of_work: Callable[[], UnitOfWorkScope], idea_id: int, customer_id: str,
                 check: VoteCheck, rate: RateWindow | None = None) -> VoteCast:
    """``uncast_in`` in a unit of work of its own (over SQLite one hop to the writer thread)."""
    return await unit_of_work().run(lambda uow: uncast_in(uow, idea_id, customer_id, check, rate))


def weighed(impact: float) -> VoteCheck:
    """A check that lets every vote in with ``impact`` (a vote stored as given)."""
    return lambda _idea, _customer: impact
