"""Domain types of the community manager's dashboard: spike alerts, saved views, analytics rows."""

from __future__ import annotations

import math
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


def _mentions(n: int) -> str:
    return f"{n:,} mention" + ("" if n == 1 else "s")


def spike_usual(baseline: float, threshold: float) -> str:
    """The baseline and threshold of a spike said as a person would, rounded and with their
    unit: "usually about 4 a day; alert above 11".

    The baseline is the mean of the seven 24-hour counts before the window, so its unit is a
    day; an alert needs a count strictly above the threshold, so "above" the whole number
    under it is exact (11.01 and 11.5 both alert from 12 on).
    """
    if not math.isfinite(baseline) or baseline < 0:
        usual = "no usual volume yet"
    elif baseline == 0:
        usual = "usually none"
    elif baseline < 0.5:
        usual = "usually fewer than 1 a day"
    else:
        usual = f"usually about {round(baseline):,} a day"
    above = math.floor(threshold) if math.isfinite(threshold) else 0
    return f"{usual}; alert above {max(above, 0):,}"


def spike_summary(count: int, baseline: float, threshold: float) -> str:
    """A spike's count against its baseline and threshold, for people: "27 mentions in 24 h;
    usually about 4 a day; alert above 11" (the stored figures keep their decimals)."""
    return f"{_mentions(count)} in 24 h; {spike_usual(baseline, threshold)}"


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
