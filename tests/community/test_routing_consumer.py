"""Routing consumes recorded ``mention.stored`` events with its own cursor: a mention whose
process died right after the commit is still routed, once; a crash after routing but before
the cursor moved routes the page again, which routing's idempotence absorbs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from community.idea_events import IdeaEvents
from community.ideas import Ideas
from community.routing import Router
from community.routing_consumer import CONSUMER, RoutingConsumer
from config.routing import RuleSettings
from config.forum import ForumSettings
from config.notify import NotifySettings
from config.settings import load_settings
from crmsphere.coordinator import Coordinator
from domain import Mention
from domain.events import MENTION_STORED, NewEvent
from crmsphere.ingest import store_posts
from crmsphere.jobs import process_jobs
from crmsphere.runtime import open_runtime
from storage import Store
from tests.community.forum_helpers import make_viewer
from tests.community.test_routing_deliveries import Clock
from tests.community.test_routing_events import NoNlp, settings
from tests.conftest import T0, acme_customers, post

REFUNDS = RuleSettings(id="refunds", keywords=("refund",), team="care")


class ProcessKilled(BaseException):
    """Stands for the process dying (kill -9) between the commit and the hook: like a kill,
    it is not an ``Exception`` any boundary would catch and log."""


async def die_after_commit(_mentions: Sequence[Mention]) -> None:
    raise ProcessKilled


async def test_a_mention_whose_hook_died_is_routed_by_the_job_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'consumer.db'}"
    config = load_settings(environ={}, overrides={
        "store": {"url": url}, "routing": {
            "jobs_interval": 30, "teams": [{"key": "care", "name": "Care"}],
            "rules": [{"id": "refunds", "keywords": ["refund"], "team": "care"}]}})
    async with open_runtime(config, with_nlp=False) as runtime:
        await runtime.store.upsert_customers(acme_customers())
        try:
            await store_posts(runtime.store, NoNlp(), "x:acme",
                              [post("1", "Where is my REFUND?", handle="acmeanvils")],
                              {"page": 1}, die_after_commit)
        except ProcessKilled:
            pass
        assert (await runtime.store.team_queue("care")).items == ()  # the hook never ran
        coordinator = Coordinator(process_jobs(runtime), runtime, "scheduler",
                                  store=runtime.store, holder="leader-1")
        await coordinator.start(paused=True)
        try:
            due = coordinator.next_run("routing-events")
            assert due is not None
            assert "routing-events" in await coordinator.run_due(due)
            (routed,) = (await runtime.store.team_queue("care")).items
            assert routed.item.text == "Where is my REFUND?" and routed.event == "mention.analysed"
            # The next round, and a wake-up from ingest, find nothing new to route.
            due = coordinator.next_run("routing-events")
            assert due is not None
            await coordinator.run_due(due)
            assert runtime.routing_events is not None
            await runtime.routing_events.wake()
        finally:
            await coordinator.stop()
        assert len((await runtime.store.team_queue("care")).items) == 1
        last = (await runtime.store.read_events(0, [MENTION_STORED]))[-1].id
        assert await runtime.store.get_event_cursor(CONSUMER) == last


async def test_a_crash_before_the_cursor_moved_routes_again_without_duplicates(
        file_store: Store) -> None:
    await file_store.upsert_customers(acme_customers())
    router = Router(file_store, settings(REFUNDS), clock=Clock())
    await router.start()
    await store_posts(file_store, NoNlp(), "x:acme",
                      [post("1", "refund please", handle="acmeanvils"), post("2", "all fine")],
                      None, None)
    # The first process routed the page and died before moving the cursor: the state is
    # the routings recorded, the cursor still at 0.
    events = await file_store.read_events(0, [MENTION_STORED])
    mentions = [await file_store.get_mention(int(e.subject_id)) for e in events]
    assert await router.route_stored_mentions(mentions) == 1
    assert await file_store.get_event_cursor(CONSUMER) == 0
    # The process taking over reads the same page again: at least once, and routed once.
    successor = RoutingConsumer(file_store, Router(file_store, settings(REFUNDS), clock=Clock()))
    await successor.router.start()
    assert await successor.run_once() == 2
    assert len((await file_store.team_queue("care")).items) == 1
    assert len((await file_store.list_deliveries()).items) == 1
    assert await file_store.get_event_cursor(CONSUMER) == events[-1].id


async def test_the_wake_up_routes_at_once_and_a_backfill_is_not_routed(file_store: Store) -> None:
    await file_store.upsert_customers(acme_customers())
    consumer = RoutingConsumer(file_store, Router(file_store, settings(REFUNDS), clock=Clock()))
    await consumer.router.start()
    await store_posts(file_store, NoNlp(), "import", [post("old", "refund from 2019")], None,
                      consumer.wake, backfill=True)
    assert (await file_store.team_queue("care")).items == ()
    await store_posts(file_store, NoNlp(), "x:acme", [post("new", "refund today")], None,
                      consumer.wake)
    assert [r.item.text for r in (await file_store.team_queue("care")).items] == ["refund today"]


async def test_the_live_feed_gets_mentions_and_each_is_routed_once(tmp_path: Path) -> None:
    config = load_settings(environ={}, overrides={
        "store": {"url": f"sqlite:///{tmp_path / 'live.db'}"}, "routing": {
            "jobs_interval": 30, "teams": [{"key": "care", "name": "Care"}],
            "rules": [{"id": "refunds", "keywords": ["refund"], "team": "care"}]}})
    async with open_runtime(config, with_nlp=False) as runtime:
        assert runtime.live is not None and runtime.sources.on_stored is not None
        dashboard = await runtime.live.subscribe()
        # Through the hooks a source run uses: the live feed, then routing's wake-up.
        await store_posts(runtime.store, NoNlp(), "x:acme", [post("1", "refund #1")], None,
                          runtime.sources.on_stored)
        assert [r.item.text for r in (await runtime.store.team_queue("care")).items] == ["refund #1"]
        # No wake-up ran (the process died right after the commit): the live feed reads the
        # event all the same.
        try:
            await store_posts(runtime.store, NoNlp(), "x:acme", [post("2", "refund #2")], None,
                              die_after_commit)
        except ProcessKilled:
            pass
        shown: list[str] = []
        while len(shown) < 2:
            batch = await dashboard.next(10)
            assert batch is not None, f"the live feed showed only {shown}"
            shown += [m.post.text for m in batch.mentions]
        assert shown == ["refund #1", "refund #2"]
        assert runtime.routing_events is not None
        assert await runtime.routing_events.run_once() == 1  # only the second one's event
        texts = sorted(r.item.text for r in (await runtime.store.team_queue("care")).items)
        assert texts == ["refund #1", "refund #2"]
        dashboard.close()


async def test_a_status_change_in_the_forum_is_routed_at_once_from_its_event(forum_store: Store) -> None:
    rules = settings(RuleSettings(id="shipped", events=("idea.status_changed",), kinds=("idea",),
                                  team="care"))
    router = Router(forum_store, rules, clock=Clock())
    await router.start()
    events = IdeaEvents(forum_store, NotifySettings(), "http://forum.example", router)
    ideas = Ideas(forum_store, ForumSettings(), events)
    team = await make_viewer(forum_store, "t@crm.example", "team")
    jo = await make_viewer(forum_store, "jo@acmeanvils.example", customer_id="cus_jo")
    idea = await ideas.submit(jo, "Offline mode", "for the train")
    await ideas.change_status(team, idea.id, "planned", "next quarter")
    (routed,) = (await forum_store.team_queue("care")).items
    assert (routed.item.id, routed.event) == (str(idea.id), "idea.status_changed")
    assert routed.item.customer_id == "cus_jo"
    (event,) = await forum_store.read_events(0, ["idea.status_changed"])
    assert await forum_store.get_event_cursor(CONSUMER) == event.id


async def test_events_naming_no_mention_in_ascii_digits_are_skipped_and_never_block_routing(
        file_store: Store) -> None:
    await file_store.upsert_customers(acme_customers())
    consumer = RoutingConsumer(file_store, Router(file_store, settings(REFUNDS), clock=Clock()))
    await consumer.router.start()
    # Mentions 1-3 from an import: history, never routed.
    await store_posts(file_store, NoNlp(), "import", [post(f"old-{n}", "refund from 2019") for n in range(3)],
                      None, None, backfill=True)
    # Another writer of the outbox: "٣" reads as mention 3 to int(), "²" is a digit to
    # str.isdigit() that int() refuses, the long ones overflow the store's integers.
    hostile = [NewEvent(MENTION_STORED, subject) for subject in ("٣", "²", "9" * 5000, "9" * 25)]
    await file_store.unit_of_work().run(lambda uow: uow.events.record(hostile, T0))
    await store_posts(file_store, NoNlp(), "x:acme", [post("new", "refund today")], None, None)
    assert await consumer.run_once() == 5
    assert [r.item.text for r in (await file_store.team_queue("care")).items] == ["refund today"]
    last = (await file_store.read_events(0, [MENTION_STORED]))[-1].id
    assert await file_store.get_event_cursor(CONSUMER) == last


class CountedReads:
    """The store as the consumer uses it, counting its cursor and event reads (the calls go
    to the real store)."""

    def __init__(self, store: Store) -> None:
        self.store, self.cursor_reads, self.event_reads = store, 0, 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    async def get_event_cursor(self, consumer: str) -> int:
        self.cursor_reads += 1
        return await self.store.get_event_cursor(consumer)

    async def read_events(self, after_id: int, kinds: Sequence[str], limit: int = 200) -> list:
        self.event_reads += 1
        return await self.store.read_events(after_id, kinds, limit)


async def test_a_round_reads_the_cursor_once_and_stops_after_a_short_page(file_store: Store) -> None:
    """A vote crossing a threshold wakes a round: each read is a hop to the store's thread on
    the event loop, so a round reads the cursor once (moving it answers where it now is) and
    does not read again after a page that held every event there was."""
    await file_store.upsert_customers(acme_customers())
    counted = CountedReads(file_store)
    consumer = RoutingConsumer(counted, Router(file_store, settings(REFUNDS), clock=Clock()),  # type: ignore[arg-type]
                               page=2)
    await consumer.router.start()
    await store_posts(file_store, NoNlp(), "x:acme", [post("1", "refund please", handle="acmeanvils")],
                      None, None)
    assert await consumer.run_once() == 1
    assert (counted.cursor_reads, counted.event_reads) == (1, 1)
    # Five events and pages of two: three pages (the last one short), the cursor read once.
    await store_posts(file_store, NoNlp(), "x:acme", [post(f"n{n}", f"refund {n}") for n in range(5)],
                      None, None)
    assert await consumer.run_once() == 5
    assert (counted.cursor_reads, counted.event_reads) == (2, 4)
    assert len((await file_store.team_queue("care")).items) == 6
    last = (await file_store.read_events(0, [MENTION_STORED]))[-1].id
    assert await file_store.get_event_cursor(CONSUMER) == last
    # Nothing new: one cursor read and one empty page.
    assert await consumer.run_once() == 0
    assert (counted.cursor_reads, counted.event_reads) == (3, 5)


async def test_a_round_goes_on_from_where_another_process_moved_the_cursor(file_store: Store) -> None:
    """Another process routed further meanwhile: the next page starts at the cursor as it now
    is, not at the last event this round routed."""
    await file_store.upsert_customers(acme_customers())
    consumer = RoutingConsumer(file_store, Router(file_store, settings(REFUNDS), clock=Clock()), page=1)
    await consumer.router.start()
    await store_posts(file_store, NoNlp(), "x:acme", [post(f"n{n}", f"refund {n}") for n in range(3)],
                      None, None)
    ids = [e.id for e in await file_store.read_events(0, [MENTION_STORED])]
    moving = file_store.set_event_cursor

    async def moved_by_another(consumer_name: str, last_id: int) -> int:
        if last_id == ids[0]:  # another process routed the second mention meanwhile
            await moving(consumer_name, ids[1])
        return await moving(consumer_name, last_id)

    file_store.set_event_cursor = moved_by_another  # type: ignore[method-assign]
    try:
        assert await consumer.run_once() == 2  # the first and the third: not the second again
    finally:
        del file_store.set_event_cursor
    assert sorted(r.item.text for r in (await file_store.team_queue("care")).items) == ["refund 0", "refund 2"]
    assert await file_store.get_event_cursor(CONSUMER) == ids[2]
