"""Analytics the dashboard shows: share of voice and first-response time statistics.

**Share of voice** (our definition): over a period, each configured brand (ours and every
competitor) counts the mentions whose text names it — its name or one of its aliases, as
whole words, case-insensitive (full-text search).  A mention naming two brands counts for
both.  A brand's share is its count divided by the sum of all brands' counts.

**First-response time**: for a mention staff acted on, the time from its posting to the
first triage change or private note; per day of posting, the median and the 90th
percentile (nearest-rank) of those delays.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from config.dashboard import DashboardSettings
from domain.dashboard import FirstResponse, KeyCount


@dataclass(frozen=True, slots=True)
class VoiceShare:
    """One brand's mentions and share of all brands' mentions (0–1)."""

    name: str
    mentions: int
    share: float
    ours: bool


@dataclass(frozen=True, slots=True)
class ResponseDay:
    """First-response statistics of the mentions posted on one day."""

    day: str
    median_seconds: float
    p90_seconds: float
    responded: int


def brand_terms(settings: DashboardSettings) -> dict[str, tuple[str, ...]]:
    """Brand name -> phrases naming it: ours first, then the competitors in config order."""
    brands = [settings.brand] if settings.brand is not None else []
    return {b.name: b.terms() for b in [*brands, *settings.competitors]}


def share_of_voice(counts: Sequence[KeyCount], ours: str | None) -> list[VoiceShare]:
    """Each brand's share of the brands' total mentions (0 for all when nobody is named)."""
    total = sum(c.count for c in counts)
    return [VoiceShare(c.key, c.count, round(c.count / total, 4) if total else 0.0, c.key == ours)
            for c in counts]


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` percentile (0 < q <= 100) of non-empty sorted values."""
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def response_days(rows: Iterable[FirstResponse]) -> list[ResponseDay]:
    """Median and p90 of first-response delays per day of posting, oldest day first."""
    by_day: dict[str, list[float]] = {}
    for r in rows:
        by_day.setdefault(r.day, []).append(r.seconds)
    out = []
    for day, values in sorted(by_day.items()):
        values.sort()
        out.append(ResponseDay(day, round(statistics.median(values), 1),
                               round(percentile(values, 90), 1), len(values)))
    return out
