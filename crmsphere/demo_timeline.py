"""When each part of the demo forum happened, relative to the load.

Ideas are posted over the last ``PERIOD_DAYS`` days (the further an idea got on the roadmap,
the older it tends to be; some open ideas are days old), votes and comments come after
their idea, a duplicate is posted after its original and merged later, and status changes
follow each other in order.  Voting ends where the idea closed or was merged.  Everything
lies before the load time, and the dates come from their own seeded RNG: two loads at the
same instant give the same dates, and the demo's other choices (who votes for what) do not
depend on them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from crmsphere.demo_forum_data import DemoIdea

#: How far back the demo forum goes.
PERIOD_DAYS = 90
#: How many days before the load an idea that ends in a status was posted (youngest, oldest).
_AGE_DAYS = {"done": (40, 90), "declined": (20, 85), "in-progress": (30, 80), "planned": (20, 75),
             "under-review": (6, 50)}
#: Open ideas: spread up to this age, skewed young so that the forum has new ideas this week.
_OPEN_OLDEST_DAYS = 60
#: Nothing is dated in the last minutes before the load (the clocks of a page and the load).
_MARGIN = timedelta(minutes=5)


class DemoClock:
    """The time the forum's services stamp on what they write, set by the demo loader before
    each write (the services take it as their ``clock``)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@dataclass(frozen=True, slots=True)
class IdeaDates:
    """One idea's dates: posted, each status step, merged (a duplicate), and when voting ends."""

    created: datetime
    steps: tuple[datetime, ...] = ()
    merged: datetime | None = None
    #: a closing status or the merge ends voting; otherwise the load time
    open_until: datetime | None = None


class DemoTimeline:
    """The dates of the demo forum, loaded at ``now``."""

    def __init__(self, ideas: Iterable[DemoIdea], steps_of: Callable[[DemoIdea], tuple[str, ...]],
                 closed: set[str], seed: int, now: datetime) -> None:
        self.now = now
        self.end = now - _MARGIN
        self.rng = random.Random(f"{seed}:dates")
        specs = list(ideas)
        self.ideas: dict[str, IdeaDates] = {}
        opened = [s for s in specs if s.duplicate_of is None and s.status not in _AGE_DAYS]
        for spec in specs:
            if spec.duplicate_of is not None:
                continue
            if spec.status in _AGE_DAYS:
                youngest, oldest = _AGE_DAYS[spec.status]
                age = timedelta(days=self.rng.uniform(youngest, oldest))
            else:  # open: the j-th of n open ideas at most PERIOD * ((j + 1) / n) ** 1.5 old
                share = (opened.index(spec) + self.rng.random()) / len(opened)
                age = timedelta(days=_OPEN_OLDEST_DAYS * share ** 1.5) + _MARGIN
            self.ideas[spec.title] = self._dated(self.now - age, steps_of(spec), spec.status in closed)
        for spec in specs:
            if spec.duplicate_of is not None:
                original = self.ideas[spec.duplicate_of].created
                created = self.between(original, self.end, 0.2, 0.6)
                merged = self.between(created, self.end, 0.3, 0.7)
                self.ideas[spec.title] = IdeaDates(created, merged=merged, open_until=merged)

    def _dated(self, created: datetime, steps: tuple[str, ...], closes: bool) -> IdeaDates:
        # Status changes fall between a tenth and nineteen twentieths of the idea's life.
        times = tuple(sorted(self.between(created, self.end, 0.1, 0.95) for _ in steps))
        return IdeaDates(created, times, open_until=times[-1] if closes and times else None)

    def between(self, start: datetime, end: datetime, low: float = 0.0, high: float = 1.0) -> datetime:
        """A time in the ``[low, high]`` share of the span from ``start`` to ``end``."""
        return start + (end - start) * self.rng.uniform(low, high)

    def vote(self, title: str) -> datetime:
        """When a vote for the idea was cast: after it was posted, before voting ended, more
        often lately (an idea gathers votes as people find it)."""
        dates = self.ideas[title]
        span = (dates.open_until or self.end) - dates.created
        return dates.created + span * (1 - self.rng.random() ** 2)

    def thread(self, title: str, replies: int) -> list[datetime]:
        """When a comment thread's first comment and its ``replies`` were written, in order."""
        dates = self.ideas[title]
        until = dates.merged or self.end
        at = self.between(dates.created, until, 0.02, 0.8)
        times = [at]
        for _ in range(replies):  # a reply within hours to a few days, never after the load
            at = min(at + timedelta(hours=self.rng.uniform(0.5, 72)), until)
            times.append(at)
        return times

    def soon_after(self, title: str) -> datetime:
        """A time early in the idea's life (a staff note, a linked mention)."""
        dates = self.ideas[title]
        return self.between(dates.created, dates.merged or self.end, 0.01, 0.3)
