"""Idea events lost between commit and routing (the process died right after the commit):
``idea.created``, ``idea.status_changed`` and ``idea.vote_threshold`` are recorded with the
change, so the routing consumer routes a lost one from its event, once; a replay after a later
change routes nothing twice; events from while no rule was in force are not routed later."""

from __future__ import annotations

from community.idea_items import idea_item
from community.routing import Router
from community.routing_consumer import RoutingConsumer
from config.routing import RoutingSettings, RuleBookSettings, RuleSettings, TeamSettings
from domain import Mention, utcnow
from domain.forum import NewIdea, StatusChange
from storage import Store
from tests.community.test_routing_deliveries import Clock
from tests.conftest import post
from tests.forum_rules import create_idea, moderate_idea, set_status

URL = "http://forum.example"
SETTINGS = RoutingSettings(
    teams=(TeamSettings(key="care", name="Care"), TeamSettings(key="leads", name="Leads"),
           TeamSettings(key="product", name="Product")),
    rules=(RuleSettings(id="status", events=("idea.status_changed",), kinds=("idea",), team="care"),
           RuleSettings(id="popular", events=("idea.vote_threshold",), team="leads"),
           RuleSettings(id="new", events=("idea.created",), team="product")))


async def _change(store: Store, idea_id: int, to: str, clock: Clock) -> None:
    idea = await store.get_idea(idea_id)
    await set_status(store, StatusChange(idea_id, idea.status, to, "because", None, clock()))


async def test_lost_idea_events_are_routed_once_from_their_records(file_store: Store) -> None:
    clock = Clock()
    clock.now = utcnow()
    router = Router(file_store, SETTINGS, clock=clock)
    await router.start()
    lost = await create_idea(file_store, NewIdea("Dark mode", "please", None, "open"), clock())
    heard = await create_idea(file_store, NewIdea("Bulk export", "csv", None, "open"), clock())
    waiting = await create_idea(file_store, NewIdea("Free stuff", "", None, "open", approval="pending"),
                                           clock())
    # The process "died" before routing ``lost``'s events; ``heard``'s status change was routed.
    await _change(file_store, lost.id, "planned", clock)
    await file_store.record_threshold(lost.id, "votes:10", clock())
    await _change(file_store, heard.id, "planned", clock)
    await router.on_event("idea.status_changed", await idea_item(file_store, heard, URL))

    consumer = RoutingConsumer(file_store, router, idea_url=URL)
    assert await consumer.run_once() == 5  # two created, two status changes, one threshold
    care = (await file_store.team_queue("care")).items
    assert sorted(r.item.id for r in care) == sorted([str(lost.id), str(heard.id)])
    (popular,) = (await file_store.team_queue("leads")).items
    assert (popular.item.id, popular.event, popular.item.url) == (
        str(lost.id), "idea.vote_threshold", f"{URL}/forum/ideas/{lost.id}")
    # The idea waiting for moderation is not announced until approved.
    product = (await file_store.team_queue("product")).items
    assert sorted(r.item.id for r in product) == sorted([str(lost.id), str(heard.id)])
    await moderate_idea(file_store, waiting.id, clock(), approval="approved")
    assert await consumer.run_once() == 1
    assert str(waiting.id) in {r.item.id for r in (await file_store.team_queue("product")).items}

    # A later change of ``heard`` is lost too: consumed once, nothing routed twice.
    clock.advance(60)
    await _change(file_store, heard.id, "started", clock)
    assert await consumer.run_once() == 1
    assert await consumer.run_once() == 0
    assert len((await file_store.team_queue("care")).items) == 2
    # A consumer without the forum's URL stops before an idea event: it waits for one with it.
    await _change(file_store, lost.id, "done", clock)
    await file_store.save_mentions("x:acme", [Mention(post("after", "refund please"))], None)
    assert await RoutingConsumer(file_store, router).run_once() == 0
    assert await consumer.run_once() == 2


async def test_events_from_before_any_rule_are_not_replayed_later(file_store: Store) -> None:
    clock = Clock()
    clock.now = utcnow()
    empty = RoutingSettings(teams=SETTINGS.teams)
    router = Router(file_store, empty, clock=clock)
    await router.start()
    idea = await create_idea(file_store, NewIdea("Dark mode", "please", None, "open"), clock())
    await _change(file_store, idea.id, "planned", clock)
    consumer = RoutingConsumer(file_store, router, idea_url=URL)
    assert await consumer.run_once() == 2  # no rules: nothing to decide, the cursor moves on
    # Rules arrive; the old change stays behind the cursor ("rules apply to new events").
    await router.set_rules(RuleBookSettings(rules=SETTINGS.rules), "admin")
    assert await consumer.run_once() == 0
    assert (await file_store.team_queue("care")).items == ()
    clock.advance(10)
    await _change(file_store, idea.id, "started", clock)
    assert await consumer.run_once() == 1
    assert [r.item.id for r in (await file_store.team_queue("care")).items] == [str(idea.id)]
    assert await consumer.run_once() == 0


async def test_a_vote_crossing_a_threshold_does_not_wait_for_a_routing_round(file_store: Store) -> None:
    """The vote answers after its one transaction; its ``idea.vote_threshold`` is routed by a
    round in the background — even while another round holds routing (which the vote used to
    wait for)."""
    import asyncio

    from community.engagement import Engagement
    from community.idea_events import IdeaEvents
    from config.forum import ForumSettings
    from config.notify import NotifySettings
    from tests.community.forum_helpers import make_viewer
    from tests.conftest import acme_customers

    clock = Clock()
    clock.now = utcnow()
    router = Router(file_store, SETTINGS, clock=clock)
    await router.start()
    consumer = RoutingConsumer(file_store, router, idea_url=URL)
    await file_store.upsert_customers(acme_customers())
    jo = await make_viewer(file_store, "jo@acmeanvils.example", customer_id="cus_jo")
    idea = await create_idea(file_store, NewIdea("Dark mode", "please", None, "open"), clock())
    await consumer.run_once()  # idea.created routed
    events = IdeaEvents(file_store, NotifySettings(vote_thresholds=(1,)), URL, router, routing=consumer)
    engagement = Engagement(file_store, ForumSettings(), events)
    async with consumer._round:  # a round in progress (a slow webhook, say)
        # Generous: fails only when the vote waits for the held round (forever).
        outcome = await asyncio.wait_for(engagement.vote(jo, idea.id), 60)
        assert outcome.changed
        assert not (await file_store.team_queue("leads")).items
    await consumer.settle()  # the background round routes it once the lock is free
    (popular,) = (await file_store.team_queue("leads")).items
    assert (popular.item.id, popular.event) == (str(idea.id), "idea.vote_threshold")
