"""The period an analytics answer covers: the last ``days`` whole UTC days, or the days
``since`` .. ``until`` (both included), validated where the request enters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from aiohttp import web

from api.params import int_param, text_param
from crmsphere.domain import utcnow
from crmsphere.errors import BadInput

#: The longest period an analytics answer covers, in days.
MAX_DAYS = 365


@dataclass(frozen=True, slots=True)
class Period:
    """Whole UTC days from ``first`` to ``last``, both included."""

    first: date
    last: date

    @classmethod
    def last_days(cls, days: int, today: date | None = None) -> Period:
        """The ``days`` days ending today (UTC)."""
        last = today or utcnow().date()
        return cls(last - timedelta(days=days - 1), last)

    @property
    def days(self) -> int:
        """How many days the period holds."""
        return (self.last - self.first).days + 1

    @property
    def since(self) -> datetime:
        """The period's first instant."""
        return datetime.combine(self.first, time(), timezone.utc)

    @property
    def until(self) -> datetime:
        """The instant after the period (midnight after ``last``)."""
        return datetime.combine(self.last + timedelta(days=1), time(), timezone.utc)


def _day(request: web.Request, name: str) -> date | None:
    raw = text_param(request, name, 40)
    if raw is None:
        return None
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise BadInput(f"parameter '{name}' must be a day written YYYY-MM-DD",
                       {"parameter": name, "value": raw}) from None


def period_param(request: web.Request, default_days: int = 30, max_days: int = MAX_DAYS) -> Period:
    """The period of ``since`` / ``until`` (days, YYYY-MM-DD) when either is given, else of
    ``days`` (1..``max_days``) ending today; a bad or reversed range is a ``BadInput``."""
    since, until = _day(request, "since"), _day(request, "until")
    days = int_param(request, "days", default_days, 1, max_days)
    today = utcnow().date()
    if since is None and until is None:
        return Period.last_days(days, today)
    # A browser east of UTC may already be on tomorrow's date.
    if until is not None and until > today + timedelta(days=1):
        raise BadInput(f"parameter 'until' must not be after {today.isoformat()} (today, UTC)",
                       {"parameter": "until", "value": until.isoformat()})
    until = until or today
    since = since or until - timedelta(days=days - 1)
    if since > until:
        raise BadInput(f"parameter 'since' ({since.isoformat()}) must not be after 'until' "
                       f"({until.isoformat()})", {"parameter": "since", "value": since.isoformat()})
    period = Period(since, until)
    if period.days > max_days:
        raise BadInput(f"the period {since.isoformat()} .. {until.isoformat()} holds {period.days} "
                       f"days; at most {max_days}", {"parameter": "since", "value": since.isoformat()})
    return period
