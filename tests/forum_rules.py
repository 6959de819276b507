"""The forum's rules (``community.voting``, ``community.merging``, ``community.comments``,
``community.statuses``, ``community.moderation``, ``community.ratelimit``) over a store's
unit of work, called the way tests set up and check data.  Storage itself decides nothing:
these live with the tests, not on the ``Store``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from community.comments import add_comment, delete_comment, edit_comment, moderate_comment
from community.following import follow
from community.merging import merge_in, unmerge_in
from community.moderation import file_report as add_report, resolve_reports
from community.ratelimit import count_hit
from community.statuses import create_idea, delete_idea, moderate_idea, set_status
from community.voting import VoteCheck, cast, uncast, weighed
from domain.forum import MergeRecord, RateWindow, ScoreThreshold, Vote, VoteCast
from storage.base import Store

__all__ = ["add_comment", "add_report", "add_vote", "cast_checked_vote", "cast_vote", "count_rate_hit",
           "create_idea", "delete_comment", "delete_idea", "edit_comment", "follow", "merge_ideas",
           "moderate_comment", "moderate_idea", "remove_vote", "resolve_reports", "set_status",
           "unmerge_idea"]


async def add_vote(store: Store, vote: Vote, impact: float = 0.0) -> bool:
    """Add and count a vote (False if the customer had already voted)."""
    return (await cast(store.unit_of_work, vote, weighed(impact))).added


async def cast_vote(store: Store, vote: Vote, impact: float = 0.0, rate: RateWindow | None = None,
                    thresholds: Sequence[ScoreThreshold] = ()) -> VoteCast:
    """A vote counted against ``rate`` and ``thresholds``, as the forum casts it."""
    return await cast(store.unit_of_work, vote, weighed(impact), rate, thresholds)


async def cast_checked_vote(store: Store, vote: Vote, check: VoteCheck, rate: RateWindow | None = None,
                            thresholds: Sequence[ScoreThreshold] = ()) -> VoteCast:
    """A vote ``check(idea, customer)`` admits (or refuses, or finds closed), then cast."""
    return await cast(store.unit_of_work, vote, check, rate, thresholds)


async def remove_vote(store: Store, idea_id: int, customer_id: str, impact: float = 0.0) -> bool:
    """Take a customer's vote back (False if there was none)."""
    return (await uncast(store.unit_of_work, int(idea_id), customer_id, weighed(impact))).added


async def merge_ideas(store: Store, source_id: int, target_id: int, account_id: int | None,
                      now: datetime) -> MergeRecord:
    """Merge ``source_id`` into ``target_id`` in one unit of work."""
    return await store.unit_of_work().run(
        lambda uow: merge_in(uow, int(source_id), int(target_id), account_id, now))


async def unmerge_idea(store: Store, source_id: int, now: datetime) -> MergeRecord:
    """Undo the source's open merge in one unit of work."""
    return await store.unit_of_work().run(lambda uow: unmerge_in(uow, int(source_id), now))


async def count_rate_hit(store: Store, scope: str, subject: str, window_start: int,
                         forget_before: int) -> int:
    """Count one request of ``subject`` in ``scope``'s window starting at ``window_start``
    (windows before ``forget_before`` forgotten); the window's count so far."""
    return await count_hit(store, RateWindow(scope, subject, window_start, forget_before, limit=1_000_000))
