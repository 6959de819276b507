"""A source's daily request budget, kept in its health record so that it holds across runs
and processes (any process may run a source; all read and write the same record).

``requests_day`` is the UTC date the count belongs to; a record of an earlier day counts as
zero.  When the budget is spent the source waits, in state ``paused``, until 00:00 UTC.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

from collectors.paging import next_utc_day
from domain import SourceHealth


def _day(now: datetime) -> str:
    return now.astimezone(timezone.utc).date().isoformat()


def requests_used(health: SourceHealth, now: datetime) -> int:
    """Requests already made today (UTC)."""
    return health.requests_today if health.requests_day == _day(now) else 0


def requests_left(health: SourceHealth, budget: int, now: datetime) -> int | None:
    """What today's budget still allows; ``None`` when the source has no budget (0)."""
    if budget <= 0:
        return None
    return max(0, budget - requests_used(health, now))


def count_requests(health: SourceHealth, made: int, now: datetime) -> SourceHealth:
    """``health`` with ``made`` more requests counted for today."""
    return dataclasses.replace(health, requests_day=_day(now),
                               requests_today=requests_used(health, now) + made)


def budget_spent(health: SourceHealth, budget: int, now: datetime) -> SourceHealth:
    """``health`` of a source whose budget is spent: paused until the next UTC day, saying so."""
    return dataclasses.replace(
        health, state="paused", last_run_at=now, last_items=0,
        error=f"daily request budget of {budget} spent; resumes at 00:00 UTC",
        next_attempt_at=next_utc_day(now))
