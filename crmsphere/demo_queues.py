"""The demo's team queues as a staffed team would have left them at the load.

A real queue is not a pile of "new" items: each mention reached its team minutes after it was
posted, and the team's people worked most of what came in.  So the demo routes every stored
mention through the real rules and router with the clock set to just after its post (not to
the load), then works the queues with the queue's own services (acknowledge, set status) on a
clock set to each step's time:

- items older than their team's SLA (two days for a team without one): most were acknowledged
  within the SLA and are done (a few dismissed) or still in progress; some were acknowledged
  late; a few of the last week's still wait, overdue — what a manager would look at first;
- items still inside their SLA: about half were picked up, the rest are new.

Everything is relative to ``now`` and drawn from the demo's seeded RNG, so a load at 07:00
looks like a load at 18:00.  ``demo load --refresh`` moves every queue time by the same days
as the posts (storage ``move_forward``), so the queues keep their shape against the posts.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from community.routing import Router, TeamQueue
from community.routing_items import mention_item
from crmsphere.demo_timeline import DemoClock
from domain import MentionQuery
from crmsphere.runtime import Runtime
from storage import Store

#: A mention reaches its team this many minutes after its post (a collector's poll, analysis).
ROUTE_DELAY_MINUTES = (2, 15)
#: How long a team without an SLA takes to count an item as old.
NO_SLA_WINDOW = timedelta(days=2)
#: Of the items older than their SLA: acknowledged within it, acknowledged late; the rest wait
#: (only in the last ``BACKLOG`` days: an older item was got to in the end).
IN_TIME, LATE = 0.82, 0.12
BACKLOG = timedelta(days=7)
#: Of the items still inside their SLA: picked up already.
PICKED_UP = 0.5
#: Of the items worked to the end: dismissed (not for this team, a duplicate) rather than done.
DISMISSED = 0.1
#: From acknowledgement to done: an hour to three days.
WORK_HOURS = (1.0, 72.0)


@dataclass(frozen=True, slots=True)
class Fate:
    """What the demo staff did with one routed item: when they acknowledged it (None: it
    waits), and the status it ended in at ``finished_at`` (None: still in progress)."""

    acknowledged_at: datetime | None = None
    status: str = "new"
    finished_at: datetime | None = None


@dataclass(slots=True)
class QueueReport:
    """How the demo's queues were left."""

    routed: int = 0
    in_time: int = 0
    late: int = 0
    overdue: int = 0
    recent_open: int = 0


def fate_of(routed_at: datetime, sla: timedelta | None, now: datetime, rng: random.Random) -> Fate:
    """What a staffed team did with an item routed at ``routed_at`` by ``now`` (see the module)."""
    window = sla or NO_SLA_WINDOW
    age = now - routed_at
    if age <= window:  # still inside its SLA: picked up or not yet
        if rng.random() >= PICKED_UP or age <= timedelta(minutes=1):
            return Fate()
        return Fate(routed_at + age * rng.uniform(0.05, 0.9), "in_progress")
    draw = rng.random() * (1 if age <= BACKLOG else IN_TIME + LATE)
    if draw < IN_TIME:
        acknowledged = routed_at + window * rng.uniform(0.05, 0.9)
    elif draw < IN_TIME + LATE:
        acknowledged = routed_at + window + (age - window) * rng.uniform(0.05, 0.5)
    else:
        return Fate()  # nobody got to it: overdue when the team has an SLA
    finished = acknowledged + timedelta(hours=rng.uniform(*WORK_HOURS))
    if finished >= now:
        return Fate(acknowledged, "in_progress")
    return Fate(acknowledged, "dismissed" if rng.random() < DISMISSED else "done", finished)


async def route_as_posted(rt: Runtime, now: datetime, rng: random.Random, page_size: int = 500) -> int:
    """Route every stored mention by the rules in force as of just after its post (never after
    ``now``); how many routings were new.  Routing is idempotent: safe to repeat."""
    assert rt.router is not None, "the runtime always has a router"
    clock = DemoClock(now)
    router = Router(rt.store, rt.router.settings, clock=clock)
    router.rules_version = rt.router.rules_version
    routed, cursor = 0, None
    while True:
        page = await rt.store.list_mentions(MentionQuery(limit=page_size, cursor=cursor))
        mentions = [m for m in page.items if not m.backfill]  # history: rules never route it
        customers = await rt.store.get_customers(sorted({k.customer_id for m in mentions
                                                         for k in m.analysis.links}))
        for mention in mentions:
            clock.at = min(now, mention.post.created_at + timedelta(minutes=rng.uniform(*ROUTE_DELAY_MINUTES)))
            routed += len(await router.on_event("mention.analysed", mention_item(mention, customers)))
        cursor = page.next_cursor
        if cursor is None:
            return routed


async def work_queues(store: Store, now: datetime, rng: random.Random, staff: Sequence[str],
                      report: QueueReport | None = None) -> QueueReport:
    """Work every team's new items as ``staff`` would have by ``now`` (see ``fate_of``), through
    the queue's own acknowledge and status changes, each on its own date."""
    report = report or QueueReport()
    clock = DemoClock(now)
    queue = TeamQueue(store, clock)
    for team in await store.list_teams():
        sla = timedelta(minutes=team.ack_sla_minutes) if team.ack_sla_minutes else None
        waiting, cursor = [], None
        while True:  # read the whole queue first: working it changes what a next page holds
            page = await store.team_queue(team.key, ("new",), 500, cursor)
            waiting.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        for item in sorted(waiting, key=lambda r: (r.routed_at or now, r.id or 0)):
            routed_at = item.routed_at or now
            fate = fate_of(routed_at, sla, now, rng)
            _count(report, fate, routed_at, sla, now)
            if fate.acknowledged_at is None or item.id is None:
                continue
            who = rng.choice(staff)
            clock.at = fate.acknowledged_at
            await queue.set_status(item.id, "in_progress" if fate.finished_at else fate.status, who)
            if fate.finished_at is not None:
                clock.at = fate.finished_at
                await queue.set_status(item.id, fate.status, who)
    return report


def _count(report: QueueReport, fate: Fate, routed_at: datetime, sla: timedelta | None,
           now: datetime) -> None:
    if fate.acknowledged_at is None:
        if sla is not None and now - routed_at > sla:
            report.overdue += 1
        else:
            report.recent_open += 1
    elif fate.acknowledged_at - routed_at <= (sla or NO_SLA_WINDOW):
        report.in_time += 1
    else:
        report.late += 1
