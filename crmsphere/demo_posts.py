"""The demo's posts dated so that the demo ends now.

``config/demo/posts.jsonl`` was generated once, on fixed dates; loaded as they are, the
dashboard's last seven days, volume chart and spike alerts would show nothing.  Before the
import every post is moved forward by the same whole number of days so that the newest lands
within the last day — the shape of the data (weekdays, hours, bursts) is kept.  The shift is
chosen once per store and kept, so an interrupted load resumes with the same dates.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from community.spike_alerts import SpikeWatch
from config.dashboard import DashboardSettings
from domain import MentionQuery
from storage import Store

SHIFT_META = "demo_posts_shift_days"
_CREATED = re.compile(r'"created_at": "(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"')
_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _when(text: str) -> datetime:
    return datetime.strptime(text, _FORMAT).replace(tzinfo=UTC)


def days_to_now(source: Path, now: datetime) -> int:
    """Whole days that move the newest post of ``source`` into the last day before ``now``."""
    newest = max(_when(m[1]) for m in _CREATED.finditer(source.read_text(encoding="utf-8")))
    return max(0, (now - newest) // timedelta(days=1))


async def shift_days(store: Store, source: Path, now: datetime) -> int:
    """The store's demo shift in days: the one chosen at its first load, else a new one."""
    kept = await store.get_meta(SHIFT_META)
    if kept is not None and kept.isdigit():
        return int(kept)
    days = days_to_now(source, now)
    await store.set_meta(SHIFT_META, str(days))
    return days


async def days_behind(store: Store, now: datetime) -> int:
    """Whole days that bring the newest stored mention into the last day before ``now`` (0
    when it is there already, or there are none)."""
    newest = (await store.list_mentions(MentionQuery(limit=1))).items
    if not newest:
        return 0
    return max(0, (now - newest[0].post.created_at) // timedelta(days=1))


async def move_demo_forward(store: Store, days: int) -> None:
    """Date the stored demo ``days`` later, and the rest of an interrupted import with it."""
    if days <= 0:
        return
    await store.move_forward(days)
    kept = await store.get_meta(SHIFT_META)
    if kept is not None and kept.isdigit():
        await store.set_meta(SHIFT_META, str(int(kept) + days))


def write_shifted(source: Path, target: Path, days: int) -> None:
    """``source`` with every ``created_at`` ``days`` later; every line keeps its length (the
    import's resume point is a byte offset) and every other byte."""
    def later(match: re.Match[str]) -> str:
        moved = _when(match[1]) + timedelta(days=days)
        return f'"created_at": {json.dumps(moved.strftime(_FORMAT))}'

    partial = target.with_name(target.name + f".{os.getpid()}.part")
    with source.open(encoding="utf-8", newline="") as src, partial.open("w", encoding="utf-8", newline="") as out:
        for line in src:
            out.write(_CREATED.sub(later, line, count=1))
    os.replace(partial, target)  # whole or not at all, even beside a concurrent load


async def backfill_spike_alerts(store: Store, settings: DashboardSettings, now: datetime,
                                days: int = 30) -> int:
    """The spike alerts the hourly job would have raised over the demo's last ``days`` days
    (had it been running), dated on their days; how many were new."""
    if not settings.spike_alerts:
        return 0
    watch = SpikeWatch(store, settings)  # no routing hook: old alerts page nobody
    new = 0
    for back in range(days, -1, -1):
        new += len(await watch.evaluate(now - timedelta(days=back)))
    return new
