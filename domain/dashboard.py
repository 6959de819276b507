"""Domain types of the community manager's dashboard: spike alerts, saved views, analytics rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Mapping

SpikeSubject = Literal["topic", "customer"]

#: What a spike alert can be about.
SPIKE_SUBJECTS: tuple[str, ...] = ("topic", "customer")


@dataclass(frozen=True, slots=True)
class SubjectVolume:
    """Mentions of one subject (a topic, a customer id) in one 24-hour bucket before a moment.

    ``bucket`` 0 is the last 24 hours, 1 the 24 hours before, and so on.
    """

    subject: str
    bucket: int
    count: int


@dataclass(frozen=True, slots=True)
class SpikeAlert:
    """A subject whose last 24 hours rose above its 7-day baseline plus k standard deviations.

    ``window_start`` is the UTC day the alert belongs to: one alert per subject per day.
    """

    kind: str
    subject: str
    window_start: datetime
    detected_at: datetime
    count: int
    baseline: float
    threshold: float
    subject_name: str | None = None
    id: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class SavedView:
    """A named set of stream filters kept for one staff member."""

    id: int
    owner: str
    name: str
    filters: Mapping[str, Any]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class KeyCount:
    """A count under a key (a topic, a competitor, a facet value)."""

    key: str
    count: int


@dataclass(frozen=True, slots=True)
class DayAverage:
    """A per-day mean (sentiment) and the number of values behind it."""

    day: str
    mean: float
    count: int


@dataclass(frozen=True, slots=True)
class FirstResponse:
    """How long after a mention was posted staff first acted on it (triage or note)."""

    day: str
    seconds: float
