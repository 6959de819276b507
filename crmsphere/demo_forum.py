"""Loads the community side of the demo through the forum's own services.

Accounts, ideas, votes, comments, merges, status changes and mention signals go through
``community`` (``Accounts``, ``Ideas``, ``Engagement``, ``MentionSignals``, ``merge``) with the
runtime's idea events, so counts, impact, follows, notifications and routing come out exactly
as in real use.  Every choice (who votes for what, who comments) comes from one seeded RNG,
so two loads of the same files give the same forum.  The services stamp their writes with a
``DemoClock`` that the loader sets to the date ``DemoTimeline`` gives each write: ideas over
the last weeks, votes and comments after their idea, statuses in order, all before the load.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime

from community.access import Viewer
from community.accounts import Accounts, check_password
from community.engagement import Engagement
from community.ideas import Ideas
from community.idea_events import IdeaEvents
from community.merging import merge
from community.routing import Router, TeamQueue
from community.routing_signals import MentionSignals
from crmsphere.demo_forum_data import STAFF_PREFIX, DemoForum, DemoIdea
from crmsphere.demo_timeline import DemoClock, DemoTimeline
from domain import Customer, MentionQuery, utcnow
from domain.forum import Account, Idea
from domain.errors import ConfigError
from crmsphere.runtime import Runtime

#: The path an idea takes to its final status (each step is a status change with a response).
_STEPS = {
    "under-review": ("under-review",),
    "planned": ("under-review", "planned"),
    "in-progress": ("under-review", "planned", "in-progress"),
    "done": ("under-review", "planned", "in-progress", "done"),
    "declined": ("under-review", "declined"),
}
_INTERIM = {
    "under-review": "Thanks for the idea! The product team is looking into it.",
    "planned": "This is on the roadmap now.",
    "in-progress": "Work has started.",
}
#: Social mentions attached as signals per idea with a topic (at most).
_SIGNALS_PER_IDEA = 4


@dataclass(slots=True)
class DemoForumReport:
    """What the community demo added."""

    accounts: int = 0
    ideas: int = 0
    votes: int = 0
    comments: int = 0
    status_changes: int = 0
    signals: int = 0
    merged: int = 0
    routed_mentions: int = 0
    notes: list[str] = field(default_factory=list)
    #: (e-mail, customer name) of the demo customers' forum accounts, for the summary
    customer_logins: list[tuple[str, str]] = field(default_factory=list)


async def seed_demo_routing(rt: Runtime, demo: DemoForum, report: DemoForumReport) -> None:
    """Create the demo teams that do not exist and, when no rules are in force, the demo rules.

    Stored through the router like an admin's edit, so a later ``serve`` keeps them (the
    configured rules only win when the configuration's rules change).
    """
    assert rt.router is not None, "the runtime always has a router"
    known = {t.key for t in await rt.store.list_teams()}
    for team in demo.teams:
        if team.key not in known:
            await rt.store.save_team(team.to_team(), utcnow())
    if rt.router.has_rules:
        report.notes.append("routing rules are configured already: the demo rules were not added")
        return
    await rt.router.set_rules(demo.rule_book(), actor="demo")


async def route_stored_mentions(rt: Runtime, page_size: int = 500) -> int:
    """Route every stored mention by the rules in force (for mentions stored before the demo
    rules existed); routing is idempotent, so this is safe to repeat."""
    assert rt.router is not None
    routed, cursor = 0, None
    while True:
        page = await rt.store.list_mentions(MentionQuery(limit=page_size, cursor=cursor))
        routed += await rt.router.route_stored_mentions(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return routed


class _ForumLoader:
    """One load of the demo forum: the accounts made, the ideas by title, the RNG."""

    def __init__(self, rt: Runtime, demo: DemoForum, report: DemoForumReport,
                 now: datetime | None = None) -> None:
        self.rt, self.demo, self.report = rt, demo, report
        self.rng = random.Random(demo.seed)
        forum = rt.settings.forum
        closed = {s.key for s in forum.statuses if s.closed}
        self.timeline = DemoTimeline(demo.ideas, lambda spec: _STEPS.get(spec.status, ()), closed,
                                     demo.seed, now or utcnow())
        self.clock = DemoClock(self.timeline.now)
        events = self._dated_events()
        self.accounts = Accounts(rt.store, forum)
        self.ideas = Ideas(rt.store, forum, events, self.clock)
        self.engagement = Engagement(rt.store, forum, events, self.clock)
        self.signals = MentionSignals(rt.store, forum, events)
        self.manager: Viewer | None = None
        self.customers: list[Viewer] = []
        self.by_title: dict[str, Idea] = {}

    def _dated_events(self) -> IdeaEvents | None:
        """The runtime's idea events, with routing and thresholds on the demo's clock (an
        idea reaches its team's queue when it was posted, not at the load)."""
        live = self.rt.idea_events
        if live is None:
            return None
        router = None
        if live.router is not None:
            router = Router(self.rt.store, live.router.settings, clock=self.clock)
        return IdeaEvents(self.rt.store, live.settings, live.public_url, router, live.notifier,
                          clock=self.clock, crm=live.crm, consumers=live.consumers)

    async def _account(self, email: str, name: str, password_hash: str) -> Account:
        found = await self.rt.store.get_login(email)
        if found is not None:  # a half-finished earlier load: reuse the account
            return found[0]
        self.report.accounts += 1
        return await self.rt.store.create_account(email, name, password_hash)

    async def make_accounts(self, customers: list[Customer]) -> None:
        """Staff accounts with their roles, and verified accounts linked to demo customers."""
        # One argon2 hash for every demo account: hashing is deliberately slow.
        password_hash = await asyncio.to_thread(self.accounts.hasher.hash,
                                                check_password(self.demo.password))
        for staff in self.demo.staff:
            account = await self._account(staff.email, staff.name, password_hash)
            account = await self.rt.store.update_account(account.id, role=staff.role,
                                                         email_verified=True)
            if self.manager is None or staff.role == "manager":
                self.manager = Viewer(account=account, role=account.role, via="session")
        people = sorted((c for c in customers if c.emails), key=lambda c: c.id)
        for customer in self.rng.sample(people, min(self.demo.customer_accounts, len(people))):
            account = await self._account(customer.emails[0], customer.name[:80], password_hash)
            account = await self.accounts.link_customer(account)  # verifies it, finds the customer
            # Demo addresses are fictional: keep follower mail out of the outbox.
            await self.rt.store.set_mail_enabled(account.id, False, utcnow())
            self.customers.append(Viewer(account=account, role="customer", via="session"))
            self.report.customer_logins.append((account.email, customer.name))

    async def submit_ideas(self) -> None:
        """Every idea, by a customer (round robin over a shuffled list of accounts)."""
        authors = self.customers[:]
        self.rng.shuffle(authors)
        for index, spec in enumerate(self.demo.ideas):
            self.clock.at = self.timeline.ideas[spec.title].created
            idea = await self.ideas.submit(authors[index % len(authors)], spec.title, spec.body,
                                           spec.topic)
            self.by_title[spec.title] = idea
            self.report.ideas += 1

    async def cast_votes(self) -> None:
        """Votes skewed by popularity: each account votes for a few ideas, and staff record
        votes taken on calls and in meetings for customers without an account."""
        specs = list(self.demo.ideas)
        weights = [s.popularity ** 2 for s in specs]
        # Chosen first, cast in the order of their dates: vote ids follow time, so the first
        # voter an idea page names is the one who voted first.
        planned: list[tuple[datetime, int, Viewer, str, tuple[str, str] | None]] = []
        for viewer in self.customers:
            chosen = {s.title for s in self.rng.choices(specs, weights, k=self.rng.randint(2, 9))}
            for title in sorted(chosen):
                planned.append((self.timeline.vote(title), len(planned), viewer, title, None))
        manager = self.manager
        assert manager is not None
        with_account = {v.account.customer_id for v in self.customers if v.account}
        others = sorted(c.id for c in await self.rt.store.all_customers() if c.id not in with_account)
        sources = ("call", "meeting", "mail", "social")
        for _ in range(self.demo.proxy_votes):
            title = self.rng.choices(specs, weights)[0].title
            proxy = (self.rng.choice(others), self.rng.choice(sources))
            planned.append((self.timeline.vote(title), len(planned), manager, title, proxy))
        for at, _, viewer, title, proxy in sorted(planned, key=lambda p: (p[0], p[1])):
            self.clock.at = at
            idea_id = self.by_title[title].id
            if proxy is None:
                out = await self.engagement.vote(viewer, idea_id)
            else:
                out = await self.engagement.proxy_vote(manager, idea_id, proxy[0],
                                                       "asked for this on a customer call", proxy[1])
            self.report.votes += out.changed

    async def write_comments(self) -> None:
        """Comment threads (one level of replies) and staff internal notes."""
        assert self.manager is not None
        for spec in self.demo.ideas:
            idea_id = self.by_title[spec.title].id
            for thread in spec.threads:
                times = self.timeline.thread(spec.title, len(thread) - 1)
                self.clock.at = times[0]
                top = await self._comment(idea_id, thread[0], None)
                for reply, at in zip(thread[1:], times[1:], strict=True):
                    self.clock.at = at
                    await self._comment(idea_id, reply, top)
            if spec.note:
                self.clock.at = self.timeline.soon_after(spec.title)
                await self.engagement.comment(self.manager, idea_id, spec.note, internal=True)
                self.report.comments += 1

    async def _comment(self, idea_id: int, text: str, parent: int | None) -> int:
        assert self.manager is not None
        viewer = self.manager if text.startswith(STAFF_PREFIX) else self.rng.choice(self.customers)
        comment = await self.engagement.comment(viewer, idea_id, text.removeprefix(STAFF_PREFIX),
                                                parent_id=parent)
        self.report.comments += 1
        return comment.id

    async def attach_signals(self) -> None:
        """Link social mentions about an idea's topic (requests and complaints) as signals."""
        for spec in self.demo.ideas:
            if spec.topic is None or spec.duplicate_of is not None:
                continue
            pool: list[int] = []
            for intent in ("idea", "complaint"):
                page = await self.rt.store.list_mentions(
                    MentionQuery(topic=spec.topic, intent=intent, limit=40))
                pool.extend(m.id for m in page.items if m.id is not None)
            for mention_id in self.rng.sample(sorted(pool), min(len(pool), self.rng.randint(0, _SIGNALS_PER_IDEA))):
                self.clock.at = self.timeline.soon_after(spec.title)
                out = await self.signals.attach(mention_id, self.by_title[spec.title].id)
                self.report.signals += out.linked

    async def merge_duplicates(self) -> None:
        """Merge each duplicate into its original (its votes, comments and followers move)."""
        assert self.manager is not None
        for spec in self.demo.ideas:
            if spec.duplicate_of is not None:
                await merge(self.rt.store, self.rt.settings.forum, self.manager,
                            self.by_title[spec.title].id, self.by_title[spec.duplicate_of].id,
                            at=self.timeline.ideas[spec.title].merged)
                self.report.merged += 1

    async def change_statuses(self) -> None:
        """Walk each idea to its final status, with the staff response on the last step."""
        assert self.manager is not None and self.manager.account is not None
        queue = TeamQueue(self.rt.store, self.clock)
        for spec in self.demo.ideas:
            steps = _STEPS.get(spec.status, ())
            idea_id = self.by_title[spec.title].id
            for step, at in zip(steps, self.timeline.ideas[spec.title].steps, strict=True):
                self.clock.at = at
                if step == steps[0]:  # the team took the idea up: its queue item is acknowledged
                    for routed in await self.rt.store.routed_for_item("idea", str(idea_id)):
                        assert routed.id is not None
                        await queue.acknowledge(routed.id, self.manager.account.name)
                response = spec.response if step == steps[-1] else _INTERIM[step]
                await self.ideas.change_status(self.manager, idea_id, step, response)
                self.report.status_changes += 1


def check_statuses(rt: Runtime, ideas: tuple[DemoIdea, ...]) -> None:
    """``ConfigError`` when the forum's configured statuses lack one the demo ideas walk through."""
    known = {s.key for s in rt.settings.forum.statuses}
    for spec in ideas:
        for step in _STEPS.get(spec.status, (spec.status,)):
            if step not in known:
                raise ConfigError("forum.statuses", sorted(known),
                                  f"a status '{step}' (demo idea '{spec.title}' needs it)")


async def load_demo_forum(rt: Runtime, demo: DemoForum, report: DemoForumReport,
                          now: datetime | None = None) -> None:
    """Accounts, ideas, votes, comments, signals, a merge and status changes, in that order
    (votes before statuses: closed ideas take no votes), dated over the weeks before ``now``
    (the load time unless given)."""
    loader = _ForumLoader(rt, demo, report, now)
    await loader.make_accounts(await rt.store.all_customers())
    await loader.submit_ideas()
    await loader.cast_votes()
    await loader.write_comments()
    await loader.attach_signals()
    await loader.merge_duplicates()
    await loader.change_statuses()
