"""``crmsphere demo load``, community part: demo teams and rules, the demo mentions routed
into team queues, then the forum; once (a store mark), with a summary naming the demo sign-in."""

from __future__ import annotations

import logging
import random
import sys
from dataclasses import dataclass, field

from config.settings import DEMO_DIR
from crmsphere.demo_forum import (
    DemoForumReport,
    check_statuses,
    load_demo_forum,
    seed_demo_routing,
)
from crmsphere.demo_forum_data import DemoForum, read_demo_forum
from crmsphere.demo_queues import QueueReport, route_as_posted, work_queues
from domain import utcnow
from crmsphere.runtime import Runtime

DEMO_FORUM_MARK = "demo_forum_loaded"
#: set before the forum demo loads: with it and without the mark, a load was interrupted
DEMO_FORUM_STARTED = "demo_forum_started"
DEMO_FORUM_FILE = DEMO_DIR / "forum.toml"
#: Customer sign-ins named in the summary (the rest are counted).
_LOGINS_SHOWN = 10


@dataclass(slots=True)
class DemoCommunity:
    """A community demo whose teams and rules are stored and whose forum is still to load."""

    rt: Runtime
    demo: DemoForum
    report: DemoForumReport
    queues: QueueReport = field(default_factory=QueueReport)

    async def finish(self) -> None:
        """Route the stored mentions by the demo rules as of their posts (a bulk import does
        not route), load the forum, work the team queues as the demo staff would have by now
        (crmsphere/demo_queues.py), mark the store and print what was added."""
        # One INFO line per routed mention would bury the summary and the demo sign-in.
        routing_log = logging.getLogger("community.routing")
        level = routing_log.level
        routing_log.setLevel(max(logging.WARNING, level))
        await self.rt.store.set_meta(DEMO_FORUM_STARTED, "1")
        try:
            now, rng = utcnow(), random.Random(self.demo.seed)
            self.report.routed_mentions = await route_as_posted(self.rt, now, rng)
            await load_demo_forum(self.rt, self.demo, self.report)
            self.queues = await work_queues(self.rt.store, now, rng, [s.name for s in self.demo.staff])
        finally:
            routing_log.setLevel(level)
        await self.rt.store.set_meta(DEMO_FORUM_MARK, "1")
        print_report(self.demo, self.report)
        q = self.queues
        print(f"demo team queues worked as of their dates: {q.in_time} acknowledged within their SLA, "
              f"{q.late} late, {q.overdue} still waiting past it, {q.recent_open} new within it")


async def start_demo_community(rt: Runtime) -> DemoCommunity | None:
    """Store the demo teams and rules, or ``None`` when the community demo is loaded already."""
    if await rt.store.get_meta(DEMO_FORUM_MARK):
        return None
    if await rt.store.get_meta(DEMO_FORUM_STARTED):
        # An earlier load stopped half-way (interrupted, or a crash): loading again would add
        # a second copy of what it had added.  Keep what is there; `make run` still serves.
        print("demo forum: an earlier load was interrupted half-way; left as it is (delete the "
              "store, e.g. `make clean`, for a fresh demo)", file=sys.stderr)
        return None
    demo = read_demo_forum(DEMO_FORUM_FILE)
    check_statuses(rt, demo.ideas)
    report = DemoForumReport()
    try:
        await seed_demo_routing(rt, demo, report)
    except NotImplementedError as exc:  # a backend without the routing area
        print(f"demo forum skipped: {exc}", file=sys.stderr)
        return None
    return DemoCommunity(rt, demo, report)


def print_report(demo: DemoForum, report: DemoForumReport) -> None:
    """The summary of the community demo, with the sign-in for local use."""
    r = report
    print(f"demo forum: {r.accounts} accounts, {r.ideas} ideas, {r.votes} votes, "
          f"{r.comments} comments, {r.status_changes} status changes, {r.signals} social "
          f"signals, {r.merged} merged duplicate(s)")
    print(f"demo teams: {', '.join(t.key for t in demo.teams)} (no delivery channels: routed "
          "items wait in the team queues, nothing is sent)")
    if r.routed_mentions:
        print(f"demo routing: {r.routed_mentions} stored mentions routed to team queues")
    for note in r.notes:
        print(f"note: {note}")
    staff = ", ".join(f"{s.email} ({s.role})" for s in demo.staff)
    print(f"demo sign-in (LOCAL DEMO ONLY, never on a reachable server): {staff}, and the demo "
          f"customers' forum accounts; password: {demo.password}")
    logins = sorted(r.customer_logins)
    if logins:
        print(f"demo customers with forum accounts ({len(logins)}; sign in as any of them to vote "
              f"and comment as that customer):")
        for email, name in logins[:_LOGINS_SHOWN]:
            print(f"  {email:44} {name}")
        if len(logins) > _LOGINS_SHOWN:
            print(f"  ... and {len(logins) - _LOGINS_SHOWN} more (GET /api/accounts as a manager lists them)")
