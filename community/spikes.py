"""Volume baselines and spikes: a day is a spike when it rises above the trailing 7-day
mean plus ``k`` standard deviations (and above a small floor, so 0 -> 2 is no spike)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from domain.triage import VolumeRow

BASELINE_DAYS = 7


@dataclass(frozen=True, slots=True)
class VolumeSeries:
    """Daily counts per key and in total, with the baseline and the spike days."""

    days: tuple[str, ...]
    by_key: dict[str, list[int]]
    total: list[int]
    baseline: list[float | None]
    threshold: list[float | None]
    spikes: tuple[str, ...]


def day_range(first: date, last: date) -> list[str]:
    """Every UTC day from ``first`` to ``last`` inclusive, as ``YYYY-MM-DD``."""
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def volume_series(rows: Iterable[VolumeRow], history: Sequence[str], shown: int,
                  k: float = 2.0, floor: int = 5) -> VolumeSeries:
    """Counts over ``history`` (the shown days preceded by the baseline window); only the
    last ``shown`` days are returned, each with the baseline of the 7 days before it."""
    index = {d: i for i, d in enumerate(history)}
    by_key: dict[str, list[int]] = {}
    for row in rows:
        if row.day in index:
            by_key.setdefault(row.key, [0] * len(history))[index[row.day]] += row.count
    total = [sum(series[i] for series in by_key.values()) for i in range(len(history))]
    start = max(0, len(history) - shown)
    baseline: list[float | None] = []
    threshold: list[float | None] = []
    spikes: list[str] = []
    for i in range(start, len(history)):
        window = total[max(0, i - BASELINE_DAYS):i]
        if len(window) < BASELINE_DAYS:
            baseline.append(None)
            threshold.append(None)
            continue
        mean = statistics.fmean(window)
        limit = mean + k * statistics.pstdev(window)
        baseline.append(round(mean, 2))
        threshold.append(round(limit, 2))
        if total[i] > limit and total[i] >= floor:
            spikes.append(history[i])
    return VolumeSeries(
        days=tuple(history[start:]),
        by_key={key: series[start:] for key, series in sorted(by_key.items())},
        total=total[start:], baseline=baseline, threshold=threshold, spikes=tuple(spikes))


def sentiment_trend(points: Iterable[tuple[str, float | None]]) -> list[tuple[str, float, int]]:
    """(day, mean sentiment, mentions) per day from (day, sentiment) pairs; unknown ones skipped."""
    by_day: dict[str, list[float]] = {}
    for day, value in points:
        if value is not None:
            by_day.setdefault(day, []).append(float(value))
    return [(d, round(statistics.fmean(v), 3), len(v)) for d, v in sorted(by_day.items())]
