"""The period an analytics answer covers: the last ``days`` whole UTC days, or the days
``since`` .. ``until`` (both included), validated where the request enters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from typing import Annotated, Any

from aiohttp import web
from pydantic import BeforeValidator, Field, WithJsonSchema

from api.query_models import Query, query_of, text
from domain import utcnow
from domain.errors import BadInput

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


def _day(value: Any) -> Any:
    if isinstance(value, str):
        try:
            if len(value) != 10:
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a day written YYYY-MM-DD") from None
    return value


#: A whole UTC day, written YYYY-MM-DD.
Day = Annotated[date, BeforeValidator(_day),
                WithJsonSchema({"type": "string", "format": "date", "maxLength": 10})]


class PeriodQuery(Query):
    """The period of an analytics answer: the last ``days``, or ``since`` .. ``until``."""

    days: int = Field(30, ge=1, le=MAX_DAYS,
                      description="the last so many whole UTC days (without since/until)")
    since: Day | None = Field(None, description="first day (YYYY-MM-DD, UTC); at most 365 days "
                                                "before until")
    until: Day | None = Field(None, description="last day, included (YYYY-MM-DD, UTC); default "
                                                "today")

    def period(self, max_days: int = MAX_DAYS) -> Period:
        """The period of ``since`` / ``until`` when either is given, else of ``days`` ending
        today; a reversed or too long range, or an ``until`` after today, is a ``BadInput``."""
        today = utcnow().date()
        if self.since is None and self.until is None:
            return Period.last_days(self.days, today)
        # A browser east of UTC may already be on tomorrow's date.
        if self.until is not None and self.until > today + timedelta(days=1):
            raise BadInput(f"parameter 'until' must not be after {today.isoformat()} (today, UTC)",
                           {"parameter": "until", "value": self.until.isoformat()})
        until = self.until or today
        since = self.since or until - timedelta(days=self.days - 1)
        if since > until:
            raise BadInput(f"parameter 'since' ({since.isoformat()}) must not be after 'until' "
                           f"({until.isoformat()})", {"parameter": "since", "value": since.isoformat()})
        period = Period(since, until)
        if period.days > max_days:
            raise BadInput(f"the period {since.isoformat()} .. {until.isoformat()} holds "
                           f"{period.days} days; at most {max_days}",
                           {"parameter": "since", "value": since.isoformat()})
        return period


class VolumeQuery(PeriodQuery):
    """The period of a volume chart, of one customer or all."""

    customer: text(200) | None = Field(None, description="a customer id")


class TopAuthorsQuery(PeriodQuery):
    """The period and how many authors."""

    limit: int = Field(10, ge=1, le=100)


class AlertsQuery(PeriodQuery):
    """Spike alerts of the last ``days`` (at most 90), or of the days ``since`` .. ``until``."""

    days: int = Field(7, ge=1, le=90)
    limit: int = Field(50, ge=1, le=500)


def period_param(request: web.Request) -> Period:
    """The period an analytics request asks for (``PeriodQuery``)."""
    return query_of(request, PeriodQuery).period()
