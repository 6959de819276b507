"""What ends every collector run: a repeated cursor, a page cap, a deadline and a request budget.

A server that repeats its cursor (a caching proxy, a bug, a replay) would otherwise keep a
paging loop going for ever, and on a pay-per-use API every turn costs money.  One
``RunGuard`` is made per run (``Collector.begin_run``); every paging collector asks it before
each page and counts each request through it.

- ``next_page(stream, cursor)`` is False once the cursor was already used this run, once
  ``max_pages`` pages were read, or once ``max_run_seconds`` have passed; ``stops`` says why,
  and the collector ends the stream with what it has (its cursor keeps the rest for later).
- ``count_request()`` raises ``BudgetSpent`` when the source's daily request budget (kept in
  the store by ``crmsphere.sources``) has no request left.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from domain.errors import SourceUnavailable

#: Defaults of the per-source caps (documented in docs/sources.md and config/defaults.toml).
DEFAULT_MAX_PAGES = 200
DEFAULT_MAX_RUN_SECONDS = 300.0
DEFAULT_DAILY_REQUEST_BUDGET = 5000


class BudgetSpent(SourceUnavailable):
    """The source's daily request budget is used up; it waits for the next UTC day."""

    def __init__(self, budget: int, now: datetime) -> None:
        self.budget = budget
        self.resumes_at = next_utc_day(now)
        super().__init__(f"daily request budget of {budget} spent; resumes at 00:00 UTC",
                         retry_after=(self.resumes_at - now).total_seconds())


def next_utc_day(now: datetime) -> datetime:
    """Midnight UTC after ``now``."""
    day = now.astimezone(timezone.utc).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


class RunGuard:
    """The limits of one run: cursors seen per stream, pages read, the deadline, requests made."""

    def __init__(self, source: str, *, max_pages: int = DEFAULT_MAX_PAGES,
                 max_seconds: float = DEFAULT_MAX_RUN_SECONDS, budget: int | None = None,
                 requests_left: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``requests_left`` is what the daily ``budget`` still allows today (``None``: no limit)."""
        self.source = source
        self.max_pages, self.max_seconds = max_pages, max_seconds
        self.budget, self.requests_left = budget, requests_left
        self._clock = clock
        self._deadline = clock() + max_seconds
        self._seen: dict[str, set[str]] = {}
        self.pages = 0
        #: Requests made in this run (the runner adds them to the day's count).
        self.requests = 0
        #: Why paging stopped early, one line per stop, for the source's health.
        self.stops: list[str] = []

    @property
    def seconds_left(self) -> float:
        """Seconds until the run's deadline (never negative)."""
        return max(0.0, self._deadline - self._clock())

    def next_page(self, stream: str, cursor: str | None) -> bool:
        """Whether the page at ``cursor`` of ``stream`` may be read; records the reason when not.

        ``cursor`` is what asks for the page (a next_token, an ``after``, a ``before`` id...);
        ``None`` is the first page, which is never a repeat.
        """
        if cursor is not None:
            seen = self._seen.setdefault(stream, set())
            if cursor in seen:
                self._stop(f"{stream}: the server repeated the page cursor {cursor[:60]!r}; "
                           f"paging stopped")
                return False
            seen.add(cursor)
        if self.pages >= self.max_pages:
            self._stop(f"{stream}: page cap of {self.max_pages} pages per run reached; "
                       f"the next run goes on")
            return False
        if self._clock() >= self._deadline:
            self._stop(f"{stream}: run time cap of {self.max_seconds:g} s reached; "
                       f"the next run goes on")
            return False
        self.pages += 1
        return True

    def count_request(self) -> None:
        """Count one request to the source; ``BudgetSpent`` when today's budget has none left."""
        if self.requests_left is not None and self.requests >= self.requests_left:
            raise BudgetSpent(self.budget if self.budget is not None else self.requests_left,
                              datetime.now(timezone.utc))
        self.requests += 1

    def _stop(self, reason: str) -> None:
        if reason not in self.stops:
            self.stops.append(reason)
